import { bytesToF32, bytesToU32, f32ToBytes, u32ToBytes } from '../model/bytes';
import { MAX_DIM } from './limits';
import {
  InferenceMode,
  Output as OutputFrame,
  type InferenceWork as WireInferenceWork,
  Work as WorkFrame,
} from './pb/work';

/**
 * The kind-tagged work a lease carries and the output a result carries back, validated. The
 * mesh calls these from its one frame decoder, so nothing downstream ever sees an unchecked
 * field; a third job kind adds its messages to work.proto and its checks here.
 */

/** Largest matrix side a matmul shard may have (src/jobs/limits.ts). */
/** Most sequences in one inference shard, and most tokens in one sequence. */
export const MAX_SEQUENCES = 4_096;
export const MAX_SEQUENCE_TOKENS = 65_536;
/** Most tokens generated per sequence. */
export const MAX_STEPS = 4_096;

export interface MatmulWork {
  kind: 'matmul';
  m: number;
  k: number;
  n: number;
  a: Float32Array; // m×k, row-major
  b: Float32Array; // k×n, row-major
}

export interface MatmulOutput {
  kind: 'matmul';
  rows: number;
  cols: number;
  c: Float32Array;
}

/** What an inference shard returns per sequence: last-position logits, generated tokens, a
 * pooled embedding (an encoder), or the sequence's log-likelihood. */
export type InferenceOutputMode = 'logits' | 'tokens' | 'embed' | 'score';

export interface InferenceWork {
  kind: 'inference';
  modelDigest: string;
  /** Tokens in each sequence; `tokens` holds the sequences one after another. */
  lengths: Uint32Array;
  tokens: Uint32Array;
  mode: InferenceOutputMode;
  /** Tokens to generate per sequence (mode 'tokens'), else 0. */
  steps: number;
  /** 0: greedy; otherwise a draw from softmax(logits / temperature) seeded per sequence. */
  temperature: number;
  /** One sampler seed per sequence when sampling, else empty. */
  seeds: Uint32Array;
}

export interface InferenceOutput {
  kind: 'inference';
  /** sequences × vocab (mode 'logits'), else empty. */
  logits: Float32Array;
  /** sequences × steps (mode 'tokens'), else empty. */
  tokens: Uint32Array;
  /** sequences × hidden (mode 'embed'), else empty. */
  vectors: Float32Array;
  /** One per sequence (mode 'score'): Σᵢ log p(tᵢ | t₍<ᵢ₎), natural log, else empty. */
  scores: Float32Array;
}

export type Work = MatmulWork | InferenceWork;
export type Output = MatmulOutput | InferenceOutput;
/** What a lease carries on the wire: a matmul block, or sequences for a model. */
export type WorkKind = Work['kind'];
/** The kinds of job a researcher submits (src/jobs/kinds.ts): the data-set kinds embed,
 * generate and score, like the low-level 'inference', run as 'inference' work. */
export type JobKind = WorkKind | 'embed' | 'generate' | 'score';

/** A work or output body that failed validation; `field` names the first offending field. */
export class WorkError extends Error {
  override readonly name = 'WorkError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

const WIRE_MODE: Record<InferenceOutputMode, InferenceMode> = {
  logits: InferenceMode.LOGITS,
  tokens: InferenceMode.TOKENS,
  embed: InferenceMode.EMBED,
  score: InferenceMode.SCORE,
};
const MODE_OF_WIRE = new Map(
  Object.entries(WIRE_MODE).map(([mode, wire]) => [wire, mode as InferenceOutputMode]),
);

/** An inference output of `mode` with the others' arrays empty. */
export function inferenceOutput(fields: Partial<Omit<InferenceOutput, 'kind'>>): InferenceOutput {
  return {
    kind: 'inference',
    logits: fields.logits ?? new Float32Array(0),
    tokens: fields.tokens ?? new Uint32Array(0),
    vectors: fields.vectors ?? new Float32Array(0),
    scores: fields.scores ?? new Float32Array(0),
  };
}

// ---- encoding -------------------------------------------------------------------------------

/**
 * Encodes a lease's work without checking it: the mesh codec checks the whole frame around it
 * (so a shard's tensors are not decoded twice before they are sent).
 */
export function workBytes(w: Work): Uint8Array {
  return w.kind === 'matmul'
    ? WorkFrame.encode({ matmul: { ...w, a: f32ToBytes(w.a), b: f32ToBytes(w.b) } })
    : WorkFrame.encode({
        inference: {
          modelDigest: w.modelDigest,
          lengths: u32ToBytes(w.lengths),
          tokens: u32ToBytes(w.tokens),
          mode: WIRE_MODE[w.mode],
          steps: w.steps,
          temperature: w.temperature,
          seeds: u32ToBytes(w.seeds),
        },
      });
}

/** Encodes a result's output after checking it as a peer's decoder would. */
export function encodeOutput(o: Output): Uint8Array {
  const bytes = outputBytes(o);
  decodeOutput(bytes);
  return bytes;
}

/** Encodes without the check (see workBytes). */
export function outputBytes(o: Output): Uint8Array {
  return o.kind === 'matmul'
    ? OutputFrame.encode({ matmul: { rows: o.rows, cols: o.cols, c: f32ToBytes(o.c) } })
    : OutputFrame.encode({
        inference: {
          logits: f32ToBytes(o.logits),
          tokens: u32ToBytes(o.tokens),
          vectors: f32ToBytes(o.vectors),
          scores: f32ToBytes(o.scores),
        },
      });
}

// ---- decoding -------------------------------------------------------------------------------

/** Decodes and validates a lease's work. Throws WorkError, never anything else. */
export function decodeWork(bytes: Uint8Array): Work {
  let f: WorkFrame;
  try {
    f = WorkFrame.decode(bytes);
  } catch (e) {
    throw new WorkError('work', `not a Work message: ${(e as Error)?.message ?? e}`);
  }
  if ((f.matmul ? 1 : 0) + (f.inference ? 1 : 0) !== 1) {
    throw new WorkError('work', 'exactly one kind of work must be set');
  }
  if (f.matmul) {
    const m = int(f.matmul.m, 1, MAX_DIM, 'matmul.m');
    const k = int(f.matmul.k, 1, MAX_DIM, 'matmul.k');
    const n = int(f.matmul.n, 1, MAX_DIM, 'matmul.n');
    return {
      kind: 'matmul',
      m,
      k,
      n,
      a: f32(f.matmul.a, m * k, 'matmul.a'),
      b: f32(f.matmul.b, k * n, 'matmul.b'),
    };
  }
  return inferenceWork(f.inference!);
}

function inferenceWork(w: WireInferenceWork): InferenceWork {
  if (!/^[0-9a-f]{64}$/.test(w.modelDigest)) {
    throw new WorkError('inference.modelDigest', 'must be 64 hex digits');
  }
  const lengths = u32(w.lengths, undefined, 'inference.lengths');
  if (lengths.length < 1 || lengths.length > MAX_SEQUENCES) {
    throw new WorkError(
      'inference.lengths',
      `1 to ${MAX_SEQUENCES} sequences, got ${lengths.length}`,
    );
  }
  let total = 0;
  for (const l of lengths) {
    if (l < 1 || l > MAX_SEQUENCE_TOKENS) {
      throw new WorkError('inference.lengths', `a sequence has ${l} tokens`);
    }
    total += l;
  }
  const tokens = u32(w.tokens, total, 'inference.tokens');
  const mode = MODE_OF_WIRE.get(w.mode);
  if (mode === undefined) throw new WorkError('inference.mode', `unknown mode ${w.mode}`);
  const steps =
    mode === 'tokens'
      ? int(w.steps, 1, MAX_STEPS, 'inference.steps')
      : int(w.steps, 0, 0, 'inference.steps');
  if (!Number.isFinite(w.temperature) || w.temperature < 0 || w.temperature > 100) {
    throw new WorkError('inference.temperature', 'must be a number in [0, 100]');
  }
  const sampling = mode === 'tokens' && w.temperature > 0;
  const seeds = u32(w.seeds, sampling ? lengths.length : 0, 'inference.seeds');
  return {
    kind: 'inference',
    modelDigest: w.modelDigest,
    lengths,
    tokens,
    mode,
    steps,
    temperature: w.temperature,
    seeds,
  };
}

/** Decodes and validates a result's output. Throws WorkError, never anything else. */
export function decodeOutput(bytes: Uint8Array): Output {
  let f: OutputFrame;
  try {
    f = OutputFrame.decode(bytes);
  } catch (e) {
    throw new WorkError('output', `not an Output message: ${(e as Error)?.message ?? e}`);
  }
  if ((f.matmul ? 1 : 0) + (f.inference ? 1 : 0) !== 1) {
    throw new WorkError('output', 'exactly one kind of output must be set');
  }
  if (f.matmul) {
    const rows = int(f.matmul.rows, 1, MAX_DIM, 'matmul.rows');
    const cols = int(f.matmul.cols, 1, MAX_DIM, 'matmul.cols');
    return { kind: 'matmul', rows, cols, c: f32(f.matmul.c, rows * cols, 'matmul.c') };
  }
  const i = f.inference!;
  const out = {
    kind: 'inference' as const,
    logits: f32(i.logits, undefined, 'inference.logits'),
    tokens: u32(i.tokens, undefined, 'inference.tokens'),
    vectors: f32(i.vectors, undefined, 'inference.vectors'),
    scores: f32(i.scores, undefined, 'inference.scores'),
  };
  const set = [out.logits, out.tokens, out.vectors, out.scores].filter((a) => a.length > 0);
  if (set.length !== 1) {
    throw new WorkError('inference', 'an output carries one of logits, tokens, vectors or scores');
  }
  return out;
}

// ---- field checks -----------------------------------------------------------------------------

function int(v: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new WorkError(field, `must be an integer in [${min}, ${max}], got ${v}`);
  }
  return v;
}

function words(bytes: Uint8Array, elements: number | undefined, field: string): void {
  if (bytes.byteLength % 4 !== 0) {
    throw new WorkError(field, `${bytes.byteLength} bytes is not a whole number of 32-bit words`);
  }
  if (elements !== undefined && bytes.byteLength !== elements * 4) {
    throw new WorkError(
      field,
      `expected ${elements} words (${elements * 4} bytes), got ${bytes.byteLength} bytes`,
    );
  }
}

function f32(bytes: Uint8Array, elements: number | undefined, field: string): Float32Array {
  words(bytes, elements, field);
  return bytesToF32(bytes);
}

function u32(bytes: Uint8Array, elements: number | undefined, field: string): Uint32Array {
  words(bytes, elements, field);
  return bytesToU32(bytes);
}
