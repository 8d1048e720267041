// Exact (erf) GELU, BERT's `hidden_act: gelu` (GELUActivation): 0.5·x·(1 + erf(x/√2)), in place.
// WGSL has no erf. This uses erfc from Numerical Recipes in C (2nd ed., §6.2, `erfcc`): a Chebyshev
// fit, erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), fractional error below 1.2e−7 for every z ≥ 0.
// With z = |x|/√2: x ≥ 0 gives 0.5·x·(2 − erfc(z)), x < 0 gives 0.5·x·erfc(z), so the small tail
// for negative x is computed directly, never as 1 + erf (which would cancel).
struct GeluDims {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> dims: GeluDims;

fn erfcPositive(z: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223
    + t * 0.17087277))))))));
  return t * exp(-z * z + p);
}

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 256u + gid.x;
  if (i >= dims.n) {
    return;
  }
  let v = x[i];
  let c = erfcPositive(abs(v) * 0.7071067811865476);
  x[i] = 0.5 * v * select(c, 2.0 - c, v >= 0.0);
}
