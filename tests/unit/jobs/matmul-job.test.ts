import { describe, expect, test } from 'vitest';
import {
  chooseBlockSize,
  MatmulOwnerJob,
  planBlocks,
  randomProblem,
  shardInputs,
  TOO_BIG_RETRY_MS,
} from '../../../src/jobs/matmul-job';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';

import { collect, who } from '../../support/matmul-job-fixture';

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
      // Caught once, the cheat gets nothing more from the job.
      if (offer.kind !== 'lease' && t % 2) continue;
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
    expect(job.report()).toMatchObject({ kind: 'matmul', shards: 6, accepted: 6, rejected: 1 });
    expect(rejected).toBe(1);
  });

  test('a shard’s FLOPs are its block’s multiply-adds (2·rows·cols·k); together, the whole product’s', () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 16, 16), { now: () => 0 });
    let total = 0;
    for (let s = 0; s < job.shardCount; s++) {
      const { rows, cols } = job.blocks[s]!;
      expect(job.shardFlops(s)).toBe(2 * rows * cols * 24);
      total += job.shardFlops(s);
    }
    expect(total).toBe(2 * 40 * 30 * 24);
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

  test('a contributor whose GPU cannot bind a shard (nor a piece of it) gets none, and why', () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 16, 16));
    const bytes = job.shardBytes();
    expect(bytes).toBe(4 * ((16 + 16) * 24 + 16 * 16));
    expect(job.shardBytes(0)).toBe(bytes);
    // A buffer that holds only the smaller edge blocks gets one of those.
    const edge = job.offer(who('edgy', bytes - 1), 0);
    if (edge.kind !== 'lease') throw new Error('expected an edge block');
    expect(job.shardBytes(edge.lease.shardId)).toBeLessThan(bytes);
    // Blocks under two tiles a side cannot be split: below the smallest, nothing. Not
    // finished: the job goes on for others, and this contributor may ask again later.
    expect(job.offer(who('small', 1_000), 0)).toEqual({
      kind: 'none',
      finished: false,
      retryAfterMs: TOO_BIG_RETRY_MS,
      reason: 'too-big',
    });
    expect(job.splits()).toEqual([]);
    expect(job.offer({ ...who('frame'), maxFrameBytes: 1_000 }, 0)).toMatchObject({
      reason: 'too-big',
    });
    expect(job.offer(who('big', bytes), 0)).toMatchObject({ kind: 'lease' });
  });

  test('no lease says why: every shard out, or the owner’s money', () => {
    const job = new MatmulOwnerJob('j', p, planBlocks(40, 30, 40, 30), { maxCopies: 1 });
    expect(job.offer(who('x'), 0, () => false)).toMatchObject({
      kind: 'none',
      finished: false,
      reason: 'budget',
    });
    expect(job.offer(who('a'), 0)).toMatchObject({ kind: 'lease' });
    expect(job.offer(who('b'), 0)).toMatchObject({
      kind: 'none',
      finished: false,
      reason: 'all-leased',
    });
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
    // A wrong shape is proof: 'a' gets nothing more from this job.
    expect(job.offer(who('a'), 1)).toMatchObject({ kind: 'none', finished: true });
    const again = job.offer(who('c'), 1);
    if (again.kind !== 'lease') throw new Error('expected a lease');
    const logits = {
      kind: 'inference' as const,
      logits: exact,
      tokens: new Uint32Array(0),
      vectors: new Float32Array(0),
      scores: new Float32Array(0),
    };
    await job.submit(again.lease.leaseId, 'c', logits, 1);
    expect(verdicts.at(-1)).toMatchObject({ settlement: 'rejected', reason: 'shape' });
    expect(job.offer(who('d'), 2)).toMatchObject({ kind: 'lease' });
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

describe('a contributor caught once', () => {
  /** The block a lease asks for, computed exactly (then rounded to float32). */
  const answer = (work: { m: number; k: number; n: number; a: Float32Array; b: Float32Array }) =>
    Float32Array.from(matmulF64(work.a, work.b, { m: work.m, k: work.k, n: work.n }));

  test('is barred from the job, every shard it was credited for is checked again, and a wrong one is redone', async () => {
    const p = randomProblem(32, 24, 32, seededRng(5));
    const blocks = planBlocks(32, 32, 16, 16);
    // The owner's first check is fooled (it projects the true product, not the claim), as a
    // check is with probability ≤ 1/512 per vector; later checks are not.
    let fooled = 1;
    const { projectJs } = await import('../../../src/gpu/projection');
    const job = new MatmulOwnerJob('job_caught', p, blocks, {
      verify: {
        projector: (req) => {
          if (fooled-- <= 0) return projectJs(req);
          const exact = Float32Array.from(
            matmulF64(req.problem.a, req.problem.b, req.problem).filter((_, at) => {
              const i = Math.floor(at / req.problem.n);
              const j = at % req.problem.n;
              return (
                i >= req.block.row0 &&
                i < req.block.row0 + req.block.rows &&
                j >= req.block.col0 &&
                j < req.block.col0 + req.block.cols
              );
            }),
          );
          return projectJs({ ...req, claimed: exact });
        },
      },
    });
    const settled: import('../../../src/jobs/job').Settlement[] = [];
    job.onSettled = (s) => settled.push(s);
    const lease = () => {
      const o = job.offer(who('cheat'), 0);
      if (o.kind !== 'lease' || o.work.kind !== 'matmul') throw new Error('no lease');
      return { lease: o.lease, work: o.work };
    };
    // A wrong shard accepted by the fooled check, an honest one, then a wrong one caught.
    const first = lease();
    const wrong = answer(first.work);
    wrong[3]! += 1;
    await job.submit(
      first.lease.leaseId,
      'cheat',
      { kind: 'matmul', rows: first.work.m, cols: first.work.n, c: wrong },
      1,
    );
    const second = lease();
    await job.submit(
      second.lease.leaseId,
      'cheat',
      { kind: 'matmul', rows: second.work.m, cols: second.work.n, c: answer(second.work) },
      1,
    );
    expect(settled.map((s) => s.verdicts[0]!.settlement)).toEqual(['accepted', 'accepted']);
    expect(job.doneCount).toBe(2);
    const third = lease();
    const bad = answer(third.work).map((x) => x * 2);
    await job.submit(
      third.lease.leaseId,
      'cheat',
      { kind: 'matmul', rows: third.work.m, cols: third.work.n, c: bad },
      1,
    );
    const last = settled.at(-1)!;
    expect(last.verdicts[0]!.settlement).toBe('rejected');
    expect(last.revoke).toEqual([
      {
        jobId: 'job_caught',
        contributor: 'cheat',
        reason: expect.stringContaining(`shard ${third.lease.shardId}`),
        credited: [first.lease.shardId, second.lease.shardId],
        reopened: [first.lease.shardId],
      },
    ]);
    // The wrong shard is leased again; the cheat gets nothing more from this job.
    expect(job.doneCount).toBe(1);
    expect(job.offer(who('cheat'), 0)).toMatchObject({
      kind: 'none',
      finished: true,
      reason: 'barred',
    });
    const redo = [job.offer(who('honest'), 0), job.offer(who('honest'), 0)].map((o) =>
      o.kind === 'lease' ? o.lease.shardId : -1,
    );
    expect(redo.sort()).toEqual([first.lease.shardId, third.lease.shardId].sort());
  });
});

test('a matmul whose product could overflow float32 is refused before it runs', async () => {
  const { checkJobSpec } = await import('../../../src/jobs/kinds');
  const spec = (scale: number) => ({
    m: 2,
    k: 3,
    n: 2,
    a: Float32Array.from([1, 2, 3, 4, 5, 6]).map((x) => x * scale),
    b: Float32Array.from([1, 1, 1, 1, 1, 1]).map((x) => x * scale),
    blockRows: 2,
    blockCols: 2,
  });
  expect(checkJobSpec('matmul', spec(1)).kind).toBe('matmul');
  // Every element is finite, but a row sums to 15·2⁶⁴ · 2⁶⁴ > 2¹²⁶: an honest C could hold ∞.
  expect(() => checkJobSpec('matmul', spec(2 ** 64))).toThrow(/may overflow float32/);
});
