import 'fake-indexeddb/auto';
import { describe, expect, test } from 'vitest';
import { MatmulOwnerJob, planBlocks } from '../../../src/jobs/matmul-job';
import { JobHistory, partialAnswer } from '../../../src/mesh/job-history';
import { LinkMeter } from '../../../src/mesh/link-meter';
import { STALL_GRACE_MS, stallOf } from '../../../src/mesh/stall';
import { OwnerStore } from '../../../src/mesh/store';

const [m, k, n] = [4, 2, 6];
const a = Float32Array.from({ length: m * k }, (_, i) => i + 1);
const b = Float32Array.from({ length: k * n }, (_, i) => (i % 3) - 1);
const spec = { m, k, n, a, b, blockRows: 2, blockCols: 3 };
/** C's block `s` (2×3), exact. */
function block(s: number): Float32Array {
  const bl = planBlocks(m, n, 2, 3)[s]!;
  const c = new Float32Array(bl.rows * bl.cols);
  for (let i = 0; i < bl.rows; i++)
    for (let j = 0; j < bl.cols; j++)
      for (let p = 0; p < k; p++)
        c[i * bl.cols + j]! += a[(bl.row0 + i) * k + p]! * b[p * n + bl.col0 + j]!;
  return c;
}

describe('job history', () => {
  test('a cancelled job is listed with how it ended, its verified part rebuilt with a mask, and deleted for good', async () => {
    const store = await OwnerStore.open(`history-${Math.random()}`);
    await store.putJob({ id: 'job_h', kind: 'matmul', spec, createdAt: 1, finished: false });
    // Blocks 0 and 3 of four were verified before the researcher cancelled.
    for (const s of [0, 3]) {
      const output = { kind: 'matmul' as const, rows: 2, cols: 3, c: block(s) };
      await store.settle('job_h', { shard: { shardId: s, output }, verdicts: [] });
    }
    const progress = { shards: 4, leased: 0, awaiting: 0, verified: 2 };
    const report = { kind: 'matmul', shards: 4, accepted: 2 } as never;
    await store.finishJob('job_h', { state: 'cancelled', at: 5, report, progress, spent: 42 });
    await store.putJob({ id: 'job_r', kind: 'matmul', spec, createdAt: 2, finished: false });

    const history = new JobHistory(store);
    const views = await history.list();
    expect(views.map((v) => v.jobId)).toEqual(['job_h']); // running jobs are not history
    expect(views[0]).toMatchObject({
      state: 'cancelled',
      history: true,
      finishedAt: 5,
      spent: 42,
      progress,
      summary: 'C = A·B, 4×2 by 2×6, in 2×3 blocks',
    });

    const got = await history.answer('job_h');
    expect(got?.complete).toBe(false);
    expect(got?.verified.sort()).toEqual([0, 3]);
    const c = got!.answer.kind === 'matmul' ? got!.answer.c : new Float32Array();
    // Verified blocks hold their values, the others zeros; the mask says which are which.
    const mask = Array.from(got!.mask);
    expect(mask).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    expect(Array.from(c.subarray(0, 3))).toEqual(Array.from(block(0).subarray(0, 3)));
    expect(Array.from(c.subarray(3, 6))).toEqual([0, 0, 0]);

    await history.delete('job_h');
    expect(await history.list()).toEqual([]);
    expect(await store.job('job_h')).toBeUndefined();
    expect(await store.results('job_h')).toEqual([]);
    store.close();
  });

  test('a kept ending that is not numbers is refused, not shown', async () => {
    const store = await OwnerStore.open(`history-${Math.random()}`);
    await store.putJob({
      id: 'job_x',
      kind: 'matmul',
      spec,
      createdAt: 1,
      finished: true,
      ended: { state: 'done', at: 'soon', report: {}, progress: {}, spent: 0 } as never,
    });
    expect(await new JobHistory(store).list()).toEqual([]);
    store.close();
  });

  test('partial answers of a job in progress', () => {
    const job = new MatmulOwnerJob('j', { m, k, n, a, b }, planBlocks(m, n, 2, 3));
    job.restore(1, { kind: 'matmul', rows: 2, cols: 3, c: block(1) });
    const p = partialAnswer(job, { kind: 'matmul', spec }, job.doneShards());
    expect(p.verified).toEqual([1]);
    expect(Array.from(p.mask.subarray(0, 6))).toEqual([0, 0, 0, 1, 1, 1]);
  });
});

describe('the owner measures links itself', () => {
  test('bytes over the time to the first heartbeat, averaged; small sends and other peers say nothing', () => {
    const links = new LinkMeter();
    links.sent('l1', 'p', 4_000_000, 1_000);
    links.heard('l1', 'q', 1_500); // another peer naming the lease
    expect(links.bytesPerSec('p')).toBe(0);
    links.heard('l1', 'p', 3_000); // 4 MB in 2 s
    expect(links.bytesPerSec('p')).toBe(2_000_000);
    links.sent('l2', 'p', 4_000_000, 10_000);
    links.heard('l2', 'p', 11_000); // 4 MB/s now: the average moves part of the way
    expect(links.bytesPerSec('p')).toBeGreaterThan(2_000_000);
    expect(links.bytesPerSec('p')).toBeLessThan(4_000_000);
    links.sent('small', 'r', 1_000, 0);
    links.heard('small', 'r', 1);
    expect(links.bytesPerSec('r')).toBe(0);
    links.sent('instant', 's', 1_000_000, 0);
    links.heard('instant', 's', 0); // no link is infinite: 50 ms at least
    expect(links.bytesPerSec('s')).toBe(20_000_000);
  });
});

describe('why a running job is stalled', () => {
  const base = {
    now: 100_000,
    createdAt: 0,
    leased: 0,
    budgetSpent: false,
    spent: 0,
    budget: Number.POSITIVE_INFINITY,
    balanceLow: false,
    asks: [],
    shardBytes: 16 * 2 ** 20,
  };
  const ask = (answer: 'lease' | 'quarantined' | 'barred' | 'too-big' | 'all-leased') => ({
    at: 99_000,
    answer,
  });

  test('each state has its message and action; a job that leases or just started is not stalled', () => {
    expect(stallOf({ ...base, budgetSpent: true, spent: 2e6, budget: 2e6 }).stall).toMatchObject({
      reason: 'budget',
      action: 'add-credits',
    });
    expect(stallOf({ ...base, balanceLow: true }).stall?.reason).toBe('balance');
    expect(stallOf(base).stall).toMatchObject({ reason: 'no-contributors', action: 'wait' });
    expect(stallOf({ ...base, asks: [ask('quarantined'), ask('barred')] }).stall).toMatchObject({
      reason: 'quarantined',
      action: 'lift',
    });
    const big = stallOf({ ...base, asks: [ask('too-big'), ask('quarantined')] }).stall;
    expect(big).toMatchObject({ reason: 'too-big', action: 'split' });
    expect(big?.message).toContain('16.0 MiB');
    expect(stallOf({ ...base, leased: 1 }).stall).toBeUndefined();
    expect(stallOf({ ...base, asks: [ask('lease'), ask('too-big')] }).stall).toBeUndefined();
    expect(stallOf({ ...base, now: STALL_GRACE_MS - 1 }).stall).toBeUndefined();
  });
});
