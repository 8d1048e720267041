// SIMD helpers of the Hugging Face kernels (hf.ts, hf-linear.ts, hf-attention.ts). kernels.ts keeps
// its own module-private; these are their twins, plus an exp that gives an exact 0 on underflow
// (sigmoid and erfc need it) instead of a tiny constant. Not re-exported: no WebAssembly exports.

@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline
export function hsum(v: v128): f32 {
  return (
    f32x4.extract_lane(v, 0) +
    f32x4.extract_lane(v, 1) +
    (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3))
  );
}

/** ln of the smallest normal float32: below it `exp4` returns 0. */
export const LN_MIN_NORMAL: f32 = -87.33654;

/**
 * e^x for four lanes, x ≤ 88: x = n·ln2 + r, |r| ≤ ln2/2, e^r by Cephes' degree-6 polynomial
 * (≈ 1 ulp), 2^n built in the exponent bits; 0 where e^x is below the smallest normal float32.
 */
@inline
export function exp4(x0: v128): v128 {
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
export function lane0(v: v128): f32 {
  return f32x4.extract_lane(v, 0);
}
