/**
 * NumPy's .npy format (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html),
 * as `numpy.save` writes it: the magic `\x93NUMPY`, a version, a little-endian header length,
 * a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }` padded
 * with spaces to a multiple of 64 bytes, then the raw data. The reader takes float32 and float64
 * in either byte order and either memory order and returns row-major float32; everything is
 * checked before a byte of data is used.
 */

export type TensorFileErrorCode =
  | 'format' // neither .npy nor safetensors
  | 'truncated' // fewer bytes than the header promises
  | 'header' // the header cannot be parsed
  | 'shape' // not the shape asked for, or the data does not match the shape the header claims
  | 'dtype' // an element type other than float32 / float64
  | 'object' // pickled Python objects: never executed, never read
  | 'not-finite' // NaN or ±Infinity, or a float64 beyond float32's range
  | 'too-large'; // more than this browser is allowed to hold

/** A tensor file that is not what it claims to be; `code` says which rule it broke. */
export class TensorFileError extends Error {
  override readonly name = 'TensorFileError';
  constructor(
    readonly code: TensorFileErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A tensor as this app uses it: row-major float32. */
export interface Float32Tensor {
  shape: number[];
  data: Float32Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_HEADER = 65_535; // numpy's own limit for version 1.0 headers; ample for 2.0/3.0 too

/** Whether `bytes` starts like an .npy file. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/** Reads an .npy file of float32 or float64 values into row-major float32. */
export function readNpy(bytes: Uint8Array): Float32Tensor {
  if (!isNpy(bytes)) throw new TensorFileError('format', 'it does not start with \\x93NUMPY');
  if (bytes.length < 10) throw new TensorFileError('truncated', 'it ends inside its preamble');
  const major = bytes[6]!;
  if (major < 1 || major > 3) {
    throw new TensorFileError('header', `format version ${major}.${bytes[7]} is not 1, 2 or 3`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new TensorFileError('truncated', 'no header length');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes;
  if (headerLen > MAX_HEADER) {
    throw new TensorFileError('header', `a header of ${headerLen} bytes is not a real one`);
  }
  if (start + headerLen > bytes.length) {
    throw new TensorFileError(
      'truncated',
      `its header runs ${start + headerLen - bytes.length} bytes past the end`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true }).decode(
      bytes.subarray(start, start + headerLen),
    );
  } catch {
    throw new TensorFileError('header', 'its header is not text');
  }
  const { descr, fortran, shape } = parseHeader(text);
  const type = dtypeOf(descr);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const have = bytes.length - dataStart;
  const need = count * type.size;
  if (have < need) {
    throw new TensorFileError(
      'truncated',
      `its header says shape (${shape.join(', ')}) of ${descr}, ${need} bytes, but only ${have} follow`,
    );
  }
  if (have > need) {
    throw new TensorFileError(
      'shape',
      `its header says shape (${shape.join(', ')}), ${need} bytes of data, but ${have} follow: the header does not describe the data`,
    );
  }
  const data = new Float32Array(count);
  const little = type.order === '<';
  for (let i = 0; i < count; i++) {
    const at = dataStart + i * type.size;
    const v =
      type.size === 4 ? view.getFloat32(at, little) : checkRange(view.getFloat64(at, little), i);
    if (!Number.isFinite(v)) {
      throw new TensorFileError('not-finite', `element ${i} is ${v}: only finite numbers`);
    }
    data[i] = v;
  }
  return { shape, data: fortran && shape.length > 1 ? toRowMajor(data, shape) : data };
}

function checkRange(v: number, i: number): number {
  if (Number.isFinite(v) && Math.abs(v) > 3.4028234663852886e38) {
    throw new TensorFileError('not-finite', `element ${i} (${v}) is beyond float32's range`);
  }
  return v;
}

/** The three keys numpy writes, from a Python dict literal; anything else is refused. */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  const body = text.trim();
  if (!body.startsWith('{') || !body.endsWith('}')) {
    throw new TensorFileError('header', `its header is not a dict: ${body.slice(0, 80)}`);
  }
  const descrMatch = /'descr'\s*:\s*('([^']*)'|\[)/.exec(body);
  const fortranMatch = /'fortran_order'\s*:\s*(True|False)/.exec(body);
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(body);
  if (descrMatch?.[1] === '[') {
    throw new TensorFileError(
      'dtype',
      'it holds a structured array (records with named fields): save one float32 or float64 matrix',
    );
  }
  if (!descrMatch || !fortranMatch || !shapeMatch) {
    throw new TensorFileError('header', "its header lacks 'descr', 'fortran_order' or 'shape'");
  }
  const dims = shapeMatch[1]!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const shape = dims.map((d) => (/^\d{1,10}$/.test(d) ? Number(d) : Number.NaN));
  if (shape.some((d) => !Number.isSafeInteger(d))) {
    throw new TensorFileError('header', `its shape (${shapeMatch[1]}) is not a tuple of sizes`);
  }
  return { descr: descrMatch[2]!, fortran: fortranMatch[1] === 'True', shape };
}

const NAMES: Record<string, string> = {
  f2: 'float16',
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  b1: 'bool',
  c8: 'complex64',
  c16: 'complex128',
};

function dtypeOf(descr: string): { order: '<' | '>'; size: 4 | 8 } {
  if (descr.includes('O')) {
    throw new TensorFileError(
      'object',
      'it holds Python objects (dtype object), which would need pickle to read: save a float32 or float64 array',
    );
  }
  const m = /^([<>=|])f([48])$/.exec(descr);
  if (!m) {
    const kind = NAMES[descr.slice(1)] ?? descr;
    throw new TensorFileError(
      'dtype',
      `its dtype is ${kind}; tessel reads float32 and float64 (convert with a.astype(numpy.float32))`,
    );
  }
  // '=' is native order, which numpy writes explicitly; every browser this runs in is little-endian.
  const order = m[1] === '>' ? '>' : '<';
  return { order, size: m[2] === '4' ? 4 : 8 };
}

/** Column-major (Fortran) data of `shape` reordered row-major. */
function toRowMajor(data: Float32Array, shape: number[]): Float32Array {
  const out = new Float32Array(data.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  // Walk the Fortran layout (first index fastest), writing each value to its C position.
  const cStride = new Array<number>(rank);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    cStride[d] = s;
    s *= shape[d]!;
  }
  for (let i = 0; i < data.length; i++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += idx[d]! * cStride[d]!;
    out[at] = data[i]!;
    for (let d = 0; d < rank; d++) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * Writes row-major float32 values as .npy version 1.0 (`<f4`, C order), byte for byte what
 * `numpy.save` writes for the same array, so `numpy.load` reads it back.
 */
export function writeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new TensorFileError('shape', `${data.length} values do not fill shape (${shape})`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // numpy pads so that the data starts on a 64-byte boundary, ending the header with \n.
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i]!, true);
  return out;
}
