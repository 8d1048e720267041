// The owner's side of Freivalds' check on the CPU engine (src/cpu/projector.ts): the projections
// B_g·r_g, A·(B_g·r_g) and Ĉ_g·r_g of src/jobs/projections.ts, in float64 SIMD (f64x2) so the
// verdict's bounds hold as they do for the float64 reference. A float32 times a weight
// ±(1 + q/512) is exact in float64, so only the sums round. Row ranges [i0, i1) as in kernels.ts.

@inline
function madd2(a: v128, b: v128, c: v128): v128 {
  // A fused multiply-add rounds once: never less accurate than multiply-then-add.
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/** Two float32s at `p` as an f64x2. */
@inline
function load2(p: usize): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(p));
}

@inline
function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** Σ_{j0 ≤ j < j1} x[j]·r[j], x float32 at `row`, r float64 at `rv`. */
@inline
function weighted(row: usize, rv: usize, j0: i32, j1: i32): f64 {
  let t = f64x2.splat(0);
  let j = j0;
  for (; j + 2 <= j1; j += 2) t = madd2(load2(row + <usize>j * 4), v128.load(rv + <usize>j * 8), t);
  let s = hsum(t);
  if (j < j1) s += <f64>load<f32>(row + <usize>j * 4) * load<f64>(rv + <usize>j * 8);
  return s;
}

/**
 * Rows [p0, p1) of B's block (columns col0…col0+cols of a K × N matrix, row stride ldb floats):
 * row p of `br` (stride `st` f64) gets Σ_{j∈g} bₚⱼ·r_v[j] at v·groups + g for each of `kv`
 * weight vectors (`r`: kv × cols f64) and groups of `gw` columns, and at `vp`, `vp + 1` the
 * largest Σ_{j∈g}|bₚⱼ| and Σ_{j∈g}bₚⱼ² over its groups.
 */
export function fvProjectB(
  b: usize,
  ldb: i32,
  col0: i32,
  cols: i32,
  r: usize,
  kv: i32,
  gw: i32,
  br: usize,
  st: i32,
  vp: i32,
  p0: i32,
  p1: i32,
): void {
  const groups = (cols + gw - 1) / gw;
  for (let p = p0; p < p1; p++) {
    const row = b + (<usize>p * ldb + col0) * 4;
    const out = br + <usize>p * st * 8;
    let absMax: f64 = 0;
    let sqMax: f64 = 0;
    for (let g = 0; g < groups; g++) {
      const j0 = g * gw;
      const j1 = min(cols, j0 + gw);
      let s = f64x2.splat(0);
      let q = f64x2.splat(0);
      let j = j0;
      for (; j + 2 <= j1; j += 2) {
        const x = load2(row + <usize>j * 4);
        s = f64x2.add(s, f64x2.abs(x));
        q = madd2(x, x, q);
      }
      let ss = hsum(s);
      let qq = hsum(q);
      if (j < j1) {
        const x = <f64>load<f32>(row + <usize>j * 4);
        ss += abs(x);
        qq += x * x;
      }
      absMax = max(absMax, ss);
      sqMax = max(sqMax, qq);
      for (let v = 0; v < kv; v++) {
        const rv = r + <usize>(v * cols) * 8;
        store<f64>(out + <usize>(v * groups + g) * 8, weighted(row, rv, j0, j1));
      }
    }
    store<f64>(out + <usize>vp * 8, absMax);
    store<f64>(out + <usize>(vp + 1) * 8, sqMax);
  }
}

/**
 * Rows [i0, i1) of A's block (rows row0… of an M × K matrix, row stride lda floats): row i of
 * `abr` (stride vp f64) = A_i·br for the vp projection columns of `br` (a multiple of 8), and
 * `aux` [2i, 2i + 1] = (Σₚ|aᵢₚ|·absMaxₚ, Σₚaᵢₚ²·sqMaxₚ).
 */
export function fvProjectA(
  a: usize,
  lda: i32,
  row0: i32,
  k: i32,
  br: usize,
  st: i32,
  vp: i32,
  abr: usize,
  aux: usize,
  i0: i32,
  i1: i32,
): void {
  const rowBytes = <usize>st * 8;
  for (let i = i0; i < i1; i++) {
    const arow = a + <usize>(row0 + i) * <usize>lda * 4;
    for (let c = 0; c < vp; c += 8) {
      let acc0 = f64x2.splat(0);
      let acc1 = f64x2.splat(0);
      let acc2 = f64x2.splat(0);
      let acc3 = f64x2.splat(0);
      let src = br + <usize>c * 8;
      for (let p = 0; p < k; p++) {
        const x = f64x2.splat(<f64>load<f32>(arow + <usize>p * 4));
        acc0 = madd2(x, v128.load(src), acc0);
        acc1 = madd2(x, v128.load(src, 16), acc1);
        acc2 = madd2(x, v128.load(src, 32), acc2);
        acc3 = madd2(x, v128.load(src, 48), acc3);
        src += rowBytes;
      }
      const dst = abr + (<usize>i * vp + c) * 8;
      v128.store(dst, acc0);
      v128.store(dst, acc1, 16);
      v128.store(dst, acc2, 32);
      v128.store(dst, acc3, 48);
    }
    let acc = f64x2.splat(0);
    let src = br + <usize>vp * 8;
    for (let p = 0; p < k; p++) {
      const x = <f64>load<f32>(arow + <usize>p * 4);
      acc = madd2(f64x2(abs(x), x * x), v128.load(src), acc);
      src += rowBytes;
    }
    v128.store(aux + <usize>i * 16, acc);
  }
}

/**
 * Rows [i0, i1) of the claimed block Ĉ (rows × cols f32, row-major): row i of `cr` (stride vp
 * f64) gets Σ_{j∈g} ĉᵢⱼ·r_v[j] at v·groups + g, and `csq` (stride groups) Σ_{j∈g} ĉᵢⱼ².
 */
export function fvProjectC(
  c: usize,
  cols: i32,
  r: usize,
  kv: i32,
  gw: i32,
  cr: usize,
  vp: i32,
  csq: usize,
  i0: i32,
  i1: i32,
): void {
  const groups = (cols + gw - 1) / gw;
  for (let i = i0; i < i1; i++) {
    const row = c + <usize>i * <usize>cols * 4;
    for (let g = 0; g < groups; g++) {
      const j0 = g * gw;
      const j1 = min(cols, j0 + gw);
      let q = f64x2.splat(0);
      let j = j0;
      for (; j + 2 <= j1; j += 2) {
        const x = load2(row + <usize>j * 4);
        q = madd2(x, x, q);
      }
      let qq = hsum(q);
      if (j < j1) {
        const x = <f64>load<f32>(row + <usize>j * 4);
        qq += x * x;
      }
      store<f64>(csq + (<usize>i * groups + g) * 8, qq);
      for (let v = 0; v < kv; v++) {
        const rv = r + <usize>(v * cols) * 8;
        store<f64>(cr + (<usize>i * vp + v * groups + g) * 8, weighted(row, rv, j0, j1));
      }
    }
  }
}
