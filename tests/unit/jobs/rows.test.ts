import { beforeAll, describe, expect, test } from 'vitest';
import {
  decodeOutput,
  decodeWork,
  encodeOutput,
  type InferenceOutput,
  type InferenceWork,
  inferenceOutput,
  workBytes,
} from '../../../src/jobs/codec';
import { computeInference } from '../../../src/jobs/inference-compute';
import type { InferenceOwnerJob } from '../../../src/jobs/inference-job';
import {
  defaultCheckRows,
  type InferenceSpec,
  packRows,
  ROWS_FOR_CATCH,
  rowFlops,
} from '../../../src/jobs/inference-spec';
import { type Engine, JobSpecError, type Settlement } from '../../../src/jobs/job';
import { buildJobSpec, checkJobSpec, createJob, KINDS } from '../../../src/jobs/kinds';
import { OwnerTrust, PROVEN_AFTER } from '../../../src/jobs/owner-trust';
import {
  finishRow,
  MAX_ROWS_PER_SHARD,
  MIN_ROWS_PER_SHARD,
  type RowKind,
  rowShards,
  rowsPerShard,
} from '../../../src/jobs/rows';
import { parseConfig } from '../../../src/model/hf/config';
import { modelSummary } from '../../../src/model/hf/cost';
import { type Rng, seededRng, uniform } from '../../../src/model/rng';
import { drive, type Peer, peer } from '../../support/inference-job-fixture';
import { referenceEngine, tinyModelFiles, tinySummary } from '../../support/model-fixture';

// The data-set kinds (embed, generate, score) on real tiny checkpoints, computed by the float64
// reference engine: sharding, the owner's sampled checks, a faker caught and its work redone,
// and a resumed job that keeps nothing in memory.

const bertFiles = tinyModelFiles(7, 'bert');
const gptFiles = tinyModelFiles(8);
const bert = modelSummary(
  parseConfig(JSON.parse(new TextDecoder().decode(bertFiles['config.json']!))),
);
const owner = referenceEngine();
const honest = referenceEngine();
let bertDigest = '';
let gptDigest = '';

beforeAll(async () => {
  for (const e of [owner, honest]) {
    bertDigest = (await e.loadModel(bertFiles)).digest;
    gptDigest = (await e.loadModel(gptFiles)).digest;
  }
});

/** `n` rows of 3 to 10 tokens below `vocab`, reproducible. */
function rows(n: number, vocab: number, seed = 1): Uint32Array[] {
  const rng = seededRng(seed);
  return Array.from({ length: n }, () =>
    Uint32Array.from({ length: 3 + (rng.nextUint32() % 8) }, () => rng.nextUint32() % vocab),
  );
}

function spec(kind: RowKind, n: number, over: Record<string, unknown> = {}): InferenceSpec {
  const embed = kind === 'embed';
  const js = buildJobSpec(
    kind,
    {
      modelDigest: embed ? bertDigest : gptDigest,
      model: embed ? bert : tinySummary,
      rows: rows(n, embed ? bert.vocab : tinySummary.vocab),
      perShard: 16,
      ...(kind === 'generate' ? { maxNewTokens: 5, stopTokens: [0] } : {}),
      ...over,
    },
    seededRng(3),
  );
  return checkJobSpec(js.kind, js.spec).spec as InferenceSpec;
}

function job(kind: RowKind, s: InferenceSpec, rng: Rng = seededRng(11)) {
  return createJob(`${kind}-job`, { kind, spec: s }, { engine: owner, rng }) as InferenceOwnerJob;
}

/** Runs a job to the end and keeps every stored output (what the mesh persists). */
async function run(j: InferenceOwnerJob, peers: Peer[]) {
  const stored = new Map<number, InferenceOutput>();
  const revoked: string[] = [];
  const before = j.onSettled;
  j.onSettled = (s: Settlement) => {
    before?.(s);
    if (s.shard) stored.set(s.shard.shardId, s.shard.output as InferenceOutput);
    for (const r of s.revoke ?? []) revoked.push(r.contributor);
  };
  const verdicts = await drive(j, peers, { t: 0 }, 400);
  return { stored, revoked, verdicts };
}

/** The rows' answer as the results file assembles it from stored outputs. */
function assemble(s: InferenceSpec, stored: Map<number, InferenceOutput>) {
  const width = s.mode === 'embed' ? s.model.hidden : s.mode === 'score' ? 1 : s.steps;
  const out = new Float64Array(s.sequences.length * width);
  for (const { shardId, start, count } of rowShards(s)) {
    const o = stored.get(shardId)!;
    const src = s.mode === 'embed' ? o.vectors : s.mode === 'score' ? o.scores : o.tokens;
    expect(src.length).toBe(count * width);
    out.set(src, start * width);
  }
  return out;
}

async function truth(s: InferenceSpec) {
  const w: InferenceWork = {
    kind: 'inference',
    modelDigest: s.modelDigest,
    ...packRows(s.sequences),
    mode: s.mode,
    steps: s.steps,
    temperature: s.temperature,
    seeds: new Uint32Array(0),
  };
  return computeInference(w, honest);
}

/** An engine that fakes `share` of the rows it is given (a fresh draw per row). */
async function faker(kind: RowKind, share: number, seed: number): Promise<Engine> {
  const rng = seededRng(seed);
  const fake = () => uniform(rng) < share;
  const e = referenceEngine({
    vectors: (v) => (fake() ? v.map((x) => -x) : v),
    score: (t) => (fake() ? t / 2 : t),
    tokens: (t) => t.map((x) => (fake() ? (x + 1) % tinySummary.vocab : x)),
  });
  await e.loadModel(kind === 'embed' ? bertFiles : gptFiles);
  return e;
}

describe('data-set jobs: planning', () => {
  test('each kind builds its mode, the checks sample rows so a job checks ≥ ROWS_FOR_CATCH', () => {
    expect(ROWS_FOR_CATCH).toBe(44); // 0.9^44 < 0.01
    const e = spec('embed', 100);
    expect(e.mode).toBe('embed');
    expect(e.perShard).toBe(16);
    // 7 shards: 7 rows each, 49 ≥ 44 rows checked.
    expect(e.policy.checkRows).toBe(defaultCheckRows(7, 16));
    expect(e.policy.checkRows).toBe(7);
    expect(spec('score', 100).mode).toBe('score');
    const g = spec('generate', 100);
    expect([g.mode, g.steps, g.stopTokens]).toEqual(['tokens', 5, [0]]);
    expect(defaultCheckRows(1_000, 64)).toBe(1); // a big job: one row of every shard
    expect(defaultCheckRows(2, 16)).toBe(16); // a tiny job: every row
  });

  test('shards are sized to the target duration within bounds, and at least four', () => {
    // all-MiniLM-L6-v2's shape: about 150 MFLOP a row of 7 tokens.
    const minilm = {
      ...bert,
      vocab: 30_522,
      maxPositions: 512,
      layers: 6,
      hidden: 384,
      attnWidth: 384,
      kvWidth: 384,
      ffWidth: 1_536,
    };
    const many = { model: minilm, mode: 'embed' as const, steps: 0, sequences: rows(10_000, 64) };
    expect(rowsPerShard(many, 0.05)).toBe(MIN_ROWS_PER_SHARD);
    expect(rowsPerShard(many, 10_000)).toBe(MAX_ROWS_PER_SHARD);
    // At 1 GFLOP/s a shard holds what takes TARGET_SHARD_MS (5 s).
    const mean = Math.round(many.sequences.reduce((a, q) => a + q.length, 0) / 10_000);
    const mid = rowsPerShard(many, 1);
    expect(mid * rowFlops(many, mean)).toBeLessThanOrEqual(5e9);
    expect((mid + 1) * rowFlops(many, mean)).toBeGreaterThan(5e9);
    expect(rowsPerShard({ ...many, sequences: rows(20, 64) }, 10_000)).toBe(5); // 4 shards
  });

  test('bad specs are typed errors naming the field', () => {
    const bad: [RowKind, Record<string, unknown>, string][] = [
      ['embed', { model: tinySummary }, 'model.family'], // a decoder does not embed here
      ['score', { model: bert, modelDigest: bertDigest }, 'model.family'],
      ['generate', { maxNewTokens: 0 }, 'steps'],
      ['embed', { inputs: ['one'] }, 'inputs'],
      ['generate', { stopTokens: [999] }, 'stopTokens'],
      ['embed', { policy: { checkRows: -1 } }, 'policy.checkRows'],
    ];
    for (const [kind, over, field] of bad) {
      expect(() => spec(kind, 20, over)).toThrowError(
        expect.objectContaining({ name: JobSpecError.name, field }),
      );
    }
    // A spec of one kind read back as another is refused.
    const e = spec('embed', 10);
    expect(() => KINDS.score.check(e)).toThrowError(expect.objectContaining({ field: 'mode' }));
  });

  test('finishRow cuts at the first stop token', () => {
    const t = Uint32Array.from([5, 6, 0, 7]);
    expect(finishRow(t, [0])).toEqual({
      tokens: Uint32Array.from([5, 6, 0]),
      finishReason: 'stop',
    });
    expect(finishRow(t, [9])).toEqual({ tokens: t, finishReason: 'length' });
  });

  test('embed and score work and outputs cross the codec; a mixed output is refused', () => {
    const s = spec('score', 20);
    const j = job('score', s);
    const w = j.work(0);
    expect(decodeWork(workBytes(w))).toEqual(w);
    const e = job('embed', spec('embed', 20)).work(0);
    expect(decodeWork(workBytes(e))).toEqual(e);
    const out = inferenceOutput({ vectors: Float32Array.from([1, 2]) });
    expect(decodeOutput(encodeOutput(out))).toEqual(out);
    expect(() =>
      encodeOutput(
        inferenceOutput({ vectors: Float32Array.from([1]), scores: Float32Array.from([1]) }),
      ),
    ).toThrowError(expect.objectContaining({ field: 'inference' }));
  });
});

describe('data-set jobs: verified on sampled rows', () => {
  for (const kind of ['embed', 'score', 'generate'] as const) {
    test(`${kind}: two honest contributors, every row right, checks cost a sample`, async () => {
      const s = spec(kind, 120);
      const j = job(kind, s);
      const { stored, revoked, verdicts } = await run(j, [peer('a', honest), peer('b', honest)]);
      expect(j.done).toBe(true);
      expect(revoked).toEqual([]);
      expect(verdicts.every((v) => v.settlement === 'accepted')).toBe(true);
      expect(j.progress()).toMatchObject({ rows: 120, rowsVerified: 120 });
      // Nothing is held in memory: the answer is what was stored.
      expect(j.holdsAnswer).toBe(false);
      expect(j.answer()).toMatchObject({ kind: 'inference' });
      const want = await truth(s);
      const got = assemble(s, stored);
      const ref = kind === 'embed' ? want.vectors : kind === 'score' ? want.scores : want.tokens;
      expect(Array.from(got)).toEqual(Array.from(ref));
      const r = j.report();
      expect(r.kind).toBe(kind);
      expect(r.rowsChecked).toBe(8 * s.policy.checkRows!);
      expect(r.rowsChecked).toBeGreaterThanOrEqual(ROWS_FOR_CATCH);
      expect(r.checkFlops / r.computeFlops).toBeLessThan(0.5);
      expect(r.computeFlops).toBe(
        Array.from({ length: j.shardCount }, (_, i) => j.shardFlops(i)).reduce((a, b) => a + b),
      );
    });
  }

  for (const kind of ['embed', 'score', 'generate'] as const) {
    test(`${kind}: a contributor faking 10% of its rows is caught, and all it did is redone`, async () => {
      const s = spec(kind, 200);
      const j = job(kind, s, seededRng(17));
      const cheat = await faker(kind, 0.1, 99);
      const { stored, revoked } = await run(j, [peer('a', honest), peer('cheat', cheat)]);
      expect(j.done).toBe(true);
      expect(revoked).toEqual(['cheat']);
      expect(j.report().contributorsCaught).toBe(1);
      const want = await truth(s);
      const ref = kind === 'embed' ? want.vectors : kind === 'score' ? want.scores : want.tokens;
      expect(Array.from(assemble(s, stored))).toEqual(Array.from(ref));
    });
  }

  test('a big job checks about ROWS_FOR_CATCH rows of proven contributors, every shard of new ones', async () => {
    const s = spec('embed', 1_000, { perShard: 8 }); // 125 shards
    expect(s.policy).toMatchObject({ checkRows: 1, spotCheckRate: 44 / 125 });
    const trust = new OwnerTrust();
    for (const id of ['a', 'b']) trust.passed(id, PROVEN_AFTER);
    const proven = createJob(
      'big',
      { kind: 'embed', spec: s },
      {
        engine: owner,
        rng: seededRng(23),
        trust,
      },
    ) as InferenceOwnerJob;
    await run(proven, [peer('a', honest), peer('b', honest)]);
    const r = proven.report();
    // Binomial(125, 0.352): mean 44, and this seed's draw.
    expect(r.rowsChecked).toBeGreaterThan(25);
    expect(r.rowsChecked).toBeLessThan(65);
    expect(r.checkFlops / r.computeFlops).toBeLessThan(0.07);
    // Unproven contributors: every shard checked (one row each), and one row is one unit
    // toward being proven, so none is proven within this job.
    const fresh = job('embed', s, seededRng(29));
    await run(fresh, [peer('c', honest), peer('d', honest)]);
    expect(fresh.report().rowsChecked).toBe(125);
  });

  test('a job resumed from stored ids keeps nothing in memory and finishes', async () => {
    const s = spec('embed', 64);
    const first = job('embed', s);
    const { stored } = await run(first, [peer('a', honest)]);
    const again = job('embed', s);
    const ids = [...stored.keys()].slice(0, 2);
    for (const id of ids) expect(again.restore(id)).toBe(true);
    expect(again.restore(ids[0]!)).toBe(false); // once
    expect(again.doneCount).toBe(2);
    expect(again.progress()).toMatchObject({ rows: 64, rowsVerified: 32 });
    await run(again, [peer('b', honest)]);
    expect(again.done).toBe(true);
    expect(again.report().restored).toBe(2);
  });
});
