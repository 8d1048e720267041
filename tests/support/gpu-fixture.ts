import { afterAll, beforeAll } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { seededRng, uniform } from '../../src/model/rng';

/** One real device (SwiftShader under Node) shared by a test file; destroyed after it. */
export function useGpu(): { readonly ctx: GpuContext } {
  const holder = {} as { ctx: GpuContext };
  beforeAll(async () => {
    holder.ctx = await GpuContext.create();
  });
  afterAll(() => holder.ctx?.destroy());
  return holder;
}

/** Reproducible uniform values in [-1, 1). */
export function randomMatrix(length: number, seed: number): Float32Array {
  const rng = seededRng(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = uniform(rng) * 2 - 1;
  return out;
}
