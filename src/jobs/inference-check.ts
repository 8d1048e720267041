import { logitErrorBound, type ModelSummary } from '../model/hf/cost';
import { type Rng, seededRng } from '../model/rng';
import { type InferenceOutput, type InferenceWork, inferenceOutput } from './codec';
import { computeInference, groupByLength, prefixSums } from './inference-compute';
import { type InferenceSpec, packRows, rowFlops } from './inference-spec';
import type { Engine } from './job';
import type { CheckReason } from './redundancy';
import { checkGenerated } from './token-check';

/** What the owner's check decided: which copies are right, and its own answer when it has one. */
export interface CheckOutcome {
  valid: (r: InferenceOutput) => boolean;
  /** The owner's own answer (logits always; tokens for canaries and re-verified shards). */
  own?: InferenceOutput;
  /** Rows the owner recomputed when it checked a sample (undefined: every row): a copy judged
   * right on a sample settles its shard, but one later caught has the shard redone. */
  sampled?: number[];
  /** FLOPs of the owner's own computation for this check. */
  flops: number;
}

/**
 * The owner's own checks of an inference job's copies, on its own engine (pure apart from the
 * engine). Logits are recomputed whole. Generated tokens get one teacher-forced pass over the
 * generated sequence (src/jobs/token-check.ts), which takes a fraction of the generation's time;
 * embeddings and scores are recomputed. With `policy.checkRows` > 0, only that many rows of the
 * shard are checked, drawn from `rng` after the result is in (so a contributor cannot know
 * which), plus every row where copies disagree; canaries and re-verified shards are checked
 * whole. Honest copies from another engine (WebGPU vs the CPU engine) agree with the owner's
 * within twice the model's error bound (`logitErrorBound`; for a score, the bound of each
 * position's log-softmax summed over the row).
 */
export class InferenceChecker {
  /** Owner-computed answers of canaries and of checked shards. */
  readonly #known = new Map<number, Promise<InferenceOutput>>();

  constructor(
    readonly spec: InferenceSpec,
    readonly engine: Engine,
    readonly work: (shardId: number) => InferenceWork,
    readonly rng: Rng = seededRng(spec.seed ^ 0xc4ec),
  ) {}

  /** True when two results of one shard are the same answer, within the honest tolerance. */
  agree(x: InferenceOutput, y: InferenceOutput): boolean {
    const n = this.#rowsOf(x);
    if (n !== this.#rowsOf(y)) return false;
    for (let i = 0; i < n; i++) if (!this.#rowAgrees(x, i, y, i)) return false;
    return true;
  }

  /** Decides which of a shard's copies are right from the owner's own computation. */
  async check(
    s: number,
    reason: CheckReason,
    copies: readonly InferenceOutput[],
  ): Promise<CheckOutcome> {
    const work = this.work(s);
    const rows = work.lengths.length;
    const sampleRows = this.spec.policy.checkRows ?? 0;
    const whole = reason === 'canary' || reason === 'revoked' || this.spec.mode === 'logits';
    if (!whole && sampleRows > 0 && sampleRows < rows) {
      return this.#checkSample(work, this.#draw(work.lengths, sampleRows, copies), copies);
    }
    const flops = this.#flops(work, range(rows));
    const matches = (r: InferenceOutput, own: InferenceOutput) =>
      this.#rowsOf(r) === rows &&
      range(rows).every((i) => this.#rowAgrees(r, i, own, i, work.lengths[i]));
    if (whole) {
      const own = await this.#own(s, work);
      if (this.spec.mode !== 'tokens') return { valid: (r) => matches(r, own), own, flops };
      // Tokens: an exact match passes at once; anything else gets the teacher-forced check,
      // since an honest run may break a near-tie the other way.
      const valid = new Map<InferenceOutput, boolean>();
      for (const r of copies) {
        valid.set(r, sameTokens(r.tokens, own.tokens) || (await this.#teacherForced(work, r)));
      }
      return { valid: (r) => valid.get(r) === true, own, flops };
    }
    if (this.spec.mode !== 'tokens') {
      const own = await computeInference(work, this.engine);
      return { valid: (r) => matches(r, own), own, flops };
    }
    const valid = new Map<InferenceOutput, boolean>();
    for (const r of copies) valid.set(r, await this.#teacherForced(work, r));
    return { valid: (r) => valid.get(r) === true, flops };
  }

  /** `k` distinct rows drawn at random, and every row on which the copies disagree. */
  #draw(lengths: Uint32Array, k: number, copies: readonly InferenceOutput[]): number[] {
    const rows = lengths.length;
    const picked = new Set<number>();
    for (let i = 0; i < rows; i++) {
      if (copies.some((c) => !this.#rowAgrees(c, i, copies[0]!, i, lengths[i]))) picked.add(i);
    }
    // Floyd's sampling: k distinct rows, each set equally likely.
    for (let j = rows - k; j < rows; j++) {
      const t = this.rng.nextUint32() % (j + 1);
      picked.add(picked.has(t) ? j : t);
    }
    return [...picked].sort((a, b) => a - b);
  }

  /** Checks the copies on rows `sampled` of the shard only. */
  async #checkSample(
    work: InferenceWork,
    sampled: number[],
    copies: readonly InferenceOutput[],
  ): Promise<CheckOutcome> {
    const sub = subWork(work, sampled);
    const flops = this.#flops(work, sampled);
    const valid = new Map<InferenceOutput, boolean>();
    if (this.spec.mode === 'tokens') {
      for (const r of copies) valid.set(r, await this.#teacherForced(sub, pick(r, sampled, work)));
    } else {
      const own = await computeInference(sub, this.engine);
      for (const r of copies) {
        valid.set(
          r,
          sampled.every((row, j) => this.#rowAgrees(r, row, own, j, work.lengths[row])),
        );
      }
    }
    return { valid: (r) => valid.get(r) === true, sampled, flops };
  }

  #flops(work: InferenceWork, rows: number[]): number {
    return rows.reduce((f, i) => f + rowFlops(this.spec, work.lengths[i]!), 0);
  }

  /** The owner's own answer; computed once per shard, however many copies it judges. */
  #own(s: number, work: InferenceWork): Promise<InferenceOutput> {
    let known = this.#known.get(s);
    if (!known) {
      known = computeInference(work, this.engine);
      this.#known.set(s, known);
      known.catch(() => this.#known.delete(s));
    }
    return known;
  }

  #rowsOf(r: InferenceOutput): number {
    const { mode, model, steps } = this.spec;
    if (mode === 'embed') return r.vectors.length / model.hidden;
    if (mode === 'score') return r.scores.length;
    if (mode === 'tokens') return r.tokens.length / steps;
    return r.logits.length / model.vocab;
  }

  /** Whether row `i` of `x` and row `j` of `y` are the same answer within the tolerance; `len`
   * is the row's tokens (a score's bound grows with them), the model's context when unknown. */
  #rowAgrees(
    x: InferenceOutput,
    i: number,
    y: InferenceOutput,
    j: number,
    len = this.spec.model.maxPositions,
  ): boolean {
    const { mode, model, steps } = this.spec;
    if (mode === 'tokens') {
      return sameTokens(
        x.tokens.subarray(i * steps, (i + 1) * steps),
        y.tokens.subarray(j * steps, (j + 1) * steps),
      );
    }
    if (mode === 'score') return scoresAgree(model, len, x.scores[i]!, y.scores[j]!);
    const w = mode === 'embed' ? model.hidden : model.vocab;
    const a = (mode === 'embed' ? x.vectors : x.logits).subarray(i * w, (i + 1) * w);
    const b = (mode === 'embed' ? y.vectors : y.logits).subarray(j * w, (j + 1) * w);
    return rowsAgree(model, a, b);
  }

  /**
   * Whether generated tokens are what the model picks: one forward pass per distinct prompt
   * length over prompt + generated tokens gives every step's logits (src/jobs/token-check.ts).
   */
  async #teacherForced(w: InferenceWork, r: InferenceOutput): Promise<boolean> {
    const { vocab } = this.spec.model;
    const steps = w.steps;
    const offsets = prefixSums(w.lengths);
    for (const [len, idx] of groupByLength(w.lengths)) {
      const seq = len + steps - 1;
      const batch = new Uint32Array(idx.length * seq);
      idx.forEach((i, j) => {
        batch.set(w.tokens.subarray(offsets[i]!, offsets[i]! + len), j * seq);
        batch.set(r.tokens.subarray(i * steps, (i + 1) * steps - 1), j * seq + len);
      });
      const logits = await this.engine.logits(w.modelDigest, batch, idx.length, seq, len - 1);
      for (const [j, i] of idx.entries()) {
        const rows = logits.subarray(j * steps * vocab, (j + 1) * steps * vocab);
        const check = checkGenerated(
          rows,
          r.tokens.subarray(i * steps, (i + 1) * steps),
          vocab,
          w.temperature,
          (row) => 2 * logitErrorBound(this.spec.model, maxAbs(row)),
          w.temperature > 0 ? seededRng(w.seeds[i]!) : undefined,
        );
        if (!check.ok) return false;
      }
    }
    return true;
  }
}

/** The rows `rows` of a shard's work, as a work of their own (seeds follow their rows). */
export function subWork(w: InferenceWork, rows: readonly number[]): InferenceWork {
  const offsets = prefixSums(w.lengths);
  const picked = rows.map((i) => w.tokens.subarray(offsets[i]!, offsets[i]! + w.lengths[i]!));
  const seeds = w.seeds.length ? Uint32Array.from(rows, (i) => w.seeds[i]!) : w.seeds;
  return { ...w, ...packRows(picked), seeds };
}

/** The generated tokens of rows `rows` of a result, as a result of their own. */
function pick(r: InferenceOutput, rows: readonly number[], w: InferenceWork): InferenceOutput {
  const tokens = new Uint32Array(rows.length * w.steps);
  rows.forEach((i, j) => {
    tokens.set(r.tokens.subarray(i * w.steps, (i + 1) * w.steps), j * w.steps);
  });
  return inferenceOutput({ tokens });
}

/**
 * Whether two rows of logits or embedding values are the same answer: every element within
 * twice the model's error bound at the row's scale, no NaN. An embedding is the encoder's last
 * hidden states pooled (a mean, a token, or a max; then perhaps normalised), each value
 * within the bound of the states it came from: the same layers·γ_K rounding argument.
 */
function rowsAgree(c: ModelSummary, a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const tol = 2 * logitErrorBound(c, Math.max(maxAbs(a), maxAbs(b)));
  for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol)) return false;
  return true;
}

/**
 * Whether two log-likelihoods of a row of `len` tokens agree. Each of its len − 1 predictions
 * log p = z_t − logsumexp(z) moves by at most twice the logits' error, so two honest runs
 * differ by at most 4·logitErrorBound per prediction, at a logit scale of SCORE_LOGIT_SCALE;
 * the float32 rounding of the sum is added. The bound is rigorous and loose (honest runs
 * differ by a few per cent of it): it catches a made-up score, not a nudged one.
 */
function scoresAgree(c: ModelSummary, len: number, x: number, y: number): boolean {
  if (!(Number.isFinite(x) && Number.isFinite(y))) return false;
  const scale = Math.max(Math.abs(x), Math.abs(y));
  const tol = 4 * Math.max(1, len - 1) * logitErrorBound(c, SCORE_LOGIT_SCALE) + scale * 2 ** -22;
  return Math.abs(x - y) <= tol;
}

/** The logit magnitude assumed when bounding a score's error (logits of trained and of
 * random-weight models stay well inside it). */
export const SCORE_LOGIT_SCALE = 64;

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
