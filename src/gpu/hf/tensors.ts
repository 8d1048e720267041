// Getting a Hugging Face model's tensors onto the GPU in the form the kernels in shaders/hf read:
// weights in their checkpoint's width, ids checked against their table, rotary frequencies split
// for rope.wgsl's exact angle reduction.

import type { GpuContext } from '../context';
import { GpuError } from '../errors';

/** How a weight tensor's elements are stored (safetensors dtypes the kernels read). */
export type WeightFormat = 'F32' | 'F16' | 'BF16';

/** The WEIGHT_FORMAT override of shaders/hf/weights.wgsl for each format. */
export const WEIGHT_FORMAT_CODE: Record<WeightFormat, number> = { F32: 0, F16: 1, BF16: 2 };

/** A weight tensor resident on the GPU in its stored width. */
export interface GpuWeights {
  readonly buffer: GPUBuffer;
  readonly format: WeightFormat;
  /** Elements (not bytes). */
  readonly length: number;
}

const USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A new storage buffer of `bytes` (rounded up to 4), or GpuError('too-large'). */
export function storageBuffer(ctx: GpuContext, bytes: number, label: string): GPUBuffer {
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const l = ctx.device.limits;
  if (size > l.maxStorageBufferBindingSize || size > l.maxBufferSize) {
    throw new GpuError(
      'too-large',
      `${label} needs ${size} bytes; this adapter binds at most ${l.maxStorageBufferBindingSize}`,
    );
  }
  return ctx.device.createBuffer({ label, size, usage: USAGE() });
}

/**
 * Uploads a weight tensor as stored: F32 as a Float32Array, F16 and BF16 as the Uint16Array of
 * their bit patterns (two to a 32-bit word on the GPU, an odd count padded with a zero half).
 * The buffer belongs to the caller (destroy it with the model).
 */
export function uploadWeights(
  ctx: GpuContext,
  format: WeightFormat,
  data: Float32Array | Uint16Array,
  label: string,
): GpuWeights {
  if ((format === 'F32') !== data instanceof Float32Array) {
    throw new GpuError(
      'invalid-argument',
      `${label}: ${format} weights come as a ${format === 'F32' ? 'Float32Array' : 'Uint16Array'}`,
    );
  }
  const buffer = storageBuffer(ctx, data.byteLength, label);
  if (data.byteLength % 4 === 0) {
    ctx.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  } else {
    const padded = new Uint16Array(data.length + 1);
    padded.set(data);
    ctx.device.queue.writeBuffer(buffer, 0, padded);
  }
  return { buffer, format, length: data.length };
}

/**
 * Uploads ids (tokens, positions, token types) as u32, each checked to be an integer in
 * [0, limit): an id the kernels would have to clamp is refused here with
 * GpuError('invalid-argument'), never read as some other row.
 */
export function uploadIds(
  ctx: GpuContext,
  ids: ArrayLike<number>,
  limit: number,
  label: string,
): GPUBuffer {
  const out = new Uint32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const v = ids[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= limit) {
      throw new GpuError('invalid-argument', `${label}[${i}] = ${v} is outside 0..${limit - 1}`);
    }
    out[i] = v;
  }
  const buffer = storageBuffer(ctx, out.byteLength, label);
  ctx.device.queue.writeBuffer(buffer, 0, out);
  return buffer;
}

/** Positions below this get rope.wgsl's exact angle reduction (error a few f32 roundings of a
 * turn); above it the angle degrades gradually to the precision of a plain f32 product. */
export const ROPE_EXACT_POSITIONS = 2 ** 17;
const PART_BITS = 24 - Math.log2(ROPE_EXACT_POSITIONS); // significant bits per exact part

/** `f` rounded to PART_BITS significant bits (0 stays 0). */
function leading(f: number): number {
  if (f === 0) return 0;
  const q = 2 ** (Math.floor(Math.log2(Math.abs(f))) - PART_BITS + 1);
  return Math.round(f / q) * q;
}

/**
 * rope.wgsl's frequency table from the inverse frequencies (rotaryInvFreq, or Llama 3's
 * rescaled ones): for each i, invFreq_i/2π in turns as three parts of PART_BITS significant bits
 * and the f32 rest, so position·part is exact in f32 for every position < ROPE_EXACT_POSITIONS.
 */
export function rotaryTurns(invFreq: ArrayLike<number>): Float32Array {
  const out = new Float32Array(invFreq.length * 4);
  for (let i = 0; i < invFreq.length; i++) {
    const f = invFreq[i]!;
    if (!Number.isFinite(f) || f < 0) {
      throw new GpuError('invalid-argument', `inverse frequency ${i} = ${f}`);
    }
    let rest = f / (2 * Math.PI);
    for (let p = 0; p < 3; p++) {
      const part = leading(rest);
      out[4 * i + p] = part;
      rest -= part;
    }
    out[4 * i + 3] = rest;
  }
  return out;
}
