// Rotary position embedding in Hugging Face's rotate-half layout (apply_rotary_pos_emb), in place
// on x laid out [tokens, heads, headDim]: for i < headDim/2 the pair (x_i, x_{i+headDim/2}) turns by
// angle position·invFreq_i. One invocation per (token, head, i).
//
// The angle is reduced to [−π, π) in turns:
// turns[4i..4i+3] hold invFreq_i/2π split on the CPU into three parts of 7 significant bits and a
// rest (src/gpu/hf/rotary.ts), so for positions < 2^17 each product position·part is exact in f32,
// its fractional part too, and the angle's error is a few f32 roundings of a number below 1 turn.
// sin and cos come from Taylor polynomials on [−π/4, π/4] after an exact quarter-turn reduction,
// not from WGSL's sin/cos: WGSL only bounds those to 2⁻¹¹ absolute, and SwiftShader's err by
// ~2e−5, which would be the whole error budget.
struct RopeDims {
  tokens: u32,
  heads: u32,
  headDim: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> positions: array<u32>;
@group(0) @binding(2) var<storage, read> turns: array<f32>;
@group(0) @binding(3) var<uniform> dims: RopeDims;

const TWO_PI: f32 = 6.283185307179586;

// (cos, sin) of t turns, |t| ≤ 1/2. r = t − q/4 is exact (t and q/4 are multiples of t's ulp and
// |r| ≤ |t|); on |x| ≤ π/4 the truncated series err by < 2e−9, below f32's rounding.
fn cosSinTurns(t: f32) -> vec2<f32> {
  let q = round(t * 4.0);
  let x = (t - q * 0.25) * TWO_PI;
  let x2 = x * x;
  let s = x * (1.0 + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 / 362880.0))));
  let c = 1.0 + x2 * (-0.5 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0
    - x2 / 3628800.0))));
  let quadrant = i32(q) & 3; // −2..2, as 0..3
  if (quadrant == 0) {
    return vec2<f32>(c, s);
  }
  if (quadrant == 1) {
    return vec2<f32>(-s, c);
  }
  if (quadrant == 2) {
    return vec2<f32>(-c, -s);
  }
  return vec2<f32>(s, -c);
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let half = dims.headDim / 2u;
  let n = gid.y * nwg.x * 256u + gid.x;
  if (n >= dims.tokens * dims.heads * half) {
    return;
  }
  let i = n % half;
  let th = n / half; // token · heads + head
  let p = f32(positions[th / dims.heads]);
  var t = fract(p * turns[4u * i]);
  t = fract(t + fract(p * turns[4u * i + 1u]));
  t = fract(t + fract(p * turns[4u * i + 2u]));
  t = fract(t + p * turns[4u * i + 3u]);
  let cs = cosSinTurns(select(t, t - 1.0, t >= 0.5));
  let c = cs.x;
  let s = cs.y;
  let at = th * dims.headDim + i;
  let x1 = x[at];
  let x2 = x[at + half];
  x[at] = x1 * c - x2 * s;
  x[at + half] = x2 * c + x1 * s;
}
