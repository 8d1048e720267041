import { gammaF32, MIN_NORMAL_F32 } from '../gpu/reference';
import { cryptoRng, type Rng } from '../model/rng';

/** A matmul job as its owner holds it: C = A·B, A m×k and B k×n, row-major f32. */
export interface MatmulProblem {
  a: Float32Array;
  b: Float32Array;
  m: number;
  k: number;
  n: number;
}

/** The block of C a shard computes: rows [row0, row0+rows), columns [col0, col0+cols). */
export interface Block {
  row0: number;
  rows: number;
  col0: number;
  cols: number;
}

export interface FreivaldsOptions {
  /** Random ±1 vectors (≥ 2). Each catches a wrong row with probability ≥ 1/2, usually ~1. */
  vectors?: number;
  /** Multiplier on the worst-case float32 error bound; 1 never rejects an honest fp32 result. */
  c?: number;
  /** Where the ±1 signs come from; defaults to the platform CSPRNG. Seed only in tests. */
  rng?: Rng;
}

export interface Verdict {
  accepted: boolean;
  /** Why a result was rejected: wrong length, a NaN/∞ in it, or a residual over the bound. */
  reason?: 'shape' | 'non-finite' | 'residual';
  /** Row of the block (0-based, within the block) with the largest residual ÷ bound. */
  worstRow: number;
  /** Largest residual ÷ bound over rows and vectors; ≤ 1 passes. */
  worstRatio: number;
  vectors: number;
}

/** Thrown for a block that does not lie inside the problem: the owner's bug, not the peer's. */
export class VerifyArgumentError extends Error {
  override readonly name = 'VerifyArgumentError';
}

const U_F64 = 2 ** -53;

/**
 * Freivalds' check of a claimed block Ĉ of A·B, in float64, in O((m + n)·k) time.
 *
 * For each random r ∈ {±1}^cols it compares A_rows·(B_cols·r) with Ĉ·r and rejects row i when
 *   |A(Br) − Ĉr|ᵢ > c·γ_K·(|A|(|B|·|r|))ᵢ + slack,
 * γ_K the worst-case relative error of a K-term float32 dot product in any order (see
 * src/gpu/reference.ts). Since |(Ĉ − C)r|ᵢ ≤ Σⱼ|Ĉ − C|ᵢⱼ ≤ γ_K(|A||B||r|)ᵢ for any honest fp32
 * result, c = 1 rejects no honest contributor; an error larger than that in one element is
 * caught by every vector, whatever its sign.
 */
export function freivalds(
  problem: MatmulProblem,
  block: Block,
  claimed: ArrayLike<number>,
  options: FreivaldsOptions = {},
): Verdict {
  const { a, b, m, k, n } = problem;
  const { row0, rows, col0, cols } = block;
  const kv = options.vectors ?? 2;
  if (!Number.isInteger(kv) || kv < 2) throw new VerifyArgumentError('vectors must be ≥ 2');
  if (a.length !== m * k || b.length !== k * n) {
    throw new VerifyArgumentError('problem arrays do not match m, k, n');
  }
  const inside =
    [row0, rows, col0, cols].every(Number.isSafeInteger) &&
    row0 >= 0 &&
    col0 >= 0 &&
    rows >= 1 &&
    cols >= 1 &&
    row0 + rows <= m &&
    col0 + cols <= n;
  if (!inside) throw new VerifyArgumentError(`block ${JSON.stringify(block)} is not inside C`);
  if (claimed.length !== rows * cols) {
    return { accepted: false, reason: 'shape', worstRow: -1, worstRatio: Infinity, vectors: kv };
  }

  const rng = options.rng ?? cryptoRng();
  const r: Float64Array[] = [];
  for (let v = 0; v < kv; v++) {
    const rv = new Float64Array(cols);
    for (let j = 0; j < cols; j += 32) {
      const bits = rng.nextUint32();
      for (let q = 0; q < 32 && j + q < cols; q++) rv[j + q] = (bits >>> q) & 1 ? 1 : -1;
    }
    r.push(rv);
  }

  // Pass over B: Br for every vector, and |B|·1 (= |B||r| since |r| = 1), one row at a time.
  const br = r.map(() => new Float64Array(k));
  const bAbs = new Float64Array(k);
  for (let p = 0; p < k; p++) {
    const base = p * n + col0;
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.abs(b[base + j]!);
    bAbs[p] = s;
    for (let v = 0; v < kv; v++) {
      const rv = r[v]!;
      let t = 0;
      for (let j = 0; j < cols; j++) t += b[base + j]! * rv[j]!;
      br[v]![p] = t;
    }
  }

  const g = (options.c ?? 1) * gammaF32(k) + (k + cols + 2) * U_F64;
  const floor = k * cols * MIN_NORMAL_F32; // GPUs may flush subnormal products to zero
  let worstRatio = 0;
  let worstRow = 0;
  let finite = true;
  for (let i = 0; i < rows; i++) {
    const aBase = (row0 + i) * k;
    let absAB = 0;
    for (let p = 0; p < k; p++) absAB += Math.abs(a[aBase + p]!) * bAbs[p]!;
    const bound = g * absAB + floor;
    const cBase = i * cols;
    for (let v = 0; v < kv; v++) {
      const bv = br[v]!;
      let abr = 0;
      for (let p = 0; p < k; p++) abr += a[aBase + p]! * bv[p]!;
      const rv = r[v]!;
      let cr = 0;
      for (let j = 0; j < cols; j++) cr += claimed[cBase + j]! * rv[j]!;
      if (!Number.isFinite(cr)) finite = false;
      const ratio = Math.abs(abr - cr) / bound;
      if (!(ratio <= worstRatio)) {
        worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
        worstRow = i;
      }
    }
  }
  if (!finite) return { accepted: false, reason: 'non-finite', worstRow, worstRatio, vectors: kv };
  const accepted = worstRatio <= 1;
  return accepted
    ? { accepted, worstRow, worstRatio, vectors: kv }
    : { accepted, reason: 'residual', worstRow, worstRatio, vectors: kv };
}
