// The decoders' MLP gate (LlamaMLP: act_fn(gate_proj(x)) · up_proj(x), act_fn = SiLU), in place:
// gate[i] = silu(gate[i]) · up[i], silu(g) = g / (1 + e^(−g)). For g below about −88, e^(−g) is
// +inf in f32 and the quotient −0: the true value is below 1e−36 in magnitude.
struct SwigluDims {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> gate: array<f32>;
@group(0) @binding(1) var<storage, read> up: array<f32>;
@group(0) @binding(2) var<uniform> dims: SwigluDims;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 256u + gid.x;
  if (i >= dims.n) {
    return;
  }
  let g = gate[i];
  gate[i] = g / (1.0 + exp(-g)) * up[i];
}
