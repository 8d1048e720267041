import { type Rng, uniform } from '../model/rng';

/**
 * Checks generated tokens from teacher-forced logits: one forward pass over prompt + generated
 * tokens gives, at every step, the logits the generator saw (up to float rounding), so the owner
 * verifies a whole generation for the price of one pass instead of replaying each decode step
 * (the idea behind TOPLOC). A step passes when the chosen token is one an honest run could have
 * picked from logits within ±`tol` of the owner's:
 *
 * - greedy (temperature 0): its logit is within 2·tol of the largest;
 * - seeded sampling: the step's uniform draw u (the same seeded generator the contributor used,
 *   one draw per step as src/model/sample.ts takes it) falls in the token's slice of the
 *   cumulative distribution, with the slice's ends moved as far as ±tol on the logits can move
 *   them. Perturbing every logit by at most τ scales each weight by a factor in [e^−τ/T, e^τ/T],
 *   so the mass A before the token can fall to A / (A + e^{2τ/T}(S − A)) of the total S, and the
 *   mass through it can rise to B / (B + e^{−2τ/T}(S − B)).
 *
 * An honest result passes when its logits lie within tol of the owner's, as the model's error
 * bound says they do (honest errors measured at ~2% of it); a token chosen any other way fails
 * unless it is within rounding of a tie.
 */
export interface TokenCheck {
  ok: boolean;
  /** First step that fails, or −1. */
  step: number;
}

export function checkGenerated(
  logits: Float32Array, // steps × vocab: the logits that chose each token
  tokens: ArrayLike<number>, // steps
  vocab: number,
  temperature: number,
  tol: (row: Float32Array) => number,
  rng?: Rng, // seeded like the contributor's sampler (required when temperature > 0)
): TokenCheck {
  const steps = tokens.length;
  if (logits.length !== steps * vocab) return { ok: false, step: 0 };
  if (temperature > 0 && !rng) throw new RangeError('a sampled generation needs its seeded rng');
  for (let t = 0; t < steps; t++) {
    const row = logits.subarray(t * vocab, (t + 1) * vocab);
    const tok = tokens[t]!;
    if (!(tok < vocab)) return { ok: false, step: t };
    const tau = tol(row);
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) if (row[i]! > max) max = row[i]!;
    if (!Number.isFinite(max)) return { ok: false, step: t };
    if (temperature === 0) {
      if (!(row[tok]! >= max - 2 * tau)) return { ok: false, step: t };
      continue;
    }
    const u = uniform(rng!);
    let before = 0;
    let total = 0;
    for (let i = 0; i < vocab; i++) {
      const w = Math.exp((row[i]! - max) / temperature);
      if (i < tok) before += w;
      total += w;
    }
    const through = before + Math.exp((row[tok]! - max) / temperature);
    const grow = Math.exp((2 * tau) / temperature);
    const lo = before / (before + grow * (total - before));
    const hi = through / (through + (total - through) / grow);
    if (!(u >= lo && u <= hi)) return { ok: false, step: t };
  }
  return { ok: true, step: -1 };
}
