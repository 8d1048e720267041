import { type Rng, uniform } from './rng';

// The mesh's token sampling: a generation (src/model/hf/generate.ts generateTokens) gives
// sequence i its own generator seeded with seeds[i] and takes one draw per step here, so any two
// honest runs pick the same tokens and src/jobs/token-check.ts can replay the draws.

/**
 * Picks the next token from one row of logits: greedy when `temperature` is 0, otherwise a draw
 * from softmax(logits / temperature) with `rng` (seed it for reproducible text).
 */
export function sampleToken(logits: ArrayLike<number>, temperature: number, rng?: Rng): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) {
    throw new RangeError(`temperature must be ≥ 0, got ${temperature}`);
  }
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  if (temperature === 0) return best;
  if (!rng) throw new RangeError('sampling with a temperature needs a random source');
  const m = logits[best]!;
  const w = Float64Array.from(logits, (l) => Math.exp((l - m) / temperature));
  let r = uniform(rng) * w.reduce((a, b) => a + b, 0);
  for (let i = 0; i < w.length; i++) {
    r -= w[i]!;
    if (r < 0) return i;
  }
  return best; // only reached through rounding at the very end of the distribution
}
