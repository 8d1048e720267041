// The CPU engine's kernels for Hugging Face decoders and encoders (issue 23): RMSNorm, rotary
// embedding (rotate-half), SwiGLU, erf GELU, a linear layer over 16-bit weights and grouped-query
// attention over a KV cache. Float32 activations, float32 arithmetic, as Hugging Face computes in
// float32. Conventions as in kernels.ts: pointers are byte offsets into the imported memory, the
// last two arguments are the row range [r0, r1) one thread computes, rows never overlap.
// Also an embedding lookup over 16-bit tables (a tied LM head is linear16 over the same table).
// Semantics (the float64 reference they are tested against): src/model/hf/reference-ops.ts and
// reference-decoder.ts. This module: RMSNorm, RoPE and the activations; the linear layer and
// embedding over 16-bit weights: hf-linear.ts; attention: hf-attention.ts; shared SIMD helpers:
// hf-simd.ts. assembly/kernels.ts re-exports the three.

import { exp4, hsum, lane0, madd } from './hf-simd';

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
