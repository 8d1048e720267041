/**
 * config.json and generation_config.json, read exactly as Hugging Face transformers reads them:
 * a key that is absent takes the default of the family's configuration class, and the modeling
 * code's derived values (head_dim, num_key_value_heads, the always-on Qwen2 q/k/v biases) are
 * computed the same way. Defaults are from transformers' src/transformers/models/
 * {llama/configuration_llama.py, qwen2/configuration_qwen2.py, qwen3/configuration_qwen3.py,
 * mistral/configuration_mistral.py, gpt2/configuration_gpt2.py, bert/configuration_bert.py} and
 * generation/configuration_utils.py. Where the default is a multi-billion-parameter shape (vocab,
 * widths, depth), the key is required instead: a tiny file missing `hidden_size` is an error to
 * report, not a 4096-wide model to expect. Anything tessel cannot compute exactly (rope scaling,
 * per-layer sliding windows, relative positions, ...) is refused, never approximated.
 */

import { CheckpointError } from './errors';
import type {
  BertConfig,
  DecoderConfig,
  Gpt2Config,
  HfFamily,
  HfGenerationConfig,
  Llama3RopeScaling,
  ModelConfig,
} from './types';

/** Largest sizes accepted: beyond these a config is corrupt or an attack, not a model. */
export const CONFIG_LIMITS = {
  vocab: 1 << 20, // tokens (the largest real vocabularies are ~256k)
  width: 1 << 16, // hidden size, intermediate size, per-head size
  layers: 1024,
  heads: 1024,
  positions: 1 << 24, // tokens
  typeVocab: 1024,
} as const;

/** The architectures (config.json `architectures`) accepted for each `model_type`. */
const ARCHITECTURES: Record<HfFamily, readonly string[]> = {
  llama: ['LlamaForCausalLM'],
  qwen2: ['Qwen2ForCausalLM'],
  qwen3: ['Qwen3ForCausalLM'],
  mistral: ['MistralForCausalLM'],
  gpt2: ['GPT2LMHeadModel', 'GPT2Model'],
  // BertModel is what sentence-transformers saves; the MLM/pre-training heads are ignored.
  bert: ['BertModel', 'BertForMaskedLM', 'BertForPreTraining'],
};

/** Reads typed values out of one JSON object, blaming the file and key on anything wrong. */
class Fields {
  constructor(
    readonly file: string,
    readonly obj: Record<string, unknown>,
  ) {}

  fail(key: string, message: string): never {
    throw new CheckpointError('config-value', this.file, key, message);
  }

  /** Present and not null (Hugging Face treats an explicit null as "use the default"). */
  has(key: string): boolean {
    return Object.hasOwn(this.obj, key) && this.obj[key] !== null;
  }

  int(key: string, fallback: number | undefined, min: number, max: number): number {
    if (!this.has(key)) {
      if (fallback === undefined) this.fail(key, 'is required');
      return fallback;
    }
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.fail(key, `${JSON.stringify(v)} is not an integer`);
    }
    if (v < min || v > max) this.fail(key, `${v} is outside [${min}, ${max}]`);
    return v;
  }

  /** A finite number in (0, max] (epsilons, rope theta), or [0, max] with `zero`. */
  positive(key: string, fallback: number, max = Number.MAX_VALUE, zero = false): number {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && !zero) || v > max) {
      this.fail(key, `${JSON.stringify(v)} is not a number in ${zero ? '[' : '('}0, ${max}]`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'boolean') this.fail(key, `${JSON.stringify(v)} is not true or false`);
    return v;
  }

  str(key: string, fallback: string): string {
    if (!this.has(key)) return fallback;
    const v = this.obj[key];
    if (typeof v !== 'string') this.fail(key, `${JSON.stringify(v)} is not a string`);
    return v;
  }

  /** A token id, or a list of them (`eos_token_id` may be either); absent: `fallback`. */
  ids(key: string, fallback: number[], vocab: number): number[] {
    // A class default outside a small vocabulary (GPT-2's 50256) names no token: dropped.
    if (!this.has(key)) return fallback.filter((id) => id < vocab);
    const v = this.obj[key];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= vocab) {
        this.fail(key, `${JSON.stringify(id)} is not a token id below vocab_size ${vocab}`);
      }
    }
    return [...new Set(list as number[])];
  }

  unsupported(key: string, message: string): never {
    throw new CheckpointError('unsupported', this.file, key, message);
  }
}

/** Parses a file's text as a JSON object, or throws a CheckpointError naming the file. */
export function parseJsonObject(file: string, bytes: Uint8Array): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new CheckpointError('json', file, '', `not UTF-8 JSON: ${(e as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new CheckpointError('json', file, '', 'must be a JSON object');
  }
  return v as Record<string, unknown>;
}

/** config.json → the family's config, every value checked. */
export function parseConfig(json: Record<string, unknown>, file = 'config.json'): ModelConfig {
  const f = new Fields(file, json);
  const type = json.model_type;
  if (typeof type !== 'string' || !Object.hasOwn(ARCHITECTURES, type)) {
    f.unsupported(
      'model_type',
      `${JSON.stringify(type)} is not one of ${Object.keys(ARCHITECTURES).join(', ')}`,
    );
  }
  const family = type as HfFamily;
  if (f.has('architectures')) {
    const archs = json.architectures;
    const ok = ARCHITECTURES[family];
    if (!Array.isArray(archs) || !archs.every((a) => typeof a === 'string' && ok.includes(a))) {
      f.unsupported(
        'architectures',
        `${JSON.stringify(archs)}: a ${family} checkpoint must be ${ok.join(' or ')}`,
      );
    }
  }
  if (family === 'gpt2') return gpt2Config(f);
  if (family === 'bert') return bertConfig(f);
  return decoderConfig(f, family);
}

function decoderConfig(f: Fields, family: DecoderConfig['family']): DecoderConfig {
  const L = CONFIG_LIMITS;
  const vocabSize = f.int('vocab_size', undefined, 1, L.vocab);
  const hiddenSize = f.int('hidden_size', undefined, 1, L.width);
  const intermediateSize = f.int('intermediate_size', undefined, 1, L.width * 8);
  const numLayers = f.int('num_hidden_layers', undefined, 1, L.layers);
  const numHeads = f.int('num_attention_heads', undefined, 1, L.heads);
  // Llama and Mistral: None → num_attention_heads; Qwen2/3's class default is 32 but None still
  // means num_attention_heads. Mistral's class default is 8.
  const kvDefault = family === 'mistral' ? 8 : family === 'llama' ? numHeads : 32;
  const numKvHeads = f.int('num_key_value_heads', kvDefault, 1, numHeads);
  if (numHeads % numKvHeads !== 0) {
    f.fail('num_key_value_heads', `${numKvHeads} does not divide num_attention_heads ${numHeads}`);
  }
  // LlamaConfig.validate_architecture insists on this even when head_dim is given.
  if (family === 'llama' && hiddenSize % numHeads !== 0) {
    f.fail('num_attention_heads', `${numHeads} does not divide hidden_size ${hiddenSize}`);
  }
  // Qwen3Config's head_dim defaults to 128; the others derive it (Qwen2 via getattr).
  const headDefault = family === 'qwen3' ? 128 : Math.floor(hiddenSize / numHeads);
  if (family !== 'qwen3' && !f.has('head_dim') && headDefault === 0) {
    f.fail('num_attention_heads', `${numHeads} heads leave no width in hidden_size ${hiddenSize}`);
  }
  const headDim = f.int('head_dim', headDefault, 1, L.width);
  if (numHeads * headDim > L.width * 4) {
    f.fail('head_dim', `${numHeads} heads × ${headDim} is beyond ${L.width * 4}`);
  }
  const act = f.str('hidden_act', 'silu');
  if (act !== 'silu') f.unsupported('hidden_act', `${JSON.stringify(act)} (only silu)`);
  const rope = readRope(f);
  if (f.has('layer_types')) {
    const lt = f.obj.layer_types;
    if (!Array.isArray(lt) || lt.some((t) => t !== 'full_attention')) {
      f.unsupported('layer_types', 'only full_attention layers are supported');
    }
  }
  let slidingWindow: number | undefined;
  if (family === 'mistral') {
    // MistralConfig: absent → 4096; an explicit null → full attention.
    const explicitNull = Object.hasOwn(f.obj, 'sliding_window') && f.obj.sliding_window === null;
    if (!explicitNull) slidingWindow = f.int('sliding_window', 4096, 1, L.positions);
  } else if ((family === 'qwen2' || family === 'qwen3') && f.bool('use_sliding_window', false)) {
    // Qwen's window applies from max_window_layers on: per-layer attention tessel does not run.
    f.unsupported('use_sliding_window', 'per-layer sliding-window attention is not supported');
  }
  const attentionBias =
    family === 'qwen2' ? true : family === 'mistral' ? false : f.bool('attention_bias', false);
  const outputBias = family === 'llama' || family === 'qwen3' ? attentionBias : false;
  const mlpBias = family === 'llama' ? f.bool('mlp_bias', false) : false;
  const llamaIds = family === 'llama' || family === 'mistral';
  const bos = f.ids('bos_token_id', llamaIds ? [1] : [], vocabSize);
  if (bos.length > 1) f.fail('bos_token_id', 'must be one token id');
  return {
    family,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: f.positive('rms_norm_eps', 1e-6, 1),
    ropeTheta: rope.theta,
    ...(rope.scaling ? { ropeScaling: rope.scaling } : {}),
    maxPositions: f.int(
      'max_position_embeddings',
      { llama: 2048, mistral: 4096 * 32, qwen2: 32768, qwen3: 32768 }[family],
      1,
      L.positions,
    ),
    tieWordEmbeddings: f.bool('tie_word_embeddings', false),
    attentionBias,
    outputBias,
    mlpBias,
    qkNorm: family === 'qwen3',
    ...(slidingWindow === undefined ? {} : { slidingWindow }),
    ...(bos.length ? { bosTokenId: bos[0] } : {}),
    eosTokenIds: f.ids('eos_token_id', llamaIds ? [2] : [], vocabSize),
  };
}

/**
 * rope_theta from transformers v5's `rope_parameters` or v4's top-level `rope_theta`, and Llama
 * 3's scaling (rope_type "llama3": _compute_llama3_parameters and _validate_llama3_parameters in
 * modeling_rope_utils.py); any other scaling (linear, dynamic, yarn, longrope, ...) is refused.
 */
function readRope(f: Fields): { theta: number; scaling?: Llama3RopeScaling } {
  let theta = f.positive('rope_theta', 10000, 1e12);
  let scaling: Llama3RopeScaling | undefined;
  for (const key of ['rope_scaling', 'rope_parameters']) {
    if (!f.has(key) || f.obj[key] === null) continue;
    const p = f.obj[key];
    if (typeof p !== 'object' || Array.isArray(p)) f.fail(key, 'must be an object');
    const sub = new Fields(f.file, p as Record<string, unknown>);
    const kind = sub.str('rope_type', sub.str('type', 'default'));
    if (kind === 'llama3') scaling = readLlama3(sub, key);
    else if (kind !== 'default') {
      f.unsupported(key, `rope type ${JSON.stringify(kind)} (only default and llama3)`);
    }
    if (sub.has('rope_theta')) theta = sub.positive('rope_theta', theta, 1e12);
  }
  return { theta, ...(scaling ? { scaling } : {}) };
}

/** Llama 3's scaling fields; a bad one is blamed as `rope_scaling.<field>`. */
function readLlama3(sub: Fields, key: string): Llama3RopeScaling {
  try {
    const factor = sub.positive('factor', 0, 1e4);
    const lowFreqFactor = sub.positive('low_freq_factor', 0, 1e4);
    const highFreqFactor = sub.positive('high_freq_factor', 0, 1e4);
    const originalMaxPositions = sub.int('original_max_position_embeddings', undefined, 1, 1e8);
    if (!(factor >= 1)) sub.fail('factor', `${factor} is not a number ≥ 1`);
    if (!(lowFreqFactor > 0 && highFreqFactor > lowFreqFactor)) {
      sub.fail(
        'high_freq_factor',
        `${highFreqFactor} is not above low_freq_factor ${lowFreqFactor}`,
      );
    }
    return { factor, lowFreqFactor, highFreqFactor, originalMaxPositions };
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    const message = e.message.slice(e.message.indexOf(': ') + 2);
    throw new CheckpointError(e.code, e.file, `${key}.${e.field}`, message);
  }
}

function gpt2Config(f: Fields): Gpt2Config {
  const L = CONFIG_LIMITS;
  const vocabSize = f.int('vocab_size', undefined, 1, L.vocab);
  const nEmbd = f.int('n_embd', undefined, 1, L.width);
  const nHead = f.int('n_head', undefined, 1, L.heads);
  if (nEmbd % nHead !== 0) f.fail('n_head', `${nHead} does not divide n_embd ${nEmbd}`);
  const activation = f.str('activation_function', 'gelu_new');
  const acts = ['gelu_new', 'gelu', 'relu', 'gelu_pytorch_tanh'] as const;
  if (!(acts as readonly string[]).includes(activation)) {
    f.unsupported('activation_function', `${JSON.stringify(activation)} (${acts.join(', ')})`);
  }
  if (!f.bool('scale_attn_weights', true)) f.unsupported('scale_attn_weights', 'must be true');
  if (f.bool('scale_attn_by_inverse_layer_idx', false)) {
    f.unsupported('scale_attn_by_inverse_layer_idx', 'must be false');
  }
  if (f.bool('add_cross_attention', false)) f.unsupported('add_cross_attention', 'must be false');
  // GPT2LMHeadModel ties lm_head to wte (PretrainedConfig's default true).
  if (!f.bool('tie_word_embeddings', true)) {
    f.unsupported('tie_word_embeddings', 'GPT-2 heads are tied to wte');
  }
  const bos = f.ids('bos_token_id', [50256], vocabSize);
  if (bos.length > 1) f.fail('bos_token_id', 'must be one token id');
  return {
    family: 'gpt2',
    vocabSize,
    nPositions: f.int('n_positions', 1024, 1, L.positions),
    nEmbd,
    nLayer: f.int('n_layer', undefined, 1, L.layers),
    nHead,
    // n_inner: None → 4 × n_embd (GPT2MLP)
    nInner: f.int('n_inner', 4 * nEmbd, 1, L.width * 8),
    layerNormEpsilon: f.positive('layer_norm_epsilon', 1e-5, 1),
    activation: activation as Gpt2Config['activation'],
    ...(bos.length ? { bosTokenId: bos[0] } : {}),
    eosTokenIds: f.ids('eos_token_id', [50256], vocabSize),
  };
}

function bertConfig(f: Fields): BertConfig {
  const L = CONFIG_LIMITS;
  const hiddenSize = f.int('hidden_size', undefined, 1, L.width);
  const numHeads = f.int('num_attention_heads', undefined, 1, L.heads);
  if (hiddenSize % numHeads !== 0) {
    f.fail('num_attention_heads', `${numHeads} does not divide hidden_size ${hiddenSize}`);
  }
  const act = f.str('hidden_act', 'gelu');
  if (act !== 'gelu' && act !== 'gelu_new' && act !== 'relu') {
    f.unsupported('hidden_act', `${JSON.stringify(act)} (gelu, gelu_new, relu)`);
  }
  const pos = f.str('position_embedding_type', 'absolute');
  if (pos !== 'absolute') f.unsupported('position_embedding_type', `${pos} (only absolute)`);
  if (f.bool('is_decoder', false)) f.unsupported('is_decoder', 'must be false');
  if (f.bool('add_cross_attention', false)) f.unsupported('add_cross_attention', 'must be false');
  return {
    family: 'bert',
    vocabSize: f.int('vocab_size', undefined, 1, L.vocab),
    hiddenSize,
    numLayers: f.int('num_hidden_layers', undefined, 1, L.layers),
    numHeads,
    intermediateSize: f.int('intermediate_size', undefined, 1, L.width * 8),
    maxPositions: f.int('max_position_embeddings', 512, 1, L.positions),
    typeVocabSize: f.int('type_vocab_size', 2, 1, L.typeVocab),
    layerNormEps: f.positive('layer_norm_eps', 1e-12, 1),
    hiddenAct: act,
  };
}

/**
 * generation_config.json (absent: `{}`) over the model's config. As in transformers'
 * `generate`, the generation config's `eos_token_id` replaces config.json's when present.
 * Sampling defaults are GenerationConfig's: greedy, temperature 1, top_k 50, top_p 1,
 * repetition_penalty 1.
 */
export function parseGenerationConfig(
  json: Record<string, unknown>,
  config: ModelConfig,
  file = 'generation_config.json',
): HfGenerationConfig {
  const f = new Fields(file, json);
  const modelEos = 'eosTokenIds' in config ? config.eosTokenIds : [];
  const modelBos = 'bosTokenId' in config ? config.bosTokenId : undefined;
  const vocab = config.vocabSize;
  const bos = f.ids('bos_token_id', modelBos === undefined ? [] : [modelBos], vocab);
  const pad = f.ids('pad_token_id', [], vocab);
  const maxNew = f.has('max_new_tokens')
    ? f.int('max_new_tokens', undefined, 1, CONFIG_LIMITS.positions)
    : undefined;
  return {
    eosTokenIds: f.ids('eos_token_id', modelEos, vocab),
    ...(bos.length ? { bosTokenId: bos[0] } : {}),
    ...(pad.length ? { padTokenId: pad[0] } : {}),
    doSample: f.bool('do_sample', false),
    // Some files say temperature 0 beside do_sample false; transformers accepts it (greedy).
    temperature: f.positive('temperature', 1, 1e6, true),
    repetitionPenalty: f.positive('repetition_penalty', 1, 1e6),
    topK: f.int('top_k', 50, 0, CONFIG_LIMITS.vocab),
    topP: f.positive('top_p', 1, 1),
    ...(maxNew === undefined ? {} : { maxNewTokens: maxNew }),
  };
}
