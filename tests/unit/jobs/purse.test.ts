import { describe, expect, it } from 'vitest';
import { InferenceOwnerJob } from '../../../src/jobs/inference-job';
import { defaultPolicy, type InferenceSpec } from '../../../src/jobs/inference-spec';
import type { Verdict } from '../../../src/jobs/job';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../../src/jobs/matmul-job';
import { creditFor } from '../../../src/jobs/price';
import { largestShardFlops, Purse, Wallet } from '../../../src/jobs/purse';
import { Paymaster } from '../../../src/mesh/paymaster';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';
import { referenceEngine, tinySummary } from '../../support/model-fixture';

// The reservation arithmetic of settlement (src/jobs/purse.ts): a lease holds its shard's exact
// credit against the job's budget and the owner's balance across all its jobs; a verdict pays
// from the hold and never more; whatever ends without a payment gives it back.

/** A wallet over a fixed balance, as the ledger's canSpend answers for it. */
function walletOf(balance: number) {
  return new Wallet((credit) => balance >= credit);
}

describe('a job’s purse', () => {
  it('holds, pays from a hold (never more) and gives back', () => {
    const purse = new Purse({ price: 1, budget: 1_000 }, 200_000); // costliest shard: 200 µ
    expect(purse.shardCost).toBe(200);
    purse.hold('l1', 'alice', 1, 150);
    purse.hold('l2', 'bob', 2, 200);
    expect(purse.held).toBe(350);
    expect(purse.fits(650)).toBe(true);
    expect(purse.fits(651)).toBe(false);
    // Another peer naming the lease neither releases nor is paid from it.
    expect(purse.release('l1', 'mallory')).toBe(0);
    expect(purse.pay('l1', 'mallory', 150)).toBe(0);
    expect(purse.held).toBe(350);
    // A verdict asking more than the hold is paid the hold; one asking less gives the rest back.
    expect(purse.pay('l1', 'alice', 999)).toBe(150);
    expect(purse.pay('l2', 'bob', 120)).toBe(120);
    expect(purse.held).toBe(0);
    expect(purse.spent).toBe(270);
    // Paid once: a second verdict on the same lease is paid nothing.
    expect(purse.pay('l1', 'alice', 150)).toBe(0);
    expect(purse.spent).toBe(270);
  });

  it('a sweep releases leases that ended, but not results awaiting their verdicts', () => {
    const purse = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 100_000);
    purse.hold('out', 'a', 3, 100);
    purse.hold('ended', 'b', 4, 100);
    purse.hold('awaiting', 'c', 5, 100);
    purse.submitted('awaiting', 'c');
    purse.submitted('ended', 'mallory'); // not b's word: changes nothing
    purse.sweep(new Set(['out']));
    expect(purse.held).toBe(200);
    expect(purse.pay('awaiting', 'c', 100)).toBe(100);
    expect(purse.pay('ended', 'b', 100)).toBe(0);
  });

  it('keeps the budget: no more fits once spent and held reach it', () => {
    const purse = new Purse({ price: 1, budget: 500 }, 131_072); // 131 µcredits a shard
    expect(purse.mayLease(2)).toBe(true); // 3 × 131 ≤ 500
    expect(purse.mayLease(3)).toBe(false);
    purse.hold('a', 'x', 6, 131);
    purse.hold('b', 'x', 7, 131);
    purse.hold('c', 'x', 8, 131);
    expect(purse.exhausted).toBe(true); // 393 + 131 > 500
    purse.terms.budget += 1_000;
    expect(purse.exhausted).toBe(false);
  });

  it('refuses credit that is not a whole number of µcredits', () => {
    const purse = new Purse({ price: 1, budget: 10 }, 1);
    expect(() => purse.hold('l', 'a', 9, 0.5)).toThrow(RangeError);
    expect(() => purse.hold('l', 'a', 10, -1)).toThrow(RangeError);
    expect(() => purse.charge(Number.NaN)).toThrow(RangeError);
    expect(() => purse.pay('l', 'a', 2 ** 60)).toThrow(RangeError);
  });
});

describe('an owner’s wallet across its jobs', () => {
  it('two jobs cannot both count on the same credit', () => {
    const wallet = walletOf(1_000);
    const a = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 600_000);
    const b = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 600_000);
    wallet.open('a', a);
    wallet.open('b', b);
    expect(wallet.affords('a', 600)).toBe(true);
    expect(wallet.affords('b', 600)).toBe(true);
    expect(wallet.reserve('a', 'l1', 'x', 11, 600)).toBe(true);
    expect(wallet.affords('b', 600)).toBe(false); // each alone would fit; together they do not
    expect(wallet.reserve('b', 'l1', 'y', 12, 600)).toBe(false);
    expect(wallet.reserve('b', 'l1', 'y', 13, 400)).toBe(true); // lease ids repeat across jobs
    expect(wallet.committed).toBe(1_000);
    expect(wallet.reserve('a', 'l2', 'x', 14, 1)).toBe(false);
    // The job the hold was taken in pays it, not the other.
    expect(wallet.pay('b', 'l1', 'x', 600)).toBe(0);
    expect(wallet.pay('a', 'l1', 'x', 600)).toBe(600);
    expect(wallet.affords('a', 1)).toBe(false); // paid, not yet in the books: owed
    expect(wallet.owed).toBe(600);
  });

  it('a payment is owed until the books show it; one whose receipt failed is given back', () => {
    let spent = 0;
    const wallet = new Wallet((credit) => 1_000 - spent >= credit);
    const purse = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 1_000_000);
    wallet.open('j', purse);
    expect(wallet.reserve('j', 'l1', 'a', 15, 700)).toBe(true);
    wallet.pay('j', 'l1', 'a', 700);
    expect(wallet.affords('j', 301)).toBe(false);
    spent += 700; // the receipt is durable: the ledger counts it
    wallet.recorded(700);
    expect(wallet.committed).toBe(0);
    expect(wallet.affords('j', 300)).toBe(true);
    expect(wallet.affords('j', 301)).toBe(false);
    expect(wallet.reserve('j', 'l2', 'a', 16, 300)).toBe(true);
    wallet.pay('j', 'l2', 'a', 300);
    wallet.unpaid('j', 300); // not issued: nothing was paid after all
    expect(purse.spent).toBe(700);
    expect(wallet.affords('j', 300)).toBe(true);
  });

  it('closing a job gives back every hold; a verdict after it pays nothing', () => {
    const wallet = walletOf(500);
    const purse = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 1);
    wallet.open('j', purse);
    wallet.reserve('j', 'out', 'a', 0, 200);
    wallet.reserve('j', 'waiting', 'b', 1, 200);
    purse.submitted('waiting', 'b');
    wallet.close('j');
    expect(wallet.committed).toBe(0);
    expect(wallet.pay('j', 'waiting', 'b', 200)).toBe(0);
  });

  it('never reserves past the balance, whatever order holds, payments and releases come in', () => {
    const rng = seededRng(9);
    for (let trial = 0; trial < 200; trial++) {
      const grant = 1 + (rng.nextUint32() % 5_000);
      let books = 0; // µcredits the ledger counts as spent
      const pending: number[] = [];
      const wallet = new Wallet((credit) => grant - books >= credit);
      const jobs = ['a', 'b', 'c'];
      for (const j of jobs) {
        wallet.open(j, new Purse({ price: 1, budget: grant }, 1, 1 + (rng.nextUint32() % 3)));
      }
      const held: { job: string; lease: string }[] = [];
      for (let step = 0; step < 60; step++) {
        const r = rng.nextUint32() % 4;
        if (r === 0 || held.length === 0) {
          const job = jobs[rng.nextUint32() % 3]!;
          const lease = `l${step}`;
          if (wallet.reserve(job, lease, 'p', step % 7, 1 + (rng.nextUint32() % 900)))
            held.push({ job, lease });
        } else if (r === 1) {
          const h = held.splice(rng.nextUint32() % held.length, 1)[0]!;
          pending.push(wallet.pay(h.job, h.lease, 'p', 1 + (rng.nextUint32() % 1_000)));
        } else if (r === 2) {
          const h = held.splice(rng.nextUint32() % held.length, 1)[0]!;
          wallet.purse(h.job)?.release(h.lease, 'p');
        } else if (pending.length) {
          const c = pending.shift()!;
          books += c;
          wallet.recorded(c);
        }
        // Whatever comes back verified now, the books stay ≥ 0.
        expect(grant - books - wallet.committed).toBeGreaterThanOrEqual(0);
      }
    }
  });
});

describe('a shard paid for several copies', () => {
  it('reserves them all with its first lease; its twin needs nothing more', () => {
    let books = 0;
    const wallet = new Wallet((credit) => 350 - books >= credit);
    const purse = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 100_000, 2);
    wallet.open('j', purse);
    expect(purse.need(0, 100)).toBe(200); // a new shard: both its copies
    expect(wallet.reserve('j', 'a1', 'p', 0, 100)).toBe(true);
    expect(purse.held).toBe(200);
    // Another shard's first copy would leave shard 0's twin waiting on credit: refused.
    expect(wallet.reserve('j', 'b1', 'q', 1, 100)).toBe(false);
    expect(wallet.reserve('j', 'a2', 'q', 0, 100)).toBe(true);
    expect(purse.held).toBe(200);
    expect(wallet.pay('j', 'a1', 'p', 100)).toBe(100);
    expect(wallet.pay('j', 'a2', 'q', 100)).toBe(100);
    expect(purse.held).toBe(0);
    books += 200;
    wallet.recorded(200);
    expect(purse.need(1, 100)).toBe(200);
    expect(wallet.affords('j', purse.need(1, 100))).toBe(false); // 150 left
  });

  it('a rejected copy leaves the reserve for the copy that replaces it; the last gives it back', () => {
    const purse = new Purse({ price: 1, budget: Number.POSITIVE_INFINITY }, 100_000, 2);
    purse.hold('a1', 'p', 0, 100);
    purse.hold('a2', 'q', 0, 100);
    purse.submitted('a1', 'p');
    purse.submitted('a2', 'q');
    expect(purse.release('a1', 'p')).toBe(100); // rejected
    expect(purse.held).toBe(200); // a2, and the copy that replaces a1
    expect(purse.need(0, 100)).toBe(0);
    expect(purse.pay('a2', 'q', 100)).toBe(100);
    expect(purse.held).toBe(0); // no lease holds the shard: nothing kept for it
    expect(purse.need(0, 100)).toBe(100); // one copy was paid: one more is needed
    expect(purse.need(1, 100)).toBe(200);
  });
});

describe('what a lease reserves (the job’s shardFlops) is what its verdict pays', () => {
  it('matmul: every block, edge blocks included', async () => {
    const p = randomProblem(40, 24, 36, seededRng(1));
    const job = new MatmulOwnerJob('m', p, planBlocks(40, 36, 16, 16));
    const verdicts: Verdict[] = [];
    job.onSettled = (s) => verdicts.push(...s.verdicts);
    const reserved = new Map<string, number>();
    for (let i = 0; i < job.shardCount; i++) {
      const offer = job.offer(
        { id: `p${i}`, gflops: 1, bytesPerSec: 0, maxBufferBytes: 2 ** 30, adapter: 'x' },
        0,
      );
      if (offer.kind !== 'lease') throw new Error('no lease');
      reserved.set(offer.lease.leaseId, job.shardFlops(offer.lease.shardId));
      const w = offer.work;
      if (w.kind !== 'matmul') throw new Error('not a matmul');
      await job.submit(
        offer.lease.leaseId,
        `p${i}`,
        { kind: 'matmul', rows: w.m, cols: w.n, c: Float32Array.from(matmulF64(w.a, w.b, w)) },
        1,
        0,
      );
    }
    expect(verdicts.map((v) => v.settlement)).toEqual(Array(job.shardCount).fill('accepted'));
    for (const v of verdicts) expect(reserved.get(v.leaseId)).toBe(v.flops);
    expect(largestShardFlops(job)).toBe(Math.max(...verdicts.map((v) => v.flops)));
    expect(new Set(verdicts.map((v) => v.flops)).size).toBeGreaterThan(1); // sizes differ
  });

  for (const mode of ['logits', 'tokens'] as const) {
    it(`inference (${mode}): every shard, canaries included, sequences of several lengths`, async () => {
      const sequences = Array.from({ length: 11 }, (_, i) =>
        Uint32Array.from({ length: 2 + ((i * 5) % 10) }, (_, j) => (i + j) % tinySummary.vocab),
      );
      const spec: InferenceSpec = {
        modelDigest: 'd'.repeat(64),
        model: tinySummary,
        sequences,
        mode,
        steps: mode === 'tokens' ? 14 : 0, // runs into maxSeq for the longest
        temperature: 0,
        seed: 3,
        perShard: 3,
        policy: { ...defaultPolicy(mode), canaryRate: 0.5 },
      };
      const job = new InferenceOwnerJob('i', spec, {
        engine: referenceEngine(),
        rng: seededRng(2),
        now: () => 0,
      });
      const verdicts: Verdict[] = [];
      job.onSettled = (s) => verdicts.push(...s.verdicts);
      const reserved = new Map<string, number>();
      for (let i = 0; i < job.shardCount; i++) {
        const offer = job.offer(
          { id: `p${i}`, gflops: 1, bytesPerSec: 0, maxBufferBytes: 2 ** 30, adapter: `a${i}` },
          0,
        );
        if (offer.kind !== 'lease') throw new Error('no lease');
        reserved.set(offer.lease.leaseId, job.shardFlops(offer.lease.shardId));
        // A wrong shape is rejected at once, with the shard's FLOPs, and computes nothing.
        const empty = {
          kind: 'inference' as const,
          logits: new Float32Array(0),
          tokens: new Uint32Array(0),
          vectors: new Float32Array(0),
          scores: new Float32Array(0),
        };
        await job.submit(offer.lease.leaseId, `p${i}`, empty, 1, 0);
      }
      expect(verdicts).toHaveLength(job.shardCount);
      for (const v of verdicts) {
        expect(v.flops).toBeGreaterThan(0);
        expect(reserved.get(v.leaseId)).toBe(v.flops);
        expect(v.flops).toBeLessThanOrEqual(largestShardFlops(job));
        // Rounded once, the same way, on both sides.
        expect(creditFor(reserved.get(v.leaseId)!, 0.37)).toBe(creditFor(v.flops, 0.37));
      }
    });
  }
});

describe('the paymaster near the last credit', () => {
  it('leases twins of shards already paid for, and no new shard it cannot pay in full', () => {
    // Blocks of 16×16×8: 4,096 FLOPs, 4,096 µcredits at 1,000 credits a GFLOP; two copies each.
    const p = randomProblem(32, 8, 16, seededRng(3));
    const job = new MatmulOwnerJob('j', p, planBlocks(32, 16, 16, 16));
    const wallet = walletOf(12_000);
    const purse = new Purse({ price: 1_000, budget: Number.POSITIVE_INFINITY }, 4_096, 2);
    wallet.open('j', purse);
    const pay = new Paymaster(wallet, { jobs: () => [job] });
    const lease = (peer: string) => {
      const o = job.offer(
        { id: peer, gflops: 1, bytesPerSec: 0, maxBufferBytes: Infinity, adapter: peer },
        0,
        (s) => pay.mayTake(job, s),
      );
      if (o.kind === 'lease') expect(pay.reserve(job, o.lease, o.work)).toBe(true);
      return o.kind === 'lease' ? o.lease.shardId : undefined;
    };
    expect(lease('a')).toBe(0); // holds both copies of shard 0: 8,192 of 12,000
    expect(pay.mayTake(job, 1)).toBe(false); // shard 1 would need 8,192 more
    expect(pay.mayTake(job, 0)).toBe(true); // a twin of shard 0 needs nothing more
    expect(lease('b')).not.toBe(1); // never the shard nobody can pay for
    expect(purse.held).toBe(8_192);
  });
});
