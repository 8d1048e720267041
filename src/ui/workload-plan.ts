import type { RowKind } from '../jobs/rows';
import { MAX_JOB_ROWS } from '../jobs/rows';
import type { DatasetRow } from '../model/dataset';
import { DatasetError } from '../model/dataset/errors';
import { forwardFlops, type ModelSummary } from '../model/hf/cost';
import {
  MAX_TOKENIZE_TEXTS,
  type TokenizedRows,
  type TokenizeRequest,
} from '../model/hf/runtime-types';
import { InputError } from './form-input';
import { formatDuration } from './format';

// The pure parts of the researcher's data-set form (`<tessel-workloads>`): its parameters as
// typed, the estimate shown before submitting, and the read → tokenize pipeline that turns a
// data set into the rows Mesh.submitRows takes.

/** Most tokens a generate job may ask per row. */
export const MAX_NEW_TOKENS = 1_024; // tokens
/** Highest temperature the form takes (the spec allows more; nobody samples usefully there). */
export const MAX_TEMPERATURE = 10;
/** Most rows per shard a researcher may name (the spec's own ceiling). */
export const MAX_PER_SHARD = 4_096; // rows
/** Rows the estimate tokenizes from the start of the data set (the rest are only counted). */
export const SAMPLE_ROWS = 256; // rows
/** Rows sent to the Worker's tokenizer per call. */
export const TOKENIZE_CHUNK = 512; // rows

/** The parameters of a data-set job, as the form gives them. */
export interface WorkloadParams {
  kind: RowKind;
  /** A row longer than the model takes: cut (and counted) or refused. */
  overLong: 'truncate' | 'refuse';
  /** generate: tokens to generate per row. */
  maxNewTokens: number;
  /** generate: 0 is greedy. */
  temperature: number;
  /** generate: the samplers' seed; drawn by the owner when absent. */
  seed?: number;
  /** generate: each row as one user message through the model's chat template. */
  chat: boolean;
  /** Rows per shard; the owner sizes shards when absent. */
  perShard?: number;
}

/** The kinds a model's task runs: an encoder embeds, a decoder generates and scores. */
export function kindsFor(task: 'generate' | 'embed'): RowKind[] {
  return task === 'embed' ? ['embed'] : ['generate', 'score'];
}

/**
 * The form's parameters from its fields (`field(name)` the trimmed value): kind, overlong,
 * max-new-tokens, temperature, seed, chat ('on' when ticked), per-shard. InputError names the
 * field at fault.
 */
export function readParams(field: (name: string) => string): WorkloadParams {
  const kind = field('kind');
  if (kind !== 'embed' && kind !== 'generate' && kind !== 'score') {
    throw new InputError('Choose what to compute: embeddings, generations or scores.');
  }
  const overLong = field('overlong') === 'refuse' ? 'refuse' : 'truncate';
  const params: WorkloadParams = { kind, overLong, maxNewTokens: 0, temperature: 0, chat: false };
  const perShard = optional(field('per-shard'), 1, MAX_PER_SHARD, 'Rows per shard');
  if (perShard !== undefined) params.perShard = perShard;
  if (kind !== 'generate') return params;
  params.maxNewTokens = whole(field('max-new-tokens'), 1, MAX_NEW_TOKENS, 'Max new tokens');
  const t = Number(field('temperature'));
  if (field('temperature') === '' || !(t >= 0 && t <= MAX_TEMPERATURE)) {
    throw new InputError(`Temperature must be a number from 0 to ${MAX_TEMPERATURE}.`);
  }
  params.temperature = t;
  const seed = optional(field('seed'), 0, 2 ** 32 - 1, 'Seed');
  if (seed !== undefined) params.seed = seed;
  params.chat = field('chat') === 'on';
  return params;
}

function whole(raw: string, min: number, max: number, label: string): number {
  const v = Number(raw);
  if (raw === '' || !Number.isInteger(v) || v < min || v > max) {
    throw new InputError(
      `${label} must be a whole number from ${min} to ${max.toLocaleString('en')}.`,
    );
  }
  return v;
}

function optional(raw: string, min: number, max: number, label: string): number | undefined {
  return raw === '' ? undefined : whole(raw, min, max, label);
}

/**
 * Most tokens a row may have: the model's context, less what generation adds (a generated row
 * is checked by one teacher-forced pass over prompt + steps − 1 tokens). InputError when the
 * steps leave no room for a prompt.
 */
export function maxRowTokens(p: WorkloadParams, maxPositions: number): number {
  const room = maxPositions - (p.kind === 'generate' ? p.maxNewTokens - 1 : 0);
  if (room < 1) {
    throw new InputError(
      `Max new tokens (${p.maxNewTokens}) leave no room for a prompt in the model's ${maxPositions} positions.`,
    );
  }
  return room;
}

/** FLOPs of one row of `len` tokens: a forward pass without the LM head (embed), with it at
 * every position (score), or prompt + steps − 1 positions with `steps` outputs (generate). */
export function rowFlops(kind: RowKind, m: ModelSummary, len: number, steps: number): number {
  if (kind === 'embed') return forwardFlops(m, len, 0);
  if (kind === 'score') return forwardFlops(m, len, len);
  return forwardFlops(m, len + steps - 1, steps);
}

/** What the estimate shows: rows, tokens in, FLOPs, and whether all rows were tokenized. */
export interface RowsEstimate {
  rows: number;
  tokens: number; // input tokens (estimated from the sample unless `exact`)
  flops: number;
  exact: boolean;
}

/**
 * The job's size from the token counts of its first rows (`sample`) scaled to `rows`: exact
 * when the sample is every row.
 */
export function estimateRows(
  kind: RowKind,
  m: ModelSummary,
  rows: number,
  sample: readonly number[],
  steps: number,
): RowsEstimate {
  if (sample.length === 0 || rows === 0) return { rows, tokens: 0, flops: 0, exact: rows === 0 };
  let tokens = 0;
  let flops = 0;
  for (const len of sample) {
    tokens += len;
    flops += rowFlops(kind, m, len, steps);
  }
  const scale = rows / sample.length;
  return {
    rows,
    tokens: Math.round(tokens * scale),
    flops: flops * scale,
    exact: sample.length === rows,
  };
}

/** The estimate in words, with the time at `gflops` (the contributors the mesh knows; time
 * "unknown" without them). */
export function estimateText(e: RowsEstimate, p: WorkloadParams, gflops: number | undefined) {
  const about = e.exact ? '' : 'about ';
  const made =
    p.kind === 'generate'
      ? ` + up to ${(e.rows * p.maxNewTokens).toLocaleString('en')} generated`
      : '';
  const gflop = (e.flops / 1e9).toLocaleString('en', { maximumSignificantDigits: 4 });
  const time =
    gflops && gflops > 0
      ? `about ${formatDuration(Math.max(1_000, (e.flops / (gflops * 1e9)) * 1_000))} on the ${gflops.toLocaleString('en', { maximumSignificantDigits: 3 })} GFLOP/s of contributors this tab knows`
      : 'unknown (no contributor speed known yet)';
  return `${e.rows.toLocaleString('en')} rows, ${about}${e.tokens.toLocaleString('en')} tokens${made}, ${about}${gflop} GFLOP${e.exact ? '' : ` (from the first ${SAMPLE_ROWS} rows)`}. Time: ${time}.`;
}

/** Where the rows come from, for errors that name file, row and field. */
export interface RowsPlace {
  file: string;
  field?: string;
}

/** What tokenizing a data set gives: the token rows, their texts, and the rows cut. */
export interface TokenizedDataset {
  rows: Uint32Array[];
  inputs: string[];
  /** 1-based data rows cut (by characters while reading, or by tokens). */
  truncated: number[];
}

/** The tokenizer as the compute client offers it. */
export type Tokenize = (request: TokenizeRequest) => Promise<TokenizedRows>;

/**
 * Reads `rows` (readRows' stream) and tokenizes them `chunk` at a time. A row the tokenizer
 * refuses (too long with 'refuse', or no tokens) becomes a DatasetError naming the data row;
 * more than MAX_JOB_ROWS rows is `too-many-rows`. Stops between chunks when `signal` aborts.
 */
export async function tokenizeDataset(
  rows: AsyncIterable<DatasetRow>,
  tokenize: Tokenize,
  request: Omit<TokenizeRequest, 'texts'>,
  place: RowsPlace,
  options: { chunk?: number; signal?: AbortSignal; onProgress?(rows: number): void } = {},
): Promise<TokenizedDataset> {
  const chunk = Math.min(MAX_TOKENIZE_TEXTS, Math.max(1, options.chunk ?? TOKENIZE_CHUNK));
  const out: TokenizedDataset = { rows: [], inputs: [], truncated: [] };
  let pending: DatasetRow[] = [];
  const flush = async () => {
    if (!pending.length) return;
    options.signal?.throwIfAborted();
    const batch = pending;
    pending = [];
    let got: TokenizedRows;
    try {
      got = await tokenize({ ...request, texts: batch.map((r) => r.text) });
    } catch (e) {
      throw rowError(e, batch, place);
    }
    if (got.rows.length !== batch.length) {
      throw new DatasetError(
        'bad-row',
        place,
        `${batch.length} rows tokenized to ${got.rows.length}`,
      );
    }
    const cut = new Set(got.truncated);
    batch.forEach((r, i) => {
      out.rows.push(got.rows[i]!);
      out.inputs.push(r.text);
      if (r.truncated || cut.has(i)) out.truncated.push(r.row);
    });
    options.onProgress?.(out.rows.length);
  };
  for await (const r of rows) {
    if (out.rows.length + pending.length >= MAX_JOB_ROWS) {
      throw new DatasetError(
        'too-many-rows',
        { ...place, row: r.row },
        `more than the ${MAX_JOB_ROWS.toLocaleString('en')} rows a job may hold`,
      );
    }
    pending.push(r);
    if (pending.length >= chunk) await flush();
  }
  await flush();
  return out;
}

/** A tokenizer refusal of `texts[i]` as a DatasetError naming the data row; others as they are. */
function rowError(e: unknown, batch: readonly DatasetRow[], place: RowsPlace): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  const message = String((e as { message?: unknown } | null)?.message ?? '');
  const at = /^texts\[(\d+)\]\s*(.*)$/.exec(message);
  const row = at ? batch[Number(at[1])] : undefined;
  if (!row || (code !== 'too-long' && code !== 'invalid-request')) return e;
  const where = { ...place, row: row.row };
  return code === 'too-long'
    ? new DatasetError(
        'row-too-long',
        where,
        `the text ${at![2]} (choose "cut" to keep its start)`,
        { cause: e },
      )
    : new DatasetError('bad-row', where, `the text ${at![2]} for this model`, { cause: e });
}
