import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CpuKernels } from '../../../src/cpu/kernels';
import { spawnNodeHelper } from '../../../src/cpu/node-threads';
import { CpuProjector } from '../../../src/cpu/projector';
import { type Block, type MatmulProblem, projectJs } from '../../../src/gpu/projection';
import { drawWeights, verifyBlock } from '../../../src/jobs/freivalds';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';
import { inputs, oneElementOff } from '../../support/structured-inputs';

// The owner's Freivalds projections on the CPU engine's float64 SIMD kernels (assembly/verify.ts):
// the same numbers as the float64 JavaScript reference (to float64 rounding), and the same
// verdicts on honest and cheating results.

let projector: CpuProjector;
let threaded: CpuProjector;
let cpu: CpuKernels;
beforeAll(async () => {
  projector = await CpuProjector.create();
  threaded = await CpuProjector.create({ threads: 3, spawn: spawnNodeHelper });
  cpu = await CpuKernels.create({ threads: 1 });
});
afterAll(() => {
  cpu.dispose();
  threaded.dispose();
});

function extract(c: Float32Array, n: number, blk: Block): Float32Array {
  const out = new Float32Array(blk.rows * blk.cols);
  for (let i = 0; i < blk.rows; i++)
    out.set(
      c.subarray((blk.row0 + i) * n + blk.col0, (blk.row0 + i) * n + blk.col0 + blk.cols),
      i * blk.cols,
    );
  return out;
}

describe('CPU projector', () => {
  test('matches the float64 reference on odd shapes, blocks and groups', async () => {
    const rng = seededRng(7);
    const int = (lo: number, hi: number) => lo + (rng.nextUint32() % (hi - lo + 1));
    for (let t = 0; t < 60; t++) {
      const [m, k, n] = [int(1, 70), int(1, 90), int(1, 150)];
      const kind = (['uniform', 'positive', 'dynamic-range'] as const)[t % 3]!;
      const p = inputs(kind, m, k, n, rng);
      const row0 = int(0, m - 1);
      const col0 = int(0, n - 1);
      const blk = { row0, rows: int(1, m - row0), col0, cols: int(1, n - col0) };
      const c = await cpu.matmul(p.a.slice(), p.b.slice(), p);
      const claimed = extract(c, n, blk);
      const vectors = int(2, 3);
      const groupCols = int(1, 80);
      const r = drawWeights(rng, vectors * blk.cols);
      const req = { problem: p, block: blk, claimed, r, vectors, groupCols };
      const want = projectJs(req);
      const got = projector.project(req);
      // Threads split rows, never a sum: the same bits on 1 or 3 threads.
      expect(threaded.project(req)).toEqual(got);
      for (const key of ['abr', 'cr', 'absAB', 'sqAB', 'cSq'] as const) {
        expect(got[key].length, key).toBe(want[key].length);
        for (let i = 0; i < want[key].length; i++) {
          const scale =
            key === 'abr'
              ? want.absAB[Math.floor(i / (want.abr.length / blk.rows))]! * 1.5
              : Math.abs(want[key][i]!);
          expect(
            Math.abs(got[key][i]! - want[key][i]!),
            `${key}[${i}] case ${t}`,
          ).toBeLessThanOrEqual((k + blk.cols + 4) * 2 ** -52 * scale + 1e-300);
        }
      }
    }
    expect(projector.stats.projected).toBe(60);
    expect([projector.threads, threaded.threads]).toEqual([1, 3]);
  });

  test('verdicts: honest CPU-engine products accepted, cheats rejected (n = 256)', async () => {
    const rng = seededRng(8);
    const n = 256;
    const p: MatmulProblem = inputs('uniform', n, 512, n, rng);
    const whole = { row0: 0, rows: n, col0: 0, cols: n };
    const honest = await cpu.matmul(p.a.slice(), p.b.slice(), p);
    const req = {
      problem: p,
      block: whole,
      claimed: honest,
      r: drawWeights(rng, 2 * n),
      vectors: 2,
      groupCols: 64,
    };
    expect(threaded.project(req)).toEqual(projector.project(req));
    const opts = { rng, projector: threaded.project }; // rows split across 3 threads
    for (let t = 0; t < 5; t++)
      expect((await verifyBlock(p, whole, honest, opts)).accepted).toBe(true);
    // A NaN or ∞ anywhere shows in the projector's float64 Σĉ²: refused without a scan of its own.
    for (const x of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const bad = honest.slice();
      bad[n * n - 1 - (rng.nextUint32() % n)] = x;
      expect((await verifyBlock(p, whole, bad, opts)).reason).toBe('non-finite');
    }
    const scaled = honest.map((x) => x * (1 + 1e-4));
    expect((await verifyBlock(p, whole, scaled, opts)).accepted).toBe(false);
    const exact = matmulF64(p.a, p.b, p);
    for (let t = 0; t < 10; t++) {
      const bad = oneElementOff(
        honest,
        exact,
        n,
        [rng.nextUint32() % n, rng.nextUint32() % n],
        100,
      );
      const v = await verifyBlock(p, whole, bad, opts);
      expect(v.accepted, JSON.stringify(v)).toBe(false);
    }
    // A block inside the problem, then another problem: A and B are swapped in.
    const blk = { row0: 64, rows: 100, col0: 30, cols: 200 };
    expect((await verifyBlock(p, blk, extract(honest, n, blk), opts)).accepted).toBe(true);
    const q = inputs('positive', 64, 64, 64, rng);
    const qc = await cpu.matmul(q.a.slice(), q.b.slice(), q);
    expect(
      (await verifyBlock(q, { row0: 0, rows: 64, col0: 0, cols: 64 }, qc, opts)).accepted,
    ).toBe(true);
    expect((await verifyBlock(p, whole, honest, opts)).accepted).toBe(true);
  });
});
