// C = A·B in f32 with f32 accumulation.
//
// A is M×K, B is K×N, C is M×N, all row-major. The host pads M to a multiple of BM, N of BN and
// K of TK with zeros, so the loops have no bounds checks and every global access is a vec4.
//
// Each workgroup computes a BM×BN tile of C, staging TK-deep slices of A and B in workgroup
// memory. Each invocation owns an 8×8 register block: rows r0..r0+7 of the tile and two vec4
// columns, lid.x and lid.x + WG_X (strided, so neighbouring invocations read neighbouring
// vec4s). The block is spelled out as 16 named accumulators, not arrays indexed in loops:
// software adapters (SwiftShader's Subzero JIT) neither unroll loops nor keep indexed arrays in
// registers, and measured 5× slower that way (0.2 vs 1.2 GFLOP/s at n = 256, 4×4 blocks).
//
// The epilogue adds a bias row (zeros for a plain matmul: x + 0 is exact) and, for a transformer's
// MLP, applies GELU before the store, so C never makes a round trip through memory for it.
//
// Compile-time knobs, substituted by src/gpu/matmul.ts (nothing else is templated):
//   WG_X, WG_Y  invocations along N and M: BN = 8·WG_X columns, BM = 8·WG_Y rows
//   TK          depth of the staged K slice, a multiple of 4
//   GELU        1 to apply GELU (GPT-2's tanh form) after the bias, 0 not to
const WG_X: u32 = {{WG_X}}u;
const WG_Y: u32 = {{WG_Y}}u;
const TK: u32 = {{TK}}u;
const GELU: u32 = {{GELU}}u;

const THREADS: u32 = WG_X * WG_Y;
const BM: u32 = 8u * WG_Y;
const BN4: u32 = 2u * WG_X; // tile width in vec4s
const TK4: u32 = TK / 4u;

struct Dims {
  m: u32, // padded rows of A and C
  n: u32, // padded columns of B and C
  k: u32, // padded columns of A, rows of B
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(3) var<uniform> dims: Dims;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>; // padded N / 4

fn epilogue(v: vec4<f32>, col4: u32) -> vec4<f32> {
  let x = v + bias[col4];
  if (GELU == 0u) {
    return x;
  }
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
  return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

var<workgroup> tileA: array<vec4<f32>, BM * TK4>; // [row][k / 4]
var<workgroup> tileB: array<vec4<f32>, TK * BN4>; // [k][col / 4]

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
) {
  let k4 = dims.k / 4u;
  let n4 = dims.n / 4u;
  let row0 = wg.y * BM;
  let colTile4 = wg.x * BN4;
  let r0 = lid.y * 8u; // this invocation's first row inside the tile

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

  for (var t = 0u; t < k4; t += TK4) {
    for (var i = tid; i < BM * TK4; i += THREADS) {
      tileA[i] = a[(row0 + i / TK4) * k4 + t + i % TK4];
    }
    for (var i = tid; i < TK * BN4; i += THREADS) {
      tileB[i] = b[(t * 4u + i / BN4) * n4 + colTile4 + i % BN4];
    }
    workgroupBarrier();

    // Four k steps at a time: a_i holds row i over k..k+3, b_j and d_j hold row k+j of B.
    for (var q = 0u; q < TK4; q++) {
      let a0 = tileA[(r0 + 0u) * TK4 + q];
      let a1 = tileA[(r0 + 1u) * TK4 + q];
      let a2 = tileA[(r0 + 2u) * TK4 + q];
      let a3 = tileA[(r0 + 3u) * TK4 + q];
      let a4 = tileA[(r0 + 4u) * TK4 + q];
      let a5 = tileA[(r0 + 5u) * TK4 + q];
      let a6 = tileA[(r0 + 6u) * TK4 + q];
      let a7 = tileA[(r0 + 7u) * TK4 + q];
      let kq = q * 4u * BN4 + lid.x;
      let b0 = tileB[kq + 0u * BN4];
      let d0 = tileB[kq + 0u * BN4 + WG_X];
      let b1 = tileB[kq + 1u * BN4];
      let d1 = tileB[kq + 1u * BN4 + WG_X];
      let b2 = tileB[kq + 2u * BN4];
      let d2 = tileB[kq + 2u * BN4 + WG_X];
      let b3 = tileB[kq + 3u * BN4];
      let d3 = tileB[kq + 3u * BN4 + WG_X];
      c00 = fma(vec4(a0.x), b0, fma(vec4(a0.y), b1, fma(vec4(a0.z), b2, fma(vec4(a0.w), b3, c00))));
      c01 = fma(vec4(a0.x), d0, fma(vec4(a0.y), d1, fma(vec4(a0.z), d2, fma(vec4(a0.w), d3, c01))));
      c10 = fma(vec4(a1.x), b0, fma(vec4(a1.y), b1, fma(vec4(a1.z), b2, fma(vec4(a1.w), b3, c10))));
      c11 = fma(vec4(a1.x), d0, fma(vec4(a1.y), d1, fma(vec4(a1.z), d2, fma(vec4(a1.w), d3, c11))));
      c20 = fma(vec4(a2.x), b0, fma(vec4(a2.y), b1, fma(vec4(a2.z), b2, fma(vec4(a2.w), b3, c20))));
      c21 = fma(vec4(a2.x), d0, fma(vec4(a2.y), d1, fma(vec4(a2.z), d2, fma(vec4(a2.w), d3, c21))));
      c30 = fma(vec4(a3.x), b0, fma(vec4(a3.y), b1, fma(vec4(a3.z), b2, fma(vec4(a3.w), b3, c30))));
      c31 = fma(vec4(a3.x), d0, fma(vec4(a3.y), d1, fma(vec4(a3.z), d2, fma(vec4(a3.w), d3, c31))));
      c40 = fma(vec4(a4.x), b0, fma(vec4(a4.y), b1, fma(vec4(a4.z), b2, fma(vec4(a4.w), b3, c40))));
      c41 = fma(vec4(a4.x), d0, fma(vec4(a4.y), d1, fma(vec4(a4.z), d2, fma(vec4(a4.w), d3, c41))));
      c50 = fma(vec4(a5.x), b0, fma(vec4(a5.y), b1, fma(vec4(a5.z), b2, fma(vec4(a5.w), b3, c50))));
      c51 = fma(vec4(a5.x), d0, fma(vec4(a5.y), d1, fma(vec4(a5.z), d2, fma(vec4(a5.w), d3, c51))));
      c60 = fma(vec4(a6.x), b0, fma(vec4(a6.y), b1, fma(vec4(a6.z), b2, fma(vec4(a6.w), b3, c60))));
      c61 = fma(vec4(a6.x), d0, fma(vec4(a6.y), d1, fma(vec4(a6.z), d2, fma(vec4(a6.w), d3, c61))));
      c70 = fma(vec4(a7.x), b0, fma(vec4(a7.y), b1, fma(vec4(a7.z), b2, fma(vec4(a7.w), b3, c70))));
      c71 = fma(vec4(a7.x), d0, fma(vec4(a7.y), d1, fma(vec4(a7.z), d2, fma(vec4(a7.w), d3, c71))));
    }
    workgroupBarrier();
  }

  let out = (row0 + r0) * n4 + colTile4 + lid.x;
  c[out + 0u * n4] = epilogue(c00, colTile4 + lid.x);
  c[out + 0u * n4 + WG_X] = epilogue(c01, colTile4 + lid.x + WG_X);
  c[out + 1u * n4] = epilogue(c10, colTile4 + lid.x);
  c[out + 1u * n4 + WG_X] = epilogue(c11, colTile4 + lid.x + WG_X);
  c[out + 2u * n4] = epilogue(c20, colTile4 + lid.x);
  c[out + 2u * n4 + WG_X] = epilogue(c21, colTile4 + lid.x + WG_X);
  c[out + 3u * n4] = epilogue(c30, colTile4 + lid.x);
  c[out + 3u * n4 + WG_X] = epilogue(c31, colTile4 + lid.x + WG_X);
  c[out + 4u * n4] = epilogue(c40, colTile4 + lid.x);
  c[out + 4u * n4 + WG_X] = epilogue(c41, colTile4 + lid.x + WG_X);
  c[out + 5u * n4] = epilogue(c50, colTile4 + lid.x);
  c[out + 5u * n4 + WG_X] = epilogue(c51, colTile4 + lid.x + WG_X);
  c[out + 6u * n4] = epilogue(c60, colTile4 + lid.x);
  c[out + 6u * n4 + WG_X] = epilogue(c61, colTile4 + lid.x + WG_X);
  c[out + 7u * n4] = epilogue(c70, colTile4 + lid.x);
  c[out + 7u * n4 + WG_X] = epilogue(c71, colTile4 + lid.x + WG_X);
}
