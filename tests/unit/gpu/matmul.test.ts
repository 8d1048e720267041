import { describe, expect, test } from 'vitest';
import { TILE_CANDIDATES } from '../../../src/gpu/autotune';
import { isGpuError } from '../../../src/gpu/errors';
import { DEFAULT_TILE, Matmul, paddedShape } from '../../../src/gpu/matmul';
import { checkElementwise, gammaF32, geluF64, matmulF64 } from '../../../src/reference/matmul';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();

function expectWithinBound(
  c: Float32Array,
  a: Float32Array,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
) {
  const exact = matmulF64(a, b, { m, k, n });
  const abs = matmulF64(a, b, { m, k, n }, true);
  const check = checkElementwise(c, exact, abs, k);
  expect(check.worstRatio, `worst element ${check.worstIndex}`).toBeLessThanOrEqual(1);
}

describe('Matmul on a real WebGPU device', () => {
  test.each([
    [1, 1, 1],
    [37, 53, 29],
    [256, 256, 256],
    [512, 128, 384],
    [3, 4099, 5], // K far larger than M and N
    [65, 1, 130], // K = 1: a rank-1 outer product
    [1, 300, 1], // a dot product
  ])('m=%i k=%i n=%i is within c·K·u·(|A||B|)', async (m, k, n) => {
    const a = randomMatrix(m * k, m * 1000 + k);
    const b = randomMatrix(k * n, n * 1000 + k + 1);
    const c = await new Matmul(gpu.ctx).run(a, b, { m, k, n });
    expect(c.length).toBe(m * n);
    expectWithinBound(c, a, b, m, k, n);
  });

  test('exact on small integers (no rounding at all)', async () => {
    const [m, k, n] = [9, 17, 11];
    const a = Float32Array.from({ length: m * k }, (_, i) => (i % 7) - 3);
    const b = Float32Array.from({ length: k * n }, (_, i) => (i % 5) - 2);
    const c = await new Matmul(gpu.ctx).run(a, b, { m, k, n });
    expect(Array.from(c)).toEqual(Array.from(matmulF64(a, b, { m, k, n })));
  });

  test.each(TILE_CANDIDATES.map((t) => [JSON.stringify(t), t] as const))(
    'every autotune candidate is correct: %s',
    async (_, tile) => {
      const [m, k, n] = [70, 45, 90];
      const a = randomMatrix(m * k, 1);
      const b = randomMatrix(k * n, 2);
      const c = await new Matmul(gpu.ctx, tile).run(a, b, { m, k, n });
      expectWithinBound(c, a, b, m, k, n);
    },
  );

  test('a prepared matmul runs repeatedly and reuses pooled buffers', async () => {
    const [m, k, n] = [33, 40, 47];
    const a = randomMatrix(m * k, 3);
    const b = randomMatrix(k * n, 4);
    const mm = new Matmul(gpu.ctx);
    const first = await mm.run(a, b, { m, k, n });
    const created = gpu.ctx.buffers.created;
    for (let i = 0; i < 5; i++) {
      const again = await mm.run(a, b, { m, k, n });
      expect(again).toEqual(first); // same kernel, same order: bit-identical
    }
    expect(gpu.ctx.buffers.created).toBe(created);
  });

  test('pads to whole tiles', () => {
    expect(paddedShape({ m: 1, k: 1, n: 1 }, DEFAULT_TILE)).toEqual({ m: 64, k: 16, n: 64 });
    expect(paddedShape({ m: 64, k: 32, n: 128 }, DEFAULT_TILE)).toEqual({ m: 64, k: 32, n: 128 });
  });

  test.each([
    [{ m: 0, k: 1, n: 1 }, 0, 1],
    [{ m: 2, k: 2, n: 2 }, 3, 4],
    [{ m: 2, k: 2, n: 2 }, 4, 5],
    [{ m: 1.5, k: 2, n: 2 }, 3, 4],
    [{ m: Number.NaN, k: 2, n: 2 }, 4, 4],
  ])('bad shapes give a typed invalid-argument error: %o', async (shape, la, lb) => {
    const err = await new Matmul(gpu.ctx)
      .run(new Float32Array(la), new Float32Array(lb), shape)
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
  });

  test('a matrix over the binding limit is a typed too-large error, not a crash', async () => {
    const limit = gpu.ctx.device.limits.maxStorageBufferBindingSize;
    const k = 4;
    const m = Math.ceil(limit / (k * 4)) + 64;
    // Never allocated on the CPU: a length-checked view is enough to reach the limit check.
    const fake = { length: m * k } as unknown as Float32Array;
    const err = await new Matmul(gpu.ctx)
      .run(fake, new Float32Array(k * 4), { m, k, n: 4 })
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'too-large')).toBe(true);
  });

  test('bad tile shapes are refused before any compile', () => {
    const limits = gpu.ctx.device.limits;
    for (const tile of [
      { wgX: 0, wgY: 8, tk: 16 },
      { wgX: 8, wgY: 8, tk: 6 },
      { wgX: 32, wgY: 32, tk: 16 },
    ]) {
      expect(() => new Matmul(gpu.ctx, tile)).toThrowError(
        expect.objectContaining({ code: 'invalid-argument' }),
      );
    }
    expect(limits.maxComputeInvocationsPerWorkgroup).toBeLessThan(1024);
  });
});

describe('Matmul epilogue: bias and GELU', () => {
  test.each([
    [5, 37, 9],
    [70, 64, 130],
  ])('m=%i k=%i n=%i: A·B + bias, and GELU(A·B + bias)', async (m, k, n) => {
    const a = randomMatrix(m * k, 21);
    const b = randomMatrix(k * n, 22);
    const bias = randomMatrix(n, 23);
    const exact = matmulF64(a, b, { m, k, n });
    const abs = matmulF64(a, b, { m, k, n }, true);
    const withBias = await new Matmul(gpu.ctx).run(a, b, { m, k, n }, { bias });
    const gelu = await new Matmul(gpu.ctx).run(a, b, { m, k, n }, { bias, gelu: true });
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const x = exact[i * n + j]! + bias[j]!;
        // The matmul's bound, plus one rounding for the bias add (and GELU's own, below).
        const tol = gammaF32(k + 1) * (abs[i * n + j]! + Math.abs(bias[j]!)) + 1e-30;
        expect(Math.abs(withBias[i * n + j]! - x)).toBeLessThanOrEqual(tol);
        // GELU's slope is ≤ 1.13, and tanh on the GPU is accurate to a few ulp.
        expect(Math.abs(gelu[i * n + j]! - geluF64(x))).toBeLessThanOrEqual(
          1.13 * tol + 1e-6 * (1 + Math.abs(x)),
        );
      }
    }
  });

  test('a bias of the wrong length is a typed error', async () => {
    const err = await new Matmul(gpu.ctx)
      .run(
        new Float32Array(4),
        new Float32Array(4),
        { m: 2, k: 2, n: 2 },
        { bias: new Float32Array(3) },
      )
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
  });
});
