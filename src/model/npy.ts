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

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Whether `bytes` starts like an .npy file. */
export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * Reads an .npy file of float32 or float64 values into row-major float32. Little-endian float32
 * in C order at a 4-byte aligned offset comes back as a view of `bytes` (no copy): do not modify
 * or transfer `bytes` while the result is used. Anything else is one new array (two for Fortran
 * order), so a parse never creates more than twice the file's size in arrays.
 */
export function readNpy(bytes: Uint8Array): Float32Tensor {
  if (!isNpy(bytes)) throw new TensorFileError('format', 'it does not start with \\x93NUMPY');
  if (bytes.length < 10) throw new TensorFileError('truncated', 'it ends inside its preamble');
  const major = bytes[6]!;
  // numpy reads versions 1.0, 2.0 and 3.0 only (`_header_size_info`): a minor version is refused.
  if (major < 1 || major > 3 || bytes[7] !== 0) {
    throw new TensorFileError(
      'header',
      `format version ${major}.${bytes[7]} is not 1.0, 2.0 or 3.0`,
    );
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
  const dataStart = start + headerLen;
  const have = bytes.length - dataStart;
  // In BigInt, so a shape like (2**40, 2**40) cannot overflow into a plausible size.
  const need = shape.reduce((a, d) => a * BigInt(d), BigInt(type.size));
  if (BigInt(have) < need) {
    throw new TensorFileError(
      'truncated',
      `its header says shape (${shape.join(', ')}) of ${descr}, ${need} bytes, but only ${have} follow`,
    );
  }
  if (BigInt(have) > need) {
    throw new TensorFileError(
      'shape',
      `its header says shape (${shape.join(', ')}), ${need} bytes of data, but ${have} follow: the header does not describe the data`,
    );
  }
  const data = decode(bytes, dataStart, have / type.size, type);
  return { shape, data: fortran && shape.length > 1 ? toRowMajor(data, shape) : data };
}

/**
 * `count` values from `dataStart` as float32, each finite and within float32's range. Little-
 * endian float32 at a 4-byte aligned address is a view of the file's buffer (no copy);
 * anything else is converted into one new array.
 */
function decode(
  bytes: Uint8Array,
  dataStart: number,
  count: number,
  type: { order: '<' | '>'; size: 4 | 8 },
): Float32Array {
  const at = bytes.byteOffset + dataStart;
  const little = type.order === '<';
  let data: Float32Array;
  if (type.size === 4 && little && LITTLE_ENDIAN_HOST && at % 4 === 0) {
    data = new Float32Array(bytes.buffer, at, count);
  } else {
    const view = new DataView(bytes.buffer, at, count * type.size);
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      data[i] =
        type.size === 4
          ? view.getFloat32(i * 4, little)
          : checkRange(view.getFloat64(i * 8, little), i);
    }
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(data[i]!)) {
      throw new TensorFileError('not-finite', `element ${i} is ${data[i]}: only finite numbers`);
    }
  }
  return data;
}

function checkRange(v: number, i: number): number {
  if (Number.isFinite(v) && Math.abs(v) > 3.4028234663852886e38) {
    throw new TensorFileError('not-finite', `element ${i} (${v}) is beyond float32's range`);
  }
  return v;
}

/** The keys numpy's reader requires, each exactly once and no others (`EXPECTED_KEYS`). */
const HEADER_KEYS = ['descr', 'fortran_order', 'shape'];
/** Most dimensions numpy gives an array (`NPY_MAXDIMS` in numpy 2). */
const MAX_RANK = 64;
/** Python's whitespace between tokens (a form feed included; a no-break space is not). */
const SPACE = new Set([' ', '\t', '\f', '\r', '\n']);
/** A Python 3 decimal integer literal (underscores between digits), not followed by more of a number. */
const DECIMAL = /(?:0(?:_?0)*|[1-9](?:_?[0-9])*)(?![0-9A-Za-z_.])/y;

/**
 * The header as numpy's reader reads it (`ast.literal_eval`, then exactly the keys 'descr',
 * 'fortran_order' and 'shape'), for the literals numpy writes: a dict of str keys whose values
 * are a str, True/False, or a tuple of non-negative decimal ints. It is parsed token by token, so
 * a key is only ever a key: text inside another value's string is never read as one. A key
 * given twice is refused (Python would keep the last; an older tessel kept the first), as are
 * keys numpy does not expect and anything that is not such a literal.
 */
function parseHeader(text: string): { descr: string; fortran: boolean; shape: number[] } {
  let i = 0;
  const fail = (why: string): never => {
    throw new TensorFileError('header', `its header ${why} (at character ${i} of ${text.length})`);
  };
  const skipSpace = () => {
    while (i < text.length && SPACE.has(text[i]!)) i++;
  };
  const expect = (c: string) => {
    skipSpace();
    if (text[i] !== c) fail(`has ${JSON.stringify(text[i] ?? 'its end')} where ${c} belongs`);
    i++;
  };
  /** A one-line Python str literal with ' or " quotes (escapes: only \\, \' and \"). */
  const str = (): string => {
    const quote = text[i];
    if (quote !== "'" && quote !== '"') return fail('has a key or value that is not a str literal');
    let out = '';
    for (i++; ; ) {
      const c = text[i++];
      if (c === undefined || c === '\n' || c === '\r') return fail('has an unterminated string');
      if (c === quote) return out;
      if (c !== '\\') out += c;
      else if (text[i] === '\\' || text[i] === "'" || text[i] === '"') out += text[i++];
      else fail(`uses the escape \\${text[i]}, which numpy never writes`);
    }
  };
  const int = (): number => {
    DECIMAL.lastIndex = i;
    const m = DECIMAL.exec(text);
    const v = m ? Number(m[0].replaceAll('_', '')) : Number.NaN;
    if (!m || !Number.isSafeInteger(v)) fail("has a 'shape' that is not a tuple of sizes");
    i += m![0].length;
    return v;
  };
  /** `()`, `(3,)`, `(3, 4)` or `(3, 4,)`: `(3)` is an int in Python, not a tuple. */
  const tuple = (): number[] => {
    const dims: number[] = [];
    i++; // (
    skipSpace();
    if (text[i] === ')') {
      i++;
      return dims;
    }
    for (;;) {
      if (dims.length === MAX_RANK) fail(`has a 'shape' of more than ${MAX_RANK} dimensions`);
      dims.push(int());
      skipSpace();
      if (text[i] === ')' && dims.length > 1) break;
      if (text[i] !== ',') fail("has a 'shape' that is not a tuple of sizes");
      i++;
      skipSpace();
      if (text[i] === ')') break;
    }
    i++; // )
    return dims;
  };
  const value = (key: string): string | boolean | number[] => {
    skipSpace();
    const c = text[i];
    if (c === "'" || c === '"') return str();
    if (c === '(') return tuple();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
    ] as const) {
      if (text.startsWith(word, i) && !/[0-9A-Za-z_]/.test(text[i + word.length] ?? '')) {
        i += word.length;
        return v;
      }
    }
    if (c === '[' && key === 'descr') {
      throw new TensorFileError(
        'dtype',
        'it holds a structured array (records with named fields): save one float32 or float64 matrix',
      );
    }
    return fail(`has a value for '${key}' that numpy does not write there`);
  };

  const seen = new Map<string, string | boolean | number[]>();
  expect('{');
  skipSpace();
  while (text[i] !== '}') {
    const key = str();
    if (!HEADER_KEYS.includes(key))
      fail(`has the key ${JSON.stringify(key)}, which numpy does not write`);
    if (seen.has(key)) fail(`gives '${key}' twice`);
    expect(':');
    seen.set(key, value(key));
    skipSpace();
    if (text[i] === ',') {
      i++;
      skipSpace();
    } else if (text[i] !== '}') {
      fail(`has ${JSON.stringify(text[i] ?? 'its end')} where , or } belongs`);
    }
  }
  i++; // }
  skipSpace();
  if (i < text.length) fail('goes on after its dict');
  const missing = HEADER_KEYS.filter((k) => !seen.has(k));
  if (missing.length) fail(`lacks ${missing.map((k) => `'${k}'`).join(' and ')}`);
  const descr = seen.get('descr');
  const fortran = seen.get('fortran_order');
  const shape = seen.get('shape');
  if (typeof descr !== 'string') return fail("has a 'descr' that is not a str");
  if (typeof fortran !== 'boolean') return fail("has a 'fortran_order' that is not True or False");
  if (!Array.isArray(shape)) return fail("has a 'shape' that is not a tuple of sizes");
  return { descr, fortran, shape };
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
 * Writes row-major float32 values (`<f4`), or bytes (`|u1`: a mask of what is verified), as .npy
 * version 1.0 in C order, byte for byte what `numpy.save` writes for the same array, so
 * `numpy.load` reads it back.
 */
export function writeNpy(data: Float32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) {
    throw new TensorFileError('shape', `${data.length} values do not fill shape (${shape})`);
  }
  const header = npyHeader(data instanceof Uint8Array ? '|u1' : '<f4', shape);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header);
  if (data instanceof Uint8Array) {
    out.set(data, header.length);
    return out;
  }
  const body = new DataView(out.buffer, header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i]!, true);
  return out;
}

/**
 * The .npy v1.0 header (magic, version, length, the dict padded with spaces so that the data
 * starts on a 64-byte boundary, ending in \n) for C-order data of `descr` and `shape`: what
 * writeNpy puts before its data, and what a file written a piece at a time starts with.
 */
export function npyHeader(descr: '<f4' | '|u1', shape: readonly number[]): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = 10 + header.length + 1;
  header += `${' '.repeat((64 - (total % 64)) % 64)}\n`;
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}
