// Freivalds' projections, pass 1 of 3 (src/gpu/projector.ts): for every row p of B, column group
// g of the block and weight vector v, br[p][v·groups + g] = Σ_{j∈g} b[p][col0 + j]·r[v][j], and
// per row p the largest Σ_{j∈g}|b| and Σ_{j∈g} b² over its groups.
//
// One invocation per (p, g), flattened and folded onto a 2-D grid of workgroups. B's rows are
// padded to whole vec4s and the weights are laid out shifted by col0 mod 4, so that column x of B
// and its weight share a vec4 lane: the loop reads aligned vec4s and zeroes the lanes outside the
// group (0 added is exact). The maxima over groups are taken with atomicMax on the sums' bit
// patterns: the sums are ≥ +0, and non-negative float32s order like their bits as u32. f32
// arithmetic, any order; the host bounds its error and keeps every value far from overflow.
//
// Knob: WG, invocations per workgroup.
const WG: u32 = {{WG}}u;

struct Dims {
  k: u32, // rows of B
  n4: u32, // B's row stride in vec4s
  c4: u32, // ⌊col0 / 4⌋: the vec4 of B's rows where the block starts
  shift: u32, // col0 mod 4: weight j sits at lane shift + j of its vector's row
  gw: u32, // columns per group
  groups: u32, // ⌈cols / gw⌉
  kv: u32, // weight vectors
  r4: u32, // vec4s per weight vector
  cols: u32, // the block's columns
  stride: u32, // floats per row p of br (≥ kv·groups)
  gridX: u32, // workgroups along x of the dispatch
  _pad0: u32,
}

@group(0) @binding(0) var<storage, read> b: array<vec4<f32>>; // k × 4·n4
@group(0) @binding(1) var<storage, read> r: array<vec4<f32>>; // even(kv) × r4, zeros around
@group(0) @binding(2) var<storage, read_write> br: array<f32>; // k × stride, cleared by the host
@group(0) @binding(3) var<storage, read_write> bmax: array<atomic<u32>>; // per p: Σ|b|, Σb²; cleared
@group(0) @binding(4) var<uniform> dims: Dims;

fn hsum(x: vec4<f32>) -> f32 {
  return (x.x + x.y) + (x.z + x.w);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let id = (wg.y * dims.gridX + wg.x) * WG + tid;
  if (id >= dims.k * dims.groups) {
    return;
  }
  let p = id / dims.groups;
  let g = id % dims.groups;
  // The group's lanes [x0, x1), counted from B's vec4 c4 (and from the start of a weight row).
  let x0 = dims.shift + g * dims.gw;
  let x1 = dims.shift + min(dims.cols, (g + 1u) * dims.gw);
  let q0 = x0 / 4u;
  let q1 = (x1 + 3u) / 4u;
  let row = p * dims.n4 + dims.c4;
  let lane = vec4<u32>(0u, 1u, 2u, 3u);
  // Weight vectors two at a time (the host pads them to an even count with zeros), the first
  // pair in the same sweep as the bound sums.
  var sAbs = vec4<f32>(0.0);
  var sSq = vec4<f32>(0.0);
  for (var v = 0u; v < dims.kv; v += 2u) {
    let ro = v * dims.r4;
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    for (var q = q0; q < q1; q++) {
      let x = 4u * q + lane;
      let bv = select(vec4<f32>(0.0), b[row + q], (x >= vec4(x0)) & (x < vec4(x1)));
      s0 = fma(bv, r[ro + q], s0);
      s1 = fma(bv, r[ro + dims.r4 + q], s1);
      if (v == 0u) {
        sAbs += abs(bv);
        sSq = fma(bv, bv, sSq);
      }
    }
    let o = p * dims.stride + v * dims.groups + g;
    br[o] = hsum(s0);
    if (v + 1u < dims.kv) {
      br[o + dims.groups] = hsum(s1);
    }
  }
  atomicMax(&bmax[2u * p], bitcast<u32>(hsum(sAbs)));
  atomicMax(&bmax[2u * p + 1u], bitcast<u32>(hsum(sSq)));
}
