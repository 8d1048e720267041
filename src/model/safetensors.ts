/**
 * safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
 * length N, N bytes of JSON describing each tensor (dtype, shape, byte offsets into the data that
 * follows), then the raw little-endian data. Everything is checked before a byte is used, and a
 * bad file is a SafetensorsError that says what is wrong.
 */

export type SafetensorsErrorCode =
  | 'truncated' // shorter than its own header says
  | 'header-length' // the header length points past the file or is absurd
  | 'header-json' // the header is not a JSON object of tensor entries
  | 'dtype' // a dtype this loader does not read
  | 'shape' // a shape that is not a list of non-negative integers
  | 'offsets' // offsets out of range, reversed, or not matching shape × dtype size
  | 'overlap' // two tensors share bytes
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
  data: Float32Array;
}

/** Largest header accepted: real files have a few KB; a huge one is an attack or corruption. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
const DTYPE_BYTES: Record<string, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/**
 * Parses a safetensors file. F32 tensors are read; F64 ones too (as float32, refusing values
 * float32 cannot hold) when `acceptF64` is set; others are refused by name.
 */
export function readSafetensors(
  file: Uint8Array,
  { acceptF64 = false }: { acceptF64?: boolean } = {},
): {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
} {
  if (file.byteLength < 8) {
    throw new SafetensorsError(
      'truncated',
      `file of ${file.byteLength} bytes has no header length`,
    );
  }
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES) || n > BigInt(file.byteLength - 8)) {
    throw new SafetensorsError(
      'header-length',
      `header length ${n} exceeds the ${file.byteLength - 8} bytes after it (or ${MAX_HEADER_BYTES})`,
    );
  }
  const headerLen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLen)),
    );
  } catch (e) {
    throw new SafetensorsError('header-json', `header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new SafetensorsError('header-json', 'header must be a JSON object');
  }
  const dataStart = 8 + headerLen;
  const dataLen = file.byteLength - dataStart;
  const metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const tensors = new Map<string, Tensor>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) {
        throw new SafetensorsError('header-json', '__metadata__ must be an object');
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string')
          throw new SafetensorsError('header-json', `metadata ${k} must be a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null) {
      throw new SafetensorsError('header-json', 'entry must be an object', name);
    }
    if (typeof e.dtype !== 'string' || !(e.dtype in DTYPE_BYTES)) {
      throw new SafetensorsError('dtype', `unknown dtype ${JSON.stringify(e.dtype)}`, name);
    }
    if (
      !Array.isArray(e.shape) ||
      !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0) ||
      e.shape.length > 8
    ) {
      throw new SafetensorsError(
        'shape',
        `shape ${JSON.stringify(e.shape)} is not a list of sizes`,
        name,
      );
    }
    const shape = e.shape as number[];
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
    const elements = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== elements * DTYPE_BYTES[e.dtype]!) {
      throw new SafetensorsError(
        'offsets',
        `${end - begin} bytes for shape [${shape}] of ${e.dtype} (${elements * DTYPE_BYTES[e.dtype]!} expected)`,
        name,
      );
    }
    spans.push({ name, begin, end });
    if (e.dtype !== 'F32' && !(acceptF64 && e.dtype === 'F64')) {
      const allowed = acceptF64 ? 'F32 and F64' : 'F32 only';
      throw new SafetensorsError('dtype', `${e.dtype} is not supported (${allowed})`, name);
    }
    const data = new Float32Array(elements);
    if (e.dtype === 'F64') {
      const wide = new DataView(file.buffer, file.byteOffset + dataStart + begin, end - begin);
      for (let i = 0; i < elements; i++) {
        const v = wide.getFloat64(i * 8, true);
        if (Math.abs(v) > 3.4028234663852886e38) {
          throw new SafetensorsError('dtype', `element ${i} (${v}) does not fit float32`, name);
        }
        data[i] = v;
      }
    } else {
      new Uint8Array(data.buffer).set(file.subarray(dataStart + begin, dataStart + end));
    }
    tensors.set(name, { dtype: 'F32', shape, data });
  }
  spans.sort((a, b) => a.begin - b.begin || a.end - b.end);
  for (let i = 1; i < spans.length; i++) {
    const prev = spans[i - 1]!;
    const cur = spans[i]!;
    if (cur.begin < prev.end) {
      throw new SafetensorsError('overlap', `shares bytes with ${prev.name}`, cur.name);
    }
  }
  return { tensors, metadata };
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
