import { describe, expect, test } from 'vitest';
import {
  DEFAULT_LINK_BYTES_PER_SEC,
  LEASE_DEFAULTS,
  Scheduler,
  TRANSFER_SLACK,
  transferTimeMs,
} from '../../../src/jobs/scheduler';

// Every test runs on a fake clock: `now` is passed in, nothing sleeps.

describe('Scheduler', () => {
  test('leases in order; heartbeats extend; expiry re-queues first; late results are stale', () => {
    const s = new Scheduler(3, { defaultWindowMs: 1_000, maxCopies: 1 });
    const l0 = s.lease('p1', 0)!;
    const l1 = s.lease('p2', 0)!;
    expect([l0.shardId, l1.shardId]).toEqual([0, 1]);
    expect(s.heartbeat(l0.leaseId, 'p1', 900)).toBe(true); // now due at 1,900
    expect(s.heartbeat(l0.leaseId, 'p2', 900)).toBe(false); // not p2's lease
    const l2 = s.lease('p3', 1_500)!; // l1 expired at 1,000 and goes before shard 2
    expect(l2.shardId).toBe(1);
    expect(s.reassignments).toBe(1);
    expect(s.heartbeat(l1.leaseId, 'p2', 1_600)).toBe(false);
    expect(s.settle(l1.leaseId, 'p2', true)).toBe('stale');
    expect(s.settle(l2.leaseId, 'p3', true)).toBe('accepted');
    expect(s.settle(l0.leaseId, 'p1', false)).toBe('rejected'); // back at the front
    expect(s.lease('p1', 1_600)!.shardId).toBe(0);
    expect(s.lease('p2', 1_600)!.shardId).toBe(2);
  });

  test('deadlines scale with the contributor’s measured speed, within bounds', () => {
    const s = new Scheduler(4, {
      shardFlops: () => 1e9, // 1 GFLOP a shard
      slack: 4,
      minWindowMs: 2_000,
      maxWindowMs: 60_000,
      defaultWindowMs: 30_000,
    });
    expect(s.lease('fast', 0, { gflops: 1_000 })!.windowMs).toBe(2_000); // 4 ms expected, clamped up
    expect(s.lease('mid', 0, { gflops: 1 })!.windowMs).toBe(4_000); // 1 s expected × 4
    expect(s.lease('slow', 0, { gflops: 0.01 })!.windowMs).toBe(60_000); // 100 s expected, clamped down
    expect(s.lease('unknown', 0)!.windowMs).toBe(30_000);
  });

  test('heartbeats cannot keep a lease past its lifetime cap', () => {
    const expired: string[] = [];
    const s = new Scheduler(1, {
      shardFlops: () => 1e9,
      defaultWindowMs: 2_000,
      defaultLifetimeMs: 30_000,
      lifetimeSlack: 10,
      minLifetimeMs: 5_000,
      onExpire: (l) => expired.push(l.contributor),
    });
    const l = s.lease('stalls', 0)!;
    expect(l.expiresBy).toBe(30_000);
    let t = 0;
    while (s.heartbeat(l.leaseId, 'stalls', t)) t += 1_000; // heartbeats for ever
    expect(t).toBe(31_000); // the last one that counted was at 30 s, the cap
    expect(s.expire(30_001)).toHaveLength(1);
    expect(expired).toEqual(['stalls']);
    // The cap follows the measured speed: 1 GFLOP at 1 GFLOP/s × 10, at least 5 s.
    expect(s.lease('fast', 40_000, { gflops: 1 })!.expiresBy).toBe(50_000);
    expect(s.lifetimeFor(0, 1_000)).toBe(5_000);
  });

  test('a contributor holds at most maxLeasesPerPeer leases of a job', () => {
    const s = new Scheduler(10, { maxLeasesPerPeer: 2 });
    const a = s.lease('x', 0)!;
    expect(s.lease('x', 0)).toBeDefined();
    expect(s.lease('x', 0)).toBeUndefined();
    expect(s.heldBy('x')).toBe(2);
    expect(s.lease('y', 0)).toBeDefined(); // others are not held up
    expect(s.settle(a.leaseId, 'x', true)).toBe('accepted');
    expect(s.lease('x', 0)).toBeDefined();
  });

  test('a job finishes while 50 fresh ids hold leases and heartbeat for ever', () => {
    // One honest contributor with verified work behind it (reputation is per owner, kept).
    const proven = new Set<string>(['honest']);
    const s = new Scheduler(40, {
      defaultWindowMs: 10_000,
      defaultLifetimeMs: 300_000,
      proven: (p) => proven.has(p),
    });
    const stallers = Array.from({ length: 50 }, (_, i) => `sybil-${i}`);
    const held: { leaseId: string; contributor: string }[] = [];
    for (const id of stallers) {
      for (let q = 0; q < 3; q++) {
        const l = s.lease(id, 0);
        if (l) held.push(l);
      }
    }
    // The 40 pending shards two to an id (20 ids), then one copy to each of the 30 ids still
    // idle (copies go to idle contributors only); the rest refused.
    expect(held.length).toBe(70);
    let t = 0;
    let honestDone = 0;
    // One honest contributor: a shard takes it 1 s. The stallers heartbeat every second.
    while (!s.done && t < 200_000) {
      t += 1_000;
      for (const l of held) s.heartbeat(l.leaseId, l.contributor, t);
      const mine = s.lease('honest', t);
      if (!mine) continue;
      if (s.settle(mine.leaseId, 'honest', true) === 'accepted') honestDone++;
    }
    expect(s.done).toBe(true);
    expect(honestDone).toBe(40);
    expect(t).toBeLessThanOrEqual(41_000); // one shard a second, long before any lease lapsed
  });

  test('a failed or dropped contributor’s shards are offered again at once', () => {
    const s = new Scheduler(3, { maxCopies: 1 });
    const a = s.lease('gone', 0)!;
    const b = s.lease('gone', 0)!;
    expect(s.fail(a.leaseId, 'someone-else')).toBe(false);
    expect(s.dropContributor('gone')).toBe(2);
    expect(s.reassignments).toBe(2);
    const got = [s.lease('x', 1)!, s.lease('y', 1)!, s.lease('z', 1)!].map((l) => l.shardId).sort();
    expect(got).toEqual([0, 1, 2]);
    expect(s.settle(b.leaseId, 'gone', true)).toBe('stale');
  });

  test('the first accepted result wins; a duplicate is not counted twice', () => {
    const s = new Scheduler(1);
    const a = s.lease('p1', 0)!;
    const b = s.lease('p2', 0)!; // speculative copy: nothing else is pending
    expect(b.speculative).toBe(true);
    expect(b.shardId).toBe(a.shardId);
    expect(s.settle(b.leaseId, 'p2', true)).toBe('accepted');
    expect(s.settle(a.leaseId, 'p1', true)).toBe('stale');
    expect(s.doneCount).toBe(1);
    expect(s.done).toBe(true);
    expect(s.lease('p3', 1)).toBeUndefined();
  });

  test('stragglers: when the queue is dry the oldest outstanding shard is copied, at most maxCopies', () => {
    const s = new Scheduler(3, { maxCopies: 2 });
    const slow = s.lease('slow', 0)!; // shard 0, oldest
    s.lease('b', 10);
    s.lease('c', 20);
    const spec = s.lease('idle', 30)!;
    expect(spec).toMatchObject({ shardId: slow.shardId, speculative: true });
    // Shard 0 has two copies now; the next idle contributor copies the next-oldest.
    expect(s.lease('idle2', 40)!.shardId).toBe(1);
    // A contributor still computing gets no copy to race (it asked ahead, double-buffering).
    expect(s.lease('slow', 50)).toBeUndefined();
    expect(s.speculativeLeases).toBe(2);
    // The copy finishes first and wins; the straggler's later result is stale.
    expect(s.settle(spec.leaseId, 'idle', true)).toBe('accepted');
    expect(s.settle(slow.leaseId, 'slow', true)).toBe('stale');
  });

  test('double-buffering: a proven peer’s lease queued behind its first is not copied until it is the first', () => {
    const s = new Scheduler(4, { maxCopies: 2, proven: (p) => p !== 'fresh' });
    const a1 = s.lease('a', 0)!; // computing
    const a2 = s.lease('a', 0)!; // asked for while a1 computes: queued
    s.lease('b', 0);
    s.lease('b', 0);
    // Nothing pending: an idle contributor copies what a and b are computing, not what waits.
    const copies = [s.lease('c', 10)!, s.lease('d', 10)!].map((l) => l.shardId);
    expect(copies).toEqual([a1.shardId, 2]);
    expect(copies).not.toContain(a2.shardId);
    expect(s.settle(a1.leaseId, 'a', true)).toBe('accepted');
    // a2 is a's current work now: it may be copied.
    expect(s.lease('e', 20)!.shardId).toBe(a2.shardId);
    // A fresh id's queued lease is copied like any other: it has earned no trust.
    const f = new Scheduler(2, { maxCopies: 2, proven: (p) => p !== 'fresh' });
    const first = f.lease('fresh', 0)!;
    const queued = f.lease('fresh', 0)!;
    const notFirst = (shard: number) => shard !== first.shardId;
    expect(f.lease('x', 0, { canTake: notFirst })!.shardId).toBe(queued.shardId);
    // …while the same lease of a proven peer is not.
    const g = new Scheduler(2, { maxCopies: 2 });
    const gFirst = g.lease('a', 0)!;
    g.lease('a', 0);
    expect(g.lease('x', 0, { canTake: (shard) => shard !== gFirst.shardId })).toBeUndefined();
  });

  test('a copy failing does not re-queue a shard another copy is still computing', () => {
    const s = new Scheduler(1);
    const a = s.lease('a', 0)!;
    const b = s.lease('b', 0)!;
    expect(s.fail(b.leaseId, 'b')).toBe(true);
    expect(s.lease('c', 1)!.speculative).toBe(true); // a copy again, not a fresh pending lease
    expect(s.settle(a.leaseId, 'a', true)).toBe('accepted');
  });

  test('resumed jobs: shards marked done are never leased', () => {
    const s = new Scheduler(4, { maxCopies: 1 });
    s.markDone(1);
    s.markDone(3);
    expect([s.lease('a', 0)!.shardId, s.lease('b', 0)!.shardId, s.lease('c', 0)]).toEqual([
      0,
      2,
      undefined,
    ]);
    expect(s.doneShards()).toEqual([1, 3]);
  });

  test('100,000 shards through 1,000 contributors stays consistent', () => {
    const s = new Scheduler(100_000, { defaultWindowMs: 50, maxCopies: 2 });
    let now = 0;
    let n = 0;
    const held: { leaseId: string; who: string }[] = [];
    while (!s.done && now < 10_000) {
      now += 1;
      for (let c = 0; c < 1_000 && held.length < 1_000; c++) {
        const l = s.lease(`p${c}`, now);
        if (l) held.push({ leaseId: l.leaseId, who: `p${c}` });
      }
      // Settle most, drop every 50th result on the floor (it expires), reject every 97th.
      for (const h of held.splice(0)) {
        n++;
        if (n % 50 === 0) continue;
        s.settle(h.leaseId, h.who, n % 97 !== 0);
      }
    }
    expect(s.doneCount).toBe(100_000);
    expect(s.doneShards()).toHaveLength(100_000);
  });
});

test('canTake: a shard one contributor may not take stays queued, in order, for the next', () => {
  const s = new Scheduler(3);
  const notZero = (id: number) => id !== 0;
  expect(s.lease('a', 0, { canTake: notZero })?.shardId).toBe(1);
  expect(s.pendingShards()).toEqual([0, 2]);
  expect(s.lease('b', 0)?.shardId).toBe(0);
  expect(s.lease('a', 0, { canTake: () => false })).toBeUndefined();
  expect(s.pendingShards()).toEqual([2]);
});

test('requeue: a result that needs another copy puts its shard back first, nobody counted late', () => {
  const s = new Scheduler(2);
  const first = s.lease('a', 0)!;
  expect(s.requeue(first.leaseId, 'b')).toBe(false); // not b's lease
  expect(s.requeue(first.leaseId, 'a')).toBe(true);
  expect(s.outstanding).toEqual([]);
  expect(s.reassignments).toBe(0);
  expect(s.lease('b', 1)?.shardId).toBe(first.shardId);
  s.markDone(first.shardId);
  expect(s.outstanding).toEqual([]); // markDone ends copies still out
  expect(s.isDone(first.shardId)).toBe(true);
});

describe('transfer-aware leases', () => {
  // The shard: C block 1024×1024 with K = 2048, A rows and B columns in, C out.
  const flops = 2 * 1024 * 1024 * 2048;
  const bytes = 4 * ((1024 + 1024) * 2048 + 1024 * 1024); // ≈ 21 MB

  test('the first deadline covers the transfer in, the window the compute and the result back', () => {
    const s = new Scheduler(2, { shardFlops: () => flops, shardBytes: () => bytes });
    // A fast CPU-engine tab (27 GFLOP/s) behind a 1 MB/s WebRTC link.
    const l = s.lease('tab', 0, { gflops: 27, bytesPerSec: 1e6 })!;
    const transfer = TRANSFER_SLACK * (bytes / 1e6) * 1_000;
    expect(l.transferMs).toBeCloseTo(transfer, 6);
    // Compute (0.16 s × slack) is under the minimum window: the window is that plus one transfer.
    expect(l.windowMs).toBeCloseTo(LEASE_DEFAULTS.minWindowMs + transfer, 6);
    expect(l.deadline).toBeCloseTo(transfer + l.windowMs, 6);
    expect(l.expiresBy).toBeCloseTo(LEASE_DEFAULTS.minLifetimeMs + 2 * transfer, 6);
    // The old deadline (10 s) would have lapsed long before the 21 MB frame even arrived.
    expect(l.deadline).toBeGreaterThan(2 * (bytes / 1e6) * 1_000 + 10_000);
    // A link the owner has not measured is assumed slow.
    const unknown = s.lease('new', 0, { gflops: 27 })!;
    expect(unknown.transferMs).toBeCloseTo(
      TRANSFER_SLACK * (bytes / DEFAULT_LINK_BYTES_PER_SEC) * 1_000,
      6,
    );
    expect(transferTimeMs(bytes, 0)).toBe(transferTimeMs(bytes, DEFAULT_LINK_BYTES_PER_SEC));
  });

  test('a contributor as slow as its link allows finishes without a lapse', () => {
    const expired: string[] = [];
    const s = new Scheduler(1, {
      shardFlops: () => flops,
      shardBytes: () => bytes,
      onExpire: (l) => expired.push(l.leaseId),
    });
    const rate = 1.2e6; // measured: 1.2 MB/s
    const l = s.lease('tab', 0, { gflops: 1, bytesPerSec: rate })!;
    // The lease arrives (inputs ≈ 16.8 MB) and only then heartbeats start, every 2 s, while
    // 4.3 s of compute run; the 4 MB result then crosses the link with no heartbeat.
    const arrives = ((4 * 2 * 1024 * 2048) / rate) * 1_000;
    const computed = arrives + (flops / 1e9) * 1_000;
    expect(s.expire(arrives)).toEqual([]);
    for (let t = arrives; t <= computed; t += 2_000)
      expect(s.heartbeat(l.leaseId, 'tab', t)).toBe(true);
    const back = computed + ((4 * 1024 * 1024) / rate) * 1_000;
    expect(s.expire(back)).toEqual([]);
    expect(s.settle(l.leaseId, 'tab', true)).toBe('accepted');
    expect(expired).toEqual([]);
  });

  test('a heartbeat does not pull in a first deadline still waiting for the transfer', () => {
    const s = new Scheduler(1, { shardBytes: () => 10e6, defaultWindowMs: 1_000 });
    const l = s.lease('a', 0, { bytesPerSec: 1e6 })!; // 20 s transfer allowance
    const first = l.deadline;
    expect(s.heartbeat(l.leaseId, 'a', 100)).toBe(true);
    expect(l.deadline).toBe(first);
  });

  test('a peer that never answers still lapses, transfer allowance and all', () => {
    const s = new Scheduler(1, { shardBytes: () => 1e6, defaultWindowMs: 1_000 });
    const l = s.lease('ghost', 0, { bytesPerSec: 1e6 })!;
    expect(s.expire(l.deadline - 1)).toEqual([]);
    expect(s.expire(l.deadline + 1)).toHaveLength(1);
    expect(s.lapses(l.shardId)).toBe(1);
  });
});

describe('adding and retiring shards', () => {
  test('new shards go first; a retired one is never leased, its leases end, done counts live ones', () => {
    const s = new Scheduler(3, { maxCopies: 1 });
    const a = s.lease('a', 0)!; // shard 0
    expect(s.retire(a.shardId)).toEqual([a]);
    expect(s.retire(a.shardId)).toBeUndefined(); // once
    expect(s.retire(99)).toBeUndefined();
    expect(s.outstanding).toEqual([]);
    expect(s.settle(a.leaseId, 'a', true)).toBe('stale');
    expect(s.heldBy('a')).toBe(0);
    expect(s.addShards(2)).toEqual([3, 4]);
    expect(s.shardCount).toBe(5);
    expect(s.liveCount).toBe(4);
    expect(s.pendingShards()).toEqual([3, 4, 1, 2]);
    const ids: number[] = [];
    for (let t = 0; t < 4; t++) {
      const l = s.lease(`p${t}`, 1)!;
      ids.push(l.shardId);
      expect(s.settle(l.leaseId, `p${t}`, true)).toBe('accepted');
    }
    expect(ids).toEqual([3, 4, 1, 2]);
    expect(s.done).toBe(true);
    expect(s.lease('late', 2)).toBeUndefined();
    expect(s.doneShards()).toEqual([1, 2, 3, 4]);
    // A done shard cannot be retired, and a retired one cannot be marked done or reopened.
    expect(s.retire(1)).toBeUndefined();
    s.markDone(0);
    expect(s.isDone(0)).toBe(false);
    expect(s.reopen(0)).toBe(false);
  });

  test('a retired shard left in the queue is skipped, canTake or not', () => {
    const s = new Scheduler(3, { maxCopies: 1 });
    s.retire(0);
    expect(s.pendingShards()).toEqual([1, 2]);
    expect(s.lease('a', 0, { canTake: () => true })!.shardId).toBe(1);
    expect(s.lease('b', 0)!.shardId).toBe(2);
  });
});
