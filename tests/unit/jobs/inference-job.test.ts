import { beforeAll, describe, expect, test } from 'vitest';
import type { InferenceWork, Output } from '../../../src/jobs/codec';
import { computeInference } from '../../../src/jobs/inference-compute';
import { InferenceOwnerJob } from '../../../src/jobs/inference-job';
import {
  defaultPolicy,
  type InferenceSpec,
  planSequenceBlocks,
} from '../../../src/jobs/inference-spec';
import {
  type ContributorInfo,
  type Engine,
  JobSpecError,
  type Revocation,
  type Verdict,
} from '../../../src/jobs/job';
import { OwnerTrust, PROVEN_AFTER } from '../../../src/jobs/owner-trust';
import { TRANSFER_SLACK } from '../../../src/jobs/scheduler';
import { parseConfig, parseJsonObject } from '../../../src/model/hf/config';
import { forwardFlops, logitErrorBound, modelSummary } from '../../../src/model/hf/cost';
import { seededRng } from '../../../src/model/rng';
import { sampleToken } from '../../../src/model/sample';
import { referenceEngine, tinyModelFiles, tinySummary } from '../../support/model-fixture';

const file = tinyModelFiles(300);
let digest: string;
const owner = referenceEngine();
const honest = referenceEngine();
beforeAll(async () => {
  digest = (await owner.loadModel(file)).digest;
  await honest.loadModel(file);
});

/** 12 sequences of 4 to 9 tokens. */
const sequences = Array.from({ length: 12 }, (_, i) =>
  Uint32Array.from({ length: 4 + (i % 6) }, (_, j) => (i * 7 + j * 3) % tinySummary.vocab),
);

function spec(over: Partial<InferenceSpec> = {}): InferenceSpec {
  const mode = over.mode ?? 'logits';
  return {
    modelDigest: digest,
    model: tinySummary,
    sequences,
    mode,
    steps: mode === 'tokens' ? 6 : 0,
    temperature: 0,
    seed: 42,
    perShard: 3,
    policy: { ...defaultPolicy(mode), spotCheckRate: 0, canaryRate: 0 },
    ...over,
  };
}

interface Peer {
  info: ContributorInfo;
  engine: Engine;
}
const peer = (id: string, engine: Engine, adapter = `gpu-${id}`): Peer => ({
  info: { id, gflops: 1, bytesPerSec: 0, maxBufferBytes: 2 ** 30, adapter },
  engine,
});

/** Drives a job with contributors taking turns on a fake clock until it is done. */
async function drive(job: InferenceOwnerJob, peers: Peer[], clock = { t: 0 }, rounds = 200) {
  const verdicts: Verdict[] = [];
  const before = job.onSettled;
  job.onSettled = (s) => {
    before?.(s);
    verdicts.push(...s.verdicts);
  };
  for (let r = 0; r < rounds && !job.done; r++) {
    for (const p of peers) {
      const offer = job.offer(p.info, clock.t);
      if (offer.kind !== 'lease') continue;
      const out = await computeInference(offer.work as InferenceWork, p.engine);
      await job.submit(offer.lease.leaseId, p.info.id, out, 10, clock.t);
    }
    clock.t += 250;
    job.expire(clock.t);
    await new Promise((r) => setTimeout(r, 0)); // owner checks started by expire()
  }
  return verdicts;
}

function newJob(s: InferenceSpec, rng = seededRng(5), trust?: OwnerTrust, id = 'inf') {
  return new InferenceOwnerJob(id, s, { engine: owner, rng, now: () => 0, trust });
}

/** An owner's record in which these contributors already passed its own checks. */
function provenTrust(...ids: string[]): OwnerTrust {
  const t = new OwnerTrust();
  for (const id of ids) t.passed(id, PROVEN_AFTER);
  return t;
}

/** Every revocation a job emits. */
function revocations(job: InferenceOwnerJob): Revocation[] {
  const out: Revocation[] = [];
  const before = job.onSettled;
  job.onSettled = (s) => {
    before?.(s);
    out.push(...(s.revoke ?? []));
  };
  return out;
}

async function reference(s: InferenceSpec) {
  const lengths = Uint32Array.from(s.sequences, (q) => q.length);
  const tokens = new Uint32Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const q of s.sequences) {
    tokens.set(q, at);
    at += q.length;
  }
  return computeInference(
    {
      kind: 'inference',
      modelDigest: digest,
      lengths,
      tokens,
      mode: s.mode,
      steps: s.steps,
      temperature: s.temperature,
      seeds: new Uint32Array(0),
    },
    honest,
  );
}

describe('inference jobs: planning', () => {
  test('blocks of sequences cover the job once', () => {
    expect(planSequenceBlocks(5, 2)).toEqual([
      { start: 0, count: 2 },
      { start: 2, count: 2 },
      { start: 4, count: 1 },
    ]);
    expect(() => planSequenceBlocks(0, 2)).toThrow(RangeError);
    expect(() => planSequenceBlocks(3, 0)).toThrow(RangeError);
  });

  test('specs that cannot run are typed errors naming the field', () => {
    const bad: [Partial<InferenceSpec>, string][] = [
      [{ sequences: [] }, 'sequences'],
      [{ sequences: [Uint32Array.from([1, 99])] }, 'sequences[0]'],
      [{ sequences: [new Uint32Array(25)] }, 'sequences[0]'],
      // 20 prompt tokens + 6 generated − 1 exceed the context of 24.
      [{ mode: 'tokens', steps: 6, sequences: [new Uint32Array(20)] }, 'sequences[0]'],
      [{ mode: 'tokens', steps: 0 }, 'steps'],
      [{ temperature: -1 }, 'temperature'],
      [{ perShard: 0 }, 'perShard'],
      [{ policy: { ...defaultPolicy('logits'), copies: 4 } }, 'policy.copies'],
      [{ policy: { ...defaultPolicy('logits'), canaryRate: 2 } }, 'policy.canaryRate'],
      // The model summary is checked like every stored field: a causal family, whole counts.
      [{ model: { ...tinySummary, family: 'bert' } }, 'model.family'],
      [{ model: { ...tinySummary, vocab: 0 } }, 'model.vocab'],
      [{ model: { ...tinySummary, maxPositions: 2.5 } }, 'model.maxPositions'],
      [{ model: { ...tinySummary, gated: true } }, 'model.gated'],
      [{ model: undefined as never }, 'model'],
    ];
    for (const [over, field] of bad) {
      expect(() => newJob(spec(over))).toThrowError(
        expect.objectContaining({ name: JobSpecError.name, field }),
      );
    }
  });

  test('canaries are shuffled in among real shards and look like them', () => {
    const job = newJob(spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0.5 } }));
    expect(job.shardCount).toBe(4 + 2);
    const sizes = Array.from({ length: job.shardCount }, (_, s) => job.work(s).lengths.length);
    expect(new Set(sizes)).toEqual(new Set([3]));
    // Same seed, same shards: a resumed job leases what the first one did.
    const again = newJob(spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0.5 } }));
    for (let s = 0; s < job.shardCount; s++) expect(again.work(s)).toEqual(job.work(s));
  });
});

describe('inference jobs: FLOPs per shard', () => {
  /** A shard's FLOPs as cost.ts counts them, from the lengths its lease carries. */
  const expected = (s: InferenceSpec, lengths: Uint32Array) =>
    Array.from(lengths).reduce(
      (sum, len) =>
        sum +
        (s.mode === 'logits'
          ? forwardFlops(s.model, len)
          : forwardFlops(s.model, len + s.steps - 1, s.steps)),
      0,
    );

  test('logits: each shard is one forward pass per sequence; the shards cover the job once', () => {
    const s = spec();
    const job = newJob(s);
    let total = 0;
    for (let shard = 0; shard < job.shardCount; shard++) {
      expect(job.shardFlops(shard)).toBe(expected(s, job.work(shard).lengths));
      total += job.shardFlops(shard);
    }
    expect(total).toBe(sequences.reduce((sum, q) => sum + forwardFlops(tinySummary, q.length), 0));
    expect(job.shardFlops(job.shardCount)).toBe(0); // no such shard
    // Canaries are shards like the others: they cost what their sequences cost.
    const c = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0.5, spotCheckRate: 0 } });
    const withCanaries = newJob(c);
    for (let shard = 0; shard < withCanaries.shardCount; shard++) {
      expect(withCanaries.shardFlops(shard)).toBeGreaterThan(0);
      expect(withCanaries.shardFlops(shard)).toBe(expected(c, withCanaries.work(shard).lengths));
    }
  });

  test('tokens: generation is one cached pass over prompt + steps − 1 with steps through the head', () => {
    const s = spec({ mode: 'tokens' });
    const job = newJob(s);
    for (let shard = 0; shard < job.shardCount; shard++)
      expect(job.shardFlops(shard)).toBe(expected(s, job.work(shard).lengths));
    // More tokens generated, more work: the head runs once a step.
    const longer = newJob(spec({ mode: 'tokens', steps: 9 }));
    expect(longer.shardFlops(0)).toBeGreaterThan(job.shardFlops(0));
  });

  test('a verdict carries its shard’s FLOPs', async () => {
    const job = newJob(spec(), seededRng(5), provenTrust('a', 'b'));
    const verdicts = await drive(job, [peer('a', honest), peer('b', honest)]);
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect(v.flops).toBe(job.shardFlops(v.shardId));
  });
});

describe('inference jobs: verification', () => {
  test('two proven copies on different adapters agree; the answer is the model’s', async () => {
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const job = newJob(s, seededRng(5), provenTrust('a', 'b'));
    const verdicts = await drive(job, [peer('a', honest), peer('b', honest)]);
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
    expect(verdicts.every((v) => v.settlement === 'accepted' && v.method === 'redundancy')).toBe(
      true,
    );
    // Every shard was computed twice, by a and by b.
    expect(verdicts).toHaveLength(2 * job.shardCount);
    expect(verdicts.every((v) => v.flops > 0)).toBe(true);
    expect(job.report()).toMatchObject({ accepted: 4, rejected: 0, redundancyOverhead: 1 });
    expect(owner.calls.logits).toBe(0); // redundancy alone cost the owner nothing
  });

  test('progress: a copy waiting for its twin is awaiting, not verified', async () => {
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const job = newJob(s);
    const [a] = [peer('a', honest)];
    const offer = job.offer(a!.info, 0);
    if (offer.kind !== 'lease') throw new Error('no lease');
    expect(job.progress()).toMatchObject({ leased: 1, awaiting: 0, verified: 0 });
    const out = await computeInference(offer.work as InferenceWork, honest);
    await job.submit(offer.lease.leaseId, 'a', out, 10, 0);
    expect(job.progress()).toEqual({ shards: job.shardCount, leased: 0, awaiting: 1, verified: 0 });
    await drive(job, [peer('b', honest), a!]);
    expect(job.progress()).toEqual({
      shards: job.shardCount,
      leased: 0,
      awaiting: 0,
      verified: job.shardCount,
    });
  });

  test('copies go to another adapter when one is online', async () => {
    const job = newJob(spec());
    const a = peer('a', honest, 'gpu-x');
    const b = peer('b', honest, 'gpu-x');
    const c = peer('c', honest, 'gpu-y');
    for (const p of [a, b, c]) job.offer(p.info, 0); // all three are seen online
    // a computes shard s; b (same adapter) may not take the second copy while c is online.
    const first = job.offer(a.info, 0);
    if (first.kind !== 'lease') throw new Error('expected a lease');
    await job.submit(
      first.lease.leaseId,
      'a',
      await computeInference(first.work as InferenceWork, honest),
      1,
      0,
    );
    const s = first.lease.shardId;
    const leasedTo = (p: Peer) => {
      const o = job.offer(p.info, 1);
      return o.kind === 'lease' ? o.lease.shardId : undefined;
    };
    const bGets = new Set<number | undefined>();
    for (let i = 0; i < 5; i++) bGets.add(leasedTo(b));
    expect(bGets.has(s)).toBe(false);
    expect(leasedTo(c)).toBe(s);
  });

  test('a cheater’s perturbed logits disagree; the owner’s check catches and bars it', async () => {
    const cheat = referenceEngine({
      logits: (l) => l.map((v, i) => (i === 5 ? v + 0.5 : v)),
    });
    await cheat.loadModel(file);
    const s = spec();
    const job = newJob(s, seededRng(5), provenTrust('a', 'b', 'cheat'));
    const revoked = revocations(job);
    const verdicts = await drive(job, [peer('cheat', cheat), peer('a', honest), peer('b', honest)]);
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
    const fromCheat = verdicts.filter((v) => v.contributor === 'cheat');
    expect(fromCheat.length).toBeGreaterThan(0);
    expect(fromCheat.every((v) => v.settlement === 'rejected')).toBe(true);
    expect(
      verdicts.filter((v) => v.contributor !== 'cheat').every((v) => v.settlement === 'accepted'),
    ).toBe(true);
    expect(job.report().disagreements).toBeGreaterThan(0);
    // Caught once: barred from the job, never proven again, its credit here void.
    expect(revoked).toEqual([expect.objectContaining({ jobId: 'inf', contributor: 'cheat' })]);
    expect(revoked[0]!.reason).toMatch(/disagreement/);
    expect(job.offer(peer('cheat', cheat).info, 10_000)).toMatchObject({ kind: 'none' });
  });

  test('a canary catches a lone proven cheater without a second copy; its shards are redone', async () => {
    const cheat = referenceEngine({ logits: (l) => l.map((v) => v * 1.01) });
    await cheat.loadModel(file);
    // One copy each: only canaries and checks stand between a proven cheater and credit.
    const s = spec({ policy: { copies: 1, canaryRate: 1, spotCheckRate: 0, copyWaitMs: 5_000 } });
    const trust = provenTrust('cheat');
    const job = newJob(s, seededRng(5), trust);
    const revoked = revocations(job);
    const verdicts = await drive(job, [peer('cheat', cheat)], { t: 0 }, 12);
    const canary = verdicts.filter((v) => v.method === 'canary');
    expect(canary.length).toBeGreaterThan(0);
    expect(canary.every((v) => v.settlement === 'rejected' && v.contributor === 'cheat')).toBe(
      true,
    );
    expect(job.report().canariesFailed).toBe(canary.length);
    expect(trust.isCaught('cheat')).toBe(true);
    expect(trust.isProven('cheat')).toBe(false);
    // What it was credited for before the canary is void, and recomputed by the owner: the
    // answer holds none of its logits.
    const credited = verdicts.filter((v) => v.settlement === 'accepted').map((v) => v.shardId);
    expect(credited.length).toBeGreaterThan(0);
    expect(revoked).toHaveLength(1);
    expect(revoked[0]!.credited).toEqual([...new Set(credited)].sort((a, b) => a - b));
    expect(revoked[0]!.reopened).toEqual(revoked[0]!.credited);
    await drive(job, [peer('a', honest)], { t: 100_000 });
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
  });

  test('two fresh ids agreeing on a wrong answer: the owner checks, catches and bars both', async () => {
    const liar = referenceEngine({ logits: (l) => l.map((v) => -v) });
    await liar.loadModel(file);
    // No spot-checks at all: agreement between unproven ids is what sends it to the owner.
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const trust = provenTrust('someone-else');
    const job = newJob(s, seededRng(5), trust);
    const revoked = revocations(job);
    // Two ids of one liar take the first copies; honest contributors arrive later.
    const verdicts = await drive(job, [peer('sybil-1', liar), peer('sybil-2', liar)], { t: 0 }, 2);
    expect(
      verdicts.filter((v) => v.method === 'spot-check' && v.settlement === 'rejected').length,
    ).toBeGreaterThan(0);
    expect(revoked.map((r) => r.contributor).sort()).toEqual(['sybil-1', 'sybil-2']);
    expect(trust.isCaught('sybil-1') && trust.isCaught('sybil-2')).toBe(true);
    expect(verdicts.some((v) => v.settlement === 'accepted')).toBe(false);
    const rest = await drive(job, [peer('a', honest), peer('b', honest)]);
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
    expect(
      rest
        .filter((v) => v.settlement === 'accepted')
        .every((v) => !v.contributor.startsWith('sybil')),
    ).toBe(true);
    expect(job.report().spotChecksFailed).toBeGreaterThan(0);
  });

  test('fresh honest peers are proven by passing the owner’s checks; then agreement counts', async () => {
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const trust = new OwnerTrust({ provenAfter: 3 }); // one shard of 3 sequences
    const job = newJob(s, seededRng(5), trust);
    const verdicts = await drive(job, [peer('a', honest), peer('b', honest)]);
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
    expect(verdicts.every((v) => v.settlement === 'accepted')).toBe(true);
    // The first shard was checked by the owner; once proven, their agreement alone counts.
    expect(verdicts[0]!.method).toBe('spot-check');
    expect(verdicts.at(-1)!.method).toBe('redundancy');
    expect(trust.isProven('a') && trust.isProven('b')).toBe(true);
    expect(job.report()).toMatchObject({ spotChecks: 1, spotChecksFailed: 0 });
  });

  test('honest float differences within the model’s bound are never caught', async () => {
    // Another engine's rounding: every logit moved by up to 0.9× the error bound (two honest
    // runs may differ by twice it), in opposite directions on two engines.
    const nudged = (sign: number) =>
      referenceEngine({
        logits: (l) => {
          const scale = l.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const e = 0.9 * logitErrorBound(tinySummary, scale);
          return l.map((v, i) => v + sign * e * (i % 3 === 0 ? 1 : -0.5));
        },
      });
    const [up, down] = [nudged(1), nudged(-1)];
    await up.loadModel(file);
    await down.loadModel(file);
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0.5, spotCheckRate: 0.5 } });
    const trust = new OwnerTrust({ provenAfter: 3 });
    const job = newJob(s, seededRng(5), trust);
    const revoked = revocations(job);
    const verdicts = await drive(job, [peer('webgpu', up), peer('cpu', down)]);
    expect(job.done).toBe(true);
    expect(verdicts.every((v) => v.settlement === 'accepted')).toBe(true);
    expect(revoked).toEqual([]);
    expect(trust.isProven('webgpu') && trust.isProven('cpu')).toBe(true);
  });

  test('slow is not dishonest: a lapsed lease catches nobody', async () => {
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const trust = provenTrust('slow', 'a');
    const job = newJob(s, seededRng(5), trust);
    const revoked = revocations(job);
    const offer = job.offer(peer('slow', honest).info, 0);
    expect(offer.kind).toBe('lease');
    expect(job.expire(10_000_000)).toHaveLength(1);
    await drive(job, [peer('slow', honest), peer('a', honest)], { t: 10_000_000 });
    expect(job.done).toBe(true);
    expect(revoked).toEqual([]);
    expect(trust.isProven('slow')).toBe(true);
  });

  test('a proven cheater and its fresh twin: one canary redoes every shard of both', async () => {
    const cheat = referenceEngine({ logits: (l) => l.map((v, i) => (i % 7 === 0 ? v + 1 : v)) });
    await cheat.loadModel(file);
    // The proven id's agreement lets its twin's wrong copies through, until a canary.
    const s = spec({ policy: { copies: 2, canaryRate: 1, spotCheckRate: 0, copyWaitMs: 5_000 } });
    const trust = provenTrust('farmed');
    const job = newJob(s, seededRng(3), trust);
    const revoked = revocations(job);
    const verdicts = await drive(job, [peer('farmed', cheat), peer('twin', cheat)], { t: 0 }, 30);
    expect(revoked.map((r) => r.contributor).sort()).toEqual(['farmed', 'twin']);
    for (const r of revoked) {
      const credited = verdicts
        .filter((v) => v.contributor === r.contributor && v.settlement === 'accepted')
        .map((v) => v.shardId);
      expect(r.credited).toEqual([...new Set(credited)].sort((a, b) => a - b));
    }
    // Nothing either returned stays in the answer: the owner recomputed what they agreed on.
    expect(revoked.some((r) => r.reopened.length > 0)).toBe(true);
    await drive(job, [peer('a', honest), peer('b', honest)], { t: 100_000 });
    expect(job.done).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
  });

  test('caught on the last shard: the job is not done until what it agreed on is redone', async () => {
    const cheat = referenceEngine({ logits: (l) => l.map((v) => v - 0.2) });
    await cheat.loadModel(file);
    const s = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    const job = newJob(s, seededRng(5), provenTrust('farmed', 'a'));
    const revoked = revocations(job);
    const doneWhenSettled: boolean[] = [];
    job.onSettled = ((before) => (x: Parameters<NonNullable<typeof before>>[0]) => {
      before?.(x);
      if (x.shard) doneWhenSettled.push(job.done);
    })(job.onSettled);
    // Three shards settle on the farmed id's agreement with its twin: wrong, and accepted.
    const first = await drive(job, [peer('farmed', cheat), peer('twin', cheat)], { t: 0 }, 3);
    expect(first.filter((v) => v.settlement === 'accepted')).toHaveLength(6);
    // The last shard: the farmed id meets an honest copy, and the owner's check catches it.
    await drive(job, [peer('a', honest), peer('farmed', cheat)], { t: 1_000 });
    expect(job.done).toBe(true);
    expect(revoked.map((r) => r.contributor).sort()).toEqual(['farmed', 'twin']);
    expect(revoked.find((r) => r.contributor === 'farmed')!.reopened).toHaveLength(3);
    // Done only once, on the last re-verified shard, never while wrong output was in.
    expect(doneWhenSettled.filter(Boolean)).toHaveLength(1);
    expect(doneWhenSettled.at(-1)).toBe(true);
    expect(job.logits).toEqual((await reference(s)).logits);
  });

  test('caught in one job of the owner: its agreed shards in another running job are redone', async () => {
    const cheat = referenceEngine({ logits: (l) => l.map((v) => v + 0.3) });
    await cheat.loadModel(file);
    const trust = provenTrust('two-faced', 'a');
    const plain = spec({ policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0 } });
    // Job B: the peer computes honestly with a, and is credited.
    const b = newJob(plain, seededRng(5), trust, 'job-b');
    const revokedB = revocations(b);
    const inB = await drive(b, [peer('two-faced', honest), peer('a', honest)], { t: 0 }, 1);
    const credited = inB.filter(
      (v) => v.contributor === 'two-faced' && v.settlement === 'accepted',
    );
    expect(credited.length).toBeGreaterThan(0);
    // Job A: it cheats on a canary.
    const a = newJob(
      spec({ policy: { copies: 1, canaryRate: 1, spotCheckRate: 0, copyWaitMs: 5_000 } }),
      seededRng(5),
      trust,
      'job-a',
    );
    await drive(a, [peer('two-faced', cheat)], { t: 0 }, 8);
    expect(trust.isCaught('two-faced')).toBe(true);
    await new Promise((r) => setTimeout(r, 0)); // job B's owner checks
    expect(revokedB).toEqual([
      expect.objectContaining({ jobId: 'job-b', contributor: 'two-faced' }),
    ]);
    expect(revokedB[0]!.credited.length).toBe(new Set(credited.map((v) => v.shardId)).size);
    expect(b.offer(peer('two-faced', honest).info, 1)).toMatchObject({ kind: 'none' });
    await drive(b, [peer('a', honest), peer('c', honest)], { t: 1 });
    expect(b.done).toBe(true);
    expect(b.logits).toEqual((await reference(plain)).logits);
  });

  test('a lone contributor: after copyWaitMs the owner checks the copy nobody else can make', async () => {
    const s = spec({
      policy: { ...defaultPolicy('logits'), canaryRate: 0, spotCheckRate: 0, copyWaitMs: 1_000 },
    });
    const job = newJob(s);
    const clock = { t: 0 };
    const verdicts = await drive(job, [peer('alone', honest)], clock, 40);
    expect(job.done).toBe(true);
    expect(verdicts.every((v) => v.settlement === 'accepted' && v.method === 'spot-check')).toBe(
      true,
    );
    expect(clock.t).toBeGreaterThanOrEqual(1_000);
    expect(job.report()).toMatchObject({ accepted: 4, spotChecks: 4, spotChecksFailed: 0 });
  });
});

describe('inference jobs: generated tokens, checked by one teacher-forced pass', () => {
  test('temperature draws follow softmax, one uniform a step; bad temperatures are refused', () => {
    // The draws an honest contributor makes (the Worker's generateTokens) and token-check.ts
    // replays.
    const rng = seededRng(4);
    const counts = [0, 0, 0];
    for (let i = 0; i < 20_000; i++) counts[sampleToken([0, Math.log(2), Math.log(7)], 1, rng)]!++;
    expect(counts[0]! / 20_000).toBeCloseTo(0.1, 1);
    expect(counts[2]! / 20_000).toBeCloseTo(0.7, 1);
    expect(sampleToken([0.1, 3, -2], 0)).toBe(1);
    expect(() => sampleToken([1, 2], -1)).toThrow(RangeError);
    expect(() => sampleToken([1, 2], 1)).toThrow(RangeError);
  });

  test.each([0, 0.8])('honest generation at temperature %s is accepted', async (temperature) => {
    const s = spec({ mode: 'tokens', steps: 6, temperature, policy: defaultPolicy('tokens') });
    const job = newJob(s);
    const verdicts = await drive(job, [peer('a', honest)]);
    expect(job.done).toBe(true);
    expect(verdicts.every((v) => v.settlement === 'accepted' && v.method === 'spot-check')).toBe(
      true,
    );
    // One teacher-forced pass per distinct length per shard; no decode step replayed.
    expect(owner.calls.generateTokens).toBe(0);
    expect(job.tokens).toHaveLength(12 * 6);
    if (temperature === 0) expect(job.tokens).toEqual((await reference(s)).tokens);
  });

  test('one changed token, or another shard’s tokens, is caught every time', async () => {
    let previous: Uint32Array | undefined;
    const swapper = referenceEngine({
      tokens: (t) => {
        const out =
          previous && previous.length === t.length
            ? previous
            : t.map((v, i) => (i === 7 ? (v + 1) % 37 : v));
        previous = t;
        return out;
      },
    });
    await swapper.loadModel(file);
    const s = spec({ mode: 'tokens', steps: 6, policy: defaultPolicy('tokens') });
    const job = newJob(s);
    const verdicts = await drive(job, [peer('swapper', swapper)], { t: 0 }, 3);
    expect(verdicts.length).toBeGreaterThan(0);
    expect(verdicts.every((v) => v.settlement === 'rejected')).toBe(true);
    await drive(job, [peer('a', honest)]);
    expect(job.done).toBe(true);
    expect(job.tokens).toEqual((await reference(s)).tokens);
  });

  test('a cheater faking 10% of its sequences is caught in every one of 20 jobs', async () => {
    // 10 sequences a shard, one of them generated at random: the shard fails its check.
    const rng = seededRng(9);
    const faker = referenceEngine({
      tokens: (t) => {
        const out = t.slice();
        const row = rng.nextUint32() % (t.length / 6);
        for (let j = 0; j < 6; j++) out[row * 6 + j] = rng.nextUint32() % 37;
        return out;
      },
    });
    await faker.loadModel(file);
    const many = Array.from({ length: 20 }, (_, i) => Uint32Array.from([i % 37, (i * 5) % 37, 3]));
    let caught = 0;
    for (let j = 0; j < 20; j++) {
      const job = newJob(
        spec({
          mode: 'tokens',
          steps: 6,
          sequences: many,
          perShard: 10,
          seed: j,
          policy: defaultPolicy('tokens'),
        }),
      );
      const verdicts = await drive(job, [peer('faker', faker)], { t: 0 }, 1);
      if (verdicts.some((v) => v.settlement === 'rejected')) caught++;
    }
    expect(caught).toBe(20);
  });
});

describe('inference jobs: leases and resume', () => {
  test('stale results, shape errors and other peers’ leases do not count', async () => {
    const job = newJob(spec());
    const verdicts: Verdict[] = [];
    job.onSettled = (s) => verdicts.push(...s.verdicts);
    const a = peer('a', honest);
    const offer = job.offer(a.info, 0);
    if (offer.kind !== 'lease') throw new Error('expected a lease');
    const out = await computeInference(offer.work as InferenceWork, honest);
    await job.submit(offer.lease.leaseId, 'b', out, 1, 0);
    expect(verdicts.at(-1)).toMatchObject({ contributor: 'b', settlement: 'stale' });
    await job.submit(offer.lease.leaseId, 'a', { ...out, logits: out.logits.subarray(1) }, 1, 0);
    expect(verdicts.at(-1)).toMatchObject({ contributor: 'a', settlement: 'rejected' });
    expect(verdicts.at(-1)!.reason).toMatch(/expected 3×37 logits/);
  });

  test('a resumed job takes back verified shards and never leases them again', async () => {
    const s = spec();
    const first = newJob(s);
    const kept: [number, Output][] = [];
    first.onSettled = (x) => x.shard && kept.push([x.shard.shardId, x.shard.output]);
    await drive(first, [peer('a', honest), peer('b', honest)], { t: 0 }, 2);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(4);

    const resumed = newJob(s);
    for (const [id, output] of kept) expect(resumed.restore(id, output)).toBe(true);
    expect(resumed.restore(kept[0]![0], kept[0]![1])).toBe(false); // not twice
    expect(resumed.report()).toMatchObject({ restored: kept.length, accepted: kept.length });
    const leased = new Set<number>();
    const verdicts = await drive(resumed, [peer('a', honest), peer('b', honest)]);
    for (const v of verdicts) leased.add(v.shardId);
    for (const [id] of kept) expect(leased.has(id)).toBe(false);
    expect(resumed.done).toBe(true);
    expect(resumed.logits).toEqual((await reference(s)).logits);
  });
});

test('leases are transfer-aware: the deadline covers the shard’s bytes over the measured link', () => {
  const job = newJob(spec());
  const slow = job.offer({ ...peer('slow', honest).info, bytesPerSec: 100 }, 0);
  if (slow.kind !== 'lease' || slow.work.kind !== 'inference') throw new Error('no lease');
  // In: token ids, lengths and seeds (none when greedy); out: the logits.
  const n = slow.work.lengths.length;
  const bytes = 4 * (slow.work.tokens.length + 2 * n + n * tinySummary.vocab);
  expect(slow.lease.transferMs).toBeCloseTo(TRANSFER_SLACK * (bytes / 100) * 1_000, 6);
  expect(slow.lease.deadline).toBeCloseTo(slow.lease.transferMs + slow.lease.windowMs, 6);
  expect(slow.lease.windowMs).toBeGreaterThan(slow.lease.transferMs); // the result's trip back
  // A fast link gets next to no allowance; an unmeasured one the conservative default.
  const fast = job.offer({ ...peer('fast', honest).info, bytesPerSec: 1e9 }, 0);
  if (fast.kind !== 'lease') throw new Error('no lease');
  expect(fast.lease.transferMs).toBeLessThan(1);
  expect(job.offer(peer('x', honest).info, 0)).toMatchObject({ kind: 'lease' });
  // Nothing left to lease to a fourth: it is told why.
  const none = job.offer(peer('y', honest).info, 0, () => false);
  expect(none).toMatchObject({ kind: 'none', finished: false, reason: 'budget' });
});

test('a Llama checkpoint (GQA, SwiGLU) runs through the same kind, every result checked', async () => {
  const files = tinyModelFiles(7, 'llama');
  const [mine, theirs] = [referenceEngine(), referenceEngine()];
  const { digest: d } = await mine.loadModel(files);
  await theirs.loadModel(files);
  const model = modelSummary(parseConfig(parseJsonObject('config.json', files['config.json']!)));
  expect(model).toMatchObject({ family: 'llama', gated: true, kvWidth: model.attnWidth / 2 });
  for (const mode of ['logits', 'tokens'] as const) {
    const s = spec({
      modelDigest: d,
      model,
      mode,
      steps: mode === 'tokens' ? 4 : 0,
      temperature: mode === 'tokens' ? 0.8 : 0,
      policy: { ...defaultPolicy(mode), copies: 1, spotCheckRate: 1 },
    });
    const job = new InferenceOwnerJob(`llama-${mode}`, s, {
      engine: mine,
      rng: seededRng(1),
      now: () => 0,
    });
    const verdicts = await drive(job, [peer('a', theirs)]);
    expect(job.done).toBe(true);
    expect(verdicts.every((v) => v.settlement === 'accepted' && v.flops > 0)).toBe(true);
    if (mode === 'logits') expect(job.logits).toHaveLength(12 * model.vocab);
  }
});
