/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON describing each tensor (dtype, shape, byte offsets [begin, end) into
 * the data buffer that follows), then the raw little-endian data. As the reference reader
 * (`Metadata::validate` in safetensors/src/tensor.rs) requires, the tensors, sorted by offset,
 * tile the data buffer exactly: the first starts at 0, each starts where the one before ends and
 * the last ends at the end of the file. So no two tensors share a byte and the bytes read are at
 * most the file's size. Every extent is checked before a byte of data is read: a file whose
 * tensors all name the same bytes is refused, not decoded once per tensor. A bad file is a
 * SafetensorsError that says what is wrong and, where one is to blame, names the tensor.
 */

export type SafetensorsErrorCode =
  | 'truncated' // shorter than its own header says
  | 'header-length' // the header length points past the file or is absurd
  | 'header-json' // the header is not a JSON object of tensor entries (or repeats a key)
  | 'dtype' // a dtype this loader does not read
  | 'shape' // a shape that is not a list of non-negative integers
  | 'offsets' // offsets reversed, malformed, or not matching shape × dtype size
  | 'overlap' // two tensors share bytes
  | 'gap' // data bytes that no tensor claims (a hole between tensors, or trailing bytes)
  | 'missing-tensor' // a tensor the model needs is absent
  | 'tensor-shape'; // a tensor the model needs has the wrong shape

export class SafetensorsError extends Error {
  override readonly name = 'SafetensorsError';
  constructor(
    readonly code: SafetensorsErrorCode,
    message: string,
    readonly tensor?: string,
  ) {
    super(tensor ? `${tensor}: ${message}` : message);
  }
}

export interface Tensor {
  dtype: 'F32';
  shape: number[];
  /**
   * Row-major values. For an F32 tensor whose bytes are 4-byte aligned in the file this is a
   * view of the file's own buffer (no copy): do not modify or transfer the file while it is used.
   */
  data: Float32Array;
}

/** Largest header accepted: real files have a few KB; a huge one is an attack or corruption. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Most dimensions a shape may have (the shipped model uses 2). */
const MAX_RANK = 8;
/** Element sizes of the dtypes the format defines (a file may hold any; readers pick theirs). */
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
const FLOAT32_MAX = 3.4028234663852886e38;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** One tensor's entry once its dtype, shape and extent have been checked against the file. */
export interface Extent {
  name: string;
  /** One of the format's dtypes (DTYPE_BYTES); which ones a reader decodes is its own call. */
  dtype: string;
  shape: number[];
  begin: number; // bytes into the data buffer
  end: number; // exclusive
}

/** A file's layout, every rule of the format checked, no data byte read. */
export interface SafetensorsLayout {
  /** Where the data buffer starts in the file (bytes). */
  dataStart: number;
  /** Every tensor entry, in header order. */
  extents: Extent[];
  metadata: Record<string, string>;
}

/**
 * Reads and checks a file's header against the format (`Metadata::validate`): the header length,
 * a JSON object with no repeated key, every entry's dtype (any the format defines), shape and
 * offsets consistent, and the entries tiling the data buffer exactly. Reads no data byte.
 * `maxHeaderBytes`: a header larger than this is refused (real files have a few hundred KB).
 */
export function readSafetensorsLayout(
  file: Uint8Array,
  {
    maxHeaderBytes = MAX_HEADER_BYTES,
    dtypes,
  }: {
    maxHeaderBytes?: number;
    /** The dtypes the caller reads: any other is refused by name, before the tiling check. */
    dtypes?: readonly string[];
  } = {},
): SafetensorsLayout {
  const { header, dataStart } = readHeader(file, maxHeaderBytes);
  const dataLen = file.byteLength - dataStart;
  let metadata: Record<string, string> = {};
  const extents: Extent[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = readMetadata(entry);
      continue;
    }
    const x = checkEntry(name, entry, dataLen);
    if (dtypes && !dtypes.includes(x.dtype)) {
      const allowed = dtypes.length === 1 ? `${dtypes[0]} only` : dtypes.join(' and ');
      throw new SafetensorsError('dtype', `${x.dtype} is not supported (${allowed})`, name);
    }
    extents.push(x);
  }
  checkTiling(extents, dataLen);
  return { dataStart, extents, metadata };
}

/**
 * Parses a safetensors file. F32 tensors are read; F64 ones too (as float32, refusing values
 * float32 cannot hold) when `acceptF64` is set; others are refused by name. All extents are
 * validated before any data byte is read, so the work and memory are bounded by the file's size.
 */
export function readSafetensors(
  file: Uint8Array,
  { acceptF64 = false }: { acceptF64?: boolean } = {},
): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  const dtypes = acceptF64 ? ['F32', 'F64'] : ['F32'];
  const { dataStart, extents, metadata } = readSafetensorsLayout(file, { dtypes });
  const tensors = new Map<string, Tensor>();
  for (const x of extents) {
    tensors.set(x.name, { dtype: 'F32', shape: x.shape, data: decode(file, dataStart, x) });
  }
  return { tensors, metadata };
}

function readHeader(
  file: Uint8Array,
  maxHeaderBytes: number,
): { header: object; dataStart: number } {
  if (file.byteLength < 8) {
    throw new SafetensorsError(
      'truncated',
      `file of ${file.byteLength} bytes has no header length`,
    );
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(maxHeaderBytes) || n > BigInt(file.byteLength - 8)) {
    throw new SafetensorsError(
      'header-length',
      `header length ${n} exceeds the ${file.byteLength - 8} bytes after it (or ${maxHeaderBytes})`,
    );
  }
  const headerLen = Number(n);
  let text: string;
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen));
    header = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError('header-json', `header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header-json', 'header must be a JSON object');
  }
  // JSON.parse keeps the last of two equal keys; another reader may keep the first. Refused, so
  // no two readers can see different tensors in the same bytes.
  const dup = duplicateJsonKey(text);
  if (dup !== undefined) {
    throw new SafetensorsError('header-json', `key ${JSON.stringify(dup)} appears twice`);
  }
  return { header, dataStart: 8 + headerLen };
}

function readMetadata(entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new SafetensorsError('header-json', '__metadata__ must be an object');
  }
  for (const [k, v] of Object.entries(entry)) {
    if (typeof v !== 'string')
      throw new SafetensorsError('header-json', `metadata ${k} must be a string`);
  }
  // fromEntries defines own properties, so a key named __proto__ is data, not a prototype.
  return Object.fromEntries(Object.entries(entry as Record<string, string>));
}

/** Checks one entry's dtype, shape and offsets, and that its size is what its shape says. */
function checkEntry(name: string, entry: unknown, dataLen: number): Extent {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new SafetensorsError('header-json', 'entry must be an object', name);
  }
  const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (typeof e.dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, e.dtype)) {
    throw new SafetensorsError('dtype', `unknown dtype ${JSON.stringify(e.dtype)}`, name);
  }
  const shape = e.shape;
  if (
    !Array.isArray(shape) ||
    shape.length > MAX_RANK ||
    !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
  ) {
    throw new SafetensorsError(
      'shape',
      `shape ${JSON.stringify(shape)} is not a list of sizes`,
      name,
    );
  }
  const offsets = e.data_offsets;
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError('offsets', 'data_offsets must be [begin, end]', name);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataLen) {
    throw new SafetensorsError(
      end > dataLen ? 'truncated' : 'offsets',
      `bytes [${begin}, ${end}) are not inside the ${dataLen} data bytes`,
      name,
    );
  }
  const bytes = byteSize(shape as number[], DTYPE_BYTES[e.dtype]!, dataLen);
  if (bytes !== end - begin) {
    const expected = bytes === undefined ? `more than the ${dataLen} data bytes` : `${bytes}`;
    throw new SafetensorsError(
      'offsets',
      `${end - begin} bytes for shape [${shape}] of ${e.dtype} (${expected} expected)`,
      name,
    );
  }
  return { name, dtype: e.dtype, shape: shape as number[], begin, end };
}

/**
 * Bytes a tensor of `shape` and element size takes, or undefined once that passes `limit`: the
 * product is never formed past the limit, so shapes like [2^40, 2^40] cannot overflow into a
 * plausible size.
 */
function byteSize(shape: readonly number[], element: number, limit: number): number | undefined {
  if (shape.includes(0)) return 0;
  let bytes = element;
  for (const d of shape) {
    bytes *= d;
    if (bytes > limit) return undefined;
  }
  return bytes;
}

/** The extents, in offset order, must tile [0, dataLen) with no byte shared and none left over. */
function checkTiling(extents: readonly Extent[], dataLen: number): void {
  const sorted = [...extents].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  let last: Extent | undefined;
  for (const x of sorted) {
    if (x.begin < at) {
      throw new SafetensorsError('overlap', `shares bytes with ${last!.name}`, x.name);
    }
    if (x.begin > at) {
      throw new SafetensorsError(
        'gap',
        `data bytes [${at}, ${x.begin}) before it belong to no tensor`,
        x.name,
      );
    }
    at = x.end;
    last = x;
  }
  if (at !== dataLen) {
    throw new SafetensorsError('gap', `data bytes [${at}, ${dataLen}) belong to no tensor`);
  }
}

/** The tensor's values as float32: a view of the file where alignment allows, else one copy. */
function decode(file: Uint8Array, dataStart: number, x: Extent): Float32Array {
  const at = file.byteOffset + dataStart + x.begin;
  const count = (x.end - x.begin) / (x.dtype === 'F32' ? 4 : 8);
  if (x.dtype === 'F32' && LITTLE_ENDIAN_HOST) {
    if (at % 4 === 0) return new Float32Array(file.buffer, at, count);
    const out = new Float32Array(count);
    new Uint8Array(out.buffer).set(file.subarray(dataStart + x.begin, dataStart + x.end));
    return out;
  }
  const view = new DataView(file.buffer, at, x.end - x.begin);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    if (x.dtype === 'F32') {
      out[i] = view.getFloat32(i * 4, true);
      continue;
    }
    const v = view.getFloat64(i * 8, true);
    if (Math.abs(v) > FLOAT32_MAX) {
      throw new SafetensorsError('dtype', `element ${i} (${v}) does not fit float32`, x.name);
    }
    out[i] = v;
  }
  return out;
}

/**
 * The first key that appears twice in one object of `text` (already parsed as JSON, so valid),
 * if any. Keys compare as JSON.parse decodes them: "a" and "\u0061" are the same key.
 */
function duplicateJsonKey(text: string): string | undefined {
  const open: (Set<string> | null)[] = []; // one per open container: its keys, null for arrays
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; text.charCodeAt(j) !== 0x22; j++) {
        if (text.charCodeAt(j) === 0x5c /* \ */) {
          escaped = true;
          j++;
        }
      }
      const keys = open[open.length - 1];
      if (expectKey && keys) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (keys.has(key)) return key;
        keys.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b /* { */) {
      open.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      open.push(null);
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      open.pop();
    } else if (c === 0x2c /* , */) {
      expectKey = open[open.length - 1] != null;
    }
  }
  return undefined;
}

/** Writes F32 tensors as safetensors (used by the training script and by tests). */
export function writeSafetensors(
  tensors: Record<string, { shape: number[]; data: Float32Array }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = t.data.length * 4;
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
  const pad = (8 - ((8 + json.length) % 8)) % 8;
  if (pad) json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}
