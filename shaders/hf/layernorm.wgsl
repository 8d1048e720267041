// torch.nn.LayerNorm (BERT's post-LN, GPT-2's ln_1/ln_2/ln_f) with its weight and bias in the
// checkpoint's width (weights.wgsl): y = (x − mean) / √(biased variance + eps) · w + b, rows×dim
// row-major. One workgroup per row (rows beyond 65,535 wrap into the grid's y); two passes over
// the row (mean, then the variance of x − mean) avoid the cancellation of E[x²] − E[x]².
override WG: u32 = 64u; // a power of two

struct LayerNormDims {
  rows: u32,
  dim: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: LayerNormDims;

var<workgroup> partial: array<f32, WG>;

fn reduceSum(value: f32, tid: u32) -> f32 {
  partial[tid] = value;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (tid < h) {
      partial[tid] += partial[tid + h];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

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
    s += x[base + i];
  }
  let mean = reduceSum(s, tid) / f32(dims.dim);
  var q = 0.0;
  for (var i = tid; i < dims.dim; i += WG) {
    let d = x[base + i] - mean;
    q += d * d;
  }
  let r = inverseSqrt(reduceSum(q, tid) / f32(dims.dim) + dims.eps);
  for (var i = tid; i < dims.dim; i += WG) {
    let gamma = weightValue(w[weightWord(i)], i);
    y[base + i] = (x[base + i] - mean) * r * gamma + weightValue(bias[weightWord(i)], i);
  }
}
