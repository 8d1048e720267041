import { CONFIG_LIMITS } from '../model/hf/config';
import { forwardFlops, type ModelSummary } from '../model/hf/cost';
import type { HfFamily } from '../model/hf/types';
import { type Rng, seededRng } from '../model/rng';
import type { InferenceOutput, InferenceOutputMode, InferenceWork } from './codec';
import { JobSpecError } from './job';

// What a researcher's batched inference job is, how it is checked before it runs, and how it is
// cut into shards (canaries included). Pure; the owner's side is inference-job.ts.

/** How an inference job's results are verified. */
export interface InferencePolicy {
  /** Contributors whose results must agree before a shard counts (1–3). */
  copies: number;
  /** Canary shards per real shard (at least one when > 0). */
  canaryRate: number;
  /** Share of shards the owner checks itself, [0, 1]. */
  spotCheckRate: number;
  /** A shard whose next copy nobody online may take is checked by the owner after this long. */
  copyWaitMs: number; // ms
  /** Rows of a shard the owner's check recomputes (drawn after the result is in, so nobody
   * knows which); 0, or absent in a spec stored before issue 25: every row. A canary, or a
   * shard re-verified after a catch, is always recomputed whole. */
  checkRows?: number; // rows
}

/**
 * Rows the owner checks in a job by default, spread over its shards: a contributor that fakes
 * FAKE_SHARE of the rows of the whole job escapes ROWS_FOR_CATCH independent draws with
 * probability (1 − FAKE_SHARE)^ROWS_FOR_CATCH ≤ 1 − CATCH_TARGET.
 */
export const FAKE_SHARE = 0.1;
export const CATCH_TARGET = 0.99;
export const ROWS_FOR_CATCH = Math.ceil(Math.log(1 - CATCH_TARGET) / Math.log(1 - FAKE_SHARE)); // 44

/** Rows to check per shard so that a job of `shards` real shards of `perShard` rows checks at
 * least ROWS_FOR_CATCH rows, and at least one of every shard (a shard faked whole is caught
 * for certain). */
export function defaultCheckRows(shards: number, perShard: number): number {
  return Math.min(perShard, Math.max(1, Math.ceil(ROWS_FOR_CATCH / Math.max(1, shards))));
}

/**
 * Defaults per output. Logits have no cheap check, so two copies must agree (the owner checks
 * 2% and a canary in 16). Generated tokens have one: a teacher-forced pass costs the owner about
 * 1/steps of the contributor's work, so every shard is checked and a second copy would only
 * double the contributors' work.
 */
export function defaultPolicy(mode: InferenceOutputMode): InferencePolicy {
  if (mode === 'logits') {
    return { copies: 2, canaryRate: 1 / 16, spotCheckRate: 0.02, copyWaitMs: 5_000, checkRows: 0 };
  }
  // Embeddings and scores: the owner recomputes sampled rows of every shard (the kinds' build
  // sets checkRows from the job's size, defaultCheckRows). Generated tokens: a teacher-forced
  // pass (about 1/steps of the generation's time) over every row, or over sampled rows when a
  // row kind asks for it.
  return { copies: 1, canaryRate: 0, spotCheckRate: 1, copyWaitMs: 5_000, checkRows: 0 };
}

/** What a researcher submits, and what the owner stores to resume the job after a reload. */
export interface InferenceSpec {
  /** The model's checkpoint digest (src/model/hf/checkpoint.ts digestFiles): it pins the model. */
  modelDigest: string;
  /** What the job needs of the model's shape: token ids below `vocab`, sequences within
   * `maxPositions`, logits rows of `vocab`, FLOPs and error bounds (src/model/hf/cost.ts). The
   * owner takes it from the checkpoint it loaded; checked by checkModelSummary. */
  model: ModelSummary;
  sequences: Uint32Array[]; // token ids
  mode: InferenceOutputMode;
  steps: number; // tokens to generate per sequence ('tokens'), else 0
  temperature: number; // 0: greedy
  /** Seeds the samplers, the shard order and the canaries' choice (u32). */
  seed: number;
  perShard: number; // sequences per shard
  policy: InferencePolicy;
  /** The rows' texts, as the researcher gave them (for the results file); absent when the job
   * was made from token ids. */
  inputs?: string[];
  /** Tokens that end a generated row (the model's eos): the results file cuts a row after
   * the first one, finish reason 'stop'. Contributors generate all `steps` regardless, so
   * every row is checked the same way. */
  stopTokens?: number[];
}

/** Most sequences (rows of a data set) in one job. */
export const MAX_JOB_SEQUENCES = 1_000_000;

/** Most sequences in one shard when the researcher names no size. */
export const DEFAULT_MAX_PER_SHARD = 64;

/** Sequences per shard when the researcher names no size: about 8 shards, at most
 * DEFAULT_MAX_PER_SHARD sequences each. */
export function defaultPerShard(sequences: number): number {
  return Math.min(DEFAULT_MAX_PER_SHARD, Math.max(1, Math.ceil(sequences / 8)));
}

/** The families that generate and score: causal language models (BERT has no LM head). */
const CAUSAL_FAMILIES: readonly HfFamily[] = ['llama', 'qwen2', 'qwen3', 'mistral', 'gpt2'];
/** The families that embed: encoders. */
const ENCODER_FAMILIES: readonly HfFamily[] = ['bert'];

/** The families a mode runs on. */
export function familiesFor(mode: InferenceOutputMode): readonly HfFamily[] {
  return mode === 'embed' ? ENCODER_FAMILIES : CAUSAL_FAMILIES;
}

/**
 * Checks a model summary (a spec read back from storage is untrusted): a causal family, every
 * count an integer within src/model/hf/config.ts's CONFIG_LIMITS, the gate matching the family.
 * Returns a copy holding only the summary's fields; throws JobSpecError naming the field.
 */
export function checkModelSummary(
  raw: unknown,
  families: readonly HfFamily[] = CAUSAL_FAMILIES,
): ModelSummary {
  if (typeof raw !== 'object' || raw === null) throw new JobSpecError('model', 'not an object');
  const r = raw as Record<string, unknown>;
  const family = r.family as HfFamily;
  if (!families.includes(family)) {
    throw new JobSpecError('model.family', `one of ${families.join(', ')}`);
  }
  const L = CONFIG_LIMITS;
  const int = (f: string, max: number) => {
    const v = r[f];
    if (!(typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= max)) {
      throw new JobSpecError(`model.${f}`, `an integer from 1 to ${max}`);
    }
    return v;
  };
  const gated = r.gated;
  const ungated = family === 'gpt2' || family === 'bert';
  if (gated !== !ungated) {
    throw new JobSpecError(
      'model.gated',
      `${family} models ${ungated ? 'have no' : 'have a'} gated MLP`,
    );
  }
  return {
    family,
    vocab: int('vocab', L.vocab),
    maxPositions: int('maxPositions', L.positions),
    layers: int('layers', L.layers),
    hidden: int('hidden', L.width),
    attnWidth: int('attnWidth', L.width * 4),
    kvWidth: int('kvWidth', L.width * 4),
    ffWidth: int('ffWidth', L.width * 8),
    gated,
  };
}

/** Checks a spec against its model; throws JobSpecError naming the field. */
export function checkInferenceSpec(s: InferenceSpec): void {
  if (!MODES.includes(s.mode)) throw new JobSpecError('mode', MODES.join(', '));
  const c = checkModelSummary(s.model, familiesFor(s.mode));
  if (!/^[0-9a-f]{64}$/.test(s.modelDigest)) throw new JobSpecError('model', 'no model digest');
  if (!Array.isArray(s.sequences) || s.sequences.length < 1) {
    throw new JobSpecError('sequences', 'at least one sequence is needed');
  }
  if (s.sequences.length > MAX_JOB_SEQUENCES) {
    throw new JobSpecError('sequences', `at most ${MAX_JOB_SEQUENCES} per job`);
  }
  const steps = s.mode === 'tokens' ? s.steps : 0;
  if (s.mode === 'tokens' && !(Number.isSafeInteger(steps) && steps >= 1)) {
    throw new JobSpecError('steps', 'generate at least one token');
  }
  s.sequences.forEach((seq, i) => {
    if (!(seq instanceof Uint32Array) || seq.length < 1) {
      throw new JobSpecError(`sequences[${i}]`, 'an empty sequence');
    }
    // Generated tokens are checked with one teacher-forced pass, so the prompt and all but the
    // last generated token must fit the model's context.
    if (seq.length + Math.max(0, steps - 1) > c.maxPositions) {
      throw new JobSpecError(
        `sequences[${i}]`,
        `${seq.length} tokens${steps ? ` + ${steps} generated` : ''} exceed the model's context of ${c.maxPositions}`,
      );
    }
    const bad = seq.findIndex((t) => t >= c.vocab);
    if (bad >= 0) {
      throw new JobSpecError(`sequences[${i}]`, `token ${seq[bad]} is outside the vocabulary`);
    }
  });
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0 && s.temperature <= 100)) {
    throw new JobSpecError('temperature', 'a number from 0 to 100');
  }
  if (!(Number.isSafeInteger(s.seed) && s.seed >= 0 && s.seed < 2 ** 32)) {
    throw new JobSpecError('seed', 'a 32-bit unsigned integer');
  }
  if (!(Number.isSafeInteger(s.perShard) && s.perShard >= 1 && s.perShard <= 4_096)) {
    throw new JobSpecError('perShard', 'sequences per shard, 1 to 4,096');
  }
  const p = s.policy;
  if (!(Number.isInteger(p?.copies) && p.copies >= 1 && p.copies <= 3)) {
    throw new JobSpecError('policy.copies', '1, 2 or 3');
  }
  for (const f of ['canaryRate', 'spotCheckRate'] as const) {
    if (!(p[f] >= 0 && p[f] <= 1)) throw new JobSpecError(`policy.${f}`, 'a share from 0 to 1');
  }
  if (!(p.copyWaitMs >= 0 && p.copyWaitMs <= 3_600_000)) {
    throw new JobSpecError('policy.copyWaitMs', 'milliseconds, at most an hour');
  }
  const rows = p.checkRows ?? 0;
  if (!(Number.isSafeInteger(rows) && rows >= 0 && rows <= 4_096)) {
    throw new JobSpecError('policy.checkRows', 'rows per checked shard, 0 (all) to 4,096');
  }
  if (s.inputs !== undefined) {
    const n = s.sequences.length;
    if (!Array.isArray(s.inputs) || s.inputs.length !== n) {
      throw new JobSpecError('inputs', `one text per row (${n})`);
    }
    const bad = s.inputs.findIndex((t) => typeof t !== 'string');
    if (bad >= 0) throw new JobSpecError(`inputs[${bad}]`, 'not a string');
  }
  if (s.stopTokens !== undefined) {
    const ok =
      Array.isArray(s.stopTokens) &&
      s.stopTokens.length <= 64 &&
      s.stopTokens.every((t) => Number.isSafeInteger(t) && t >= 0 && t < c.vocab);
    if (!ok) throw new JobSpecError('stopTokens', `at most 64 token ids below ${c.vocab}`);
  }
}

const MODES: readonly InferenceOutputMode[] = ['logits', 'tokens', 'embed', 'score'];

export interface SequenceBlock {
  start: number; // first sequence
  count: number;
}

/** Blocks of at most `perShard` sequences, in order. */
export function planSequenceBlocks(sequences: number, perShard: number): SequenceBlock[] {
  if (!Number.isSafeInteger(sequences) || sequences < 1) throw new RangeError('no sequences');
  if (!Number.isSafeInteger(perShard) || perShard < 1) throw new RangeError('perShard must be ≥ 1');
  const blocks: SequenceBlock[] = [];
  for (let start = 0; start < sequences; start += perShard) {
    blocks.push({ start, count: Math.min(perShard, sequences - start) });
  }
  return blocks;
}

/** Per-sequence sampler seeds, derived from the job's seed. */
export function sequenceSeeds(seed: number, count: number): Uint32Array {
  const rng = seededRng(seed ^ 0x5eed5eed);
  return Uint32Array.from({ length: count }, () => rng.nextUint32());
}

/** One shard as the owner sees it: which of the job's sequences it holds, in lease order. */
export interface ShardDef {
  sequences: number[];
  canary: boolean;
}

/**
 * The job's shards: the real blocks and the canaries (random draws of the job's own sequences,
 * the size of a real block) under ids shuffled together, so nothing on the wire — id, size or
 * content — marks a canary. Reproducible from the seed, so a resumed job has the same shards.
 */
export function planShards(spec: InferenceSpec): ShardDef[] {
  const rng = seededRng(spec.seed);
  const n = spec.sequences.length;
  const real = planSequenceBlocks(n, spec.perShard).map((b) => ({
    sequences: Array.from({ length: b.count }, (_, i) => b.start + i),
    canary: false,
  }));
  const canaries = spec.policy.canaryRate > 0 ? Math.ceil(real.length * spec.policy.canaryRate) : 0;
  const defs: ShardDef[] = [...real];
  for (let c = 0; c < canaries; c++) {
    const size = real[c % real.length]!.sequences.length;
    defs.push({ sequences: Array.from({ length: size }, () => below(rng, n)), canary: true });
  }
  for (let i = defs.length - 1; i > 0; i--) {
    const j = below(rng, i + 1);
    [defs[i], defs[j]] = [defs[j]!, defs[i]!];
  }
  return defs;
}

function below(rng: Rng, n: number): number {
  return rng.nextUint32() % n;
}

/** Rows of token ids one after another, as a work's `tokens`, with their `lengths`. */
export function packRows(rows: readonly Uint32Array[]): {
  lengths: Uint32Array;
  tokens: Uint32Array;
} {
  const tokens = new Uint32Array(rows.reduce((s, q) => s + q.length, 0));
  let at = 0;
  for (const q of rows) {
    tokens.set(q, at);
    at += q.length;
  }
  return { lengths: Uint32Array.from(rows, (q) => q.length), tokens };
}

/** The sequences of a shard, as its lease carries them (`seeds`: the job's per-sequence ones). */
export function shardWork(spec: InferenceSpec, d: ShardDef, seeds: Uint32Array): InferenceWork {
  return {
    kind: 'inference',
    modelDigest: spec.modelDigest,
    ...packRows(d.sequences.map((i) => spec.sequences[i]!)),
    mode: spec.mode,
    steps: spec.mode === 'tokens' ? spec.steps : 0,
    temperature: spec.mode === 'tokens' ? spec.temperature : 0,
    seeds: seeds.length ? Uint32Array.from(d.sequences, (i) => seeds[i]!) : seeds,
  };
}

/**
 * Work in a shard (FLOPs), from the model and the sequences: the credit it earns. Generation
 * runs with a KV cache, so `steps` tokens after a prompt of `len` cost one causal pass over
 * len + steps − 1 tokens with `steps` of them through the LM head (each decode step is one
 * token's work), not a recompute per step.
 */
export function shardFlops(spec: InferenceSpec, d: ShardDef | undefined): number {
  if (!d) return 0;
  let total = 0;
  for (const i of d.sequences) total += rowFlops(spec, spec.sequences[i]!.length);
  return total;
}

/**
 * Work in one row of `len` tokens: a forward pass with the LM head at the last position
 * (logits), at every position (a score), at none (an encoder's embedding: its attention is
 * bidirectional, counted as a causal pass's, which undercounts it by the attention's half);
 * generation as in shardFlops.
 */
export function rowFlops(
  spec: Pick<InferenceSpec, 'model' | 'mode' | 'steps'>,
  len: number,
): number {
  switch (spec.mode) {
    case 'logits':
      return forwardFlops(spec.model, len);
    case 'embed':
      return forwardFlops(spec.model, len, 0);
    case 'score':
      return forwardFlops(spec.model, len, len);
    default:
      return forwardFlops(spec.model, len + spec.steps - 1, spec.steps);
  }
}

/** Output words (32-bit) of one row. */
function outputWords(spec: InferenceSpec): number {
  switch (spec.mode) {
    case 'logits':
      return spec.model.vocab;
    case 'embed':
      return spec.model.hidden;
    case 'score':
      return 1;
    default:
      return spec.steps;
  }
}

/** Bytes a lease of the shard and its result carry (token ids, lengths and seeds in; logits
 * or tokens out), for deadlines that cover the transfer. The model travels apart. */
export function shardBytes(spec: InferenceSpec, d: ShardDef | undefined): number {
  if (!d) return 0;
  const n = d.sequences.length;
  let tokens = 0;
  for (const i of d.sequences) tokens += spec.sequences[i]!.length;
  return 4 * (tokens + 2 * n + n * outputWords(spec));
}

/** Why an output cannot be this shard's (wrong size, token outside the vocabulary), or ''. */
export function outputShapeError(spec: InferenceSpec, d: ShardDef, o: InferenceOutput): string {
  const n = d.sequences.length;
  const { vocab, hidden } = spec.model;
  if (spec.mode === 'embed') {
    if (o.vectors.length !== n * hidden) return `expected ${n}×${hidden} embedding values`;
    return o.vectors.every(Number.isFinite) ? '' : 'a non-finite embedding value';
  }
  if (spec.mode === 'score') {
    if (o.scores.length !== n) return `expected ${n} scores`;
    // A log-likelihood is at most 0; rounding may leave an honest one a hair above.
    return o.scores.every((x) => Number.isFinite(x) && x <= 1e-3)
      ? ''
      : 'a score that is not a log-likelihood';
  }
  if (spec.mode === 'logits') {
    if (o.logits.length !== n * vocab) return `expected ${n}×${vocab} logits`;
    return o.logits.every(Number.isFinite) ? '' : 'non-finite logits';
  }
  if (o.tokens.length !== n * spec.steps) return `expected ${n}×${spec.steps} tokens`;
  return o.tokens.every((t) => t < vocab) ? '' : 'a token outside the vocabulary';
}

/** Copies a real shard's output into the job's answer (a canary's goes nowhere). */
export function placeOutput(
  spec: InferenceSpec,
  d: ShardDef,
  r: InferenceOutput,
  answer: {
    logits: Float32Array;
    tokens: Uint32Array;
    scores: Float32Array;
    holdsAnswer: boolean;
  },
): void {
  if (d.canary || !answer.holdsAnswer) return;
  if (spec.mode === 'score') {
    d.sequences.forEach((seq, i) => {
      answer.scores[seq] = r.scores[i]!;
    });
    return;
  }
  if (spec.mode === 'embed') return;
  const logits = spec.mode === 'logits';
  const w = logits ? spec.model.vocab : spec.steps;
  d.sequences.forEach((seq, i) => {
    if (logits) answer.logits.set(r.logits.subarray(i * w, (i + 1) * w), seq * w);
    else answer.tokens.set(r.tokens.subarray(i * w, (i + 1) * w), seq * w);
  });
}
