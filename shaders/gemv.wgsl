// y = A·x in f32 with f32 accumulation, A M×K row-major, K padded by the host to a multiple of 4.
//
// One workgroup per ROWS rows: its WG invocations stride along K with vec4 loads, then reduce
// their partial sums in workgroup memory. Knobs: WG (invocations, a power of two), ROWS.
const WG: u32 = {{WG}}u;
const ROWS: u32 = {{ROWS}}u;

struct Dims {
  m: u32, // rows of A and y (not padded)
  k: u32, // padded columns of A, length of x
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

var<workgroup> partial: array<f32, WG * ROWS>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let k4 = dims.k / 4u;
  let row0 = wg.x * ROWS;
  for (var r = 0u; r < ROWS; r++) {
    // Rows past M read row M-1 again (always in bounds) and are not stored.
    let row = min(row0 + r, dims.m - 1u);
    var s = vec4<f32>(0.0);
    for (var q = tid; q < k4; q += WG) {
      s = fma(a[row * k4 + q], x[q], s);
    }
    partial[r * WG + tid] = (s.x + s.y) + (s.z + s.w);
  }
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) {
      for (var r = 0u; r < ROWS; r++) {
        partial[r * WG + tid] += partial[r * WG + tid + stride];
      }
    }
    workgroupBarrier();
  }
  if (tid < ROWS && row0 + tid < dims.m) {
    y[row0 + tid] = partial[tid * WG];
  }
}
