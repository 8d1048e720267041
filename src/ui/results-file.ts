import type { Output } from '../jobs/codec';
import type { InferenceSpec } from '../jobs/inference-spec';
import { finishRow, type RowKind, rowShards } from '../jobs/rows';
import { MAX_TOKENIZE_TEXTS } from '../model/hf/runtime-types';
import { npyHeader } from '../model/npy';

// The results file of a data-set job (embed, generate, score), built shard by shard in row
// order from the outputs the owner store keeps, as Blob parts: the whole output is never one
// array in memory (a Blob of many parts may live on disk). Pure apart from its source, so the
// writers are unit-tested with real data.

/** A results file that cannot be built as asked; `code` says which rule it broke. */
export class ResultsError extends Error {
  override readonly name = 'ResultsError';
  constructor(
    readonly code: 'missing' | 'shape' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

/** Where the results come from: the verified outputs (Mesh.shardOutput) and the model's
 * tokenizer (ComputeApi.detokenize, for generated rows). */
export interface ResultsSource {
  /** A verified shard's output; undefined when none is kept. */
  output(shardId: number): Promise<Output | undefined>;
  /** Each row of ids as text, special tokens skipped. */
  detokenize(rows: Uint32Array[]): Promise<string[]>;
}

export interface ResultsOptions {
  /** Leave out the rows of shards with no output kept (a cancelled job's .jsonl) instead of
   * refusing. An .npy needs every row: it is refused whatever this says. */
  partial?: boolean;
  signal?: AbortSignal;
  /** Rows written so far, of `total`. */
  onProgress?(rows: number, total: number): void;
}

/** A results file to offer: its name, its bytes as a Blob, and the rows in it. */
export interface ResultsFile {
  name: string;
  blob: Blob;
  rows: number;
}

/** One line of a generate or score job's .jsonl. */
export interface ResultsLine {
  row: number; // 0-based, the data set's order
  input: string | null; // the row's text, null when the job kept none
  output: string | null; // the generated text; null for a score
  tokens: number; // generated tokens (up to and including the stop token), or tokens scored
  finish_reason: 'stop' | 'length' | null; // null for a score
  logprob?: number; // score only: Σ log p(token | prefix), natural log
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parts are folded into one Blob every this many, so the list stays short. */
const FOLD_PARTS = 64;

/** The file name of a job's results: `embeddings-<job>.npy`, `generations-<job>.jsonl`,
 * `scores-<job>.jsonl`. */
export function resultsName(kind: RowKind, jobId: string): string {
  return kind === 'embed'
    ? `embeddings-${jobId}.npy`
    : `${kind === 'generate' ? 'generations' : 'scores'}-${jobId}.jsonl`;
}

/**
 * A data-set job's results, walking its real shards in row order: embeddings as a float32 .npy
 * of rows × hidden (C order), generations and scores as .jsonl, one ResultsLine per row.
 * Throws ResultsError when a shard's output is missing (unless `partial`, for .jsonl) or does
 * not fit the spec.
 */
export async function resultsFile(
  jobId: string,
  kind: RowKind,
  spec: InferenceSpec,
  source: ResultsSource,
  options: ResultsOptions = {},
): Promise<ResultsFile> {
  const total = spec.sequences.length;
  const parts = new BlobParts(kind === 'embed' ? 'application/octet-stream' : 'application/jsonl');
  if (kind === 'embed') parts.push(npyHeader('<f4', [total, spec.model.hidden]));
  let rows = 0;
  for (const shard of rowShards(spec)) {
    if (options.signal?.aborted) throw new ResultsError('aborted', 'stopped');
    const out = await source.output(shard.shardId);
    if (!out) {
      if (options.partial && kind !== 'embed') continue;
      throw new ResultsError(
        'missing',
        `rows ${shard.start + 1}–${shard.start + shard.count} (shard ${shard.shardId}) have no verified output kept`,
      );
    }
    if (out.kind !== 'inference') {
      throw new ResultsError('shape', `shard ${shard.shardId} holds a ${out.kind} output`);
    }
    if (kind === 'embed') parts.push(vectorBytes(out.vectors, shard, spec.model.hidden));
    else {
      const lines =
        kind === 'score'
          ? scoreLines(spec, shard, out.scores)
          : await generateLines(spec, shard, out.tokens, source);
      parts.push(new TextEncoder().encode(lines.map((l) => `${JSON.stringify(l)}\n`).join('')));
    }
    rows += shard.count;
    options.onProgress?.(rows, total);
  }
  return { name: resultsName(kind, jobId), blob: parts.blob(), rows };
}

/** A shard's embeddings as little-endian float32 bytes (a copy), after checking their size. */
function vectorBytes(
  vectors: Float32Array,
  shard: { shardId: number; count: number },
  hidden: number,
): Uint8Array {
  if (vectors.length !== shard.count * hidden) {
    throw new ResultsError(
      'shape',
      `shard ${shard.shardId} holds ${vectors.length} values, not ${shard.count}×${hidden}`,
    );
  }
  if (LITTLE_ENDIAN_HOST) {
    return new Uint8Array(vectors.buffer, vectors.byteOffset, vectors.byteLength).slice();
  }
  const out = new Uint8Array(vectors.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < vectors.length; i++) view.setFloat32(i * 4, vectors[i]!, true);
  return out;
}

function scoreLines(
  spec: InferenceSpec,
  shard: { shardId: number; start: number; count: number },
  scores: Float32Array,
): ResultsLine[] {
  if (scores.length !== shard.count) {
    throw new ResultsError(
      'shape',
      `shard ${shard.shardId} holds ${scores.length} scores, not ${shard.count}`,
    );
  }
  return Array.from({ length: shard.count }, (_, i) => {
    const row = shard.start + i;
    return {
      row,
      input: spec.inputs?.[row] ?? null,
      output: null,
      // The first token has no prefix: the score sums the log-probabilities of the others.
      tokens: Math.max(0, spec.sequences[row]!.length - 1),
      finish_reason: null,
      logprob: scores[i]!,
    };
  });
}

async function generateLines(
  spec: InferenceSpec,
  shard: { shardId: number; start: number; count: number },
  tokens: Uint32Array,
  source: ResultsSource,
): Promise<ResultsLine[]> {
  const steps = spec.steps;
  if (tokens.length !== shard.count * steps) {
    throw new ResultsError(
      'shape',
      `shard ${shard.shardId} holds ${tokens.length} tokens, not ${shard.count}×${steps}`,
    );
  }
  const cut = Array.from({ length: shard.count }, (_, i) =>
    finishRow(tokens.subarray(i * steps, (i + 1) * steps), spec.stopTokens ?? []),
  );
  const texts: string[] = [];
  for (let at = 0; at < cut.length; at += MAX_TOKENIZE_TEXTS) {
    const batch = cut.slice(at, at + MAX_TOKENIZE_TEXTS).map((c) => Uint32Array.from(c.tokens));
    const decoded = await source.detokenize(batch);
    if (decoded.length !== batch.length) {
      throw new ResultsError('shape', `${batch.length} rows decoded to ${decoded.length} texts`);
    }
    texts.push(...decoded);
  }
  return cut.map((c, i) => ({
    row: shard.start + i,
    input: spec.inputs?.[shard.start + i] ?? null,
    output: texts[i]!,
    tokens: c.tokens.length,
    finish_reason: c.finishReason,
  }));
}

/** Blob parts, folded into one Blob every FOLD_PARTS so that no list of chunks grows long. */
class BlobParts {
  #folded: Blob;
  #parts: BlobPart[] = [];
  constructor(readonly type: string) {
    this.#folded = new Blob([], { type });
  }
  push(part: Uint8Array) {
    this.#parts.push(part as BlobPart);
    if (this.#parts.length >= FOLD_PARTS) this.#fold();
  }
  #fold() {
    this.#folded = new Blob([this.#folded, ...this.#parts], { type: this.type });
    this.#parts = [];
  }
  blob(): Blob {
    this.#fold();
    return this.#folded;
  }
}
