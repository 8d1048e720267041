// BertEmbeddings' sum before its LayerNorm: out[r] = (word[token_r] + tokenType[type_r]) +
// position[pos_r], in Hugging Face's order of additions. Tables [rows, dim] in their checkpoint's
// width (weights.wgsl); ids are u32, one per row. An id outside its table reads its last row: the
// ids are checked when uploaded (src/gpu/hf/tensors.ts), this only keeps a forged buffer in bounds.
struct EmbeddingDims {
  rows: u32,
  dim: u32,
  vocab: u32,
  positions: u32,
  types: u32,
}

@group(0) @binding(0) var<storage, read> tokenIds: array<u32>;
@group(0) @binding(1) var<storage, read> positionIds: array<u32>;
@group(0) @binding(2) var<storage, read> typeIds: array<u32>;
@group(0) @binding(3) var<storage, read> word: array<u32>;
@group(0) @binding(4) var<storage, read> position: array<u32>;
@group(0) @binding(5) var<storage, read> tokenType: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> dims: EmbeddingDims;

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let d = gid.x;
  let r = gid.y + gid.z * 65535u;
  if (d >= dims.dim || r >= dims.rows) {
    return;
  }
  let we = min(tokenIds[r], dims.vocab - 1u) * dims.dim + d;
  let te = min(typeIds[r], dims.types - 1u) * dims.dim + d;
  let pe = min(positionIds[r], dims.positions - 1u) * dims.dim + d;
  let sum = weightValue(word[weightWord(we)], we) + weightValue(tokenType[weightWord(te)], te);
  out[r * dims.dim + d] = sum + weightValue(position[weightWord(pe)], pe);
}
