import { describe, expect, test } from 'vitest';
import { matmulF64 } from '../../src/gpu/reference';
import type { Verdict } from '../../src/jobs/job';
import {
  chooseBlockSize,
  MatmulOwnerJob,
  planBlocks,
  randomProblem,
  shardInputs,
} from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/model/rng';

describe('planning and assembly', () => {
  test('blocks tile C exactly once, edges included', () => {
    const blocks = planBlocks(130, 70, 64, 32);
    expect(blocks).toHaveLength(3 * 3);
    const covered = new Uint8Array(130 * 70);
    for (const b of blocks)
      for (let i = 0; i < b.rows; i++)
        for (let j = 0; j < b.cols; j++) covered[(b.row0 + i) * 70 + b.col0 + j]!++;
    expect(covered.every((v) => v === 1)).toBe(true);
  });

  test('block size fits the shard budget and yields several shards', () => {
    const { blockRows, blockCols } = chooseBlockSize(2048, 1024, 2048, {
      maxShardBytes: 8 * 2 ** 20,
    });
    expect(
      (2 * Math.max(blockRows, blockCols) * 1024 + blockRows * blockCols) * 4,
    ).toBeLessThanOrEqual(8 * 2 ** 20);
    expect(planBlocks(2048, 2048, blockRows, blockCols).length).toBeGreaterThanOrEqual(4);
    expect(chooseBlockSize(10, 5, 7)).toEqual({ blockRows: 10, blockCols: 7 });
    expect(() => chooseBlockSize(64, 10_000_000, 64, { maxShardBytes: 1024 })).toThrow(RangeError);
  });

  test('shard inputs are A’s rows and B’s columns of the block', () => {
    const p = randomProblem(5, 3, 6, seededRng(1));
    const { a, b } = shardInputs(p, { row0: 2, rows: 2, col0: 1, cols: 3 });
    expect(Array.from(a)).toEqual(Array.from(p.a.subarray(6, 12)));
    expect(Array.from(b)).toEqual([
      p.b[1],
      p.b[2],
      p.b[3],
      p.b[7],
      p.b[8],
      p.b[9],
      p.b[13],
      p.b[14],
      p.b[15],
    ]);
  });
});

const who = (id: string, maxBufferBytes = Infinity) => ({
  id,
  gflops: 1,
  maxBufferBytes,
  adapter: 'test',
});

/** A job whose settlements are collected as they happen. */
function collect(job: MatmulOwnerJob): Verdict[] {
  const verdicts: Verdict[] = [];
  job.onSettled = (s) => verdicts.push(...s.verdicts);
  return verdicts;
}

describe('MatmulOwnerJob', () => {
  const p = randomProblem(40, 24, 30, seededRng(7));
  const exact = Float32Array.from(matmulF64(p.a, p.b, p));
  const blockOf = (c: Float32Array, r0: number, rows: number, c0: number, cols: number) => {
    const out = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++)
      out.set(c.subarray((r0 + i) * 30 + c0, (r0 + i) * 30 + c0 + cols), i * cols);
    return out;
  };

  test('honest results are accepted and assemble C; cheats are rejected and re-leased', async () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 16, 16), { now: () => 0 });
    const verdicts = collect(job);
    let rejected = 0;
    for (let t = 0; !job.done && t < 100; t++) {
      const offer = job.offer(who(t % 2 ? 'cheat' : 'honest'), t);
      if (offer.kind !== 'lease') break;
      const block = job.blocks[offer.lease.shardId]!;
      const { row0, rows, col0, cols } = block;
      expect(offer.work).toMatchObject({ kind: 'matmul', m: rows, k: 24, n: cols });
      const honest = blockOf(exact, row0, rows, col0, cols);
      const claimed = t % 2 ? honest.map((v, i) => (i === 0 ? v + 1 : v)) : honest;
      await job.submit(
        offer.lease.leaseId,
        offer.lease.contributor,
        { kind: 'matmul', rows, cols, c: claimed },
        5,
      );
      const v = verdicts.at(-1)!;
      expect(v).toMatchObject({ shardId: offer.lease.shardId, method: 'freivalds' });
      expect(v.flops).toBe(2 * rows * cols * 24);
      if (t % 2) {
        expect(v).toMatchObject({ settlement: 'rejected', reason: 'residual' });
        rejected++;
      } else {
        expect(v.settlement).toBe('accepted');
      }
    }
    expect(job.done).toBe(true);
    expect(job.c).toEqual(exact);
    expect(job.answer()).toEqual({ kind: 'matmul', c: exact });
    expect(job.report()).toMatchObject({ kind: 'matmul', shards: 6, accepted: 6, rejected });
  });

  test('progress counts each shard once: leased, then verified', async () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 16, 16), { now: () => 0 });
    expect(job.progress()).toEqual({ shards: 6, leased: 0, awaiting: 0, verified: 0 });
    const a = job.offer(who('a'), 0);
    const b = job.offer(who('b'), 0);
    if (a.kind !== 'lease' || b.kind !== 'lease') throw new Error('no lease');
    expect(job.progress()).toEqual({ shards: 6, leased: 2, awaiting: 0, verified: 0 });
    const { row0, rows, col0, cols } = job.blocks[a.lease.shardId]!;
    const c = blockOf(exact, row0, rows, col0, cols);
    await job.submit(a.lease.leaseId, 'a', { kind: 'matmul', rows, cols, c }, 5);
    expect(job.progress()).toEqual({ shards: 6, leased: 1, awaiting: 0, verified: 1 });
  });

  test('a contributor whose GPU cannot bind a shard gets none', () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 16, 16));
    const bytes = job.shardBytes();
    expect(bytes).toBe(4 * ((16 + 16) * 24 + 16 * 16));
    expect(job.offer(who('small', bytes - 1), 0)).toEqual({
      kind: 'none',
      finished: true,
      retryAfterMs: 0,
    });
    expect(job.offer(who('big', bytes), 0)).toMatchObject({ kind: 'lease' });
  });

  test('wrong shapes, other kinds and other peers’ leases do not count', async () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 40, 30));
    const verdicts = collect(job);
    const offer = job.offer(who('a'), 0);
    if (offer.kind !== 'lease') throw new Error('expected a lease');
    const id = offer.lease.leaseId;
    await job.submit(id, 'b', { kind: 'matmul', rows: 40, cols: 30, c: exact }, 1);
    expect(verdicts.at(-1)).toMatchObject({ settlement: 'stale', contributor: 'b' });
    await job.submit(id, 'a', { kind: 'matmul', rows: 30, cols: 40, c: exact }, 1);
    expect(verdicts.at(-1)).toMatchObject({ settlement: 'rejected', reason: 'shape' });
    const again = job.offer(who('a'), 1);
    if (again.kind !== 'lease') throw new Error('expected a lease');
    const logits = { kind: 'inference' as const, logits: exact, tokens: new Uint32Array(0) };
    await job.submit(again.lease.leaseId, 'a', logits, 1);
    expect(verdicts.at(-1)).toMatchObject({ settlement: 'rejected', reason: 'shape' });
    expect(job.offer(who('a'), 2)).toMatchObject({ kind: 'lease' });
  });

  test('restore puts back verified blocks only when they fit', () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 40, 30));
    expect(job.restore(1, { kind: 'matmul', rows: 40, cols: 30, c: exact })).toBe(false);
    expect(job.restore(0, { kind: 'matmul', rows: 40, cols: 30, c: exact.subarray(1) })).toBe(
      false,
    );
    expect(job.restore(0, { kind: 'matmul', rows: 40, cols: 30, c: exact })).toBe(true);
    expect(job.done).toBe(true);
    expect(job.report()).toMatchObject({ accepted: 1, restored: 1 });
  });
});
