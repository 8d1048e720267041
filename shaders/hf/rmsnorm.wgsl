// Hugging Face's LlamaRMSNorm (Qwen2/Qwen3/Mistral copy it): y = x · rsqrt(mean(x²) + eps) · w,
// no mean subtraction, no bias; rows×dim row-major. Qwen3's per-head q/k norm is the same kernel
// over rows = tokens·heads of dim = head_dim. One workgroup per row (rows beyond 65,535 wrap into
// the grid's y), WG invocations stride along it, then a tree reduction in workgroup memory.
override WG: u32 = 64u; // a power of two

struct RmsNormDims {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> dims: RmsNormDims;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let row = wg.y * nwg.x + wg.x;
  if (row >= dims.rows) {
    return; // the whole workgroup leaves together: barriers below stay uniform
  }
  let base = row * dims.dim;
  var s = 0.0;
  for (var i = tid; i < dims.dim; i += WG) {
    s += x[base + i] * x[base + i];
  }
  partial[tid] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      partial[tid] += partial[tid + h];
    }
    workgroupBarrier();
  }
  let r = inverseSqrt(partial[0] / f32(dims.dim) + dims.eps);
  for (var i = tid; i < dims.dim; i += WG) {
    y[base + i] = x[base + i] * r * weightValue(w[weightWord(i)], i);
  }
}
