// GPT-2's `gelu_new` (NewGELUActivation; `gelu_pytorch_tanh` is the same formula), in place:
// 0.5·x·(1 + tanh(y)), y = √(2/π)·(x + 0.044715·x³). Computed as x / (1 + e^(−2y)), the same
// value (1 + tanh(y) = 2·sigmoid(2y)), so the negative tail never cancels and WGSL's tanh (whose
// error bound is only inherited from sinh/cosh) is not needed.
struct GeluDims {
  n: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> dims: GeluDims;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 256u + gid.x;
  if (i >= dims.n) {
    return;
  }
  let v = x[i];
  let y = 0.7978845608028654 * (v + 0.044715 * v * v * v);
  x[i] = v / (1.0 + exp(-2.0 * y));
}
