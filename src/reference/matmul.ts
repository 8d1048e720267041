/**
 * Float64 CPU references and the floating-point error bounds that tests and verifiers use.
 *
 * A float32 dot product of length K, in any summation order, with or without FMA, satisfies
 * |ŝ − s| ≤ γ_K · Σ|a_k·b_k| where γ_K = K·u/(1 − K·u) and u = 2⁻²⁴ (Higham, Accuracy and
 * Stability of Numerical Algorithms, §3.1). That is the bound below; nothing is a fixed 1e-3.
 */

/** Unit roundoff of IEEE binary32. */
export const U_F32 = 2 ** -24;

/** Smallest normal float32. GPUs may flush subnormals, costing up to this much per product. */
export const MIN_NORMAL_F32 = 2 ** -126;

/** γ_K for binary32: the worst-case relative error of a K-term float32 dot product. */
export function gammaF32(k: number): number {
  const ku = k * U_F32;
  return ku / (1 - ku);
}

export interface MatmulShape {
  m: number; // rows of A and C
  k: number; // columns of A, rows of B
  n: number; // columns of B and C
}

/** C = A·B in float64 (row-major inputs). */
export function matmulF64(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  { m, k, n }: MatmulShape,
  abs = false,
): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      let av = a[i * k + p]!;
      if (abs) av = Math.abs(av);
      if (av === 0) continue;
      const bp = p * n;
      if (abs) for (let j = 0; j < n; j++) c[ci + j]! += av * Math.abs(b[bp + j]!);
      else for (let j = 0; j < n; j++) c[ci + j]! += av * b[bp + j]!;
    }
  }
  return c;
}

export interface BoundCheck {
  ok: boolean;
  /** Largest |Ĉ − C|ᵢⱼ / boundᵢⱼ seen; ≤ 1 means within the bound. */
  worstRatio: number;
  worstIndex: number;
}

/**
 * Checks a claimed float32 product elementwise against the float64 reference:
 * |Ĉ − C|ᵢⱼ ≤ c·γ_K·(|A||B|)ᵢⱼ + K·MIN_NORMAL (subnormal flush slack).
 * `exact` and `absProduct` are matmulF64(a, b) and matmulF64(a, b, abs = true).
 */
export function checkElementwise(
  claimed: ArrayLike<number>,
  exact: Float64Array,
  absProduct: Float64Array,
  k: number,
  c = 1,
): BoundCheck {
  const g = c * gammaF32(k);
  const floor = k * MIN_NORMAL_F32;
  let worstRatio = 0;
  let worstIndex = -1;
  for (let i = 0; i < exact.length; i++) {
    const bound = g * absProduct[i]! + floor;
    const err = Math.abs(claimed[i]! - exact[i]!);
    const ratio = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err / bound;
    if (ratio > worstRatio || worstIndex < 0) {
      worstRatio = ratio;
      worstIndex = i;
    }
  }
  return { ok: worstRatio <= 1, worstRatio, worstIndex };
}

/** GELU, GPT-2's tanh approximation, in float64. */
export function geluF64(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}
