import {
  type Block,
  type MatmulProblem,
  type ProjectionRequest,
  type Projections,
  type Projector,
  projectJs,
} from '../gpu/projection';
import { cryptoRng, type Rng } from '../model/rng';
import { gammaF32, MIN_NORMAL_F32 } from '../reference/matmul';
import { rowWithinEnvelope } from './row-check';

export type {
  Block,
  MatmulProblem,
  ProjectionRequest,
  Projections,
  Projector,
} from '../gpu/projection';

/** Random weight vectors per check: each misses a wrong group with probability ≤ 1/512. */
export const DEFAULT_VECTORS = 2;
/** Columns per projection group: one wrong element is not drowned by a whole wide row's noise. */
export const DEFAULT_GROUP_COLS = 64;
/** Multiples of the modelled honest noise σ a group's residual may reach unflagged. */
export const DEFAULT_LAMBDA = 4;
/** In a recomputed row: multiples of an element's modelled σ it may be off by. */
export const DEFAULT_ELEMENT_LAMBDA = 8;
/** In a recomputed row: multiples of the owner's own float32 error an element may be off by. */
export const DEFAULT_KAPPA = 4;
/**
 * Flagged rows the owner recomputes for one result, at least: the cap is the larger of this and
 * `DEFAULT_RECOMPUTE_FRACTION` of the block's rows. Beyond it a result is `unresolved`.
 */
export const DEFAULT_MAX_RECOMPUTE_ROWS = 16;
/** Share of a block's rows the owner will recompute for one result (see above). */
export const DEFAULT_RECOMPUTE_FRACTION = 1 / 8;

export interface FreivaldsOptions {
  /** Random weight vectors (≥ 2). Default `DEFAULT_VECTORS`. */
  vectors?: number;
  /** Columns per projection group (≥ 1). Default `DEFAULT_GROUP_COLS`. */
  groupCols?: number;
  /** Multiples of the modelled honest noise σ a group's residual may reach before its row is
   * flagged for exact recomputation (never rejected on this alone). Default `DEFAULT_LAMBDA`. */
  lambda?: number;
  /** Default `DEFAULT_ELEMENT_LAMBDA`. */
  elementLambda?: number;
  /** For structured inputs whose rounding errors are not independent (constants, sorted data),
   * where σ is too small: the owner's own float32 error bounds the element too. Default
   * `DEFAULT_KAPPA`. */
  kappa?: number;
  /** Most flagged rows recomputed for one result; default the larger of
   * `DEFAULT_MAX_RECOMPUTE_ROWS` and `DEFAULT_RECOMPUTE_FRACTION` of the rows. `Infinity`
   * resolves every flagged row, whatever it costs. */
  maxRecomputeRows?: number;
  /** Multiplier on the rigorous (worst-case) bound; 1 never rejects an honest fp32 result. */
  c?: number;
  /** Where the weights (and the rows sampled past the cap) come from; defaults to the
   * platform CSPRNG. Seed only in tests. */
  rng?: Rng;
}

export interface Verdict {
  accepted: boolean;
  /**
   * Why a result was not accepted:
   * - `shape`, `non-finite`: the wrong length, or a NaN/∞ in it (proof);
   * - `residual`: a residual over the rigorous bound, which no float32 computation in any order
   *   reaches (proof);
   * - `outlier`: an element of a recomputed row outside the honest envelope (proof);
   * - `unresolved`: more rows flagged than the owner recomputes for one result, and the ones it
   *   sampled were honest: no proof either way, so nothing is held against the contributor and
   *   the shard is computed again.
   */
  reason?: 'shape' | 'non-finite' | 'residual' | 'outlier' | 'unresolved';
  /** Row of the block (0-based, within the block) with the largest residual ÷ probabilistic
   * bound. */
  worstRow: number;
  /** Largest residual ÷ probabilistic bound over rows, groups and vectors; ≤ 1 passes at once. */
  worstRatio: number;
  /** Largest residual ÷ rigorous bound; > 1 is certain proof of a wrong result. */
  rigorousRatio: number;
  /** Rows whose residual exceeded the probabilistic bound. */
  flaggedRows: number;
  /** Those rows (within the block), in order: every one was recomputed in an accepted result. */
  flagged: readonly number[];
  /** Of those, rows the owner recomputed exactly and checked element by element. */
  recomputedRows: number;
  vectors: number;
}

/** Thrown for a block that does not lie inside the problem: the owner's bug, not the peer's. */
export class VerifyArgumentError extends Error {
  override readonly name = 'VerifyArgumentError';
}

/**
 * Freivalds' check of a claimed block Ĉ of A·B with verdicts at the float32 noise floor, and no
 * rejection on suspicion. For random weights r ∈ ±[1, 1.5)^cols (`drawWeights`) and each group of ≤ `groupCols` columns it
 * compares A·(B_g·r_g) with Ĉ_g·r_g, row by row (O((m·n/groupCols + n)·k) work, the product's
 * is O(m·n·k)):
 *
 * 1. **Rigorous bound** max|r|·γ_K·(|A||B_g|·1)ᵢ (plus the projector's own worst-case error): no
 *    float32 dot product in any order is off by more, so a residual beyond it is proof: rejected.
 * 2. **Expected honest noise** σ: roundings modelled as independent (Higham & Mary's √K model,
 *    made data-aware): an element's error has variance ≈ 0.18u²·K·(½Σₚaᵢₚ²bₚⱼ² + ⅓cᵢⱼ²) + ⅓u²cᵢⱼ²
 *    (the last rounding), and the weighted projection adds variances (times E[r²]). A row whose every residual is within
 *    λ·σ passes.
 * 3. **Every other row is flagged, and every flagged row is resolved**: recomputed exactly, each
 *    element within its rigorous bound and within max(elementLambda·σᵢⱼ, kappa × the owner's own
 *    float32 error on it). One failing row rejects the result. Up to `maxRecomputeRows` flagged
 *    rows are recomputed; with more, that many are drawn at random among them (never "the
 *    worst", which a cheat could steer with decoys): a failure rejects, and if all pass the
 *    verdict is `unresolved` — not accepted, since unchecked flagged rows remain.
 *
 * So an accepted result has no flagged row outside the element envelope, whatever the result.
 */
export function freivalds(
  problem: MatmulProblem,
  block: Block,
  claimed: ArrayLike<number>,
  options: FreivaldsOptions = {},
): Verdict {
  const pre = precheck(problem, block, claimed, options);
  if ('verdict' in pre) return pre.verdict;
  return judge(problem, block, pre.claimed, projectJs(pre.req), pre, options);
}

/** `freivalds` with the projections computed by `projector` (an engine's kernel). */
export async function verifyBlock(
  problem: MatmulProblem,
  block: Block,
  claimed: ArrayLike<number>,
  options: FreivaldsOptions & { projector?: Projector } = {},
): Promise<Verdict> {
  // A NaN or ∞ in Ĉ is looked for after projecting when the projector's float64 sums show it.
  const pre = precheck(problem, block, claimed, options, false);
  if ('verdict' in pre) return pre.verdict;
  const proj = await (options.projector ?? projectJs)(pre.req);
  checkProjections(proj, block, pre.kv, pre.gw);
  const finite = proj.nonFiniteInCSq ? proj.cSq.every(Number.isFinite) : allFinite(pre.claimed);
  if (!finite) return nonFinite(pre.kv);
  return judge(problem, block, pre.claimed, proj, pre, options);
}

interface Prepared {
  claimed: Float32Array;
  kv: number;
  gw: number;
  rng: Rng;
  /** What the projector is asked (the claimed block and freshly drawn weights). */
  req: ProjectionRequest;
}

/** Argument checks, the cheap refusals (shape, non-finite) and the random weights. */
function precheck(
  problem: MatmulProblem,
  block: Block,
  claimed: ArrayLike<number>,
  options: FreivaldsOptions,
  scanFinite = true,
): Prepared | { verdict: Verdict } {
  const { a, b, m, k, n } = problem;
  const { row0, rows, col0, cols } = block;
  const kv = options.vectors ?? DEFAULT_VECTORS;
  const gw = options.groupCols ?? DEFAULT_GROUP_COLS;
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
  const none = {
    worstRow: -1,
    rigorousRatio: 0,
    flaggedRows: 0,
    flagged: [],
    recomputedRows: 0,
    vectors: kv,
  };
  if (claimed.length !== rows * cols) {
    return { verdict: { accepted: false, reason: 'shape', worstRatio: Infinity, ...none } };
  }
  const c = claimed instanceof Float32Array ? claimed : Float32Array.from(claimed);
  if (scanFinite && !allFinite(c)) return { verdict: nonFinite(kv) };
  const rng = options.rng ?? cryptoRng();
  const req = {
    problem,
    block,
    claimed: c,
    r: drawWeights(rng, kv * cols),
    vectors: kv,
    groupCols: gw,
  };
  return { claimed: c, kv, gw, rng, req };
}

/**
 * Values a weight's magnitude takes: 1 + q/512 for q in [0, 256), so [1, 1.5) in 256 steps. Not
 * ±1 alone: with ±1 weights two errors of equal size in one group cancel for half the draws of
 * their signs (both vectors: a quarter), whatever their size. With 512 equally likely
 * weights, any fixed error pattern cancels in at most 1 draw in 512 per vector. Ten bits of
 * mantissa: a weight times a float32 is exact in float64, and a weight is exact in float32.
 */
export const WEIGHT_STEPS = 256;
const WEIGHT_MAX = 1.5;
/** E[r²] of the weights above, for the noise model. */
const WEIGHT_MEAN_SQ = (() => {
  let s = 0;
  for (let q = 0; q < WEIGHT_STEPS; q++) s += (1 + q / 512) ** 2;
  return s / WEIGHT_STEPS;
})();

/** `len` random weights ±(1 + q/512), sign and q uniform and independent. */
export function drawWeights(rng: Rng, len: number): Float64Array {
  const r = new Float64Array(len);
  for (let i = 0; i < len; i += 3) {
    const bits = rng.nextUint32();
    for (let q = 0; q < 3 && i + q < len; q++) {
      const x = (bits >>> (9 * q)) & 511; // 9 bits: a sign and 8 of magnitude
      r[i + q] = (x & 256 ? -1 : 1) * (1 + (x & 255) / 512);
    }
  }
  return r;
}

/** A projector's answer must have the right sizes and no NaN: anything else is the owner's bug. */
function checkProjections(p: Projections, { rows, cols }: Block, kv: number, gw: number) {
  const groups = Math.ceil(cols / gw);
  const sizes: [Float64Array, number][] = [
    [p.abr, rows * kv * groups],
    [p.cr, rows * kv * groups],
    [p.absAB, rows],
    [p.sqAB, rows],
    [p.cSq, rows * groups],
  ];
  if (
    !sizes.every(([x, len]) => x.length === len) ||
    !(p.unitRoundoff > 0 && p.unitRoundoff < 2 ** -10)
  ) {
    throw new VerifyArgumentError('the projector returned arrays of the wrong size');
  }
}

const U_F32 = 2 ** -24;

/** γ_len in unit roundoff u: the worst-case relative error of a len-term sum. */
function gamma(len: number, u: number): number {
  return (len * u) / (1 - len * u);
}

/** The verdict from a block's projections (see `freivalds`). */
function judge(
  problem: MatmulProblem,
  block: Block,
  claimed: Float32Array,
  proj: Projections,
  { kv, gw, rng }: Prepared,
  options: FreivaldsOptions,
): Verdict {
  const { k } = problem;
  const { rows, cols } = block;
  const groups = Math.ceil(cols / gw);
  const vg = kv * groups;
  const up = proj.unitRoundoff;
  // |Σⱼ rⱼeⱼ| ≤ max|r|·Σⱼ|eⱼ|: the bounds on Σ|e| scale by the largest weight.
  const rig = WEIGHT_MAX * (options.c ?? 1) * gammaF32(k);
  const projRig = WEIGHT_MAX * gamma(k + gw + 2, up);
  const lambda = options.lambda ?? DEFAULT_LAMBDA;
  const floor = k * Math.min(gw, cols) * MIN_NORMAL_F32; // GPUs may flush subnormal products
  let worstRatio = 0;
  let worstRow = 0;
  let rigorousRatio = 0;
  const flagged: number[] = [];
  const ratios = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const absAB = proj.absAB[i]!;
    const sq = proj.sqAB[i]!;
    let rowRatio = 0;
    for (let g = 0; g < groups; g++) {
      const w = Math.min(gw, cols - g * gw);
      const cSq = proj.cSq[i * groups + g]!;
      // The projector's own error: its sums of ≤ k + gw terms, over |A||B_g| and Σ|ĉ| ≤ √(w·Σĉ²).
      const projErr = projRig * (absAB + Math.sqrt(w * cSq));
      const rigBound = rig * absAB + projErr + floor;
      // Expected honest noise of the projection: a recursive float32 sum's roundings have
      // E[δ²] ≈ 0.18u² (round to nearest, log-uniform mantissas) and meet partial sums of mean
      // square ≈ K/2·Σₚaₚ²bₚ² (random walk) + K/3·c² (drift); the last rounding, to c itself,
      // adds ≈ u²c²/3 whatever K (all there is at K = 1); the projector's own roundings add
      // theirs. An estimate, not a bound: a row beyond λ of it is recomputed, never rejected.
      const honestVar = WEIGHT_MEAN_SQ * U_F32 ** 2 * (k * (0.09 * sq + 0.06 * cSq) + cSq / 3);
      const projVar = WEIGHT_MEAN_SQ * up ** 2 * (0.09 * k * sq + 0.09 * w * cSq);
      const probBound = lambda * Math.sqrt(honestVar + projVar) + floor;
      for (let v = 0; v < kv; v++) {
        const t = i * vg + v * groups + g;
        const resid = Math.abs(proj.abr[t]! - proj.cr[t]!);
        rigorousRatio = Math.max(rigorousRatio, resid / rigBound);
        rowRatio = Math.max(rowRatio, resid / probBound);
      }
    }
    if (rowRatio > worstRatio) {
      worstRatio = rowRatio;
      worstRow = i;
    }
    ratios[i] = rowRatio;
    if (rowRatio > 1) flagged.push(i);
  }
  const base = {
    worstRow,
    worstRatio,
    rigorousRatio,
    flaggedRows: flagged.length,
    flagged,
    vectors: kv,
  };
  if (rigorousRatio > 1) return { accepted: false, reason: 'residual', recomputedRows: 0, ...base };
  if (flagged.length === 0) return { accepted: true, recomputedRows: 0, ...base };

  // The grey zone: decide from the exact answer, never from suspicion, and never from a ranking
  // the result itself controls. Past the cap, a random sample of the flagged rows.
  const cap =
    options.maxRecomputeRows ??
    Math.max(DEFAULT_MAX_RECOMPUTE_ROWS, Math.ceil(rows * DEFAULT_RECOMPUTE_FRACTION));
  const resolvable = flagged.length <= cap;
  // All of them, worst first (a wrong row is then found soonest; the order decides only how much
  // work a rejection costs, since an acceptance needs every one), or a random sample.
  const recheck = resolvable
    ? [...flagged].sort((x, y) => ratios[y]! - ratios[x]!)
    : sample(flagged, cap, rng);
  let recomputed = 0;
  for (const row of recheck) {
    recomputed++;
    if (!rowWithinEnvelope(problem, block, claimed, row, options)) {
      return { accepted: false, reason: 'outlier', recomputedRows: recomputed, ...base };
    }
  }
  if (!resolvable)
    return { accepted: false, reason: 'unresolved', recomputedRows: recomputed, ...base };
  return { accepted: true, recomputedRows: recomputed, ...base };
}

/** The verdict on a result holding a NaN or ±∞. */
function nonFinite(vectors: number): Verdict {
  return {
    accepted: false,
    reason: 'non-finite',
    worstRatio: Infinity,
    worstRow: -1,
    rigorousRatio: 0,
    flaggedRows: 0,
    flagged: [],
    recomputedRows: 0,
    vectors,
  };
}

/** Whether no element is NaN or ±∞: x·0 is ±0 for finite x and NaN otherwise, and a sum of
 * zeros stays zero (3× faster than Number.isFinite per element on a million floats). */
function allFinite(c: Float32Array): boolean {
  let z0 = 0;
  let z1 = 0;
  let i = 0;
  for (; i + 2 <= c.length; i += 2) {
    z0 += c[i]! * 0;
    z1 += c[i + 1]! * 0;
  }
  if (i < c.length) z0 += c[i]! * 0;
  return z0 + z1 === 0;
}

/** `count` distinct items of `xs` drawn uniformly (a partial Fisher–Yates shuffle). */
function sample(xs: readonly number[], count: number, rng: Rng): number[] {
  const pool = [...xs];
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const j = i + (rng.nextUint32() % (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, n);
}
