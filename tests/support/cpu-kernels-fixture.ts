// The CPU engine's kernel tests' fixture (tests/unit/cpu/hf-cpu-kernels.test.ts): engines on 1
// and 2 threads, stack frames, reproducible inputs, and weights exact in F32, F16 and BF16.
import { expect } from 'vitest';
import { CpuKernels, type CpuWeightDtype } from '../../src/cpu/kernels';
import { spawnNodeHelper } from '../../src/cpu/node-threads';
import { bf16ToF64, f16ToF64 } from '../../src/model/hf/weights';
import { seededRng, uniform } from '../../src/model/rng';

const engines = new Map<number, Promise<CpuKernels>>();
/** The CPU engine on `threads` threads, made once per test file, helpers woken at any size. */
export const engine = (threads: number) => {
  let e = engines.get(threads);
  if (!e) {
    // minWorkPerThread 0: helpers take part at these small shapes, so the tests exercise them.
    e = CpuKernels.create({ threads, spawn: spawnNodeHelper, minWorkPerThread: 0 });
    engines.set(threads, e);
  }
  return e;
};
/** Disposes every engine made (pass it to afterAll). */
export async function disposeEngines(): Promise<void> {
  for (const e of engines.values()) (await e).dispose();
}

/** Reproducible float32 values uniform in [lo, hi). */
export function randoms(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const rng = seededRng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * uniform(rng));
}

/** Weights k/512, |k| ≤ 255: exact in F32, F16 and BF16. */
export function weightValues(n: number, seed: number): Float64Array {
  const rng = seededRng(seed);
  return Float64Array.from({ length: n }, () => (Math.floor(uniform(rng) * 511) - 255) / 512);
}

/** Every finite F16 value's bits, found through the reference's own decoder. */
export const F16_BITS = new Map<number, number>();
for (let b = 0xffff; b >= 0; b--) {
  const v = f16ToF64(b);
  if (Number.isFinite(v)) F16_BITS.set(v, b); // −0 and +0 collide: +0 (b = 0) wins, either serves
}

/** `values` (exact in `dtype`) as the engine stores them; returns the byte offset. */
export function putWeights(cpu: CpuKernels, values: Float64Array, dtype: CpuWeightDtype): number {
  if (dtype === 'F32') return cpu.put(Float32Array.from(values));
  const f32 = new Uint32Array(Float32Array.from(values).buffer);
  const bits = Uint16Array.from(values, (v, i) =>
    dtype === 'BF16' ? f32[i]! >>> 16 : F16_BITS.get(v)!,
  );
  // The reference decodes the same bits: they hold exactly the values asked for.
  const decode = dtype === 'BF16' ? bf16ToF64 : f16ToF64;
  expect(Float64Array.from(bits, decode)).toEqual(values);
  return cpu.putBits(bits);
}
