// The projections Freivalds' check needs, as a contract any engine can fulfil: the reference
// here in float64 JavaScript, the CPU engine's WebAssembly SIMD kernel (src/cpu/projector.ts) and
// the WebGPU kernel (src/gpu/projector.ts). The verdict (src/jobs/freivalds.ts) only reads these
// numbers, so every engine is judged by the same rule. Here, below every engine, so each can
// implement it (src/gpu comes first on the data path).

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

/** What to project: the block of C a shard claims, and the random weight vectors to project with. */
export interface ProjectionRequest {
  problem: MatmulProblem;
  block: Block;
  /** The claimed block, rows × cols row-major, of the right size; it may hold NaN or ∞ (a
   * projector that keeps them in cSq says so: `nonFiniteInCSq`). */
  claimed: Float32Array;
  /** `vectors` random vectors of weights ±(1 + q/512), q < 256 (exact in float32), each
   * `block.cols` long, one after another. */
  r: Float64Array;
  vectors: number;
  /** Columns per group: residuals are taken over groups of at most this many columns. */
  groupCols: number;
}

/**
 * The projections of one block, per row i of the block and per projection t = v·groups + g
 * (vector v, column group g of at most `groupCols` columns):
 */
export interface Projections {
  /** rows × vg: (A·(B_g·r_g))ᵢ, the exact projection of the true product. */
  abr: Float64Array;
  /** rows × vg: (Ĉ_g·r_g)ᵢ, the same projection of the claimed block. */
  cr: Float64Array;
  /** rows: Σₚ |aᵢₚ|·maxg Σ_{j∈g} |bₚⱼ|, for the rigorous bound. */
  absAB: Float64Array;
  /** rows: Σₚ aᵢₚ²·maxg Σ_{j∈g} bₚⱼ², for the modelled honest noise. */
  sqAB: Float64Array;
  /** rows × groups: Σ_{j∈g} ĉᵢⱼ². */
  cSq: Float64Array;
  /**
   * Unit roundoff of the arithmetic that produced these numbers (2⁻⁵³ for float64): the verdict
   * widens its bounds by the projector's own worst-case error, γ(k + groupCols + 2) in this
   * unit times (absAB + Σ|ĉ|), so a coarser engine loosens the check, never wrongs a peer.
   */
  unitRoundoff: number;
  /**
   * True when cSq was summed in IEEE float64 from every claimed element, so a NaN or ±∞ among
   * them is a non-finite cSq (the verdict then needs no pass of its own over Ĉ). GPUs may not
   * keep NaN (WGSL leaves it to the implementation): the WebGPU projector leaves this unset.
   */
  nonFiniteInCSq?: boolean;
}

/** Computes a block's projections; may run on another thread or device, hence the promise. */
export type Projector = (req: ProjectionRequest) => Projections | Promise<Projections>;

/** float64 unit roundoff. */
export const U_F64 = 2 ** -53;

/**
 * The reference projector, in float64 JavaScript: one pass over B's block columns, one over A's
 * block rows, one over Ĉ. O(k·cols·vectors + rows·k·(vg + 2) + rows·cols·vectors).
 */
export function projectJs({
  problem,
  block,
  claimed,
  r,
  vectors: kv,
  groupCols: gw,
}: ProjectionRequest): Projections {
  const { a, b, k, n } = problem;
  const { row0, rows, col0, cols } = block;
  const groups = Math.ceil(cols / gw);
  const vg = kv * groups;
  // B_g·r_g for every vector and group, laid out along K for the row dot products, and per row
  // of B the largest Σ|b| and Σb² over its groups.
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
  const abr = new Float64Array(rows * vg);
  const cr = new Float64Array(rows * vg);
  const absAB = new Float64Array(rows);
  const sqAB = new Float64Array(rows);
  const cSq = new Float64Array(rows * groups);
  for (let i = 0; i < rows; i++) {
    const aBase = (row0 + i) * k;
    absAB[i] = dotAbs(a, aBase, bAbsMax, k);
    sqAB[i] = dotSq(a, aBase, bSqMax, k);
    for (let t = 0; t < vg; t++) abr[i * vg + t] = dot(a, aBase, br, t * k, k);
    const cBase = i * cols;
    for (let g = 0; g < groups; g++) {
      const j0 = g * gw;
      const j1 = Math.min(cols, j0 + gw);
      let s = 0;
      for (let j = j0; j < j1; j++) s += claimed[cBase + j]! ** 2;
      cSq[i * groups + g] = s;
      for (let v = 0; v < kv; v++) {
        const ro = v * cols;
        let t = 0;
        for (let j = j0; j < j1; j++) t += claimed[cBase + j]! * r[ro + j]!;
        cr[i * vg + v * groups + g] = t;
      }
    }
  }
  return { abr, cr, absAB, sqAB, cSq, unitRoundoff: U_F64, nonFiniteInCSq: true };
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
