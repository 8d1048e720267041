// Library, no bindings (prepended to the kernels that read weights; see src/gpu/hf/descriptor.ts):
// weight tensors stay in their checkpoint's width. A tensor is an array<u32>: F32 one element a
// word (bitcast), F16 or BF16 two a word with element 2i in the low half (the little-endian order
// of the safetensors bytes, so a Uint16Array is uploaded as is).
override WEIGHT_FORMAT: u32 = 0u; // 0 F32, 1 F16, 2 BF16

// The word holding element i.
fn weightWord(i: u32) -> u32 {
  return select(i >> 1u, i, WEIGHT_FORMAT == 0u);
}

// Element i's value, given weightWord(i)'s word. F16 widens with unpack2x16float (core WGSL);
// BF16 is the high half of an f32, so shifting its bits up is exact.
fn weightValue(word: u32, i: u32) -> f32 {
  if (WEIGHT_FORMAT == 0u) {
    return bitcast<f32>(word);
  }
  let half = (word >> ((i & 1u) * 16u)) & 0xffffu;
  if (WEIGHT_FORMAT == 1u) {
    return unpack2x16float(half).x;
  }
  return bitcast<f32>(half << 16u);
}
