// Row-wise softmax, numerically stable: y = exp(x − max) / Σ exp(x − max) over the first `cols`
// entries of each row; rows are `stride` floats apart (an LM head's padded vocabulary).
// One workgroup per row.
const WG: u32 = {{WG}}u; // a power of two

struct Dims {
  rows: u32,
  cols: u32,
  stride: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let base = wg.x * dims.stride;
  var m = -3.4028234663852886e38;
  for (var i = tid; i < dims.cols; i += WG) {
    m = max(m, x[base + i]);
  }
  partial[tid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (tid < s) {
      partial[tid] = max(partial[tid], partial[tid + s]);
    }
    workgroupBarrier();
  }
  let rowMax = partial[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var i = tid; i < dims.cols; i += WG) {
    sum += exp(x[base + i] - rowMax);
  }
  partial[tid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s /= 2u) {
    if (tid < s) {
      partial[tid] += partial[tid + s];
    }
    workgroupBarrier();
  }
  let inv = 1.0 / partial[0];
  for (var i = tid; i < dims.cols; i += WG) {
    y[base + i] = exp(x[base + i] - rowMax) * inv;
  }
}
