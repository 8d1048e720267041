// Token + position embedding: h[t, :] = wte[token[t], :] + wpe[t mod seq, :]; T×dim out.
// Tokens are checked against the vocabulary on the host before upload.
struct Dims {
  rows: u32, // T = batch · seq
  dim: u32,
  seq: u32,
  _pad: u32,
}

@group(0) @binding(0) var<storage, read> tokens: array<u32>;
@group(0) @binding(1) var<storage, read> wte: array<f32>;
@group(0) @binding(2) var<storage, read> wpe: array<f32>;
@group(0) @binding(3) var<storage, read_write> h: array<f32>;
@group(0) @binding(4) var<uniform> dims: Dims;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.y;
  let d = gid.x;
  if (t >= dims.rows || d >= dims.dim) {
    return;
  }
  let tok = tokens[t];
  let pos = t % dims.seq;
  h[t * dims.dim + d] = wte[tok * dims.dim + d] + wpe[pos * dims.dim + d];
}
