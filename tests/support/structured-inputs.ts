import type { MatmulProblem } from '../../src/jobs/freivalds';
import { type Rng, uniform } from '../../src/model/rng';

// Inputs that stress a float32 verifier, shared by tests/unit/jobs/verdicts.test.ts and
// bench/verify-bench.ts: honest results on them must pass, cheats on them must not.

export type Inputs = 'uniform' | 'positive' | 'constant' | 'ill-conditioned' | 'dynamic-range';

/** A×B inputs of a kind: m×k and k×n. */
export function inputs(kind: Inputs, m: number, k: number, n: number, rng: Rng): MatmulProblem {
  const fill = (len: number, f: () => number) => Float32Array.from({ length: len }, f);
  const u = () => uniform(rng) * 2 - 1;
  switch (kind) {
    case 'uniform':
      return { a: fill(m * k, u), b: fill(k * n, u), m, k, n };
    case 'positive':
      return { a: fill(m * k, () => uniform(rng)), b: fill(k * n, () => uniform(rng)), m, k, n };
    case 'constant':
      return { a: fill(m * k, () => 0.1), b: fill(k * n, () => 0.3), m, k, n };
    case 'dynamic-range': {
      // Magnitudes spread over 2^±20 (about 12 decades).
      const wide = () => u() * 2 ** Math.floor(uniform(rng) * 40 - 20);
      return { a: fill(m * k, wide), b: fill(k * n, wide), m, k, n };
    }
    case 'ill-conditioned': {
      // A = [X, −X + 10⁻⁴·E] and B = [Y; Y]: C is a tiny remainder of huge cancelling sums.
      const a = fill(m * k, u);
      const b = fill(k * n, u);
      const h = k >> 1;
      for (let i = 0; i < m; i++) {
        for (let p = 0; p < h; p++) a[i * k + h + p] = -a[i * k + p]! + 1e-4 * u();
      }
      b.copyWithin(h * n, 0, h * n);
      return { a, b, m, k, n };
    }
  }
}

/** float16 and bfloat16 rounding (to nearest), as a cheaper GPU path would feed the kernel. */
export function toHalf(x: number, mantissa: number): number {
  if (x === 0 || !Number.isFinite(x)) return x;
  const q = 2 ** (Math.floor(Math.log2(Math.abs(x))) - mantissa);
  return Math.round(x / q) * q;
}

/**
 * `honest` (m×n) with element (i, j) pushed `times` × the honest error of row i (the rms of
 * honest − exact over the row), up or down: one wrong element a verifier must catch.
 */
export function oneElementOff(
  honest: Float32Array,
  exact: ArrayLike<number>,
  n: number,
  [i, j]: [number, number],
  times: number,
): Float32Array {
  let ss = 0;
  for (let q = 0; q < n; q++) ss += (honest[i * n + q]! - exact[i * n + q]!) ** 2;
  const bad = honest.slice();
  bad[i * n + j]! += times * Math.sqrt(ss / n);
  return bad;
}
