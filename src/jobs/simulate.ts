import { type Rng, seededRng, uniform } from '../model/rng';
import { matmulF64 } from '../reference/matmul';
import { freivalds, type MatmulProblem } from './freivalds';
import { MinHeap } from './heap';
import { Reputation } from './reputation';
import { Scheduler } from './scheduler';

export interface SimulationOptions {
  contributors: number; // e.g. 1_000
  shards: number; // e.g. 100_000
  dropoutRate: number; // share of contributors that vanish mid-job, e.g. 0.05
  cheatRate: number; // share of contributors that return wrong results, e.g. 0.01
  seed?: number;
}

export interface SimulationResult {
  contributors: number;
  shards: number;
  leases: number; // leases issued, speculative copies included
  speculative: number;
  reassignments: number;
  accepted: number;
  cheatsSubmitted: number;
  cheatsCaught: number;
  cheatsAccepted: number; // must be 0
  honestRejected: number; // must be 0
  cheatersQuarantined: number;
  cheaters: number;
  droppedOut: number;
  virtualSeconds: number; // simulated time to finish the job
  wallMs: number; // real time the owner's logic took
  shardsScheduledPerSecond: number; // leases / wall second
}

interface Peer {
  id: string;
  gflops: number;
  cheat: boolean;
  dropsAt: number; // virtual ms; Infinity for those who stay
}

/**
 * Drives the owner's real scheduler, verifier and reputation with simulated contributors on a
 * virtual clock: random speeds (0.1–10 GFLOP/s, 1 GFLOP a shard), some dropping out for good,
 * some cheating on every result. Verification is real Freivalds on a small block, so a cheat
 * that slipped through would show up as `cheatsAccepted`.
 */
export function simulate(o: SimulationOptions): SimulationResult {
  const rng = seededRng(o.seed ?? 1);
  const shardFlops = 1e9;
  // One small real problem stands in for every shard's block: verification work is real.
  const problem = smallProblem(rng);
  const exact = Float32Array.from(matmulF64(problem.a, problem.b, problem));
  const block = { row0: 0, rows: problem.m, col0: 0, cols: problem.n };
  const cheated = exact.slice();
  cheated[3]! += 1;

  const peers: Peer[] = Array.from({ length: o.contributors }, (_, i) => ({
    id: `sim-${i}`,
    gflops: 0.1 * 100 ** uniform(rng), // log-uniform in [0.1, 10]
    cheat: uniform(rng) < o.cheatRate,
    dropsAt: uniform(rng) < o.dropoutRate ? uniform(rng) * 60_000 : Number.POSITIVE_INFINITY,
  }));
  const reputation = new Reputation();
  const scheduler = new Scheduler(o.shards, {
    shardFlops: () => shardFlops,
    minWindowMs: 1_000,
    onExpire: (l) => reputation.record(l.contributor, 'missed-deadline'),
  });
  const events = new MinHeap<() => void>();
  const r: SimulationResult = {
    contributors: o.contributors,
    shards: o.shards,
    leases: 0,
    speculative: 0,
    reassignments: 0,
    accepted: 0,
    cheatsSubmitted: 0,
    cheatsCaught: 0,
    cheatsAccepted: 0,
    honestRejected: 0,
    cheatersQuarantined: 0,
    cheaters: peers.filter((p) => p.cheat).length,
    droppedOut: peers.filter((p) => p.dropsAt < Number.POSITIVE_INFINITY).length,
    virtualSeconds: 0,
    wallMs: 0,
    shardsScheduledPerSecond: 0,
  };
  const idle: Peer[] = [];

  const t0 = performance.now();
  let now = 0;
  const ask = (p: Peer) => {
    if (now >= p.dropsAt || reputation.isQuarantined(p.id)) return;
    const lease = scheduler.lease(p.id, now, { gflops: p.gflops });
    if (!lease) {
      idle.push(p);
      return;
    }
    r.leases++;
    const ms = (shardFlops / (p.gflops * 1e9)) * 1_000 * (0.8 + 0.4 * uniform(rng));
    events.push(now + ms, () => {
      if (now >= p.dropsAt) return; // gone: the lease lapses at its deadline
      const v = freivalds(problem, block, p.cheat ? cheated : exact, { rng });
      const s = scheduler.settle(lease.leaseId, p.id, v.accepted);
      if (p.cheat) {
        r.cheatsSubmitted++;
        if (!v.accepted) r.cheatsCaught++;
        if (s === 'accepted') r.cheatsAccepted++;
      } else if (!v.accepted) {
        r.honestRejected++;
      }
      if (s === 'accepted') r.accepted++;
      if (s !== 'stale') reputation.record(p.id, v.accepted ? 'accepted' : 'rejected');
      ask(p);
      // A settled or rejected shard may give idle peers something to do.
      for (const q of idle.splice(0)) ask(q);
    });
  };
  for (const p of peers) ask(p);
  // Expired leases free shards even when nobody finishes: poll the clock like the owner does.
  const tick = () => {
    scheduler.expire(now);
    for (const q of idle.splice(0)) ask(q);
    if (!scheduler.done) events.push(now + 1_000, tick);
  };
  events.push(1_000, tick);
  while (!scheduler.done && events.size > 0) {
    now = events.peekKey();
    events.pop()();
  }
  r.wallMs = performance.now() - t0;
  r.virtualSeconds = now / 1_000;
  r.speculative = scheduler.speculativeLeases;
  r.reassignments = scheduler.reassignments;
  r.cheatersQuarantined = peers.filter((p) => p.cheat && reputation.isQuarantined(p.id)).length;
  r.shardsScheduledPerSecond = r.leases / (r.wallMs / 1_000);
  return r;
}

function smallProblem(rng: Rng): MatmulProblem {
  const [m, k, n] = [8, 32, 8];
  const fill = (len: number) => Float32Array.from({ length: len }, () => uniform(rng) * 2 - 1);
  return { a: fill(m * k), b: fill(k * n), m, k, n };
}
