// Picking the next token from a row of logits, as transformers' `generate` does: the repetition
// penalty (a logits processor, applied even when greedy), then, when sampling, its warpers in
// their order: temperature, top-k, top-p. The draw itself is tessel's own (one uniform from a
// seeded generator per step, walked over the kept tokens in id order, as src/model/sample.ts
// draws), so a seed gives the same tokens on every engine and machine; with no cut (topK 0,
// topP 1) it picks exactly what sampleToken picks.

import { type Rng, uniform } from '../rng';
import { RequestError } from './request-error';

/** How one sequence picks its tokens. */
export interface SamplingParams {
  /** Divides the logits before the softmax; 0: greedy (argmax, the lowest id of a tie). */
  temperature: number;
  /** Keep the k highest logits (every token tied with the k-th too, as TopKLogitsWarper);
   * 0: no cut. */
  topK: number;
  /** Keep the smallest set of most likely tokens whose probability is ≥ topP (never fewer than
   * one), as TopPLogitsWarper; 1: no cut. */
  topP: number;
  /** RepetitionPenaltyLogitsProcessor's factor over the sequence's tokens so far; 1: none. */
  repetitionPenalty?: number;
}

/** Largest temperature accepted: far past where sampling is uniform over the kept tokens. */
export const MAX_TEMPERATURE = 1e6;

/** Checks sampling parameters, naming the bad one. */
export function checkSampling(p: SamplingParams, vocab: number): void {
  const t = p.temperature;
  if (!(typeof t === 'number' && t >= 0 && t <= MAX_TEMPERATURE)) {
    throw new RequestError('invalid-request', `temperature ${t} is not in 0..${MAX_TEMPERATURE}`);
  }
  if (!(Number.isSafeInteger(p.topK) && p.topK >= 0)) {
    throw new RequestError('invalid-request', `topK ${p.topK} is not an integer ≥ 0`);
  }
  if (!(typeof p.topP === 'number' && p.topP > 0 && p.topP <= 1)) {
    throw new RequestError('invalid-request', `topP ${p.topP} is not in (0, 1]`);
  }
  const r = p.repetitionPenalty ?? 1;
  if (!(typeof r === 'number' && r > 0 && Number.isFinite(r))) {
    throw new RequestError('invalid-request', `repetitionPenalty ${r} is not a positive number`);
  }
  if (!(vocab >= 1)) throw new RequestError('invalid-request', 'an empty vocabulary');
}

/** RepetitionPenaltyLogitsProcessor: each token already in the sequence has its logit divided
 * by `penalty` when positive, multiplied when negative. Returns `logits` itself when 1. */
function penalize(logits: Float32Array, seen: Iterable<number>, penalty: number): Float32Array {
  if (penalty === 1) return logits;
  const out = logits.slice();
  // Computed from `logits`, not `out`: a token seen twice is penalised once.
  for (const id of seen) {
    const l = logits[id];
    if (l !== undefined) out[id] = l < 0 ? l * penalty : l / penalty;
  }
  return out;
}

/** The first index of the largest value. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Each token's unnormalised probability after temperature, top-k and top-p: exp((l − max)/T)
 * for a kept token, 0 for a cut one. `temperature` must be > 0.
 */
export function keptWeights(logits: ArrayLike<number>, p: SamplingParams): Float64Array {
  const V = logits.length;
  const m = logits[argmax(logits)]!;
  const w = Float64Array.from(logits, (l) => Math.exp((l - m) / p.temperature));
  if (p.topK > 0 && p.topK < V) {
    // TopKLogitsWarper: remove scores < the k-th largest (ties with it stay).
    const kth = nthLargest(Float64Array.from(w), p.topK);
    for (let i = 0; i < V; i++) if (w[i]! < kth) w[i] = 0;
  }
  if (p.topP < 1) {
    // TopPLogitsWarper: sort ascending, remove the prefix whose cumulative probability is
    // ≤ 1 − topP, keep the most likely token whatever. Only tokens still in play are sorted
    // (after a top-k cut, k of them).
    const live: number[] = [];
    let total = 0;
    for (let i = 0; i < V; i++) {
      if (w[i]! > 0) live.push(i);
      total += w[i]!;
    }
    live.sort((a, b) => w[a]! - w[b]! || b - a);
    let cum = 0;
    for (let j = 0; j < live.length - 1; j++) {
      const i = live[j]!;
      cum += w[i]! / total;
      if (cum > 1 - p.topP) break;
      w[i] = 0;
    }
  }
  return w;
}

/** The k-th largest value of `a` (1-based), by quickselect: O(length) on average, where a
 * sort of a 150 k vocabulary every step would cost more than the step. Reorders `a`. */
export function nthLargest(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  const want = k - 1; // its index in descending order
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (want <= j) hi = j;
    else if (want >= i) lo = i;
    else return a[want]!;
  }
  return a[want]!;
}

/**
 * The next token of one sequence: argmax at temperature 0, else one draw of `rng` over the kept
 * tokens' probabilities, walked in id order. `seen`: the sequence's tokens so far (prompt and
 * generated), for the repetition penalty.
 */
export function pickToken(
  logits: Float32Array,
  p: SamplingParams,
  rng: Rng | undefined,
  seen: Iterable<number> = [],
): number {
  const scores = penalize(logits, seen, p.repetitionPenalty ?? 1);
  if (p.temperature === 0) return argmax(scores);
  if (!rng) throw new RequestError('invalid-request', 'sampling needs a seeded random source');
  const w = keptWeights(scores, p);
  let r = uniform(rng) * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) {
    r -= w[i]!;
    if (r < 0) return i;
  }
  return argmax(scores); // only reached through rounding at the very end of the distribution
}
