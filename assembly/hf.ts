// The CPU engine's kernels for Hugging Face decoders and encoders (issue 23): RMSNorm, rotary
// embedding (rotate-half), SwiGLU, erf GELU, a linear layer over 16-bit weights and grouped-query
// attention over a KV cache. Float32 activations, float32 arithmetic, as Hugging Face computes in
// float32. Conventions as in kernels.ts: pointers are byte offsets into the imported memory, the
// last two arguments are the row range [r0, r1) one thread computes, rows never overlap.
// Also an embedding lookup over 16-bit tables (a tied LM head is linear16 over the same table).
// Semantics (the float64 reference they are tested against): src/model/hf/reference-ops.ts and
// reference-decoder.ts. Over 450 lines: seven kernels in one module that assembly/kernels.ts
// re-exports, linear16's register blocks unrolled by hand (AssemblyScript has no arrays of v128
// locals) and the erf fits spelled out.

// kernels.ts keeps its helpers module-private; these are their twins, plus an exp that gives an
// exact 0 on underflow (sigmoid and erfc need it) instead of a tiny constant.

@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline
function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** ln of the smallest normal float32: below it `exp4` returns 0. */
const LN_MIN_NORMAL: f32 = -87.33654;

/**
 * e^x for four lanes, x ≤ 88: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial
 * (≈ 1 ulp), 2^n built in the exponent bits; 0 where e^x is below the smallest normal float32.
 */
@inline
function exp4(x0: v128): v128 {
  const x = f32x4.min(f32x4.max(x0, f32x4.splat(-87.3)), f32x4.splat(88.0));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.4426950408889634)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  const pow2 = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const e = f32x4.mul(p, pow2);
  return v128.andnot(e, f32x4.lt(x0, f32x4.splat(LN_MIN_NORMAL)));
}

/** A lane function applied to one float (loop tails share the vector code, so they agree). */
@inline
function lane0(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}

// ---------------------------------------------------------------------------------------------
// RMSNorm

/**
 * Rows [r0, r1) of y = x · 1/√(mean(x²) + eps) · w over rows of `dim` floats: LlamaRMSNorm (also
 * Qwen2/Qwen3/Mistral, and Qwen3's per-head q/k norm with dim = head_dim). y may be x.
 */
export function rmsnorm(x: usize, w: usize, y: usize, dim: i32, eps: f32, r0: i32, r1: i32): void {
  const vec = dim & ~3;
  for (let r = r0; r < r1; r++) {
    const xr = x + <usize>r * dim * 4;
    const yr = y + <usize>r * dim * 4;
    let s4 = f32x4.splat(0);
    for (let i = 0; i < vec; i += 4) {
      const v = v128.load(xr + <usize>i * 4);
      s4 = madd(v, v, s4);
    }
    let ss = hsum(s4);
    for (let i = vec; i < dim; i++) {
      const v = load<f32>(xr + <usize>i * 4);
      ss += v * v;
    }
    const inv: f32 = 1 / Mathf.sqrt(ss / <f32>dim + eps);
    const iv = f32x4.splat(inv);
    for (let i = 0; i < vec; i += 4) {
      const o = <usize>i * 4;
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), iv), v128.load(w + o)));
    }
    for (let i = vec; i < dim; i++) {
      const o = <usize>i * 4;
      store<f32>(yr + o, load<f32>(xr + o) * inv * load<f32>(w + o));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Rotary embedding

/**
 * Rows (tokens) [r0, r1) of x [tokens, heads, headDim], rotated in place in Hugging Face's
 * rotate-half layout: for i < headDim/2, (x_i, x_{i+headDim/2}) turns by the angle
 * positions[t] · invFreq[i] (positions: i32 per token, invFreq: headDim/2 float32). The angle,
 * its cosine and sine are computed in float64 and rounded once, so a far position loses no more
 * than invFreq's own rounding. `scratch`: this thread's headDim floats (cos | sin).
 */
export function rope(
  x: usize,
  positions: usize,
  invFreq: usize,
  heads: i32,
  headDim: i32,
  scratch: usize,
  r0: i32,
  r1: i32,
): void {
  const half = headDim >> 1;
  const vec = half & ~3;
  const sinAt = scratch + <usize>half * 4;
  for (let t = r0; t < r1; t++) {
    const p = <f64>load<i32>(positions + <usize>t * 4);
    for (let i = 0; i < half; i++) {
      const a = p * <f64>load<f32>(invFreq + <usize>i * 4);
      store<f32>(scratch + <usize>i * 4, <f32>Math.cos(a));
      store<f32>(sinAt + <usize>i * 4, <f32>Math.sin(a));
    }
    for (let h = 0; h < heads; h++) {
      const lo = x + (<usize>t * heads + h) * headDim * 4;
      const hi = lo + <usize>half * 4;
      for (let i = 0; i < vec; i += 4) {
        const o = <usize>i * 4;
        const c = v128.load(scratch + o);
        const s = v128.load(sinAt + o);
        const x1 = v128.load(lo + o);
        const x2 = v128.load(hi + o);
        v128.store(lo + o, f32x4.sub(f32x4.mul(x1, c), f32x4.mul(x2, s)));
        v128.store(hi + o, f32x4.add(f32x4.mul(x2, c), f32x4.mul(x1, s)));
      }
      for (let i = vec; i < half; i++) {
        const o = <usize>i * 4;
        const c = load<f32>(scratch + o);
        const s = load<f32>(sinAt + o);
        const x1 = load<f32>(lo + o);
        const x2 = load<f32>(hi + o);
        store<f32>(lo + o, x1 * c - x2 * s);
        store<f32>(hi + o, x2 * c + x1 * s);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Activations

/** silu(g) = g · sigmoid(g), sigmoid from e^−|g| (never overflows; exact 0 far out). */
@inline
function silu4(g: v128): v128 {
  const t = exp4(f32x4.neg(f32x4.abs(g)));
  const d = f32x4.add(f32x4.splat(1), t);
  const sig = v128.bitselect(f32x4.div(f32x4.splat(1), d), f32x4.div(t, d), f32x4.ge(g, f32x4.splat(0)));
  return f32x4.mul(g, sig);
}

/**
 * Rows [r0, r1) of out = silu(gate) · up over rows of `n` floats (LlamaMLP's act_fn(gate_proj)
 * · up_proj). out may be gate or up.
 */
export function swiglu(gate: usize, up: usize, out: usize, n: i32, r0: i32, r1: i32): void {
  const from = <usize>r0 * n * 4;
  const end = <usize>r1 * n * 4;
  let o = from;
  for (; o + 16 <= end; o += 16)
    v128.store(out + o, f32x4.mul(silu4(v128.load(gate + o)), v128.load(up + o)));
  for (; o < end; o += 4)
    store<f32>(out + o, lane0(silu4(f32x4.splat(load<f32>(gate + o)))) * load<f32>(up + o));
}

// erf(z) for z < 1 as z·P(z²), and erfc(z) for z ≥ 1/2 as t·e^(−z² + R(t)) with t = 2/(2 + z)
// (the variable of Numerical Recipes' erfcc, with a longer fit of our own). Both are
// least-squares fits, reweighted towards minimax, made for tessel in float64 against mpmath's
// erf/erfc at 40 digits: P to 1.4e-7 relative in float32 evaluation over [0, 1], R to 3e-10
// absolute over z ∈ [1/2, 60], so erfc keeps ~1e-7 relative accuracy however small it is.
const P0: f32 = 1.1283791228733024;
const P1: f32 = -0.3761232693698766;
const P2: f32 = 0.11280184259010034;
const P3: f32 = -0.026711405025648317;
const P4: f32 = 0.004917644250763628;
const P5: f32 = -0.0005631757081303342;
const R0: f32 = -1.265512099100508;
const R1: f32 = 0.9999981052917977;
const R2: f32 = 0.3750581190705188;
const R3: f32 = 0.08239534409670586;
const R4: f32 = -0.07698005814867334;
const R5: f32 = -0.1973278803380279;
const R6: f32 = 0.11243406824253291;
const R7: f32 = -0.4514196634339586;
const R8: f32 = 0.7309734823245971;
const R9: f32 = 0.07375664026376196;
const R10: f32 = -0.9332722352911778;
const R11: f32 = 0.7390618401803175;
const R12: f32 = -0.18921171760298264;

@inline
function fma4(a: v128, b: v128, c: f32): v128 {
  return madd(a, b, f32x4.splat(c));
}

/**
 * GELU(x) = x/2 · (1 + erf(x/√2)), torch's exact GELU. For x ≤ −1/√2 the bracket is computed
 * as erfc(|x|/√2), not 1 − erf (which cancels to nothing), and e^(−x²/2) takes x² split in two
 * (x = xh + xl, xh of 12 significant bits, so xh² is exact), so the result keeps ~3e-7 (5u)
 * relative accuracy far into the negative tail: tighter than Hugging Face's own float32.
 */
@inline
function geluErf4(x: v128): v128 {
  // |x| ≥ 20: erfc(|x|/√2) < 1e-88 is 0, and capping keeps inf − inf out (gelu(∞) = ∞).
  const a = f32x4.min(f32x4.abs(x), f32x4.splat(20));
  const z = f32x4.mul(a, f32x4.splat(0.7071067811865476));
  // erf(z), z < 1.
  const z2 = f32x4.mul(z, z);
  let p = fma4(f32x4.splat(P5), z2, P4);
  p = fma4(p, z2, P3);
  p = fma4(p, z2, P2);
  p = fma4(p, z2, P1);
  p = fma4(p, z2, P0);
  const e = f32x4.mul(z, p);
  // erfc(z), z ≥ 1.
  const t = f32x4.div(f32x4.splat(2), f32x4.add(f32x4.splat(2), z));
  let r = fma4(f32x4.splat(R12), t, R11);
  r = fma4(r, t, R10);
  r = fma4(r, t, R9);
  r = fma4(r, t, R8);
  r = fma4(r, t, R7);
  r = fma4(r, t, R6);
  r = fma4(r, t, R5);
  r = fma4(r, t, R4);
  r = fma4(r, t, R3);
  r = fma4(r, t, R2);
  r = fma4(r, t, R1);
  r = fma4(r, t, R0);
  const ah = v128.and(a, i32x4.splat(0xfffff000));
  const half = f32x4.splat(-0.5);
  const big = f32x4.mul(f32x4.mul(ah, ah), half); // exact
  const small = f32x4.mul(f32x4.mul(f32x4.sub(a, ah), f32x4.add(a, ah)), half);
  const c = f32x4.mul(f32x4.mul(t, exp4(big)), exp4(f32x4.add(small, r)));
  // erfc from z = 1/2 for x < 0, where 1 − erf would cancel (erf(1) = 0.84 leaves 0.16); from
  // z = 1 for x ≥ 0, where 1 + erf does not.
  const pos = f32x4.ge(x, f32x4.splat(0));
  const far = f32x4.ge(z, v128.bitselect(f32x4.splat(1), f32x4.splat(0.5), pos));
  const one = f32x4.splat(1);
  // 1 + erf(x/√2): x ≥ 0: 1 + e or 2 − c; x < 0: 1 − e or c.
  const bracket = v128.bitselect(
    v128.bitselect(f32x4.sub(f32x4.splat(2), c), f32x4.add(one, e), far),
    v128.bitselect(c, f32x4.sub(one, e), far),
    pos,
  );
  return f32x4.mul(f32x4.mul(x, f32x4.splat(0.5)), bracket);
}

/** Rows [r0, r1) of y = GELU(x) (erf form; BERT's `gelu`) over rows of `n` floats. y may be x. */
export function gelu_erf(x: usize, y: usize, n: i32, r0: i32, r1: i32): void {
  const from = <usize>r0 * n * 4;
  const end = <usize>r1 * n * 4;
  let o = from;
  for (; o + 16 <= end; o += 16) v128.store(y + o, geluErf4(v128.load(x + o)));
  for (; o < end; o += 4) store<f32>(y + o, lane0(geluErf4(f32x4.splat(load<f32>(x + o)))));
}

// ---------------------------------------------------------------------------------------------
// Linear layer over 16-bit (or 32-bit) weights

/** Weight dtypes of `linear16`. */
export const DTYPE_F32: i32 = 0;
export const DTYPE_F16: i32 = 1;
export const DTYPE_BF16: i32 = 2;
/** Output features whose weights are widened together. */
export const LINEAR_OUTS: i32 = 4;
/** Depth of one widened block: LINEAR_OUTS × LINEAR_DEPTH floats (32 KiB) of scratch. */
export const LINEAR_DEPTH: i32 = 2048;

/** Four 16-bit patterns (zero-extended in i32 lanes) as float32, exactly. */
@inline
function widen4(h: v128, dtype: i32): v128 {
  if (dtype == DTYPE_BF16) return i32x4.shl(h, 16);
  const sign = i32x4.shl(v128.and(h, i32x4.splat(0x8000)), 16);
  const mag = v128.and(h, i32x4.splat(0x7fff));
  const bits = i32x4.shl(mag, 13);
  // Rebiasing by a multiply by 2^112 is exact for normals and subnormals alike (WebAssembly
  // keeps subnormals); infinities and NaNs get the all-ones exponent instead.
  const finite = f32x4.mul(bits, f32x4.splat(reinterpret<f32>(0x77800000)));
  const special = v128.or(bits, i32x4.splat(0x7f800000));
  const v = v128.bitselect(special, finite, i32x4.ge_s(mag, i32x4.splat(0x7c00)));
  return v128.or(v, sign);
}

/** `count` 16-bit weights at `src` as float32 at `dst`. */
function widenRow(src: usize, dst: usize, count: i32, dtype: i32): void {
  let i = 0;
  for (; i + 8 <= count; i += 8) {
    const h = v128.load(src + <usize>i * 2);
    v128.store(dst + <usize>i * 4, widen4(i32x4.extend_low_i16x8_u(h), dtype));
    v128.store(dst + <usize>i * 4, widen4(i32x4.extend_high_i16x8_u(h), dtype), 16);
  }
  for (; i < count; i++)
    store<f32>(dst + <usize>i * 4, lane0(widen4(i32x4.splat(load<u16>(src + <usize>i * 2)), dtype)));
}

/** Eight 16-bit weights at `p` times x's eight floats at `xv0`, `xv1`, added to `acc`. */
@inline
function dot8(p: usize, dtype: i32, xv0: v128, xv1: v128, acc: v128): v128 {
  const h = v128.load(p);
  acc = madd(xv0, widen4(i32x4.extend_low_i16x8_u(h), dtype), acc);
  return madd(xv1, widen4(i32x4.extend_high_i16x8_u(h), dtype), acc);
}

/**
 * `linear16` for one row of x (a one-token decode step): each weight is used once, so it is
 * widened in registers, 8 at a time, and never stored: the step reads W's 2 bytes a weight and
 * nothing more.
 */
function decodeRow16(
  x: usize,
  w: usize,
  dtype: i32,
  bias: usize,
  y: usize,
  inF: i32,
  o0: i32,
  o1: i32,
): void {
  const vec = inF & ~7;
  const stride = <usize>inF * 2;
  let o = o0;
  for (; o + 4 <= o1; o += 4) {
    const p0 = w + <usize>o * stride;
    const p1 = p0 + stride;
    const p2 = p1 + stride;
    const p3 = p2 + stride;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    for (let k = 0; k < vec; k += 8) {
      const xv0 = v128.load(x + <usize>k * 4);
      const xv1 = v128.load(x + <usize>k * 4, 16);
      const off = <usize>k * 2;
      a0 = dot8(p0 + off, dtype, xv0, xv1, a0);
      a1 = dot8(p1 + off, dtype, xv0, xv1, a1);
      a2 = dot8(p2 + off, dtype, xv0, xv1, a2);
      a3 = dot8(p3 + off, dtype, xv0, xv1, a3);
    }
    let s0 = hsum(a0);
    let s1 = hsum(a1);
    let s2 = hsum(a2);
    let s3 = hsum(a3);
    for (let k = vec; k < inF; k++) {
      const xk = load<f32>(x + <usize>k * 4);
      const off = <usize>k * 2;
      s0 += xk * lane0(widen4(i32x4.splat(load<u16>(p0 + off)), dtype));
      s1 += xk * lane0(widen4(i32x4.splat(load<u16>(p1 + off)), dtype));
      s2 += xk * lane0(widen4(i32x4.splat(load<u16>(p2 + off)), dtype));
      s3 += xk * lane0(widen4(i32x4.splat(load<u16>(p3 + off)), dtype));
    }
    accumulate(y + <usize>o * 4, true, bias, o, s0);
    accumulate(y + <usize>(o + 1) * 4, true, bias, o + 1, s1);
    accumulate(y + <usize>(o + 2) * 4, true, bias, o + 2, s2);
    accumulate(y + <usize>(o + 3) * 4, true, bias, o + 3, s3);
  }
  for (; o < o1; o++) {
    const p0 = w + <usize>o * stride;
    let a0 = f32x4.splat(0);
    for (let k = 0; k < vec; k += 8)
      a0 = dot8(p0 + <usize>k * 2, dtype, v128.load(x + <usize>k * 4), v128.load(x + <usize>k * 4, 16), a0);
    let s0 = hsum(a0);
    for (let k = vec; k < inF; k++)
      s0 += load<f32>(x + <usize>k * 4) * lane0(widen4(i32x4.splat(load<u16>(p0 + <usize>k * 2)), dtype));
    accumulate(y + <usize>o * 4, true, bias, o, s0);
  }
}

/** y[r, o] = (first block: bias[o] or 0, else y[r, o]) + s. */
@inline
function accumulate(y: usize, first: bool, bias: usize, o: i32, s: f32): void {
  const prev: f32 = first ? (bias ? load<f32>(bias + <usize>o * 4) : 0) : load<f32>(y);
  store<f32>(y, prev + s);
}

/**
 * Output features [o0, o1) of y [rows, outF] = x [rows, inF] · Wᵀ (+ bias, outF float32; 0 for
 * none) with W [outF, inF] as torch.nn.Linear stores it, `dtype` DTYPE_F32, DTYPE_F16 or
 * DTYPE_BF16. 16-bit weights are widened LINEAR_OUTS rows × LINEAR_DEPTH at a time into
 * `scratch` (this thread's) and dotted with every row of x, so W stays 16-bit in memory and is
 * read once per call (one row of x: widened in registers instead, decodeRow16); float32
 * weights are dotted where they lie. y must not overlap x. Threads split output features,
 * so a one-token decode step still shares its weights' reading among them.
 */
export function linear16(
  x: usize,
  w: usize,
  dtype: i32,
  bias: usize,
  y: usize,
  rows: i32,
  inF: i32,
  outF: i32,
  scratch: usize,
  o0: i32,
  o1: i32,
): void {
  const width: usize = dtype == DTYPE_F32 ? 4 : 2;
  if (inF == 0) {
    for (let r = 0; r < rows; r++)
      for (let o = o0; o < o1; o++)
        accumulate(y + (<usize>r * outF + o) * 4, true, bias, o, 0);
    return;
  }
  if (rows == 1 && dtype != DTYPE_F32) {
    decodeRow16(x, w, dtype, bias, y, inF, o0, o1);
    return;
  }
  for (let o = o0; o < o1; o += LINEAR_OUTS) {
    const nb = min(LINEAR_OUTS, o1 - o);
    for (let k0 = 0; k0 < inF; k0 += LINEAR_DEPTH) {
      const kc = min(LINEAR_DEPTH, inF - k0);
      const first = k0 == 0;
      // Each of the 4 weight rows (a missing one repeats row 0; its sums are not stored).
      let w0: usize = 0;
      let w1: usize = 0;
      let w2: usize = 0;
      let w3: usize = 0;
      for (let j = 0; j < LINEAR_OUTS; j++) {
        const src = w + (<usize>(o + (j < nb ? j : 0)) * inF + k0) * width;
        let at = src;
        if (dtype != DTYPE_F32) {
          at = scratch + <usize>j * LINEAR_DEPTH * 4;
          if (j < nb) widenRow(src, at, kc, dtype);
          else at = scratch;
        }
        if (j == 0) w0 = at;
        else if (j == 1) w1 = at;
        else if (j == 2) w2 = at;
        else w3 = at;
      }
      const vec = kc & ~3;
      let r = 0;
      // Two rows of x at a time: 8 accumulators, each loaded weight vector used twice.
      for (; r + 2 <= rows; r += 2) {
        const xa = x + (<usize>r * inF + k0) * 4;
        const xb = xa + <usize>inF * 4;
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        let b0 = f32x4.splat(0);
        let b1 = f32x4.splat(0);
        let b2 = f32x4.splat(0);
        let b3 = f32x4.splat(0);
        for (let k = 0; k < vec; k += 4) {
          const off = <usize>k * 4;
          const va = v128.load(xa + off);
          const vb = v128.load(xb + off);
          const v0 = v128.load(w0 + off);
          const v1 = v128.load(w1 + off);
          const v2 = v128.load(w2 + off);
          const v3 = v128.load(w3 + off);
          a0 = madd(va, v0, a0);
          a1 = madd(va, v1, a1);
          a2 = madd(va, v2, a2);
          a3 = madd(va, v3, a3);
          b0 = madd(vb, v0, b0);
          b1 = madd(vb, v1, b1);
          b2 = madd(vb, v2, b2);
          b3 = madd(vb, v3, b3);
        }
        let sa0 = hsum(a0);
        let sa1 = hsum(a1);
        let sa2 = hsum(a2);
        let sa3 = hsum(a3);
        let sb0 = hsum(b0);
        let sb1 = hsum(b1);
        let sb2 = hsum(b2);
        let sb3 = hsum(b3);
        for (let k = vec; k < kc; k++) {
          const off = <usize>k * 4;
          const va = load<f32>(xa + off);
          const vb = load<f32>(xb + off);
          sa0 += va * load<f32>(w0 + off);
          sa1 += va * load<f32>(w1 + off);
          sa2 += va * load<f32>(w2 + off);
          sa3 += va * load<f32>(w3 + off);
          sb0 += vb * load<f32>(w0 + off);
          sb1 += vb * load<f32>(w1 + off);
          sb2 += vb * load<f32>(w2 + off);
          sb3 += vb * load<f32>(w3 + off);
        }
        const ya = y + (<usize>r * outF + o) * 4;
        const yb = ya + <usize>outF * 4;
        accumulate(ya, first, bias, o, sa0);
        accumulate(yb, first, bias, o, sb0);
        if (nb > 1) {
          accumulate(ya + 4, first, bias, o + 1, sa1);
          accumulate(yb + 4, first, bias, o + 1, sb1);
        }
        if (nb > 2) {
          accumulate(ya + 8, first, bias, o + 2, sa2);
          accumulate(yb + 8, first, bias, o + 2, sb2);
        }
        if (nb > 3) {
          accumulate(ya + 12, first, bias, o + 3, sa3);
          accumulate(yb + 12, first, bias, o + 3, sb3);
        }
      }
      // The last row, alone (every row of a one-token decode step).
      if (r < rows) {
        const xa = x + (<usize>r * inF + k0) * 4;
        let a0 = f32x4.splat(0);
        let a1 = f32x4.splat(0);
        let a2 = f32x4.splat(0);
        let a3 = f32x4.splat(0);
        for (let k = 0; k < vec; k += 4) {
          const off = <usize>k * 4;
          const va = v128.load(xa + off);
          a0 = madd(va, v128.load(w0 + off), a0);
          a1 = madd(va, v128.load(w1 + off), a1);
          a2 = madd(va, v128.load(w2 + off), a2);
          a3 = madd(va, v128.load(w3 + off), a3);
        }
        let s0 = hsum(a0);
        let s1 = hsum(a1);
        let s2 = hsum(a2);
        let s3 = hsum(a3);
        for (let k = vec; k < kc; k++) {
          const off = <usize>k * 4;
          const va = load<f32>(xa + off);
          s0 += va * load<f32>(w0 + off);
          s1 += va * load<f32>(w1 + off);
          s2 += va * load<f32>(w2 + off);
          s3 += va * load<f32>(w3 + off);
        }
        const ya = y + (<usize>r * outF + o) * 4;
        accumulate(ya, first, bias, o, s0);
        if (nb > 1) accumulate(ya + 4, first, bias, o + 1, s1);
        if (nb > 2) accumulate(ya + 8, first, bias, o + 2, s2);
        if (nb > 3) accumulate(ya + 12, first, bias, o + 3, s3);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding lookup over 16-bit (or 32-bit) tables

/**
 * Rows (tokens) [r0, r1) of out [tokens, dim] = (accumulate ? out : 0) + table[ids[t]], the
 * table [vocab, dim] in `dtype` (DTYPE_F32, DTYPE_F16, DTYPE_BF16) widened row by row, ids i32
 * (checked against the vocabulary by the caller). With `accumulate`, BERT's word + position +
 * token-type sum is three calls.
 */
export function embed16(
  ids: usize,
  table: usize,
  dtype: i32,
  out: usize,
  dim: i32,
  accumulate: i32,
  r0: i32,
  r1: i32,
): void {
  const width: usize = dtype == DTYPE_F32 ? 4 : 2;
  const vec = dim & ~7;
  for (let t = r0; t < r1; t++) {
    const src = table + <usize>load<i32>(ids + <usize>t * 4) * dim * width;
    const o = out + <usize>t * dim * 4;
    let i = 0;
    for (; i < vec; i += 8) {
      let lo: v128;
      let hi: v128;
      if (dtype == DTYPE_F32) {
        lo = v128.load(src + <usize>i * 4);
        hi = v128.load(src + <usize>i * 4, 16);
      } else {
        const h = v128.load(src + <usize>i * 2);
        lo = widen4(i32x4.extend_low_i16x8_u(h), dtype);
        hi = widen4(i32x4.extend_high_i16x8_u(h), dtype);
      }
      const at = o + <usize>i * 4;
      if (accumulate) {
        lo = f32x4.add(v128.load(at), lo);
        hi = f32x4.add(v128.load(at, 16), hi);
      }
      v128.store(at, lo);
      v128.store(at, hi, 16);
    }
    for (; i < dim; i++) {
      const v: f32 =
        dtype == DTYPE_F32
          ? load<f32>(src + <usize>i * 4)
          : lane0(widen4(i32x4.splat(load<u16>(src + <usize>i * 2)), dtype));
      const at = o + <usize>i * 4;
      store<f32>(at, accumulate ? load<f32>(at) + v : v);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Grouped-query attention over a KV cache

/**
 * Rows [r0, r1) of out [tokens, heads, headDim], row r = token r / heads, head r % heads:
 * softmax(q·kⱼ · scale) · vⱼ over the cache rows j ∈ [ranges[2t], ranges[2t+1]) of token t (i32
 * pairs: causality, padding and a sliding window all make one contiguous range; absolute rows,
 * so one cache buffer may hold a batch's sequences one after another). Head h reads kv head
 * h / (heads / kvHeads) of k and v [cacheRows, kvHeads, headDim]. Softmax in float32 with the
 * maximum subtracted; an empty range gives zeros (a left-pad query, whose output is unused).
 * `scratch`: this thread's floats for the scores (the caller checks the range fits). out may
 * be q (each row reads only its own query), never k or v.
 */
export function attention_gqa(
  q: usize,
  k: usize,
  v: usize,
  ranges: usize,
  out: usize,
  heads: i32,
  kvHeads: i32,
  headDim: i32,
  scale: f32,
  scratch: usize,
  r0: i32,
  r1: i32,
): void {
  const group = heads / kvHeads;
  const vec = headDim & ~3;
  const rowBytes = <usize>headDim * 4;
  const kvStride = <usize>kvHeads * rowBytes;
  for (let r = r0; r < r1; r++) {
    const t = r / heads;
    const kvh = (r % heads) / group;
    const lo = load<i32>(ranges + <usize>t * 8);
    const hi = load<i32>(ranges + <usize>t * 8, 4);
    const qr = q + <usize>r * rowBytes;
    const o = out + <usize>r * rowBytes;
    if (hi <= lo) {
      for (let i = 0; i < headDim; i++) store<f32>(o + <usize>i * 4, 0);
      continue;
    }
    const count = hi - lo;
    let m: f32 = -Infinity;
    for (let j = 0; j < count; j++) {
      const kr = k + <usize>(lo + j) * kvStride + <usize>kvh * rowBytes;
      let acc = f32x4.splat(0);
      for (let i = 0; i < vec; i += 4)
        acc = madd(v128.load(qr + <usize>i * 4), v128.load(kr + <usize>i * 4), acc);
      let s = hsum(acc);
      for (let i = vec; i < headDim; i++) s += load<f32>(qr + <usize>i * 4) * load<f32>(kr + <usize>i * 4);
      s *= scale;
      store<f32>(scratch + <usize>j * 4, s);
      m = max(m, s);
    }
    const mv = f32x4.splat(m);
    let z4 = f32x4.splat(0);
    let j = 0;
    for (; j + 4 <= count; j += 4) {
      const e = exp4(f32x4.sub(v128.load(scratch + <usize>j * 4), mv));
      v128.store(scratch + <usize>j * 4, e);
      z4 = f32x4.add(z4, e);
    }
    let z = hsum(z4);
    for (; j < count; j++) {
      const e = lane0(exp4(f32x4.splat(load<f32>(scratch + <usize>j * 4) - m)));
      store<f32>(scratch + <usize>j * 4, e);
      z += e;
    }
    // out = Σ eⱼ·vⱼ, one cache row at a time (contiguous reads), then ÷ z. Zeroed only now
    // that q's row is read: out may be q.
    for (let i = 0; i < headDim; i++) store<f32>(o + <usize>i * 4, 0);
    for (let jj = 0; jj < count; jj++) {
      const vr = v + <usize>(lo + jj) * kvStride + <usize>kvh * rowBytes;
      const e = load<f32>(scratch + <usize>jj * 4);
      const ev = f32x4.splat(e);
      for (let i = 0; i < vec; i += 4) {
        const off = <usize>i * 4;
        v128.store(o + off, madd(ev, v128.load(vr + off), v128.load(o + off)));
      }
      for (let i = vec; i < headDim; i++) {
        const off = <usize>i * 4;
        store<f32>(o + off, load<f32>(o + off) + e * load<f32>(vr + off));
      }
    }
    const invz: f32 = 1 / z;
    const iz = f32x4.splat(invz);
    for (let i = 0; i < vec; i += 4) {
      const off = <usize>i * 4;
      v128.store(o + off, f32x4.mul(v128.load(o + off), iz));
    }
    for (let i = vec; i < headDim; i++) {
      const off = <usize>i * 4;
      store<f32>(o + off, load<f32>(o + off) * invz);
    }
  }
}
