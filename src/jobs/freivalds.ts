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
  /** Columns per projection (≥ 1): a row's residual is taken over groups of at most this many
   * columns, so one wrong element is not drowned by the honest noise of a whole wide row. */
  groupCols?: number; // default 64
  /** Multiples of the modelled honest noise σ a group's residual may reach before its row is
   * recomputed by the owner (not rejected: see `freivalds`). */
  lambda?: number; // default 4
  /** In a recomputed row: multiples of an element's modelled σ it may be off by. */
  elementLambda?: number; // default 8
  /** In a recomputed row: multiple of the owner's own float32 error (forward and backward
   * recursive sums of the same element) an element may be off by, for structured inputs whose
   * rounding errors are not independent (constants, sorted data), where σ is too small. */
  kappa?: number; // default 4
  /** Most rows recomputed per block (the worst first). */
  maxRecomputeRows?: number; // default 4
  /** Multiplier on the rigorous (worst-case) bound; 1 never rejects an honest fp32 result. */
  c?: number;
  /** Where the ±1 signs come from; defaults to the platform CSPRNG. Seed only in tests. */
  rng?: Rng;
}

export interface Verdict {
  accepted: boolean;
  /** Why a result was rejected: wrong length, a NaN/∞ in it, a residual over the rigorous
   * bound (no float32 computation in any order gets there), or an element of a recomputed row
   * outside the honest envelope. */
  reason?: 'shape' | 'non-finite' | 'residual' | 'outlier';
  /** Row of the block (0-based, within the block) with the largest residual ÷ probabilistic
   * bound. */
  worstRow: number;
  /** Largest residual ÷ probabilistic bound over rows, groups and vectors; ≤ 1 passes at once. */
  worstRatio: number;
  /** Largest residual ÷ rigorous bound; > 1 is certain proof of a wrong result. */
  rigorousRatio: number;
  /** Rows whose residual exceeded the probabilistic bound. */
  flaggedRows: number;
  /** Of those, rows the owner recomputed exactly and checked element by element. */
  recomputedRows: number;
  vectors: number;
}

/** Thrown for a block that does not lie inside the problem: the owner's bug, not the peer's. */
export class VerifyArgumentError extends Error {
  override readonly name = 'VerifyArgumentError';
}

const U_F32 = 2 ** -24;
const U_F64 = 2 ** -53;

/**
 * Freivalds' check of a claimed block Ĉ of A·B, in float64, in O((m·n/groupCols + n)·k) time
 * (the product itself is O(m·n·k)), with verdicts at the float32 noise floor and no rejection on
 * suspicion. For random r ∈ {±1}^cols and each group of ≤ `groupCols` columns it compares
 * A·(B_g·r_g) with Ĉ_g·r_g, row by row:
 *
 * 1. **Rigorous bound** γ_K·(|A||B_g|·1)ᵢ: no float32 dot product in any order is off by more
 *    (|(Ĉ − C)r| ≤ Σⱼ|Ĉ − C|ᵢⱼ), so a residual beyond it is proof: rejected.
 * 2. **Expected honest noise** σ: roundings modelled as independent (Higham & Mary's √K model,
 *    made data-aware): an element's error has variance ≈ 0.18u²·K·(½Σₚaᵢₚ²bₚⱼ² + ⅓cᵢⱼ²)
 *    (E[δ²] for round-to-nearest; partial sums of a random walk plus a drift), and the ±1
 *    projection adds variances. Within λ·σ: accepted.
 * 3. Between the two, nothing is rejected on suspicion: the worst rows (up to
 *    `maxRecomputeRows`) are recomputed exactly, and each of their elements must lie within
 *    its rigorous bound and within max(elementLambda·σᵢⱼ, kappa × the owner's own float32
 *    error on that element, summed forwards and backwards), σᵢⱼ here the conservative
 *    √((2u²/3)·K·(Σₚaᵢₚ²bₚⱼ² + cᵢⱼ²/3)). Structured inputs, whose roundings correlate and
 *    beat the model, are judged by what float32 does on them; a cheat by the exact answer.
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
  const gw = options.groupCols ?? 64;
  if (!Number.isInteger(kv) || kv < 2) throw new VerifyArgumentError('vectors must be ≥ 2');
  if (!Number.isInteger(gw) || gw < 1) throw new VerifyArgumentError('groupCols must be ≥ 1');
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
  const none = { worstRow: -1, rigorousRatio: 0, flaggedRows: 0, recomputedRows: 0, vectors: kv };
  if (claimed.length !== rows * cols) {
    return { accepted: false, reason: 'shape', worstRatio: Infinity, ...none };
  }
  for (let i = 0; i < claimed.length; i++) {
    if (!Number.isFinite(claimed[i]!)) {
      return { accepted: false, reason: 'non-finite', worstRatio: Infinity, ...none };
    }
  }

  const groups = Math.ceil(cols / gw);
  const rng = options.rng ?? cryptoRng();
  const r = new Float64Array(kv * cols);
  for (let i = 0; i < r.length; i += 32) {
    const bits = rng.nextUint32();
    for (let q = 0; q < 32 && i + q < r.length; q++) r[i + q] = (bits >>> q) & 1 ? 1 : -1;
  }

  // One pass over B: B_g·r_g for every vector and group (each laid out along K, for the row
  // dot products), and per row of B the largest Σ|b| and Σb² over its groups.
  const vg = kv * groups;
  const br = new Float64Array(k * vg);
  const bAbsMax = new Float64Array(k);
  const bSqMax = new Float64Array(k);
  for (let p = 0; p < k; p++) {
    const base = p * n + col0;
    let absMax = 0;
    let sqMax = 0;
    for (let g = 0; g < groups; g++) {
      const j0 = g * gw;
      const j1 = Math.min(cols, j0 + gw);
      let s = 0;
      let q = 0;
      for (let j = j0; j < j1; j++) {
        const x = b[base + j]!;
        s += Math.abs(x);
        q += x * x;
      }
      if (s > absMax) absMax = s;
      if (q > sqMax) sqMax = q;
      for (let v = 0; v < kv; v++) {
        const ro = v * cols;
        let t = 0;
        for (let j = j0; j < j1; j++) t += b[base + j]! * r[ro + j]!;
        br[(v * groups + g) * k + p] = t;
      }
    }
    bAbsMax[p] = absMax;
    bSqMax[p] = sqMax;
  }

  const rig = (options.c ?? 1) * gammaF32(k) + (k + gw + 2) * U_F64;
  const lambda = options.lambda ?? 4;
  const floor = k * Math.min(gw, cols) * MIN_NORMAL_F32; // GPUs may flush subnormal products
  let worstRatio = 0;
  let worstRow = 0;
  let rigorousRatio = 0;
  const flagged: { row: number; ratio: number }[] = [];
  const abr = new Float64Array(vg);
  for (let i = 0; i < rows; i++) {
    const aBase = (row0 + i) * k;
    const absAB = dotAbs(a, aBase, bAbsMax, k);
    const sq = dotSq(a, aBase, bSqMax, k);
    for (let t = 0; t < vg; t++) abr[t] = dot(a, aBase, br, t * k, k);
    const rigBound = rig * absAB + floor;
    const cBase = i * cols;
    let rowRatio = 0;
    for (let g = 0; g < groups; g++) {
      const j0 = g * gw;
      const j1 = Math.min(cols, j0 + gw);
      let cSq = 0;
      for (let j = j0; j < j1; j++) cSq += claimed[cBase + j]! ** 2;
      // Expected honest noise of the projection: a recursive float32 sum's roundings have
      // E[δ²] ≈ 0.18u² (round to nearest, log-uniform mantissas) and meet partial sums of mean
      // square ≈ K/2·Σₚaₚ²bₚ² (random walk) + K/3·c² (drift). An estimate, not a bound: a row
      // beyond λ of it is recomputed, never rejected on this alone.
      const probBound = lambda * U_F32 * Math.sqrt(k * (0.09 * sq + 0.06 * cSq)) + floor;
      for (let v = 0; v < kv; v++) {
        const ro = v * cols;
        let cr = 0;
        for (let j = j0; j < j1; j++) cr += claimed[cBase + j]! * r[ro + j]!;
        const resid = Math.abs(abr[v * groups + g]! - cr);
        rigorousRatio = Math.max(rigorousRatio, resid / rigBound);
        rowRatio = Math.max(rowRatio, resid / probBound);
      }
    }
    if (rowRatio > worstRatio) {
      worstRatio = rowRatio;
      worstRow = i;
    }
    if (rowRatio > 1) flagged.push({ row: i, ratio: rowRatio });
  }
  const base = { worstRow, worstRatio, rigorousRatio, flaggedRows: flagged.length, vectors: kv };
  if (rigorousRatio > 1) return { accepted: false, reason: 'residual', recomputedRows: 0, ...base };
  if (flagged.length === 0) return { accepted: true, recomputedRows: 0, ...base };

  // The grey zone: decide from the exact answer of the worst rows, not from suspicion.
  flagged.sort((x, y) => y.ratio - x.ratio);
  const recheck = flagged.slice(0, options.maxRecomputeRows ?? 4);
  for (const { row } of recheck) {
    if (!rowWithinEnvelope(problem, block, claimed, row, options)) {
      return { accepted: false, reason: 'outlier', recomputedRows: recheck.length, ...base };
    }
  }
  return { accepted: true, recomputedRows: recheck.length, ...base };
}

/**
 * Recomputes row `i` of the block exactly (float64) and, as float32 would, summed forwards and
 * backwards; true when every claimed element is within its rigorous bound and within the
 * honest envelope max(elementLambda·σ, kappa × the owner's float32 error).
 */
function rowWithinEnvelope(
  { a, b, k, n }: MatmulProblem,
  { row0, col0, cols }: Block,
  claimed: ArrayLike<number>,
  i: number,
  options: FreivaldsOptions,
): boolean {
  const exact = new Float64Array(cols);
  const abs = new Float64Array(cols);
  const sq = new Float64Array(cols);
  const forward = new Float64Array(cols);
  const backward = new Float64Array(cols);
  const aBase = (row0 + i) * k;
  for (let p = 0; p < k; p++) {
    const x = a[aBase + p]!;
    const bBase = p * n + col0;
    for (let j = 0; j < cols; j++) {
      const prod = x * b[bBase + j]!; // exact: a product of two float32s fits a float64
      exact[j]! += prod;
      abs[j]! += Math.abs(prod);
      sq[j]! += prod * prod;
      forward[j] = Math.fround(forward[j]! + prod); // a fused multiply-add in float32
    }
  }
  for (let p = k - 1; p >= 0; p--) {
    const x = a[aBase + p]!;
    const bBase = p * n + col0;
    for (let j = 0; j < cols; j++) backward[j] = Math.fround(backward[j]! + x * b[bBase + j]!);
  }
  const rig = (options.c ?? 1) * gammaF32(k) + (k + 2) * U_F64;
  const lambda = options.elementLambda ?? 8;
  const kappa = options.kappa ?? 4;
  const sigmaScale = U_F32 * Math.sqrt((2 * k) / 3);
  const floor = k * MIN_NORMAL_F32;
  for (let j = 0; j < cols; j++) {
    const c = exact[j]!;
    const err = Math.abs(claimed[i * cols + j]! - c);
    if (err > rig * abs[j]! + floor) return false;
    const own = Math.max(Math.abs(forward[j]! - c), Math.abs(backward[j]! - c));
    const sigma = sigmaScale * Math.sqrt(sq[j]! + (c * c) / 3);
    if (err > Math.max(lambda * sigma, kappa * own) + floor) return false;
  }
  return true;
}

/** Σₚ x[xo+p]·y[yo+p] over p < len, with four partial sums (independent adds pipeline). */
function dot(x: Float32Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let p = 0;
  for (; p + 4 <= len; p += 4) {
    s0 += x[xo + p]! * y[yo + p]!;
    s1 += x[xo + p + 1]! * y[yo + p + 1]!;
    s2 += x[xo + p + 2]! * y[yo + p + 2]!;
    s3 += x[xo + p + 3]! * y[yo + p + 3]!;
  }
  for (; p < len; p++) s0 += x[xo + p]! * y[yo + p]!;
  return s0 + s1 + s2 + s3;
}

/** Σₚ |x[xo+p]|·y[p] over p < len. */
function dotAbs(x: Float32Array, xo: number, y: Float64Array, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let p = 0;
  for (; p + 2 <= len; p += 2) {
    s0 += Math.abs(x[xo + p]!) * y[p]!;
    s1 += Math.abs(x[xo + p + 1]!) * y[p + 1]!;
  }
  if (p < len) s0 += Math.abs(x[xo + p]!) * y[p]!;
  return s0 + s1;
}

/** Σₚ x[xo+p]²·y[p] over p < len. */
function dotSq(x: Float32Array, xo: number, y: Float64Array, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let p = 0;
  for (; p + 2 <= len; p += 2) {
    const u = x[xo + p]!;
    const w = x[xo + p + 1]!;
    s0 += u * u * y[p]!;
    s1 += w * w * y[p + 1]!;
  }
  if (p < len) s0 += x[xo + p]! ** 2 * y[p]!;
  return s0 + s1;
}
