// The shapes a Hugging Face checkpoint is read into, shared by the loader (checkpoint.ts), the
// float64 reference (reference*.ts) and, later, the engines' kernels. Field names follow
// Hugging Face's config.json keys in camelCase; every value is checked by config.ts.

/** The model families tessel runs, by config.json's `model_type`. */
export type HfFamily = 'llama' | 'qwen2' | 'qwen3' | 'mistral' | 'gpt2' | 'bert';

/** A Llama-style decoder (RMSNorm, rotary embeddings in rotate-half layout, SwiGLU, GQA):
 * LlamaForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM. */
export interface DecoderConfig {
  family: 'llama' | 'qwen2' | 'qwen3' | 'mistral';
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  /** Key/value heads (GQA): numHeads is a multiple of it. */
  numKvHeads: number;
  /** Per-head size: hidden/heads unless config.json says `head_dim` (Qwen3 does). */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositions: number;
  /** lm_head shares embed_tokens' matrix (no lm_head.weight in the file). */
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry biases (Qwen2; Llama's `attention_bias`). */
  attentionBias: boolean;
  /** gate/up/down projections carry biases (Llama's `mlp_bias`; never for the others). */
  mlpBias: boolean;
  /** o_proj carries a bias: Llama's and Qwen3's `attention_bias` (it covers q/k/v/o there);
   * never for Qwen2 (q/k/v only) or Mistral. */
  outputBias: boolean;
  /** Per-head RMSNorm of q and k before rotary (Qwen3's q_norm/k_norm). */
  qkNorm: boolean;
  /** Llama 3.1/3.2's rescaled rotary frequencies (rope_type "llama3"); undefined: none. */
  ropeScaling?: Llama3RopeScaling;
  /** Mistral/Qwen sliding-window attention, in tokens; undefined: full attention. */
  slidingWindow?: number;
  bosTokenId?: number;
  eosTokenIds: number[];
}

/** Llama 3's `rope_scaling` (rope_type "llama3", modeling_rope_utils.py), in camelCase. */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/** GPT2LMHeadModel: learned positions, pre-LN, Conv1D weights (in × out), gelu_new. */
export interface Gpt2Config {
  family: 'gpt2';
  vocabSize: number;
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** MLP width: `n_inner`, or 4 × nEmbd when null. */
  nInner: number;
  layerNormEpsilon: number;
  activation: 'gelu_new' | 'gelu' | 'relu' | 'gelu_pytorch_tanh';
  bosTokenId?: number;
  eosTokenIds: number[];
}

/** BertModel (post-LN, erf GELU, token types), as sentence-transformers embedders use it. */
export interface BertConfig {
  family: 'bert';
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: 'gelu' | 'gelu_new' | 'relu';
}

export type ModelConfig = DecoderConfig | Gpt2Config | BertConfig;

/** sentence-transformers' pooling (1_Pooling/config.json) and normalisation (modules.json). */
export interface PoolingConfig {
  mode: 'mean' | 'cls' | 'max' | 'lasttoken';
  normalize: boolean;
}

/** A tensor's storage dtype in the file. 16-bit ones stay 16-bit in memory. */
export type HfDtype = 'F32' | 'F16' | 'BF16';

/** One tensor as loaded: its dtype and shape as the file says, and its raw elements. */
export interface HfTensor {
  dtype: HfDtype;
  shape: number[];
  /** F32: Float32Array; F16 and BF16: Uint16Array of the raw bits. */
  data: Float32Array | Uint16Array;
}

/**
 * A checkpoint's weights by canonical name: Hugging Face's names with the head-model prefix
 * taken off where a family's files differ (`transformer.` for GPT-2, `bert.` for BERT), so
 * `h.0.attn.c_attn.weight` and `embeddings.word_embeddings.weight` name the same tensor in every
 * copy; decoders keep `model.` (`model.layers.0.self_attn.q_proj.weight`, `lm_head.weight`).
 */
export interface HfWeights {
  names(): string[];
  has(name: string): boolean;
  get(name: string): HfTensor;
  /** The tensor widened to float64 (the reference's input). */
  f64(name: string): Float64Array;
}

/** generation_config.json over config.json, as transformers' `generate` reads them. */
export interface HfGenerationConfig {
  /** Stop tokens: generation_config's `eos_token_id` when present, else config.json's. */
  eosTokenIds: number[];
  bosTokenId?: number;
  padTokenId?: number;
  /** false: greedy (GenerationConfig's default). */
  doSample: boolean;
  temperature: number;
  /** 0: no top-k cut. */
  topK: number;
  /** In (0, 1]; 1: no nucleus cut. */
  topP: number;
  /** transformers' RepetitionPenaltyLogitsProcessor factor; 1: none (Qwen's files say 1.05). */
  repetitionPenalty: number;
  maxNewTokens?: number;
}
