import { beforeAll, describe, expect, test } from 'vitest';
import type { InferenceWork } from '../../../src/jobs/codec';
import { computeInference } from '../../../src/jobs/inference-compute';
import { defaultPolicy } from '../../../src/jobs/inference-spec';
import { OwnerTrust } from '../../../src/jobs/owner-trust';
import { logitErrorBound } from '../../../src/model/hf/cost';
import { seededRng } from '../../../src/model/rng';
import {
  drive,
  file,
  honest,
  loadModels,
  newJob,
  owner,
  type Peer,
  peer,
  provenTrust,
  reference,
  revocations,
  spec,
} from '../../support/inference-job-fixture';
import { referenceEngine, tinySummary } from '../../support/model-fixture';

beforeAll(loadModels);

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
    const rows = s.sequences.length;
    expect(job.progress()).toEqual({
      shards: job.shardCount,
      leased: 0,
      awaiting: 1,
      verified: 0,
      rows,
      rowsVerified: 0,
    });
    await drive(job, [peer('b', honest), a!]);
    expect(job.progress()).toEqual({
      shards: job.shardCount,
      leased: 0,
      awaiting: 0,
      verified: job.shardCount,
      rows,
      rowsVerified: rows,
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
