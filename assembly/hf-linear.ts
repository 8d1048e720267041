// The CPU engine's linear layer over 16-bit (or 32-bit) weights and its embedding lookup over
// 16-bit tables, for Hugging Face models (a tied LM head is linear16 over the same table).
// Conventions as in kernels.ts and hf.ts. Long because linear16's register blocks are unrolled
// by hand (AssemblyScript has no arrays of v128 locals).

import { exp4, hsum, lane0, madd } from './hf-simd';

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
