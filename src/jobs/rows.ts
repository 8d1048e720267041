import type { ModelSummary } from '../model/hf/cost';
import type { Rng } from '../model/rng';
import type { InferenceOutputMode } from './codec';
import {
  checkInferenceSpec,
  checkModelSummary,
  defaultCheckRows,
  defaultPolicy,
  familiesFor,
  type InferencePolicy,
  type InferenceSpec,
  MAX_JOB_SEQUENCES,
  planShards,
  ROWS_FOR_CATCH,
  rowFlops,
} from './inference-spec';
import { JobSpecError } from './job';
import { MIN_SHARDS, TARGET_SHARD_MS, UNKNOWN_CONTRIBUTOR } from './shard-size';

/**
 * The data-set kinds: a researcher's rows (texts of a data set, tokenized by the owner's
 * Worker) through a model, one output per row. `embed` pools an encoder's hidden states (the
 * checkpoint's sentence-transformers pooling, else a mean); `generate` continues each row
 * (greedy or seeded sampling, cut at the model's stop tokens); `score` gives each row's
 * log-likelihood. All three run as the 'inference' work of src/jobs/inference-*.ts, whose
 * owner job verifies them: the owner recomputes (embed, score) or teacher-forces (generate)
 * `policy.checkRows` rows of every shard, drawn after the result is in.
 */

export type RowKind = 'embed' | 'generate' | 'score';

/** Most rows in one job. */
export const MAX_JOB_ROWS = MAX_JOB_SEQUENCES;

/** Fewest and most rows a shard is cut to when the researcher names no size: below the floor
 * a lease's round trip outweighs the work; above the ceiling one lapse loses too much. */
export const MIN_ROWS_PER_SHARD = 8;
export const MAX_ROWS_PER_SHARD = 512;

/** The output mode each kind runs. */
export const MODE_OF: Record<RowKind, InferenceOutputMode> = {
  embed: 'embed',
  generate: 'tokens',
  score: 'score',
};

/** A researcher's data-set job over a model the owner holds (Mesh.submitRows resolves it). */
export interface RowsRequest {
  /** The model's checkpoint digest and its summary, as the owner loaded it. */
  modelDigest: string;
  model: ModelSummary;
  /** Token ids per row. */
  rows: Uint32Array[];
  /** The rows' texts, kept with the job for the results file. */
  inputs?: string[];
  /** Rows per shard; sized to TARGET_SHARD_MS when absent (rowsPerShard). */
  perShard?: number;
  /** How results are verified (inference-spec.ts InferencePolicy); defaults per kind. */
  policy?: Partial<InferencePolicy>;
  /** Measured speed of the contributors the owner has seen (GFLOP/s), to size shards. */
  gflops?: number;
  /** generate: tokens to generate per row (required). */
  maxNewTokens?: number;
  /** generate: 0 (default) is greedy; otherwise seeded sampling. */
  temperature?: number;
  /** generate: the samplers' seed (u32); drawn when absent. */
  seed?: number;
  /** generate: tokens that end a row in the results (the model's eos ids). */
  stopTokens?: number[];
}

/**
 * Rows per shard so that a shard takes about TARGET_SHARD_MS at `gflops` (the slowest
 * contributor the owner knows of; SwiftShader-class when it knows none), within
 * [MIN_ROWS_PER_SHARD, MAX_ROWS_PER_SHARD], and at least MIN_SHARDS shards when the rows allow.
 */
export function rowsPerShard(
  spec: Pick<InferenceSpec, 'model' | 'mode' | 'steps' | 'sequences'>,
  gflops = UNKNOWN_CONTRIBUTOR.gflops,
): number {
  const n = spec.sequences.length;
  let tokens = 0;
  for (const q of spec.sequences) tokens += q.length;
  const meanLen = Math.max(1, Math.round(tokens / Math.max(1, n)));
  const perRow = rowFlops(spec, meanLen); // FLOPs
  const fit = Math.floor(((TARGET_SHARD_MS / 1000) * Math.max(gflops, 0.1) * 1e9) / perRow);
  const sized = Math.min(MAX_ROWS_PER_SHARD, Math.max(MIN_ROWS_PER_SHARD, fit));
  return Math.max(1, Math.min(sized, Math.ceil(n / MIN_SHARDS)));
}

/** The spec a data-set request asks for (checked by checkRowsSpec / checkJobSpec). */
export function buildRowsSpec(kind: RowKind, req: RowsRequest, rng: Rng): InferenceSpec {
  const mode = MODE_OF[kind];
  const generate = kind === 'generate';
  const base = {
    model: req.model,
    mode,
    steps: generate ? (req.maxNewTokens ?? 0) : 0,
    sequences: req.rows,
  };
  const perShard = req.perShard ?? rowsPerShard(base, req.gflops);
  const shards = Math.ceil(req.rows.length / Math.max(1, perShard));
  return {
    modelDigest: req.modelDigest,
    model: req.model,
    sequences: req.rows.map((q) => Uint32Array.from(q)),
    mode,
    steps: base.steps,
    temperature: generate ? (req.temperature ?? 0) : 0,
    seed: req.seed ?? rng.nextUint32(),
    perShard,
    policy: {
      ...defaultPolicy(mode),
      ...defaultChecks(shards, perShard),
      ...req.policy,
    },
    ...(req.inputs ? { inputs: [...req.inputs] } : {}),
    ...(generate ? { stopTokens: [...(req.stopTokens ?? [])] } : {}),
  };
}

/**
 * How many of a job's shards the owner checks, and how many rows of each: ROWS_FOR_CATCH rows
 * a job, one or more of every shard when the job has fewer shards than that, else one row of a
 * random ROWS_FOR_CATCH / shards share of them (a contributor faking whole shards then escapes
 * each with probability 1 − that share). A contributor this owner has not yet proven
 * (src/jobs/owner-trust.ts) has every shard checked whatever the share.
 */
export function defaultChecks(
  shards: number,
  perShard: number,
): Pick<InferencePolicy, 'spotCheckRate' | 'checkRows'> {
  return {
    spotCheckRate: Math.min(1, ROWS_FOR_CATCH / Math.max(1, shards)),
    checkRows: defaultCheckRows(shards, perShard),
  };
}

/** Validates a data-set spec of `kind` (submitted, or read back from storage). */
export function checkRowsSpec(kind: RowKind, raw: unknown): InferenceSpec {
  if (typeof raw !== 'object' || raw === null) throw new JobSpecError('spec', 'not an object');
  const r = raw as Record<string, unknown>;
  if (r.mode !== MODE_OF[kind]) throw new JobSpecError('mode', `${kind} runs ${MODE_OF[kind]}`);
  const model = checkModelSummary(r.model, familiesFor(MODE_OF[kind]));
  if (!Array.isArray(r.sequences) || !r.sequences.every((q) => q instanceof Uint32Array)) {
    throw new JobSpecError('rows', 'a list of token-id arrays');
  }
  const spec = { ...(r as unknown as InferenceSpec), model };
  checkInferenceSpec(spec);
  return spec;
}

/** What a data-set job asks, in words ("2,000 rows: embeddings"). */
export function describeRows(kind: RowKind, s: InferenceSpec): string {
  const rows = `${s.sequences.length.toLocaleString('en-US')} row(s)`;
  if (kind === 'embed') return `${rows}: embeddings (${s.model.hidden} dims)`;
  if (kind === 'score') return `${rows}: log-likelihoods`;
  const how = s.temperature > 0 ? `sampled at T=${s.temperature}` : 'greedy';
  return `${rows}: up to ${s.steps} generated tokens each, ${how}`;
}

/** One real shard of a data-set job: its id and the rows it holds (a contiguous block). */
export interface RowShard {
  shardId: number;
  start: number; // first row
  count: number; // rows
}

/** The real shards in row order (canaries are not listed): what a results file walks. */
export function rowShards(spec: InferenceSpec): RowShard[] {
  const out: RowShard[] = [];
  for (const [shardId, d] of planShards(spec).entries()) {
    if (d.canary) continue;
    out.push({ shardId, start: d.sequences[0]!, count: d.sequences.length });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** A generated row up to and including its first stop token, and why it ended. */
export function finishRow(
  tokens: Uint32Array,
  stopTokens: readonly number[],
): { tokens: Uint32Array; finishReason: 'stop' | 'length' } {
  const stop = new Set(stopTokens);
  const at = tokens.findIndex((t) => stop.has(t));
  return at < 0
    ? { tokens, finishReason: 'length' }
    : { tokens: tokens.subarray(0, at + 1), finishReason: 'stop' };
}
