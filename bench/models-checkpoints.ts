// The models bench's checkpoints: real models' shapes (config.json as their Hugging Face repos
// have it) with seeded random weights, written at bench time in Hugging Face's layout (nothing
// downloaded). Weights are F32, uniform with standard deviation WEIGHT_STD (as transformers'
// _init_weights draws them, truncated to a uniform so a seed gives the same values everywhere),
// norm weights 1, biases small: activations stay in the range trained weights give, and every
// engine runs the same bytes.

/** The models the bench runs, by the name the bench uses. */
export type BenchModelName = 'minilm' | 'smollm2' | 'qwen25';

export interface BenchModel {
  name: BenchModelName;
  /** The repository whose shape this is. */
  shapeOf: string;
  config: Record<string, unknown>;
}

/** Weights' standard deviation (transformers' initializer_range). */
export const WEIGHT_STD = 0.02;

/** config.json of each model, as its repository has it (tokenizer fields kept). */
export const BENCH_MODELS: Record<BenchModelName, BenchModel> = {
  minilm: {
    name: 'minilm',
    shapeOf: 'sentence-transformers/all-MiniLM-L6-v2',
    config: {
      architectures: ['BertModel'],
      model_type: 'bert',
      attention_probs_dropout_prob: 0.1,
      gradient_checkpointing: false,
      hidden_act: 'gelu',
      hidden_dropout_prob: 0.1,
      hidden_size: 384,
      initializer_range: 0.02,
      intermediate_size: 1536,
      layer_norm_eps: 1e-12,
      max_position_embeddings: 512,
      num_attention_heads: 12,
      num_hidden_layers: 6,
      pad_token_id: 0,
      position_embedding_type: 'absolute',
      torch_dtype: 'float32',
      transformers_version: '4.51.0',
      type_vocab_size: 2,
      use_cache: true,
      vocab_size: 30522,
    },
  },
  smollm2: {
    name: 'smollm2',
    shapeOf: 'HuggingFaceTB/SmolLM2-135M',
    config: {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      attention_bias: false,
      attention_dropout: 0.0,
      bos_token_id: 0,
      eos_token_id: 0,
      head_dim: 64,
      hidden_act: 'silu',
      hidden_size: 576,
      initializer_range: 0.041666666666666664,
      intermediate_size: 1536,
      max_position_embeddings: 8192,
      mlp_bias: false,
      num_attention_heads: 9,
      num_hidden_layers: 30,
      num_key_value_heads: 3,
      pretraining_tp: 1,
      rms_norm_eps: 1e-5,
      rope_scaling: null,
      rope_theta: 100000,
      tie_word_embeddings: true,
      torch_dtype: 'float32',
      transformers_version: '4.51.0',
      use_cache: true,
      vocab_size: 49152,
    },
  },
  qwen25: {
    name: 'qwen25',
    shapeOf: 'Qwen/Qwen2.5-0.5B',
    config: {
      architectures: ['Qwen2ForCausalLM'],
      model_type: 'qwen2',
      attention_dropout: 0.0,
      bos_token_id: 151643,
      eos_token_id: 151643,
      hidden_act: 'silu',
      hidden_size: 896,
      initializer_range: 0.02,
      intermediate_size: 4864,
      max_position_embeddings: 32768,
      max_window_layers: 24,
      num_attention_heads: 14,
      num_hidden_layers: 24,
      num_key_value_heads: 2,
      rms_norm_eps: 1e-6,
      rope_theta: 1000000.0,
      sliding_window: 32768,
      tie_word_embeddings: true,
      torch_dtype: 'float32',
      transformers_version: '4.51.0',
      use_cache: true,
      use_sliding_window: false,
      vocab_size: 151936,
    },
  },
};

type Role = 'weight' | 'norm' | 'bias';

/** Stored tensor names, shapes and roles (transformers' modeling_{bert,llama,qwen2}.py). */
export function benchTensors(m: BenchModel): [string, number[], Role][] {
  const c = m.config as Record<string, number>;
  const t: [string, number[], Role][] = [];
  const d = c.hidden_size!;
  const f = c.intermediate_size!;
  if (m.config.model_type === 'bert') {
    const lin = (n: string, o: number, i: number) =>
      t.push([`${n}.weight`, [o, i], 'weight'], [`${n}.bias`, [o], 'bias']);
    const ln = (n: string) => t.push([`${n}.weight`, [d], 'norm'], [`${n}.bias`, [d], 'bias']);
    t.push(['embeddings.word_embeddings.weight', [c.vocab_size!, d], 'weight']);
    t.push(['embeddings.position_embeddings.weight', [c.max_position_embeddings!, d], 'weight']);
    t.push(['embeddings.token_type_embeddings.weight', [c.type_vocab_size!, d], 'weight']);
    ln('embeddings.LayerNorm');
    for (let i = 0; i < c.num_hidden_layers!; i++) {
      const p = `encoder.layer.${i}.`;
      for (const n of ['query', 'key', 'value']) lin(`${p}attention.self.${n}`, d, d);
      lin(`${p}attention.output.dense`, d, d);
      ln(`${p}attention.output.LayerNorm`);
      lin(`${p}intermediate.dense`, f, d);
      lin(`${p}output.dense`, d, f);
      ln(`${p}output.LayerNorm`);
    }
    lin('pooler.dense', d, d);
    return t;
  }
  const hd = c.head_dim ?? d / c.num_attention_heads!;
  const q = c.num_attention_heads! * hd;
  const kv = c.num_key_value_heads! * hd;
  const qkvBias = m.config.model_type === 'qwen2';
  t.push(['model.embed_tokens.weight', [c.vocab_size!, d], 'weight']);
  for (let i = 0; i < c.num_hidden_layers!; i++) {
    const p = `model.layers.${i}.`;
    t.push([`${p}input_layernorm.weight`, [d], 'norm']);
    for (const [n, o] of [
      ['q', q],
      ['k', kv],
      ['v', kv],
    ] as const) {
      t.push([`${p}self_attn.${n}_proj.weight`, [o, d], 'weight']);
      if (qkvBias) t.push([`${p}self_attn.${n}_proj.bias`, [o], 'bias']);
    }
    t.push([`${p}self_attn.o_proj.weight`, [d, q], 'weight']);
    t.push([`${p}post_attention_layernorm.weight`, [d], 'norm']);
    t.push([`${p}mlp.gate_proj.weight`, [f, d], 'weight']);
    t.push([`${p}mlp.up_proj.weight`, [f, d], 'weight']);
    t.push([`${p}mlp.down_proj.weight`, [d, f], 'weight']);
  }
  t.push(['model.norm.weight', [d], 'norm']);
  if (!m.config.tie_word_embeddings) t.push(['lm_head.weight', [c.vocab_size!, d], 'weight']);
  return t;
}

/** xorshift32 from `seed`: fast enough for 5·10⁸ values. */
function uniforms(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296 - 0.5; // [−0.5, 0.5)
  };
}

/** model.safetensors (F32) of `m` with seeded random values; header as save_file writes it. */
export function benchSafetensors(m: BenchModel, seed: number): Uint8Array {
  const tensors = benchTensors(m)
    .map(([name, shape, role]) => ({ name, shape, role, n: shape.reduce((a, b) => a * b, 1) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * t.n] };
    offset += 4 * t.n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  const next = uniforms(seed);
  const spread = WEIGHT_STD * Math.sqrt(12); // uniform of this width has WEIGHT_STD
  let at = 8 + json.length; // a multiple of 8: Float32Array views are aligned
  for (const t of tensors) {
    const v = new Float32Array(out.buffer, at, t.n);
    if (t.role === 'norm') for (let i = 0; i < t.n; i++) v[i] = 1 + 0.1 * next();
    else if (t.role === 'bias') for (let i = 0; i < t.n; i++) v[i] = 0.1 * next();
    else for (let i = 0; i < t.n; i++) v[i] = spread * next();
    at += 4 * t.n;
  }
  return out;
}

const json = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);

/**
 * The checkpoint folder's files (no ONNX): config.json, model.safetensors, for decoders
 * generation_config.json, for BERT the sentence-transformers files (mean pooling, normalised,
 * as all-MiniLM-L6-v2's). `layers` overrides num_hidden_layers (smoke runs).
 */
export function benchCheckpointFiles(
  name: BenchModelName,
  seed: number,
  layers?: number,
): { model: BenchModel; files: Map<string, Uint8Array> } {
  const base = BENCH_MODELS[name];
  const model: BenchModel = {
    ...base,
    config: { ...base.config, ...(layers ? { num_hidden_layers: layers } : {}) },
  };
  const files = new Map<string, Uint8Array>();
  files.set('config.json', json(model.config));
  files.set('model.safetensors', benchSafetensors(model, seed));
  if (model.config.model_type === 'bert') {
    files.set(
      'modules.json',
      json([
        { idx: 0, name: '0', path: '', type: 'sentence_transformers.models.Transformer' },
        { idx: 1, name: '1', path: '1_Pooling', type: 'sentence_transformers.models.Pooling' },
        { idx: 2, name: '2', path: '2_Normalize', type: 'sentence_transformers.models.Normalize' },
      ]),
    );
    files.set(
      '1_Pooling/config.json',
      json({
        word_embedding_dimension: model.config.hidden_size,
        pooling_mode_cls_token: false,
        pooling_mode_mean_tokens: true,
        pooling_mode_max_tokens: false,
        pooling_mode_mean_sqrt_len_tokens: false,
        pooling_mode_weightedmean_tokens: false,
        pooling_mode_lasttoken: false,
        include_prompt: true,
      }),
    );
    files.set('sentence_bert_config.json', json({ max_seq_length: 256, do_lower_case: false }));
  } else {
    files.set(
      'generation_config.json',
      json({
        _from_model_config: true,
        bos_token_id: model.config.bos_token_id,
        eos_token_id: model.config.eos_token_id,
        transformers_version: '4.51.0',
      }),
    );
  }
  return { model, files };
}
