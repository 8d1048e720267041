// The float64 reference of Hugging Face's Llama-style decoders: LlamaForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM (transformers/models/{llama,qwen2,
// qwen3,mistral}/modeling_*.py). Clarity over speed: the engines' kernels are checked against it.
//
// Per layer (LlamaDecoderLayer.forward): h = x + o_proj(attn(input_layernorm(x))), then
// h + down_proj(silu(gate_proj(n)) · up_proj(n)) with n = post_attention_layernorm(h).
// Biases as Hugging Face builds the modules, read from the config's flags (config.ts sets them):
// q/k/v carry `attention_bias` (Qwen2Attention always has them); o_proj carries
// `attention_bias` in LlamaAttention and Qwen3Attention but never in Qwen2Attention or
// MistralAttention (outputBias); gate/up/down carry `mlp_bias` in LlamaMLP only (mlpBias).

import { checkCacheWidth, KvCache, prepareStep, visibleSlots } from './reference-cache';
import { add, attend, HfReferenceError, linear, rmsNorm, silu, tensor } from './reference-ops';
import type { DecoderConfig, HfWeights, Llama3RopeScaling } from './types';

/** Options of one forward call. */
export interface ForwardOptions {
  /** 1 for a token, 0 for padding (decoders pad on the left), per sequence: this call's tokens,
   * or the cached slots and this call's as Hugging Face passes it. Default: all 1. */
  attentionMask?: number[][];
  /** Extend this cache with the call's keys and values and attend over all of it. */
  cache?: KvCache;
  /** Position id of each of this call's tokens, overriding generate's cumsum(mask) − 1. A plain
   * Hugging Face forward call without position_ids numbers slots past, past+1, … padding or
   * not; pass those to compare with one. */
  positionIds?: number[][];
}

export type { Llama3RopeScaling };

/**
 * Llama 3's rescaled inverse frequencies (modeling_rope_utils.py, _compute_llama3_parameters):
 * wavelengths 2π/f above original/lowFreqFactor are slowed by `factor`, those below
 * original/highFreqFactor kept, those between interpolated with
 * s = (original/wavelength − low)/(high − low): (1 − s)·f/factor + s·f.
 */
export function llama3InvFreq(invFreq: Float64Array, r: Llama3RopeScaling): Float64Array {
  const lowWavelen = r.originalMaxPositions / r.lowFreqFactor;
  const highWavelen = r.originalMaxPositions / r.highFreqFactor;
  return invFreq.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / r.factor;
    const s =
      (r.originalMaxPositions / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
    return ((1 - s) * f) / r.factor + s * f;
  });
}

/** The inverse frequencies of rotary embedding over a head of `headDim`:
 * 1/θ^(2i/headDim) for i < headDim/2 (LlamaRotaryEmbedding / compute_default_rope_parameters). */
export function rotaryInvFreq(headDim: number, theta: number): Float64Array {
  const f = new Float64Array(headDim / 2);
  for (let i = 0; i < f.length; i++) f[i] = 1 / theta ** ((2 * i) / headDim);
  return f;
}

/**
 * Rotary embedding of one head at `off` in `x`, in place, in Hugging Face's rotate-half layout
 * (apply_rotary_pos_emb, rotate_half): with h = headDim/2 and angle_d = position · invFreq[d mod h],
 * x'_d = x_d·cos(angle_d) − x_{d+h}·sin(angle_d) for d < h, x_d·cos(angle_d) + x_{d−h}·sin(angle_d)
 * for d ≥ h. Dimension d pairs with d + h, not d + 1 (the interleaved layout of Meta's code).
 */
export function applyRotary(
  x: Float64Array,
  off: number,
  headDim: number,
  position: number,
  invFreq: Float64Array,
): void {
  const h = headDim / 2;
  for (let d = 0; d < h; d++) {
    const a = position * invFreq[d]!;
    const c = Math.cos(a);
    const s = Math.sin(a);
    const x1 = x[off + d]!;
    const x2 = x[off + d + h]!;
    x[off + d] = x1 * c - x2 * s;
    x[off + d + h] = x2 * c + x1 * s;
  }
}

/** The weights of one decoder layer, widened and shape-checked. */
function layerWeights(c: DecoderConfig, w: HfWeights, i: number) {
  const p = `model.layers.${i}.`;
  const H = c.hiddenSize;
  const qOut = c.numHeads * c.headDim;
  const kvOut = c.numKvHeads * c.headDim;
  const bias = (name: string, n: number, has: boolean) =>
    has ? tensor(w, `${p}${name}.bias`, [n]) : undefined;
  return {
    inputNorm: tensor(w, `${p}input_layernorm.weight`, [H]),
    q: tensor(w, `${p}self_attn.q_proj.weight`, [qOut, H]),
    qBias: bias('self_attn.q_proj', qOut, c.attentionBias),
    k: tensor(w, `${p}self_attn.k_proj.weight`, [kvOut, H]),
    kBias: bias('self_attn.k_proj', kvOut, c.attentionBias),
    v: tensor(w, `${p}self_attn.v_proj.weight`, [kvOut, H]),
    vBias: bias('self_attn.v_proj', kvOut, c.attentionBias),
    o: tensor(w, `${p}self_attn.o_proj.weight`, [H, qOut]),
    oBias: bias('self_attn.o_proj', H, c.outputBias),
    qNorm: c.qkNorm ? tensor(w, `${p}self_attn.q_norm.weight`, [c.headDim]) : undefined,
    kNorm: c.qkNorm ? tensor(w, `${p}self_attn.k_norm.weight`, [c.headDim]) : undefined,
    postNorm: tensor(w, `${p}post_attention_layernorm.weight`, [H]),
    gate: tensor(w, `${p}mlp.gate_proj.weight`, [c.intermediateSize, H]),
    gateBias: bias('mlp.gate_proj', c.intermediateSize, c.mlpBias),
    up: tensor(w, `${p}mlp.up_proj.weight`, [c.intermediateSize, H]),
    upBias: bias('mlp.up_proj', c.intermediateSize, c.mlpBias),
    down: tensor(w, `${p}mlp.down_proj.weight`, [H, c.intermediateSize]),
    downBias: bias('mlp.down_proj', H, c.mlpBias),
  };
}

/** Qwen3's q_norm/k_norm: RMSNorm over each head's headDim values (Qwen3Attention.forward,
 * applied to the projection viewed per head, before rotary). */
function normHeads(
  x: Float64Array,
  heads: number,
  headDim: number,
  weight: Float64Array,
  eps: number,
) {
  for (let h = 0; h < heads; h++) {
    const o = h * headDim;
    x.set(rmsNorm(x.subarray(o, o + headDim), weight, eps), o);
  }
}

/**
 * Logits of a Llama-style decoder for every token of the call: `logits[b][t]` is the
 * next-token distribution (vocabSize logits) after token t of sequence b. Logits at padded
 * slots are not meaningful (Hugging Face's differ between attention implementations).
 *
 * With `cache`, the call's tokens follow those already cached, and the cache is extended: a
 * decode step of one token per sequence gives what a full recompute gives at that position.
 */
export function decoderForward(
  config: DecoderConfig,
  weights: HfWeights,
  tokens: number[][],
  options: ForwardOptions = {},
): Float64Array[][] {
  const c = config;
  const H = c.hiddenSize;
  if (c.numHeads % c.numKvHeads !== 0 || c.headDim % 2 !== 0) {
    throw new HfReferenceError(
      `${c.numHeads} heads over ${c.numKvHeads} kv heads of size ${c.headDim}: heads must be a ` +
        'multiple of kv heads and the head size even (rotary pairs its halves)',
    );
  }
  const step = prepareStep(
    tokens,
    c.vocabSize,
    options.attentionMask,
    options.cache,
    c.numLayers,
    options.positionIds,
  );
  checkCacheWidth(options.cache, c.numKvHeads * c.headDim);
  const embed = tensor(weights, 'model.embed_tokens.weight', [c.vocabSize, H]);
  // LlamaForCausalLM ties lm_head to embed_tokens when tie_word_embeddings (_tied_weights_keys).
  const head = c.tieWordEmbeddings ? embed : tensor(weights, 'lm_head.weight', [c.vocabSize, H]);
  const finalNorm = tensor(weights, 'model.norm.weight', [H]);
  const layers = Array.from({ length: c.numLayers }, (_, i) => layerWeights(c, weights, i));
  // Everything is checked: from here on nothing throws, so the cache is never left half-written.
  const cache = options.cache ?? new KvCache(step.batch, c.numLayers);
  const plain = rotaryInvFreq(c.headDim, c.ropeTheta);
  const invFreq = c.ropeScaling ? llama3InvFreq(plain, c.ropeScaling) : plain;
  const group = c.numHeads / c.numKvHeads; // q heads per kv head (repeat_kv)
  const scale = 1 / Math.sqrt(c.headDim); // self.scaling = head_dim ** -0.5

  let xs: Float64Array[][] = tokens.map((row) => row.map((t) => embed.slice(t * H, (t + 1) * H)));
  for (const [l, lw] of layers.entries()) {
    const next: Float64Array[][] = [];
    for (let b = 0; b < step.batch; b++) {
      const keys = cache.keys[l]![b]!;
      const values = cache.values[l]![b]!;
      const queries: Float64Array[] = [];
      for (let t = 0; t < step.steps; t++) {
        const n = rmsNorm(xs[b]![t]!, lw.inputNorm, c.rmsNormEps);
        const q = linear(n, lw.q, lw.qBias, c.numHeads * c.headDim);
        const k = linear(n, lw.k, lw.kBias, c.numKvHeads * c.headDim);
        const v = linear(n, lw.v, lw.vBias, c.numKvHeads * c.headDim);
        if (lw.qNorm && lw.kNorm) {
          normHeads(q, c.numHeads, c.headDim, lw.qNorm, c.rmsNormEps);
          normHeads(k, c.numKvHeads, c.headDim, lw.kNorm, c.rmsNormEps);
        }
        const pos = step.positions[b]![t]!;
        for (let h = 0; h < c.numHeads; h++) applyRotary(q, h * c.headDim, c.headDim, pos, invFreq);
        for (let h = 0; h < c.numKvHeads; h++)
          applyRotary(k, h * c.headDim, c.headDim, pos, invFreq);
        queries.push(q);
        keys.push(k);
        values.push(v);
      }
      const row: Float64Array[] = [];
      for (let t = 0; t < step.steps; t++) {
        const seen = visibleSlots(step.fullMask[b]!, step.past + t, c.slidingWindow);
        const heads = new Float64Array(c.numHeads * c.headDim);
        for (let h = 0; h < c.numHeads; h++) {
          const kvOff = Math.floor(h / group) * c.headDim;
          const o = attend(queries[t]!, h * c.headDim, keys, values, kvOff, c.headDim, scale, seen);
          heads.set(o, h * c.headDim);
        }
        const x = add(xs[b]![t]!, linear(heads, lw.o, lw.oBias, H));
        const n = rmsNorm(x, lw.postNorm, c.rmsNormEps);
        const g = linear(n, lw.gate, lw.gateBias, c.intermediateSize);
        const u = linear(n, lw.up, lw.upBias, c.intermediateSize);
        for (let i = 0; i < g.length; i++) g[i] = silu(g[i]!) * u[i]!;
        row.push(add(x, linear(g, lw.down, lw.downBias, H)));
      }
      next.push(row);
    }
    xs = next;
  }
  for (let b = 0; b < step.batch; b++) cache.mask[b]!.push(...step.fullMask[b]!.slice(step.past));
  return xs.map((row) =>
    row.map((x) => linear(rmsNorm(x, finalNorm, c.rmsNormEps), head, undefined, c.vocabSize)),
  );
}
