// Residual connection: x[i] += y[i] for n elements (in place on x).
struct Dims {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  // 2D grid: large tensors need more than 65,535 workgroups along x.
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < dims.n) {
    x[i] = x[i] + y[i];
  }
}
