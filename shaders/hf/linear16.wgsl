// torch.nn.Linear with weights in their checkpoint's width: y[rows, out] = x[rows, in] · Wᵀ + b,
// W stored [out, in] (row o is output o's weights) as F32, F16 or BF16 words (weights.wgsl), b
// (out values, same format) added when HAS_BIAS. With CONV1D, W is stored [in, out] as GPT-2's
// Conv1D keeps it (y = x · W + b), read in place rather than transposed on upload. A plain 16×16 tiled kernel, correctness first:
// each workgroup stages a 16×16 slice of x and of W in workgroup memory per step along `in`, each
// invocation accumulates one output in f32, in index order.
override HAS_BIAS: bool = false;
override CONV1D: bool = false;
const TILE: u32 = 16u;

struct LinearDims {
  rows: u32,
  inDim: u32,
  outDim: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> dims: LinearDims;

var<workgroup> xs: array<f32, 256>; // [row][k]
var<workgroup> ws: array<f32, 256>; // [out][k]

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row0 = wg.y * TILE;
  let col0 = wg.x * TILE;
  var acc = 0.0;
  for (var k0 = 0u; k0 < dims.inDim; k0 += TILE) {
    let k = k0 + lid.x;
    let r = row0 + lid.y;
    let o = col0 + lid.y;
    var xv = 0.0;
    if (r < dims.rows && k < dims.inDim) {
      xv = x[r * dims.inDim + k];
    }
    var wv = 0.0;
    if (o < dims.outDim && k < dims.inDim) {
      let e = select(o * dims.inDim + k, k * dims.outDim + o, CONV1D);
      wv = weightValue(w[weightWord(e)], e);
    }
    xs[lid.y * TILE + lid.x] = xv;
    ws[lid.y * TILE + lid.x] = wv;
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc += xs[lid.y * TILE + kk] * ws[lid.x * TILE + kk];
    }
    workgroupBarrier();
  }
  let r = row0 + lid.y;
  let o = col0 + lid.x;
  if (r < dims.rows && o < dims.outDim) {
    if (HAS_BIAS) {
      acc += weightValue(bias[weightWord(o)], o);
    }
    y[r * dims.outDim + o] = acc;
  }
}
