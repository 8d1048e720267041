import { describe, expect, test } from 'vitest';
import { isGpuError } from '../../../src/gpu/errors';
import { Gemv } from '../../../src/gpu/gemv';
import { gammaF32, matvecF64 } from '../../../src/reference/matmul';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();

describe('Gemv on a real WebGPU device', () => {
  test.each([
    [1, 1],
    [7, 3],
    [37, 53],
    [300, 1025],
    [2, 5000],
  ])('m=%i k=%i is within γ_K·(|A||x|)', async (m, k) => {
    const a = randomMatrix(m * k, m + k);
    const x = randomMatrix(k, 2 * k);
    const y = await new Gemv(gpu.ctx).run(a, x, m, k);
    const exact = matvecF64(a, x, m, k);
    const absAx = matvecF64(a.map(Math.abs), x.map(Math.abs), m, k);
    for (let i = 0; i < m; i++) {
      expect(Math.abs(y[i]! - exact[i]!)).toBeLessThanOrEqual(gammaF32(k) * absAx[i]!);
    }
  });

  test('rows past a workgroup boundary are written, none beyond m', async () => {
    const m = 9;
    const a = new Float32Array(m * 4).map((_, i) => Math.floor(i / 4) + 1);
    const y = await new Gemv(gpu.ctx, { wg: 8, rows: 4 }).run(
      a,
      new Float32Array([1, 1, 1, 1]),
      m,
      4,
    );
    expect(Array.from(y)).toEqual([4, 8, 12, 16, 20, 24, 28, 32, 36]);
  });

  test('bad sizes and configs are typed errors', async () => {
    const err = await new Gemv(gpu.ctx)
      .run(new Float32Array(6), new Float32Array(2), 2, 2)
      .catch((e: unknown) => e);
    expect(isGpuError(err, 'invalid-argument')).toBe(true);
    expect(() => new Gemv(gpu.ctx, { wg: 48, rows: 4 })).toThrowError(
      expect.objectContaining({ code: 'invalid-argument' }),
    );
  });
});
