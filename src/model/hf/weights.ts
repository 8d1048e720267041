/**
 * safetensors shards whose tensors are F32, F16 or BF16, kept in their stored width. The
 * project's reader (../safetensors.ts) decodes F32 only; this one applies the same rules, from
 * the format's reference reader (`Metadata::validate` in safetensors/src/tensor.rs): an 8-byte
 * little-endian header length, a JSON object header with no repeated key, every entry's dtype,
 * shape and offsets consistent, and the entries tiling the data buffer exactly. It validates
 * every extent before handing out a byte, and hands out views of the file, not copies, so a
 * model's resident memory stays its file size. Any dtype the format defines passes the layout
 * check (an old BERT file's I64 `position_ids` buffer is legal safetensors); the checkpoint
 * loader refuses the non-float ones it would have to use.
 */

import { SafetensorsError, type SafetensorsErrorCode } from '../safetensors';
import { CheckpointError } from './errors';
import type { HfDtype, HfTensor, HfWeights } from './types';

/** Largest header accepted: real files have a few hundred KB at most. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
const MAX_RANK = 8;
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
  U16: 2,
  U32: 4,
  U64: 8,
  F8_E4M3: 1,
  F8_E5M2: 1,
};
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** One tensor entry of a shard, checked against the file: its bytes are a view of the shard. */
export interface RawTensor {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Reads and validates a shard's header; `file` names the shard in errors. */
export function readShard(file: string, data: Uint8Array): RawTensor[] {
  const bad = (code: SafetensorsErrorCode, message: string, tensor?: string): never => {
    const cause = new SafetensorsError(code, message, tensor);
    throw new CheckpointError('safetensors', file, tensor ?? '', `${code}: ${message}`, { cause });
  };
  if (data.byteLength < 8) bad('truncated', `${data.byteLength} bytes: no header length`);
  const n = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, data.byteLength - 8))) {
    bad('header-length', `header length ${n} exceeds the ${data.byteLength - 8} bytes after it`);
  }
  const start = 8 + Number(n);
  let text = '';
  let header: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data.subarray(8, start));
    header = JSON.parse(text);
  } catch (e) {
    bad('header-json', `header is not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    bad('header-json', 'header must be a JSON object');
  }
  const dup = duplicateTopLevelKey(text);
  if (dup !== undefined) bad('header-json', `key ${JSON.stringify(dup)} appears twice`);
  const dataLen = data.byteLength - start;
  const out: (RawTensor & { begin: number; end: number })[] = [];
  for (const [name, entry] of Object.entries(header as object)) {
    if (name === '__metadata__') {
      const ok =
        typeof entry === 'object' &&
        entry !== null &&
        !Array.isArray(entry) &&
        Object.values(entry).every((v) => typeof v === 'string');
      if (!ok) bad('header-json', '__metadata__ must map names to strings');
      continue;
    }
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const { dtype, shape, data_offsets: offsets } = e;
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      bad('dtype', `unknown dtype ${JSON.stringify(dtype)}`, name);
    }
    if (
      !Array.isArray(shape) ||
      shape.length > MAX_RANK ||
      !shape.every((d) => Number.isSafeInteger(d) && d >= 0)
    ) {
      bad('shape', `shape ${JSON.stringify(shape)} is not a list of sizes`, name);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      bad('offsets', 'data_offsets must be [begin, end]', name);
    }
    const [begin, end] = offsets as [number, number];
    if (begin > end || end > dataLen) {
      bad(
        end > dataLen ? 'truncated' : 'offsets',
        `bytes [${begin}, ${end}) are not inside the ${dataLen} data bytes`,
        name,
      );
    }
    // The product is never formed past the file's size, so huge shapes cannot wrap around.
    let bytes = (shape as number[]).includes(0) ? 0 : DTYPE_BYTES[dtype as string]!;
    for (const d of shape as number[]) if (bytes <= dataLen) bytes *= d;
    if (bytes !== end - begin) {
      bad('offsets', `${end - begin} bytes for shape [${shape}] of ${dtype}`, name);
    }
    const at = start + begin;
    out.push({
      name,
      dtype: dtype as string,
      shape: shape as number[],
      bytes: data.subarray(at, start + end),
      begin,
      end,
    });
  }
  out.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let at = 0;
  for (const x of out) {
    if (x.begin < at) bad('overlap', 'shares bytes with another tensor', x.name);
    if (x.begin > at) bad('gap', `data bytes [${at}, ${x.begin}) belong to no tensor`, x.name);
    at = x.end;
  }
  if (at !== dataLen) bad('gap', `data bytes [${at}, ${dataLen}) belong to no tensor`);
  return out.map(({ name, dtype, shape, bytes }) => ({ name, dtype, shape, bytes }));
}

/**
 * The first key repeated in the header's top-level object (JSON.parse keeps the last of two,
 * another reader may keep the first: refused so every reader sees the same tensors). Keys
 * compare decoded, so "a" and "\u0061" are one key. `text` is already known to be valid JSON.
 */
function duplicateTopLevelKey(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      let escaped = false;
      for (; text[j] !== '"'; j++) {
        if (text[j] === '\\') {
          escaped = true;
          j++;
        }
      }
      if (expectKey && depth === 1) {
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        if (seen.has(key)) return key;
        seen.add(key);
      }
      expectKey = false;
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      depth--;
    } else if (c === ',') {
      expectKey = depth === 1;
    }
  }
  return undefined;
}

/** A half-precision bit pattern's exact value (subnormals, ±0, ±inf and NaN included). */
export function f16ToF64(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // subnormal (and zero)
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** A bfloat16 bit pattern's exact value: the high half of a float32. */
export function bf16ToF64(b: number): number {
  BF16_SCRATCH_U32[0] = (b & 0xffff) << 16;
  return BF16_SCRATCH_F32[0]!;
}
const BF16_SCRATCH_U32 = new Uint32Array(1);
const BF16_SCRATCH_F32 = new Float32Array(BF16_SCRATCH_U32.buffer);

/** The tensor's elements: a view of the shard where alignment allows, else one copy. */
function typedView(t: RawTensor): Float32Array | Uint16Array {
  const width = t.dtype === 'F32' ? 4 : 2;
  const count = t.bytes.byteLength / width;
  const { buffer, byteOffset } = t.bytes;
  if (LITTLE_ENDIAN_HOST && byteOffset % width === 0) {
    return width === 4
      ? new Float32Array(buffer, byteOffset, count)
      : new Uint16Array(buffer, byteOffset, count);
  }
  const out = width === 4 ? new Float32Array(count) : new Uint16Array(count);
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  for (let i = 0; i < count; i++) {
    out[i] = width === 4 ? dv.getFloat32(i * 4, true) : dv.getUint16(i * 2, true);
  }
  return out;
}

/** Weights by canonical name over checked raw tensors (dtype F32, F16 or BF16 only). */
export function makeWeights(raw: ReadonlyMap<string, RawTensor>): HfWeights {
  const cache = new Map<string, HfTensor>();
  const get = (name: string): HfTensor => {
    let t = cache.get(name);
    if (!t) {
      const r = raw.get(name);
      if (!r) throw new RangeError(`no tensor ${name}`);
      t = { dtype: r.dtype as HfDtype, shape: r.shape, data: typedView(r) };
      cache.set(name, t);
    }
    return t;
  };
  return {
    names: () => [...raw.keys()].sort(),
    has: (name) => raw.has(name),
    get,
    f64(name) {
      const t = get(name);
      const out = new Float64Array(t.data.length);
      if (t.dtype === 'F32') out.set(t.data);
      else {
        const widen = t.dtype === 'F16' ? f16ToF64 : bf16ToF64;
        for (let i = 0; i < out.length; i++) out[i] = widen(t.data[i]!);
      }
      return out;
    },
  };
}
