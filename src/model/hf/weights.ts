/**
 * safetensors shards whose tensors are F32, F16 or BF16, kept in their stored width. The layout
 * is checked by the project's reader (`readSafetensorsLayout` in ../safetensors.ts: the format's
 * rules, every extent before any byte is handed out); this hands out views of the file, not
 * copies, so a model's resident memory stays its file size. Any dtype the format defines passes
 * the layout check (an old BERT file's I64 `position_ids` buffer is legal safetensors); the
 * checkpoint loader refuses the non-float ones it would have to use.
 */

import { readSafetensorsLayout, SafetensorsError } from '../safetensors';
import { CheckpointError } from './errors';
import type { HfDtype, HfTensor, HfWeights } from './types';

/** Largest shard header accepted (real files have a few hundred KB at most). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;
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
  let layout: ReturnType<typeof readSafetensorsLayout>;
  try {
    layout = readSafetensorsLayout(data, { maxHeaderBytes: MAX_HEADER_BYTES });
  } catch (e) {
    if (!(e instanceof SafetensorsError)) throw e;
    const message = e.tensor ? e.message.slice(e.tensor.length + 2) : e.message;
    throw new CheckpointError('safetensors', file, e.tensor ?? '', `${e.code}: ${message}`, {
      cause: e,
    });
  }
  const { dataStart, extents } = layout;
  return extents.map((x) => ({
    name: x.name,
    dtype: x.dtype,
    shape: x.shape,
    bytes: data.subarray(dataStart + x.begin, dataStart + x.end),
  }));
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
