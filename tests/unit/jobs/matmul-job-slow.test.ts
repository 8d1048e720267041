import { describe, expect, test } from 'vitest';
import { JobSpecError } from '../../../src/jobs/job';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../../src/jobs/matmul-job';
import { Reputation } from '../../../src/jobs/reputation';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';

import { collect, who } from '../../support/matmul-job-fixture';

describe('shards split smaller', () => {
  // The 2048³ job's logic on a small matrix: 256×32×256 in 128×128 blocks (four shards).
  const p = randomProblem(256, 32, 256, seededRng(11));
  const exact = Float32Array.from(matmulF64(p.a, p.b, p));
  const outputOf = (job: MatmulOwnerJob, shardId: number) => {
    const { row0, rows, col0, cols } = job.blocks[shardId]!;
    const c = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++)
      c.set(exact.subarray((row0 + i) * 256 + col0, (row0 + i) * 256 + col0 + cols), i * cols);
    return { kind: 'matmul' as const, rows, cols, c };
  };
  const leaseOf = (o: ReturnType<MatmulOwnerJob['offer']>) => {
    if (o.kind !== 'lease') throw new Error(`no lease: ${JSON.stringify(o)}`);
    return o.lease;
  };

  test('a shard whose leases lapsed twice is split, the job completes with C right, a reload has the same layout', async () => {
    const plan = planBlocks(256, 256, 128, 128);
    const job = new MatmulOwnerJob('big', p, plan, { maxCopies: 1 });
    const told: number[][] = [];
    job.onSplit = (s) => told.push(s);
    const verdicts = collect(job);
    const first = leaseOf(job.offer(who('sleepy-1'), 0));
    expect(first.shardId).toBe(0);
    let t = first.deadline + 1;
    expect(job.expire(t)).toHaveLength(1); // one lapse: bad luck, the shard goes out again whole
    expect(job.splits()).toEqual([]);
    const second = leaseOf(job.offer(who('sleepy-2'), t));
    expect(second.shardId).toBe(0);
    t = second.deadline + 1;
    job.expire(t); // the second lapse: split into quarters, appended as shards 4–7
    expect(job.splits()).toEqual([0]);
    expect(told).toEqual([[0]]);
    expect(job.blocks.slice(4)).toEqual([
      { row0: 0, rows: 64, col0: 0, cols: 64 },
      { row0: 0, rows: 64, col0: 64, cols: 64 },
      { row0: 64, rows: 64, col0: 0, cols: 64 },
      { row0: 64, rows: 64, col0: 64, cols: 64 },
    ]);
    expect(job.shardCount).toBe(7); // live shards: the three untouched and four pieces
    expect(job.progress()).toEqual({ shards: 7, leased: 0, awaiting: 0, verified: 0 });
    expect(job.shardFlops(4)).toBe(2 * 64 * 64 * 32);
    // The slow tab's result arrives after all: stale, and told why.
    await job.submit(second.leaseId, 'sleepy-2', outputOf(job, 0), 5, t);
    expect(verdicts.at(-1)).toMatchObject({
      shardId: 0,
      settlement: 'stale',
      reason: 'split into smaller shards',
    });
    // An honest contributor finishes the job: the pieces first, the parent never again.
    const order: number[] = [];
    while (!job.done) {
      const l = leaseOf(job.offer(who('honest'), t));
      order.push(l.shardId);
      await job.submit(l.leaseId, 'honest', outputOf(job, l.shardId), 5, t);
    }
    expect(order).toEqual([4, 5, 6, 7, 1, 2, 3]);
    expect(job.c).toEqual(exact);
    expect(job.report()).toMatchObject({ shards: 7, accepted: 7, rejected: 0, reassignments: 2 });
    const accepted = verdicts.filter((v) => v.settlement === 'accepted');
    expect(new Set(accepted.map((v) => v.shardId)).size).toBe(7); // receipts' ids unique
    expect(accepted.reduce((s, v) => s + v.flops, 0)).toBe(2 * 256 * 256 * 32); // C once
    expect(job.doneShards()).toEqual([1, 2, 3, 4, 5, 6, 7]);

    // A reload: the splits replayed first, then the kept outputs restored on the same ids.
    const again = new MatmulOwnerJob('big', p, plan, { splits: job.splits() });
    expect(again.blocks).toEqual(job.blocks);
    expect(again.shardCount).toBe(7);
    expect(again.restore(0, outputOf(job, 0))).toBe(false); // the retired parent
    for (const s of job.doneShards()) expect(again.restore(s, outputOf(job, s))).toBe(true);
    expect(again.done).toBe(true);
    expect(again.c).toEqual(exact);
    // A damaged record cannot shift ids under the kept outputs: a typed error.
    for (const splits of [[0, 0], [9], [-1], [4.5]]) {
      expect(() => new MatmulOwnerJob('big', p, plan, { splits })).toThrow(JobSpecError);
    }
    // createJob passes the splits through.
    const { createJob } = await import('../../../src/jobs/kinds');
    const spec = { m: 256, k: 32, n: 256, a: p.a, b: p.b, blockRows: 128, blockCols: 128 };
    const engine = {} as import('../../../src/jobs/job').Engine;
    const created = createJob(
      'big',
      { kind: 'matmul', spec },
      {
        engine,
        rng: seededRng(1),
        splits: [0],
      },
    );
    expect(created.shardCount).toBe(7);
    expect(created.splits?.()).toEqual([0]);
  });

  test('a contributor too small for the next shard gets a piece split to fit it', async () => {
    const job = new MatmulOwnerJob('fit', p, planBlocks(256, 256, 256, 256));
    const piece = 4 * ((64 + 64) * 32 + 64 * 64); // a 64×64 block's bytes
    // Not even the smallest piece fits: nothing is split for it.
    expect(job.offer(who('tiny', piece - 1), 0)).toMatchObject({
      kind: 'none',
      finished: false,
      reason: 'too-big',
    });
    expect(job.splits()).toEqual([]);
    const l = leaseOf(job.offer(who('small', piece), 0));
    expect(job.splits()).toEqual([0, 1]); // 256² into 128² quarters, the first into 64² ones
    expect(job.blocks[l.shardId]).toMatchObject({ rows: 64, cols: 64 });
    expect(job.shardCount).toBe(3 + 4);
    // Those who can hold more still get the bigger pieces.
    const big = leaseOf(job.offer(who('big'), 0));
    expect(job.blocks[big.shardId]).toMatchObject({ rows: 64, cols: 64 }); // the small ones first
    while (!job.done) {
      const o = job.offer(who('big'), 1);
      const lease = o.kind === 'lease' ? o.lease : undefined;
      if (!lease) break;
      await job.submit(lease.leaseId, 'big', outputOf(job, lease.shardId), 1, 1);
    }
    await job.submit(l.leaseId, 'small', outputOf(job, l.shardId), 1, 1);
    await job.submit(big.leaseId, 'big', outputOf(job, big.shardId), 1, 1);
    expect(job.done).toBe(true);
    expect(job.c).toEqual(exact);
  });

  test('the owner’s “smaller shards” splits what waits or lapsed, not what is running', async () => {
    const job = new MatmulOwnerJob('s', p, planBlocks(256, 256, 128, 128), { maxCopies: 1 });
    const verdicts = collect(job);
    const told: number[][] = [];
    job.onSplit = (s) => told.push(s);
    const a = leaseOf(job.offer(who('a'), 0)); // shard 0
    const b = leaseOf(job.offer(who('b'), 0)); // shard 1
    // Split by hand while leased: b's result is stale, told why.
    expect(job.split(b.shardId)).toEqual([4, 5, 6, 7]);
    await job.submit(b.leaseId, 'b', outputOf(job, b.shardId), 1, 1);
    expect(verdicts.at(-1)).toMatchObject({
      settlement: 'stale',
      reason: 'split into smaller shards',
    });
    // Waiting: 4–7 (64², as small as shards go) and 2, 3 (split now). Shard 0 runs on.
    expect(job.splitPending()).toBe(2);
    expect(job.splits()).toEqual([1, 2, 3]);
    expect(told).toEqual([[1], [1, 2, 3]]);
    expect(job.shardCount).toBe(1 + 4 + 8);
    await job.submit(a.leaseId, 'a', outputOf(job, a.shardId), 1, 1);
    expect(verdicts.at(-1)).toMatchObject({ shardId: 0, settlement: 'accepted' });
    expect(job.split(0)).toEqual([]); // done: nothing to split
    expect(job.splitPending()).toBe(0);
    expect(job.progress()).toEqual({ shards: 13, leased: 0, awaiting: 0, verified: 1 });
  });
});

describe('a contributor 50× slower than the rest', () => {
  const p = randomProblem(256, 32, 256, seededRng(3));
  const exact = Float32Array.from(matmulF64(p.a, p.b, p));

  /**
   * Three tabs and one 50× slower, all claiming the same measured speed, on a fake clock in
   * 250 ms steps: each asks when idle, its lease arrives over a 1 MB/s link, it heartbeats
   * every 2 s while computing (unless `silent`), and returns the block when done. Lapses go to
   * the owner's reputation, as the mesh records them.
   */
  async function run(silent: boolean, maxCopies?: number) {
    const reputation = new Reputation();
    const job = new MatmulOwnerJob('slow', p, planBlocks(256, 256, 128, 128), {
      onExpire: (l) => reputation.record(l.contributor, 'missed-deadline', `${l.leaseId} lapsed`),
      ...(maxCopies ? { maxCopies } : {}),
    });
    const verdicts = collect(job);
    const claimed = 0.001; // GFLOP/s: a 128² block with K = 32 takes about 1 s
    const peers = ['a', 'b', 'c', 'slow'].map((id) => ({
      id,
      speed: id === 'slow' ? claimed / 50 : claimed,
      work: undefined as
        | undefined
        | { leaseId: string; shardId: number; arrives: number; done: number },
    }));
    let t = 0;
    for (; !job.done && t < 600_000; t += 250) {
      job.expire(t);
      for (const peer of peers) {
        const w = peer.work;
        if (w && t >= w.done) {
          const { row0, rows, col0, cols } = job.blocks[w.shardId]!;
          const c = new Float32Array(rows * cols);
          for (let i = 0; i < rows; i++)
            c.set(
              exact.subarray((row0 + i) * 256 + col0, (row0 + i) * 256 + col0 + cols),
              i * cols,
            );
          await job.submit(w.leaseId, peer.id, { kind: 'matmul', rows, cols, c }, 1, t);
          peer.work = undefined;
        } else if (w && t >= w.arrives && (peer.id !== 'slow' || !silent) && t % 2_000 === 0) {
          job.heartbeat(w.leaseId, peer.id, t);
        }
        if (!peer.work) {
          const info = {
            id: peer.id,
            gflops: claimed,
            bytesPerSec: 1e6,
            maxBufferBytes: 2 ** 30,
            adapter: peer.id,
          };
          const o = job.offer(info, t);
          if (o.kind === 'lease') {
            const arrives =
              t + (4 * (o.work.kind === 'matmul' ? o.work.a.length + o.work.b.length : 0)) / 1e3;
            const done = arrives + job.shardFlops(o.lease.shardId) / (peer.speed * 1e6);
            peer.work = { leaseId: o.lease.leaseId, shardId: o.lease.shardId, arrives, done };
          }
        }
      }
    }
    return { job, reputation, verdicts, t };
  }

  test('heartbeating, it finishes or loses its lease to a faster copy, and is not quarantined', async () => {
    const { job, reputation, verdicts } = await run(false);
    expect(job.done).toBe(true);
    expect(job.c).toEqual(exact);
    expect(reputation.isQuarantined('slow')).toBe(false);
    expect(verdicts.some((v) => v.settlement === 'rejected')).toBe(false);
  });

  test('silent, its leases lapse: it loses them and a little standing, never quarantine', async () => {
    // No speculative copies: its shard waits for the lapse, then goes to a faster tab.
    const { job, reputation, verdicts } = await run(true, 1);
    expect(job.done).toBe(true);
    expect(job.c).toEqual(exact);
    expect(reputation.get('slow').missedDeadlines).toBeGreaterThan(0);
    expect(reputation.isQuarantined('slow')).toBe(false);
    expect(reputation.get('slow').score).toBeLessThan(0);
    expect(verdicts.some((v) => v.settlement === 'rejected')).toBe(false);
    for (const id of ['a', 'b', 'c']) expect(reputation.isQuarantined(id)).toBe(false);
  });
});
