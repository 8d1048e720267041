import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'vitest';
import { isUsable, TILE_CANDIDATES } from '../../../src/gpu/autotune';
import { Matmul } from '../../../src/gpu/matmul';
import type { FreivaldsOptions, MatmulProblem } from '../../../src/jobs/freivalds';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';
import { useGpu } from '../../support/gpu-fixture';
import { ownerVerdict } from '../../support/owner-verdict';
import { type Inputs, inputs, oneElementOff, toHalf } from '../../support/structured-inputs';

// Verdicts at the float32 noise floor (src/jobs/freivalds.ts): honest float32 results from every
// tile the autotuner can pick, from TF.js's kernel and on structured inputs are never rejected;
// precision downgrades, scaling by 1 ± 10⁻⁴ and one element off by 100× its honest error are
// caught every time at n ≥ 256. Real kernels on Dawn + SwiftShader.

const gpu = useGpu();

const whole = (p: MatmulProblem) => ({ row0: 0, rows: p.m, col0: 0, cols: p.n });

const counts = { unresolved: 0 };
const freivalds = (
  p: MatmulProblem,
  blk: ReturnType<typeof whole>,
  c: ArrayLike<number>,
  options: FreivaldsOptions,
) => ownerVerdict(p, blk, c, options, counts);

describe('honest float32 results are never rejected', () => {
  const kinds: Inputs[] = ['uniform', 'positive', 'constant', 'ill-conditioned', 'dynamic-range'];

  test('every tile the autotuner can pick × structured inputs × K up to 4096', async () => {
    const rng = seededRng(11);
    const tiles = TILE_CANDIDATES.filter((t) => isUsable(t, gpu.ctx.device.limits));
    expect(tiles.length).toBeGreaterThan(1);
    let worst = 0;
    let recomputed = 0;
    for (const [ti, tile] of tiles.entries()) {
      const mm = new Matmul(gpu.ctx, tile);
      for (const kind of kinds) {
        for (const [m, k, n] of [
          [96, 256, 80],
          [64, 4096, 72],
        ] as const) {
          const p = inputs(kind, m, k, n, rng);
          const c = await mm.run(p.a, p.b, { m, k, n });
          const v = freivalds(p, whole(p), c, { rng });
          expect(v.accepted, `tile ${ti} ${kind} ${m}×${k}×${n}: ${JSON.stringify(v)}`).toBe(true);
          worst = Math.max(worst, v.rigorousRatio);
          recomputed += v.recomputedRows;
        }
      }
    }
    // Constant inputs beat the independent-rounding model: decided by recomputed rows.
    expect(recomputed).toBeGreaterThan(0);
    console.log(
      `worst residual ÷ rigorous bound ${worst.toExponential(2)}; rows recomputed ${recomputed}; unresolved first verdicts ${counts.unresolved}`,
    );
  });

  test('K = 16,384 on structured inputs', async () => {
    const rng = seededRng(12);
    const mm = new Matmul(gpu.ctx);
    for (const kind of kinds) {
      const p = inputs(kind, 16, 16_384, 24, rng);
      const v = freivalds(p, whole(p), await mm.run(p.a, p.b, p), { rng });
      expect(v.accepted, `${kind}: ${JSON.stringify(v)}`).toBe(true);
    }
  });

  describe("TF.js's CPU kernel (blocked, float64 partial sums: another summation order)", () => {
    beforeAll(async () => {
      await tf.setBackend('cpu');
    });
    test.each(kinds)('%s inputs, 128×1024×96', async (kind) => {
      const rng = seededRng(13);
      const p = inputs(kind, 128, 1024, 96, rng);
      const c = tf.tidy(() =>
        tf.matMul(tf.tensor2d(p.a, [128, 1024]), tf.tensor2d(p.b, [1024, 96])),
      );
      const claimed = (await c.data()) as Float32Array;
      c.dispose();
      const v = freivalds(p, whole(p), claimed, { rng });
      expect(v.accepted, JSON.stringify(v)).toBe(true);
    });
  });
});

describe('cheats are caught every time at n ≥ 256', () => {
  const cases = [
    [256, 256],
    [256, 1024],
    [512, 512],
  ] as const;

  test.each(cases)('n = %i, K = %i: f16 and bf16 inputs with f32 accumulation', async (n, k) => {
    const rng = seededRng(n + k);
    const mm = new Matmul(gpu.ctx);
    for (const kind of ['uniform', 'positive'] as const) {
      const p = inputs(kind, n, k, n, rng);
      for (const mantissa of [10, 7]) {
        const half = (x: Float32Array) => x.map((v) => toHalf(v, mantissa));
        const c = await mm.run(half(p.a), half(p.b), { m: n, k, n });
        for (let trial = 0; trial < 10; trial++) {
          const v = freivalds(p, whole(p), c, { rng });
          expect(v.accepted, `${kind} mantissa ${mantissa}: ${JSON.stringify(v)}`).toBe(false);
        }
      }
    }
  });

  test.each(cases)('n = %i, K = %i: scaled by 1 ± 10⁻⁴, one element off by 100×', async (n, k) => {
    const rng = seededRng(n * k);
    const mm = new Matmul(gpu.ctx);
    for (const kind of ['uniform', 'positive', 'constant', 'ill-conditioned'] as const) {
      const p = inputs(kind, n, k, n, rng);
      const honest = await mm.run(p.a, p.b, { m: n, k, n });
      expect(freivalds(p, whole(p), honest, { rng }).accepted, kind).toBe(true);
      // An ill-conditioned C is a remainder far below |A||B|: 10⁻⁴ of it is inside honest
      // float32 noise, so scaling it is not a detectable cheat (nor a harmful one).
      for (const s of kind === 'ill-conditioned' ? [] : [1 + 1e-4, 1 - 1e-4]) {
        const v = freivalds(
          p,
          whole(p),
          honest.map((x) => x * s),
          { rng },
        );
        expect(v.accepted, `${kind} × ${s}`).toBe(false);
      }
      // One element pushed 100× the honest error of its row (rms over the row, measured
      // against the exact product) at a random place, 25 times.
      const exact = matmulF64(p.a, p.b, { m: n, k, n });
      for (let trial = 0; trial < 25; trial++) {
        const i = rng.nextUint32() % n;
        const j = rng.nextUint32() % n;
        const bad = oneElementOff(honest, exact, n, [i, j], trial & 1 ? 100 : -100);
        const v = freivalds(p, whole(p), bad, { rng });
        expect(v.accepted, `${kind} element (${i}, ${j}): ${JSON.stringify(v)}`).toBe(false);
      }
    }
  });
});
