// Freivalds' projections, pass 3 of 3 (src/gpu/projector.ts): A·(B_g·r_g) for the block's rows,
// a skinny matmul of A's rows (m × K, resident, K padded to a multiple of 4 with zeros) by br
// (K × stride, from pass 1), and per row Σₚ|aᵢₚ|·max Σ|b| and Σₚ aᵢₚ²·max Σb² for the bounds.
//
// Invocations are (tile of 8 rows, chunk): chunks 0 … CH−1 each own 8 projection columns (two
// vec4s) of 8 rows — an 8×8 register block spelled out as named accumulators, as in
// shaders/matmul.wgsl (SwiftShader keeps neither indexed arrays in registers nor unrolls loops);
// chunk CH computes the two bound sums of the same 8 rows. Rows past the block read its last row
// again and are not stored. f32 arithmetic in any order; the host bounds its error. K is summed
// in blocks of 4·BLOCK4 rows p (see the loop) to keep rounding noise inside the verdict's model.
//
// Output rows have 2·CH + 1 vec4s: the projections (8·CH floats), then (Σ|a|·|b|, Σa²·b², 0, 0).
//
// Knob: WG, invocations per workgroup.
const WG: u32 = {{WG}}u;
const BLOCK4: u32 = 8u; // vec4s of K summed apart before joining the total (32 rows p)

struct Dims {
  row0: u32, // the block's first row of A
  rows: u32, // rows of the block
  k4: u32, // padded K / 4: A's row stride in vec4s
  chunks: u32, // CH: br's row stride is 2·CH vec4s
  tiles: u32, // ⌈rows / 8⌉
  gridX: u32, // workgroups along x of the dispatch
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> br: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bmax: array<vec4<f32>>; // per 4 rows of B: 2 vec4s
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let per = dims.chunks + 1u;
  let id = (wg.y * dims.gridX + wg.x) * WG + tid;
  if (id >= dims.tiles * per) {
    return;
  }
  let chunk = id % per;
  let i0 = (id / per) * 8u;
  let last = dims.rows - 1u;
  let k4 = dims.k4;
  let ra0 = (dims.row0 + min(i0 + 0u, last)) * k4;
  let ra1 = (dims.row0 + min(i0 + 1u, last)) * k4;
  let ra2 = (dims.row0 + min(i0 + 2u, last)) * k4;
  let ra3 = (dims.row0 + min(i0 + 3u, last)) * k4;
  let ra4 = (dims.row0 + min(i0 + 4u, last)) * k4;
  let ra5 = (dims.row0 + min(i0 + 5u, last)) * k4;
  let ra6 = (dims.row0 + min(i0 + 6u, last)) * k4;
  let ra7 = (dims.row0 + min(i0 + 7u, last)) * k4;
  let os = 2u * dims.chunks + 1u; // output row stride, vec4s

  if (chunk == dims.chunks) {
    var s0 = vec2<f32>(0.0);
    var s1 = vec2<f32>(0.0);
    var s2 = vec2<f32>(0.0);
    var s3 = vec2<f32>(0.0);
    var s4 = vec2<f32>(0.0);
    var s5 = vec2<f32>(0.0);
    var s6 = vec2<f32>(0.0);
    var s7 = vec2<f32>(0.0);
    for (var q = 0u; q < k4; q++) {
      let m0 = bmax[2u * q];
      let m1 = bmax[2u * q + 1u];
      let bAbs = vec4<f32>(m0.x, m0.z, m1.x, m1.z);
      let bSq = vec4<f32>(m0.y, m0.w, m1.y, m1.w);
      let a0 = a[ra0 + q];
      let a1 = a[ra1 + q];
      let a2 = a[ra2 + q];
      let a3 = a[ra3 + q];
      let a4 = a[ra4 + q];
      let a5 = a[ra5 + q];
      let a6 = a[ra6 + q];
      let a7 = a[ra7 + q];
      s0 += vec2<f32>(dot(abs(a0), bAbs), dot(a0 * a0, bSq));
      s1 += vec2<f32>(dot(abs(a1), bAbs), dot(a1 * a1, bSq));
      s2 += vec2<f32>(dot(abs(a2), bAbs), dot(a2 * a2, bSq));
      s3 += vec2<f32>(dot(abs(a3), bAbs), dot(a3 * a3, bSq));
      s4 += vec2<f32>(dot(abs(a4), bAbs), dot(a4 * a4, bSq));
      s5 += vec2<f32>(dot(abs(a5), bAbs), dot(a5 * a5, bSq));
      s6 += vec2<f32>(dot(abs(a6), bAbs), dot(a6 * a6, bSq));
      s7 += vec2<f32>(dot(abs(a7), bAbs), dot(a7 * a7, bSq));
    }
    let o = i0 * os + 2u * dims.chunks;
    out[o] = vec4<f32>(s0, 0.0, 0.0);
    if (i0 + 1u < dims.rows) {
      out[o + 1u * os] = vec4<f32>(s1, 0.0, 0.0);
    }
    if (i0 + 2u < dims.rows) {
      out[o + 2u * os] = vec4<f32>(s2, 0.0, 0.0);
    }
    if (i0 + 3u < dims.rows) {
      out[o + 3u * os] = vec4<f32>(s3, 0.0, 0.0);
    }
    if (i0 + 4u < dims.rows) {
      out[o + 4u * os] = vec4<f32>(s4, 0.0, 0.0);
    }
    if (i0 + 5u < dims.rows) {
      out[o + 5u * os] = vec4<f32>(s5, 0.0, 0.0);
    }
    if (i0 + 6u < dims.rows) {
      out[o + 6u * os] = vec4<f32>(s6, 0.0, 0.0);
    }
    if (i0 + 7u < dims.rows) {
      out[o + 7u * os] = vec4<f32>(s7, 0.0, 0.0);
    }
    return;
  }

  var c00 = vec4<f32>(0.0);
  var c01 = vec4<f32>(0.0);
  var c10 = vec4<f32>(0.0);
  var c11 = vec4<f32>(0.0);
  var c20 = vec4<f32>(0.0);
  var c21 = vec4<f32>(0.0);
  var c30 = vec4<f32>(0.0);
  var c31 = vec4<f32>(0.0);
  var c40 = vec4<f32>(0.0);
  var c41 = vec4<f32>(0.0);
  var c50 = vec4<f32>(0.0);
  var c51 = vec4<f32>(0.0);
  var c60 = vec4<f32>(0.0);
  var c61 = vec4<f32>(0.0);
  var c70 = vec4<f32>(0.0);
  var c71 = vec4<f32>(0.0);
  let s4 = 2u * dims.chunks; // br's row stride, vec4s
  // Blocked summation: each block of BLOCK4 vec4s (4·BLOCK4 rows p) is summed on its own, then
  // added to the total. Same γ bound in any order, but far less rounding noise than one long
  // chain (whose late partial sums are large): its error's spread stays under the verdict's
  // noise model instead of growing heavy tails on rows with large projections.
  for (var qb = 0u; qb < k4; qb += BLOCK4) {
    var t00 = vec4<f32>(0.0);
    var t01 = vec4<f32>(0.0);
    var t10 = vec4<f32>(0.0);
    var t11 = vec4<f32>(0.0);
    var t20 = vec4<f32>(0.0);
    var t21 = vec4<f32>(0.0);
    var t30 = vec4<f32>(0.0);
    var t31 = vec4<f32>(0.0);
    var t40 = vec4<f32>(0.0);
    var t41 = vec4<f32>(0.0);
    var t50 = vec4<f32>(0.0);
    var t51 = vec4<f32>(0.0);
    var t60 = vec4<f32>(0.0);
    var t61 = vec4<f32>(0.0);
    var t70 = vec4<f32>(0.0);
    var t71 = vec4<f32>(0.0);
    let qe = min(qb + BLOCK4, k4);
    for (var q = qb; q < qe; q++) {
      // Four rows p of br at a time: b_j and d_j are row 4q + j's two vec4s of this chunk.
      let kq = 4u * q * s4 + 2u * chunk;
      let b0 = br[kq];
      let d0 = br[kq + 1u];
      let b1 = br[kq + s4];
      let d1 = br[kq + s4 + 1u];
      let b2 = br[kq + 2u * s4];
      let d2 = br[kq + 2u * s4 + 1u];
      let b3 = br[kq + 3u * s4];
      let d3 = br[kq + 3u * s4 + 1u];
      let a0 = a[ra0 + q];
      let a1 = a[ra1 + q];
      let a2 = a[ra2 + q];
      let a3 = a[ra3 + q];
      let a4 = a[ra4 + q];
      let a5 = a[ra5 + q];
      let a6 = a[ra6 + q];
      let a7 = a[ra7 + q];
      t00 = fma(vec4(a0.x), b0, fma(vec4(a0.y), b1, fma(vec4(a0.z), b2, fma(vec4(a0.w), b3, t00))));
      t01 = fma(vec4(a0.x), d0, fma(vec4(a0.y), d1, fma(vec4(a0.z), d2, fma(vec4(a0.w), d3, t01))));
      t10 = fma(vec4(a1.x), b0, fma(vec4(a1.y), b1, fma(vec4(a1.z), b2, fma(vec4(a1.w), b3, t10))));
      t11 = fma(vec4(a1.x), d0, fma(vec4(a1.y), d1, fma(vec4(a1.z), d2, fma(vec4(a1.w), d3, t11))));
      t20 = fma(vec4(a2.x), b0, fma(vec4(a2.y), b1, fma(vec4(a2.z), b2, fma(vec4(a2.w), b3, t20))));
      t21 = fma(vec4(a2.x), d0, fma(vec4(a2.y), d1, fma(vec4(a2.z), d2, fma(vec4(a2.w), d3, t21))));
      t30 = fma(vec4(a3.x), b0, fma(vec4(a3.y), b1, fma(vec4(a3.z), b2, fma(vec4(a3.w), b3, t30))));
      t31 = fma(vec4(a3.x), d0, fma(vec4(a3.y), d1, fma(vec4(a3.z), d2, fma(vec4(a3.w), d3, t31))));
      t40 = fma(vec4(a4.x), b0, fma(vec4(a4.y), b1, fma(vec4(a4.z), b2, fma(vec4(a4.w), b3, t40))));
      t41 = fma(vec4(a4.x), d0, fma(vec4(a4.y), d1, fma(vec4(a4.z), d2, fma(vec4(a4.w), d3, t41))));
      t50 = fma(vec4(a5.x), b0, fma(vec4(a5.y), b1, fma(vec4(a5.z), b2, fma(vec4(a5.w), b3, t50))));
      t51 = fma(vec4(a5.x), d0, fma(vec4(a5.y), d1, fma(vec4(a5.z), d2, fma(vec4(a5.w), d3, t51))));
      t60 = fma(vec4(a6.x), b0, fma(vec4(a6.y), b1, fma(vec4(a6.z), b2, fma(vec4(a6.w), b3, t60))));
      t61 = fma(vec4(a6.x), d0, fma(vec4(a6.y), d1, fma(vec4(a6.z), d2, fma(vec4(a6.w), d3, t61))));
      t70 = fma(vec4(a7.x), b0, fma(vec4(a7.y), b1, fma(vec4(a7.z), b2, fma(vec4(a7.w), b3, t70))));
      t71 = fma(vec4(a7.x), d0, fma(vec4(a7.y), d1, fma(vec4(a7.z), d2, fma(vec4(a7.w), d3, t71))));
    }
    c00 += t00;
    c01 += t01;
    c10 += t10;
    c11 += t11;
    c20 += t20;
    c21 += t21;
    c30 += t30;
    c31 += t31;
    c40 += t40;
    c41 += t41;
    c50 += t50;
    c51 += t51;
    c60 += t60;
    c61 += t61;
    c70 += t70;
    c71 += t71;
  }
  let o = i0 * os + 2u * chunk;
  out[o] = c00;
  out[o + 1u] = c01;
  if (i0 + 1u < dims.rows) {
    out[o + 1u * os] = c10;
    out[o + 1u * os + 1u] = c11;
  }
  if (i0 + 2u < dims.rows) {
    out[o + 2u * os] = c20;
    out[o + 2u * os + 1u] = c21;
  }
  if (i0 + 3u < dims.rows) {
    out[o + 3u * os] = c30;
    out[o + 3u * os + 1u] = c31;
  }
  if (i0 + 4u < dims.rows) {
    out[o + 4u * os] = c40;
    out[o + 4u * os + 1u] = c41;
  }
  if (i0 + 5u < dims.rows) {
    out[o + 5u * os] = c50;
    out[o + 5u * os + 1u] = c51;
  }
  if (i0 + 6u < dims.rows) {
    out[o + 6u * os] = c60;
    out[o + 6u * os + 1u] = c61;
  }
  if (i0 + 7u < dims.rows) {
    out[o + 7u * os] = c70;
    out[o + 7u * os + 1u] = c71;
  }
}
