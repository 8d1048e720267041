import { describe, expect, test } from 'vitest';
import { Matmul } from '../../../src/gpu/matmul';
import {
  type Block,
  freivalds,
  type MatmulProblem,
  VerifyArgumentError,
} from '../../../src/jobs/freivalds';
import { seededRng } from '../../../src/model/rng';
import { gammaF32, matmulF64 } from '../../../src/reference/matmul';
import { randomMatrix, useGpu } from '../../support/gpu-fixture';

const gpu = useGpu();

function problem(m: number, k: number, n: number, seed: number): MatmulProblem {
  return { a: randomMatrix(m * k, seed), b: randomMatrix(k * n, seed + 1), m, k, n };
}

function extract(c: ArrayLike<number>, n: number, blk: Block): Float32Array {
  const out = new Float32Array(blk.rows * blk.cols);
  for (let i = 0; i < blk.rows; i++) {
    for (let j = 0; j < blk.cols; j++)
      out[i * blk.cols + j] = c[(blk.row0 + i) * n + blk.col0 + j]!;
  }
  return out;
}

/** The verifier's own row bound, recomputed independently from |A||B| in float64. */
function rowBound(p: MatmulProblem, blk: Block, i: number): number {
  const abs = matmulF64(
    p.a.subarray((blk.row0 + i) * p.k, (blk.row0 + i + 1) * p.k),
    p.b,
    { m: 1, k: p.k, n: p.n },
    true,
  );
  let s = 0;
  for (let j = 0; j < blk.cols; j++) s += abs[blk.col0 + j]!;
  return gammaF32(p.k) * s;
}

interface Case {
  p: MatmulProblem;
  blk: Block;
  honest: Float32Array;
}

describe('Freivalds verifier on real GPU results', () => {
  const rng = seededRng(2024);
  const int = (lo: number, hi: number) => lo + (rng.nextUint32() % (hi - lo + 1));
  const cases: Case[] = [];

  test('1,000 honest GPU results of random small sizes and blocks: all accepted', async () => {
    const mm = new Matmul(gpu.ctx);
    let worst = 0;
    for (let t = 0; t < 1000; t++) {
      const [m, k, n] = [int(1, 40), int(1, 96), int(1, 40)];
      const p = problem(m, k, n, 10 * t);
      const c = await mm.run(p.a, p.b, { m, k, n });
      const row0 = int(0, m - 1);
      const col0 = int(0, n - 1);
      const blk = { row0, rows: int(1, m - row0), col0, cols: int(1, n - col0) };
      const honest = extract(c, n, blk);
      const v = freivalds(p, blk, honest, { rng });
      expect(v.accepted, `case ${t}: ${JSON.stringify({ m, k, n, blk, v })}`).toBe(true);
      worst = Math.max(worst, v.worstRatio);
      cases.push({ p, blk, honest });
    }
    // The honest residual stays far below the worst-case bound; printed for the record.
    console.log(`worst honest residual / bound over 1,000 results: ${worst.toFixed(4)}`);
  });

  test('one element perturbed by twice its row bound: rejected 1,000 / 1,000', () => {
    expect(cases).toHaveLength(1000);
    let rejected = 0;
    for (const { p, blk, honest } of cases) {
      const bad = honest.slice();
      const i = rng.nextUint32() % blk.rows;
      const j = rng.nextUint32() % blk.cols;
      const sign = rng.nextUint32() & 1 ? 1 : -1;
      bad[i * blk.cols + j]! += sign * 2 * rowBound(p, blk, i) + sign * 1e-30;
      const v = freivalds(p, blk, bad, { rng });
      if (!v.accepted && v.reason === 'residual' && v.worstRow === i) rejected++;
    }
    expect(rejected).toBe(1000);
  });

  describe('structured cheats on a 64×96 · 96×80 job, block rows 8..40, cols 16..64', () => {
    const p = problem(64, 96, 80, 77);
    const blk = { row0: 8, rows: 32, col0: 16, cols: 48 };
    const exact = Float32Array.from(matmulF64(p.a, p.b, { m: 64, k: 96, n: 80 }));
    const good = extract(exact, 80, blk);
    const reject = (claimed: Float32Array) => {
      for (let trial = 0; trial < 50; trial++) {
        expect(freivalds(p, blk, claimed).accepted).toBe(false);
      }
    };

    test('the correctly rounded answer is accepted', () => {
      expect(freivalds(p, blk, good).accepted).toBe(true);
    });
    test('two rows swapped', () => {
      const bad = good.slice();
      bad.set(good.subarray(3 * 48, 4 * 48), 10 * 48);
      bad.set(good.subarray(10 * 48, 11 * 48), 3 * 48);
      reject(bad);
    });
    test('an 8×8 tile zeroed', () => {
      const bad = good.slice();
      for (let i = 4; i < 12; i++) bad.fill(0, i * 48 + 8, i * 48 + 16);
      reject(bad);
    });
    test('a square sub-block transposed', () => {
      const bad = good.slice();
      for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) bad[i * 48 + j] = good[j * 48 + i]!;
      reject(bad);
    });
    test("another shard's result of the same shape", () => {
      reject(extract(exact, 80, { row0: 0, rows: 32, col0: 16, cols: 48 }));
    });
    test('all zeros, NaN, and a wrong length', () => {
      reject(new Float32Array(good.length));
      const nan = good.slice();
      nan[5] = Number.NaN;
      expect(freivalds(p, blk, nan)).toMatchObject({ accepted: false, reason: 'non-finite' });
      const inf = good.slice();
      inf[7] = Number.POSITIVE_INFINITY;
      expect(freivalds(p, blk, inf)).toMatchObject({ accepted: false, reason: 'non-finite' });
      expect(freivalds(p, blk, good.subarray(1))).toMatchObject({
        accepted: false,
        reason: 'shape',
      });
    });
    test('a block outside C or fewer than 2 vectors is the caller’s error', () => {
      expect(() => freivalds(p, { ...blk, row0: 40 }, good)).toThrow(VerifyArgumentError);
      expect(() => freivalds(p, { ...blk, cols: 0 }, good)).toThrow(VerifyArgumentError);
      expect(() => freivalds(p, blk, good, { vectors: 1 })).toThrow(VerifyArgumentError);
    });
  });
});
