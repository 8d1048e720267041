// Causal multi-head self-attention for short sequences, fused: for each token t and head h,
//   out[t, h] = Σ_{j ≤ t in t's sequence} softmax_j(q_t · k_j / √HD) · v_j
// with the softmax computed online (running max and sum), so scores never touch memory.
// qkv is T×(3·D) as a fused projection writes it ([q | k | v], heads contiguous in each); out is T×D.
const HD: u32 = {{HD}}u; // head size, ≤ 64

struct Dims {
  rows: u32, // T = batch · seq
  seq: u32,
  heads: u32,
  dim: u32, // D = heads · HD
}

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  let h = gid.y;
  if (t >= dims.rows || h >= dims.heads) {
    return;
  }
  let stride = 3u * dims.dim;
  let qBase = t * stride + h * HD;
  let first = t - t % dims.seq; // the sequence's first token: no attention across sequences
  let scale = inverseSqrt(f32(HD));
  var q: array<f32, HD>;
  for (var i = 0u; i < HD; i++) {
    q[i] = qkv[qBase + i] * scale;
  }
  var acc: array<f32, HD>;
  var m = -3.4028234663852886e38;
  var l = 0.0;
  for (var j = first; j <= t; j++) {
    let kBase = j * stride + dims.dim + h * HD;
    var s = 0.0;
    for (var i = 0u; i < HD; i++) {
      s += q[i] * qkv[kBase + i];
    }
    let mNew = max(m, s);
    let correction = exp(m - mNew);
    let p = exp(s - mNew);
    l = l * correction + p;
    let vBase = kBase + dims.dim;
    for (var i = 0u; i < HD; i++) {
      acc[i] = acc[i] * correction + p * qkv[vBase + i];
    }
    m = mNew;
  }
  let oBase = t * dims.dim + h * HD;
  for (var i = 0u; i < HD; i++) {
    out[oBase + i] = acc[i] / l;
  }
}
