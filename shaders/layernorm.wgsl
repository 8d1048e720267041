// y = (x − mean) / √(var + eps) · gamma + beta, row by row; rows×dim, row-major.
// One workgroup per row: WG invocations stride along the row, then reduce in workgroup memory.
// Two passes over the row (mean, then variance of x − mean) avoid the cancellation of E[x²] − E[x]².
const WG: u32 = {{WG}}u; // a power of two

struct Dims {
  rows: u32,
  dim: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

var<workgroup> partial: array<f32, WG>;

fn reduce(v: f32, tid: u32) -> f32 {
  partial[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (tid < s) {
      partial[tid] += partial[tid + s];
    }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // everyone has read it before the next reduce overwrites it
  return total;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wg.x;
  let base = row * dims.dim;
  var s = 0.0;
  for (var i = tid; i < dims.dim; i += WG) {
    s += x[base + i];
  }
  let mean = reduce(s, tid) / f32(dims.dim);
  var q = 0.0;
  for (var i = tid; i < dims.dim; i += WG) {
    let d = x[base + i] - mean;
    q += d * d;
  }
  let inv = inverseSqrt(reduce(q, tid) / f32(dims.dim) + dims.eps);
  for (var i = tid; i < dims.dim; i += WG) {
    y[base + i] = (x[base + i] - mean) * inv * gamma[i] + beta[i];
  }
}
