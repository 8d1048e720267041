import { beforeAll, describe, expect, test } from 'vitest';
import type { InferenceWork, Output } from '../../../src/jobs/codec';
import { computeInference } from '../../../src/jobs/inference-compute';
import { InferenceOwnerJob } from '../../../src/jobs/inference-job';
import {
  defaultPolicy,
  type InferenceSpec,
  planSequenceBlocks,
} from '../../../src/jobs/inference-spec';
import { JobSpecError, type Verdict } from '../../../src/jobs/job';
import { TRANSFER_SLACK } from '../../../src/jobs/scheduler';
import { parseConfig, parseJsonObject } from '../../../src/model/hf/config';
import { forwardFlops, modelSummary } from '../../../src/model/hf/cost';
import { seededRng } from '../../../src/model/rng';
import { sampleToken } from '../../../src/model/sample';
import {
  drive,
  file,
  honest,
  loadModels,
  newJob,
  owner,
  peer,
  provenTrust,
  reference,
  sequences,
  spec,
} from '../../support/inference-job-fixture';
import { referenceEngine, tinyModelFiles, tinySummary } from '../../support/model-fixture';

beforeAll(loadModels);

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
