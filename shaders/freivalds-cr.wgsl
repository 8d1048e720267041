// Freivalds' projections, pass 2 of 3 (src/gpu/projector.ts): the claimed block's side. For
// every row i and column group g of the block: Σ_{j∈g} ĉ[i][j]·r[v][j] for each weight vector v,
// Σ_{j∈g} ĉ[i][j]², and max_{j∈g} |ĉ[i][j]| (the host checks from it that no sum could have
// overflowed, since a contributor chooses ĉ).
//
// One invocation per (i, g), flattened and folded onto a 2-D grid of workgroups; each writes
// kv + 2 floats at out[base + (i·groups + g)·(kv + 2)]. ĉ's rows and the weights are padded to
// whole vec4s; the loop reads aligned vec4s and zeroes the lanes outside the group. f32
// arithmetic, any order; the host bounds its error.
//
// Knob: WG, invocations per workgroup.
const WG: u32 = {{WG}}u;

struct Dims {
  rows: u32, // rows of the block
  cols: u32, // columns of the block
  c4: u32, // ĉ's and each weight vector's row stride in vec4s
  gw: u32, // columns per group
  groups: u32, // ⌈cols / gw⌉
  kv: u32, // weight vectors
  base: u32, // first float of this pass's output in `out`
  gridX: u32, // workgroups along x of the dispatch
}

@group(0) @binding(0) var<storage, read> c: array<vec4<f32>>; // rows × c4
@group(0) @binding(1) var<storage, read> r: array<vec4<f32>>; // even(kv) × c4
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> dims: Dims;

fn hsum(x: vec4<f32>) -> f32 {
  return (x.x + x.y) + (x.z + x.w);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let id = (wg.y * dims.gridX + wg.x) * WG + tid;
  if (id >= dims.rows * dims.groups) {
    return;
  }
  let i = id / dims.groups;
  let g = id % dims.groups;
  let j0 = g * dims.gw;
  let j1 = min(dims.cols, j0 + dims.gw);
  let q0 = j0 / 4u;
  let q1 = (j1 + 3u) / 4u;
  let row = i * dims.c4;
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  let o = dims.base + id * (dims.kv + 2u);
  // Weight vectors two at a time (the host pads them to an even count with zeros), the first
  // pair in the same sweep as Σĉ² and max |ĉ|.
  var sq = vec4<f32>(0.0);
  var mx = vec4<f32>(0.0);
  for (var v = 0u; v < dims.kv; v += 2u) {
    let ro = v * dims.c4;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    for (var q = q0; q < q1; q++) {
      let j = 4u * q + lane;
      let x = select(vec4<f32>(0.0), c[row + q], (j >= vec4(j0)) & (j < vec4(j1)));
      s0 = fma(x, r[ro + q], s0);
      s1 = fma(x, r[ro + dims.c4 + q], s1);
      if (v == 0u) {
        sq = fma(x, x, sq);
        mx = max(mx, abs(x));
      }
    }
    out[o + v] = hsum(s0);
    if (v + 1u < dims.kv) {
      out[o + v + 1u] = hsum(s1);
    }
  }
  out[o + dims.kv] = hsum(sq);
  out[o + dims.kv + 1u] = max(max(mx.x, mx.y), max(mx.z, mx.w));
}
