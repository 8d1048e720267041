// The float64 reference of every Hugging Face architecture tessel runs, in one import: what
// Hugging Face's modeling code computes, in float64, for checking the engines' kernels and
// ONNX exports against. Split by family: reference-decoder.ts (Llama, Qwen2, Qwen3, Mistral),
// reference-gpt2.ts, reference-bert.ts (with sentence-transformers pooling); shared ops in
// reference-ops.ts, the KV cache and padded-batch bookkeeping in reference-cache.ts.

export { type BertOptions, bertForward, poolEmbeddings } from './reference-bert';
export { KvCache } from './reference-cache';
export {
  applyRotary,
  decoderForward,
  type ForwardOptions,
  type Llama3RopeScaling,
  llama3InvFreq,
  rotaryInvFreq,
} from './reference-decoder';
export { gpt2Forward } from './reference-gpt2';
export { erf, geluErf, geluTanh, HfReferenceError, silu } from './reference-ops';
