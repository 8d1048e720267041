// A Hugging Face checkpoint as an ONNX graph: the full forward pass, no cache, of every family
// tessel runs, written from transformers' modeling code independently of the float64 reference
// (reference*.ts), so ONNX Runtime running the export is a second implementation to check the
// reference, the engines and the loader against. Standard ONNX ops only (onnx-graph.ts).
//
// Inputs: input_ids and attention_mask, int64 [batch, seq] (BERT also token_type_ids). Decoders
// and GPT-2 pad on the left: position ids are cumsum(mask) − 1 with padded slots given 1, as
// transformers' `generate` (prepare_inputs_for_generation) computes them; with no padding that
// is 0, 1, …. BERT pads on the right and numbers positions 0, 1, … whatever the mask.
// Output: logits [batch, seq, vocab] (decoders, GPT-2), last_hidden_state [batch, seq, hidden]
// (BERT). Values at padded slots are not meaningful (transformers' differ between attention
// implementations); every real slot's are.
//
// With `{ cache: true }` a decoder (Llama, Qwen2, Qwen3, Mistral) is written in Optimum's
// KV-cache layout, the one transformers.js runs: inputs input_ids [batch, seq], attention_mask
// [batch, past + seq] (over the past and the new slots), position_ids [batch, seq] and
// past_key_values.{i}.key/.value [batch, kv_heads, past, head_dim]; outputs logits and
// present.{i}.key/.value [batch, kv_heads, past + seq, head_dim] (the past with the new slots'
// rotated keys and values appended), and num_logits_to_keep (int64 scalar: logits of the last n
// slots only, 0 all; transformers.js's generate feeds 1). New slot i sits at slot past + i: it sees past and new
// slots up to its own that the mask keeps. With past = 0 it is the no-cache graph with the
// caller's positions.

import { FLOAT, Graph, INT64, int, ints, OnnxExportError, valueInfo } from './onnx-graph';
import type { BertConfig, DecoderConfig, Gpt2Config, HfWeights, ModelConfig } from './types';

export { OnnxExportError } from './onnx-graph';

/** Graph input names, as transformers' and Optimum's exports name them. */
export const ONNX_INPUT_IDS = 'input_ids'; // int64 [batch, seq]
export const ONNX_ATTENTION_MASK = 'attention_mask'; // int64 [batch, seq], 1 token, 0 padding
export const ONNX_TOKEN_TYPE_IDS = 'token_type_ids'; // int64 [batch, seq], BERT only
export const ONNX_POSITION_IDS = 'position_ids'; // int64 [batch, seq], KV-cache graph only
/** int64 scalar, KV-cache graph only: logits for the last n slots, 0 for all (transformers'
 * logits_to_keep; transformers.js's generate feeds 1). */
export const ONNX_NUM_LOGITS_TO_KEEP = 'num_logits_to_keep';
/** Graph output names. */
export const ONNX_LOGITS = 'logits'; // float32 [batch, seq, vocab]
export const ONNX_LAST_HIDDEN_STATE = 'last_hidden_state'; // float32 [batch, seq, hidden]

/** Optimum's names for layer `layer`'s cache inputs and outputs. */
const pastKeyName = (layer: number, kind: 'key' | 'value') => `past_key_values.${layer}.${kind}`;
const presentKeyName = (layer: number, kind: 'key' | 'value') => `present.${layer}.${kind}`;

/** An exported model: the ONNX file's bytes and the names a caller feeds and reads. */
export interface HfOnnxModel {
  bytes: Uint8Array;
  /** Every graph input (the KV-cache graph's past_key_values.* included). */
  inputs: string[];
  output: string;
  /** The KV-cache graph's present.* outputs, in layer order (key, value); [] without a cache. */
  presents: string[];
  /** With OnnxExportOptions.externalData: that file's bytes (the large initializers). */
  externalData?: Uint8Array;
}

/** Export options. */
export interface OnnxExportOptions {
  /** A decoder in Optimum's KV-cache layout (see the module comment); GPT-2 and BERT refuse. */
  cache?: boolean;
  /** 'q8': linear layers (and a decoder's head) 8-bit, as transformers.js's default
   * model_quantized.onnx (Graph.quantize); GPT-2 refuses. */
  quantize?: 'q8';
  /** Large initializers go to a file of this name beside the model (ONNX external data, as
   * transformers.js's use_external_data_format loads `model.onnx_data`): see Graph.externalData. */
  externalData?: string;
}

/**
 * The ONNX model of a loaded checkpoint (`loadCheckpoint`'s config and weights): see the module
 * comment for its inputs and output. Weights become float32 initializers (16-bit ones widened,
 * exactly). An OnnxExportError when a weight is missing or misshapen.
 */
export function exportOnnx(
  checkpoint: { config: ModelConfig; weights: HfWeights },
  options: OnnxExportOptions = {},
): HfOnnxModel {
  const { config, weights } = checkpoint;
  if (options.cache && (config.family === 'gpt2' || config.family === 'bert')) {
    throw new OnnxExportError(`the KV-cache export covers decoders, not ${config.family}`);
  }
  if (options.quantize && config.family === 'gpt2') {
    throw new OnnxExportError('the 8-bit export covers decoders and BERT, not gpt2');
  }
  const g = new Graph(weights);
  g.quantize = options.quantize === 'q8';
  g.externalData = options.externalData;
  const model =
    config.family === 'gpt2'
      ? gpt2Graph(config, g)
      : config.family === 'bert'
        ? bertGraph(config, g)
        : decoderGraph(config, g, options.cache === true);
  return g.externalBytes ? { ...model, externalData: g.externalBytes } : model;
}

const ids = (name: string) => valueInfo(name, INT64, ['batch', 'seq']);

/**
 * generate's position ids from the mask, int64 [B, S]: cumsum(mask) − 1, padded slots 1
 * (`position_ids.masked_fill_(attention_mask == 0, 1)`).
 */
function leftPadPositions(g: Graph): string {
  const cum = g.one('CumSum', [ONNX_ATTENTION_MASK, g.ints([1], [])]);
  const pad = g.one('Equal', [ONNX_ATTENTION_MASK, g.ints([0], [])]);
  return g.one('Where', [pad, g.ints([1], []), g.one('Sub', [cum, g.ints([1], [])])]);
}

/** The keys a query may see, bool [B, 1, 1, S]: the unpadded ones. */
function keyMask(g: Graph): string {
  const real = g.one('Equal', [ONNX_ATTENTION_MASK, g.ints([1], [])]);
  return g.one('Unsqueeze', [real, g.ints([1, 2])]);
}

/**
 * Causal attention with padding, bool [B, 1, S, S]: query slot i sees key slot j when j ≤ i, j
 * is not padding, and with a sliding window w, j > i − w (masking_utils.sliding_window_overlay;
 * slots, not position ids).
 */
function causalMask(g: Graph, slidingWindow?: number): string {
  const S = g.one('Gather', [g.one('Shape', [ONNX_INPUT_IDS]), g.ints([1], [])], [int('axis', 0)]);
  const slots = g.one('Range', [g.ints([0], []), S, g.ints([1], [])]);
  const qi = g.one('Unsqueeze', [slots, g.ints([1])]); // [S, 1]
  const kj = g.one('Unsqueeze', [slots, g.ints([0])]); // [1, S]
  let allowed = g.one('Not', [g.one('Greater', [kj, qi])]);
  if (slidingWindow !== undefined) {
    const from = g.one('Sub', [qi, g.ints([slidingWindow], [])]);
    allowed = g.one('And', [allowed, g.one('Greater', [kj, from])]);
  }
  return g.one('And', [allowed, keyMask(g)]);
}

/**
 * The KV-cache graph's mask, bool [B, 1, S, P + S]: new slot i (at P + i) sees slot j when
 * j ≤ P + i, the attention mask keeps j, and with a sliding window w, j > P + i − w.
 */
function cacheCausalMask(g: Graph, slidingWindow?: number): string {
  const S = g.one('Gather', [g.one('Shape', [ONNX_INPUT_IDS]), g.ints([1], [])], [int('axis', 0)]);
  const K = g.one(
    'Gather',
    [g.one('Shape', [ONNX_ATTENTION_MASK]), g.ints([1], [])],
    [int('axis', 0)],
  );
  const past = g.one('Sub', [K, S]);
  const newSlots = g.one('Range', [past, K, g.ints([1], [])]);
  const qi = g.one('Unsqueeze', [newSlots, g.ints([1])]); // [S, 1]
  const kj = g.one('Unsqueeze', [
    g.one('Range', [g.ints([0], []), K, g.ints([1], [])]),
    g.ints([0]),
  ]);
  let allowed = g.one('Not', [g.one('Greater', [kj, qi])]);
  if (slidingWindow !== undefined) {
    const from = g.one('Sub', [qi, g.ints([slidingWindow], [])]);
    allowed = g.one('And', [allowed, g.one('Greater', [kj, from])]);
  }
  return g.one('And', [allowed, keyMask(g)]);
}

/** Llama 3's rope_scaling, as config.ts reads it (a field of DecoderConfig). */
interface Llama3Scaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

/**
 * Rotary inverse frequencies θ^(−2i/hd), i < hd/2 (_compute_default_rope_parameters), rescaled
 * as _compute_llama3_parameters does when the config has Llama 3's scaling: with wavelength
 * λ = 2π/f, f/factor where λ > original/low_freq_factor, f where λ < original/high_freq_factor,
 * and between them (1 − s)·f/factor + s·f with s = (original/λ − low)/(high − low).
 */
function ropeFrequencies(c: DecoderConfig & { ropeScaling?: Llama3Scaling }): number[] {
  const hd = c.headDim;
  const plain = Array.from({ length: hd / 2 }, (_, i) => 1 / c.ropeTheta ** ((2 * i) / hd));
  const r = c.ropeScaling;
  if (!r) return plain;
  const lowWavelen = r.originalMaxPositions / r.lowFreqFactor;
  const highWavelen = r.originalMaxPositions / r.highFreqFactor;
  return plain.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    const scaled = wavelen > lowWavelen ? f / r.factor : f; // inv_freq_llama
    if (wavelen < highWavelen || wavelen > lowWavelen) return scaled;
    const s =
      (r.originalMaxPositions / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
    return ((1 - s) * scaled) / r.factor + s * scaled;
  });
}

/** Llama, Qwen2, Qwen3, Mistral (modeling_{llama,qwen2,qwen3,mistral}.py). */
function decoderGraph(c: DecoderConfig, g: Graph, cache: boolean): HfOnnxModel {
  const H = c.hiddenSize;
  const hd = c.headDim;
  const half = hd / 2;
  const I = c.intermediateSize;
  if (c.numHeads % c.numKvHeads !== 0 || hd % 2 !== 0) {
    throw new OnnxExportError(
      `${c.numHeads} heads over ${c.numKvHeads} kv heads of ${hd}: heads must be a multiple of ` +
        'kv heads and the head size even',
    );
  }
  const group = c.numHeads / c.numKvHeads;
  // LlamaRotaryEmbedding: angle = position · inv_freq; emb = [angle, angle], so dimension d and
  // d + hd/2 share a frequency (rotate-half layout). Llama 3's attention_factor is 1.
  const invFreq = Float32Array.from(ropeFrequencies(c));
  const pos = g.one('Cast', [cache ? ONNX_POSITION_IDS : leftPadPositions(g)], [int('to', FLOAT)]);
  const angles = g.one('Mul', [
    g.one('Unsqueeze', [pos, g.ints([2])]),
    g.floats('rope.inv_freq', invFreq, [half]),
  ]);
  const emb = g.one('Unsqueeze', [
    g.one('Concat', [angles, angles], [int('axis', 2)]),
    g.ints([1]),
  ]);
  const cos = g.one('Cos', [emb]); // [B, 1, S, hd]
  const sin = g.one('Sin', [emb]);
  const rope = (x: string) => {
    const x1 = g.one('Slice', [x, g.ints([0]), g.ints([half]), g.ints([3])]);
    const x2 = g.one('Slice', [x, g.ints([half]), g.ints([hd]), g.ints([3])]);
    const rotated = g.one('Concat', [g.one('Neg', [x2]), x1], [int('axis', 3)]); // rotate_half
    return g.one('Add', [g.one('Mul', [x, cos]), g.one('Mul', [rotated, sin])]);
  };
  // repeat_kv: each kv head serves `group` consecutive query heads.
  const repeatKv = (x: string) => {
    if (group === 1) return x;
    const e = g.one('Expand', [g.one('Unsqueeze', [x, g.ints([2])]), g.ints([1, 1, group, 1, 1])]);
    return g.one('Reshape', [e, g.ints([0, c.numHeads, -1, hd])]);
  };
  // Projection → [B, heads, S, hd], Qwen3's per-head RMSNorm before the transpose.
  const heads = (x: string, n: number, norm?: string) => {
    let r = g.one('Reshape', [x, g.ints([0, 0, n, hd])]);
    if (norm) r = g.rmsNorm(r, g.weight(norm, [hd]), c.rmsNormEps, 4);
    return g.one('Transpose', [r], [ints('perm', [0, 2, 1, 3])]);
  };
  const allowed = cache ? cacheCausalMask(g, c.slidingWindow) : causalMask(g, c.slidingWindow);
  const scale = 1 / Math.sqrt(hd);
  // With a cache, a layer's keys and values are the past's with the new slots' appended (keys
  // after rotation, as transformers' DynamicCache stores them), and become its present.
  const presents: string[] = [];
  const pastInputs: string[] = [];
  const withPast = (x: string, l: number, kind: 'key' | 'value') => {
    if (!cache) return x;
    const past = pastKeyName(l, kind);
    pastInputs.push(past);
    const all = g.one('Concat', [past, x], [int('axis', 2)]);
    const name = presentKeyName(l, kind);
    g.output(all, name);
    presents.push(name);
    return all;
  };
  const embed = g.weight('model.embed_tokens.weight', [c.vocabSize, H]);
  let h = g.one('Gather', [embed, ONNX_INPUT_IDS], [int('axis', 0)]);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const n = g.rmsNorm(h, g.weight(`${p}input_layernorm.weight`, [H]), c.rmsNormEps, 3);
    const qkv = (name: string, out: number) =>
      g.linear(n, `${p}self_attn.${name}`, out, H, c.attentionBias);
    const q = heads(
      qkv('q_proj', c.numHeads * hd),
      c.numHeads,
      c.qkNorm ? `${p}self_attn.q_norm.weight` : undefined,
    );
    const k = heads(
      qkv('k_proj', c.numKvHeads * hd),
      c.numKvHeads,
      c.qkNorm ? `${p}self_attn.k_norm.weight` : undefined,
    );
    const v = heads(qkv('v_proj', c.numKvHeads * hd), c.numKvHeads);
    const keys = withPast(rope(k), l, 'key');
    const values = withPast(v, l, 'value');
    const att = g.attention(rope(q), repeatKv(keys), repeatKv(values), allowed, scale);
    const o = g.linear(
      g.mergeHeads(att, c.numHeads, hd),
      `${p}self_attn.o_proj`,
      H,
      c.numHeads * hd,
      c.outputBias,
    );
    h = g.one('Add', [h, o]);
    const m = g.rmsNorm(h, g.weight(`${p}post_attention_layernorm.weight`, [H]), c.rmsNormEps, 3);
    const gate = g.activation(g.linear(m, `${p}mlp.gate_proj`, I, H, c.mlpBias), 'silu');
    const up = g.linear(m, `${p}mlp.up_proj`, I, H, c.mlpBias);
    h = g.one('Add', [h, g.linear(g.one('Mul', [gate, up]), `${p}mlp.down_proj`, H, I, c.mlpBias)]);
  }
  let final = g.rmsNorm(h, g.weight('model.norm.weight', [H]), c.rmsNormEps, 3);
  if (cache) {
    // hidden[:, −n:] (−0 is 0: every slot), before the head's vocab-wide matmul.
    const from = g.one('Neg', [g.one('Unsqueeze', [ONNX_NUM_LOGITS_TO_KEEP, g.ints([0])])]);
    final = g.one('Slice', [final, from, g.ints([2 ** 53 - 1]), g.ints([1])]);
  }
  // A tied head reads embed_tokens' matrix (one initializer, transposed in the graph); 8-bit, a
  // quantized copy of it (as quantize_dynamic leaves an exported tied head).
  const headName = c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const logitsValue = g.quantize
    ? g.matmulQ8(final, `${headName}.head`, g.tensor(headName, [c.vocabSize, H]), c.vocabSize, H)
    : g.one('MatMul', [
        final,
        c.tieWordEmbeddings
          ? g.one('Transpose', [embed], [ints('perm', [1, 0])])
          : g.linearWeight('lm_head.weight', c.vocabSize, H),
      ]);
  g.output(logitsValue, ONNX_LOGITS);
  const logits = valueInfo(ONNX_LOGITS, FLOAT, ['batch', 'seq', c.vocabSize]);
  if (!cache) {
    const inputs = [ONNX_INPUT_IDS, ONNX_ATTENTION_MASK];
    const bytes = g.encode(`tessel-${c.family}`, inputs.map(ids), [logits]);
    return { bytes, inputs, output: ONNX_LOGITS, presents: [] };
  }
  // Optimum's dimension names: transformers.js sizes an empty past from `batch_size`.
  const kv = (name: string, len: string) =>
    valueInfo(name, FLOAT, ['batch_size', c.numKvHeads, len, hd]);
  const tokens = (name: string, len = 'sequence_length') =>
    valueInfo(name, INT64, ['batch_size', len]);
  const bytes = g.encode(
    `tessel-${c.family}-with-past`,
    [
      tokens(ONNX_INPUT_IDS),
      tokens(ONNX_ATTENTION_MASK, 'total_sequence_length'),
      tokens(ONNX_POSITION_IDS),
      ...pastInputs.map((n) => kv(n, 'past_sequence_length')),
      valueInfo(ONNX_NUM_LOGITS_TO_KEEP, INT64, []),
    ],
    [
      valueInfo(ONNX_LOGITS, FLOAT, ['batch_size', 'kept_sequence_length', c.vocabSize]),
      ...presents.map((n) => kv(n, 'total_sequence_length')),
    ],
  );
  const inputs = [
    ONNX_INPUT_IDS,
    ONNX_ATTENTION_MASK,
    ONNX_POSITION_IDS,
    ...pastInputs,
    ONNX_NUM_LOGITS_TO_KEEP,
  ];
  return { bytes, inputs, output: ONNX_LOGITS, presents };
}

/** GPT2LMHeadModel (modeling_gpt2.py): Conv1D weights [in, out], pre-LN, tied head. */
function gpt2Graph(c: Gpt2Config, g: Graph): HfOnnxModel {
  const E = c.nEmbd;
  if (E % c.nHead !== 0) {
    throw new OnnxExportError(`n_embd ${E} is not a multiple of n_head ${c.nHead}`);
  }
  const hd = E / c.nHead;
  const wte = g.weight('wte.weight', [c.vocabSize, E]);
  const wpe = g.weight('wpe.weight', [c.nPositions, E]);
  let h = g.one('Add', [
    g.one('Gather', [wte, ONNX_INPUT_IDS], [int('axis', 0)]),
    g.one('Gather', [wpe, leftPadPositions(g)], [int('axis', 0)]),
  ]);
  const allowed = causalMask(g);
  const conv = (x: string, name: string, inp: number, out: number) =>
    g.matmul(x, g.weight(`${name}.weight`, [inp, out]), g.weight(`${name}.bias`, [out]));
  for (let l = 0; l < c.nLayer; l++) {
    const p = `h.${l}.`;
    const x = g.layerNorm(h, `${p}ln_1`, E, c.layerNormEpsilon);
    const qkv = conv(x, `${p}attn.c_attn`, E, 3 * E);
    const [q, k, v] = g
      .op('Split', [qkv, g.ints([E, E, E])], [int('axis', 2)], 3)
      .map((t) => g.splitHeads(t, c.nHead, hd)) as [string, string, string];
    const att = g.attention(q, k, v, allowed, 1 / Math.sqrt(hd));
    h = g.one('Add', [h, conv(g.mergeHeads(att, c.nHead, hd), `${p}attn.c_proj`, E, E)]);
    const m = conv(g.layerNorm(h, `${p}ln_2`, E, c.layerNormEpsilon), `${p}mlp.c_fc`, E, c.nInner);
    h = g.one('Add', [h, conv(g.activation(m, c.activation), `${p}mlp.c_proj`, c.nInner, E)]);
  }
  const final = g.layerNorm(h, 'ln_f', E, c.layerNormEpsilon);
  g.output(
    g.one('MatMul', [final, g.one('Transpose', [wte], [ints('perm', [1, 0])])]),
    ONNX_LOGITS,
  );
  const inputs = [ONNX_INPUT_IDS, ONNX_ATTENTION_MASK];
  const bytes = g.encode('tessel-gpt2', inputs.map(ids), [
    valueInfo(ONNX_LOGITS, FLOAT, ['batch', 'seq', c.vocabSize]),
  ]);
  return { bytes, inputs, output: ONNX_LOGITS, presents: [] };
}

/** BertModel (modeling_bert.py): post-LN, bidirectional attention over unpadded keys. */
function bertGraph(c: BertConfig, g: Graph): HfOnnxModel {
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  if (H % c.numHeads !== 0) {
    throw new OnnxExportError(`hidden size ${H} is not a multiple of ${c.numHeads} heads`);
  }
  const hd = H / c.numHeads;
  const e = 'embeddings.';
  const word = g.weight(`${e}word_embeddings.weight`, [c.vocabSize, H]);
  const types = g.weight(`${e}token_type_embeddings.weight`, [c.typeVocabSize, H]);
  const positions = g.one('Slice', [
    g.weight(`${e}position_embeddings.weight`, [c.maxPositions, H]),
    g.ints([0]),
    g.seqLen(ONNX_INPUT_IDS),
    g.ints([0]),
  ]);
  const sum = g.one('Add', [
    g.one('Add', [
      g.one('Gather', [word, ONNX_INPUT_IDS], [int('axis', 0)]),
      g.one('Gather', [types, ONNX_TOKEN_TYPE_IDS], [int('axis', 0)]),
    ]),
    positions,
  ]);
  let h = g.layerNorm(sum, `${e}LayerNorm`, H, c.layerNormEps);
  const allowed = keyMask(g);
  for (let l = 0; l < c.numLayers; l++) {
    const p = `encoder.layer.${l}.`;
    const proj = (x: string, name: string, out: number, inp: number) =>
      g.linear(x, `${p}${name}`, out, inp, true);
    const [q, k, v] = ['query', 'key', 'value'].map((n) =>
      g.splitHeads(proj(h, `attention.self.${n}`, H, H), c.numHeads, hd),
    ) as [string, string, string];
    const att = g.mergeHeads(g.attention(q, k, v, allowed, 1 / Math.sqrt(hd)), c.numHeads, hd);
    h = g.layerNorm(
      g.one('Add', [h, proj(att, 'attention.output.dense', H, H)]),
      `${p}attention.output.LayerNorm`,
      H,
      c.layerNormEps,
    );
    const m = g.activation(proj(h, 'intermediate.dense', I, H), c.hiddenAct);
    h = g.layerNorm(
      g.one('Add', [h, proj(m, 'output.dense', H, I)]),
      `${p}output.LayerNorm`,
      H,
      c.layerNormEps,
    );
  }
  g.output(h, ONNX_LAST_HIDDEN_STATE);
  const inputs = [ONNX_INPUT_IDS, ONNX_ATTENTION_MASK, ONNX_TOKEN_TYPE_IDS];
  const bytes = g.encode('tessel-bert', inputs.map(ids), [
    valueInfo(ONNX_LAST_HIDDEN_STATE, FLOAT, ['batch', 'seq', H]),
  ]);
  return { bytes, inputs, output: ONNX_LAST_HIDDEN_STATE, presents: [] };
}
