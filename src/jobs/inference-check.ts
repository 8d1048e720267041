import { logitErrorBound, type ModelSummary } from '../model/hf/cost';
import { seededRng } from '../model/rng';
import type { InferenceOutput, InferenceWork } from './codec';
import { computeInference, groupByLength, prefixSums } from './inference-compute';
import type { InferenceSpec } from './inference-spec';
import type { Engine } from './job';
import type { CheckReason } from './redundancy';
import { checkGenerated } from './token-check';

/** What the owner's check decided: which copies are right, and its own answer when it has one. */
export interface CheckOutcome {
  valid: (r: InferenceOutput) => boolean;
  /** The owner's own answer (logits always; tokens for canaries and re-verified shards). */
  own?: InferenceOutput;
}

/**
 * The owner's own checks of an inference job's copies, on its own engine (pure apart from the
 * engine): a recomputed forward pass for logits, and for generated tokens one teacher-forced
 * pass over the generated sequence (src/jobs/token-check.ts), which costs about 1/steps of the
 * generation. Honest copies from another engine (WebGPU vs the CPU engine) agree with the
 * owner's within twice the model's error bound (`logitErrorBound`).
 */
export class InferenceChecker {
  /** Owner-computed answers of canaries and of checked shards. */
  readonly #known = new Map<number, Promise<InferenceOutput>>();

  constructor(
    readonly spec: InferenceSpec,
    readonly engine: Engine,
    readonly work: (shardId: number) => InferenceWork,
  ) {}

  /** True when two results of one shard are the same answer, within the honest tolerance. */
  agree(x: InferenceOutput, y: InferenceOutput): boolean {
    if (this.spec.mode === 'tokens') return sameTokens(x.tokens, y.tokens);
    return logitsAgree(this.spec.model, x.logits, y.logits);
  }

  /** Decides which of a shard's copies are right from the owner's own computation. */
  async check(
    s: number,
    reason: CheckReason,
    copies: readonly InferenceOutput[],
  ): Promise<CheckOutcome> {
    const work = this.work(s);
    if (this.spec.mode === 'logits' || reason === 'canary' || reason === 'revoked') {
      const own = await this.#own(s, work);
      if (this.spec.mode === 'logits') return { valid: (r) => this.agree(r, own), own };
      // Tokens: an exact match passes at once; anything else gets the teacher-forced check,
      // since an honest run may break a near-tie the other way.
      const valid = new Map<InferenceOutput, boolean>();
      for (const r of copies) {
        valid.set(r, sameTokens(r.tokens, own.tokens) || (await this.#teacherForced(work, r)));
      }
      return { valid: (r) => valid.get(r) === true, own };
    }
    const valid = new Map<InferenceOutput, boolean>();
    for (const r of copies) valid.set(r, await this.#teacherForced(work, r));
    return { valid: (r) => valid.get(r) === true };
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

/**
 * Whether two blocks of last-position logits (rows of `vocab`) are the same answer: every
 * element within twice the model's error bound at the row's scale, no NaN.
 */
function logitsAgree(c: ModelSummary, x: Float32Array, y: Float32Array): boolean {
  const { vocab } = c;
  if (x.length !== y.length) return false;
  for (let row = 0; row < x.length / vocab; row++) {
    const a = x.subarray(row * vocab, (row + 1) * vocab);
    const b = y.subarray(row * vocab, (row + 1) * vocab);
    const tol = 2 * logitErrorBound(c, Math.max(maxAbs(a), maxAbs(b)));
    for (let i = 0; i < vocab; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol)) return false;
  }
  return true;
}

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}
