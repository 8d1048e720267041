// The float64 reference of Hugging Face's GPT2LMHeadModel (transformers/models/gpt2/
// modeling_gpt2.py). Per block (GPT2Block.forward, pre-LN): h = x + attn(ln_1(x)), then
// h + mlp(ln_2(h)). Weights are Conv1D (pytorch_utils.py): stored [in, out], y = x·W + b.
// GPT2Attention: c_attn yields q, k, v side by side (split(split_size, dim=2)); scores scaled by
// 1/√head_dim (scale_attn_weights, default true; scale_attn_by_inverse_layer_idx, default false,
// is not supported); causal mask plus the padding mask. GPT2MLP: c_proj(act(c_fc(x))) with
// `activation_function` (gelu_new by default). The head is tied to wte (no bias).

import { checkCacheWidth, KvCache, prepareStep, visibleSlots } from './reference-cache';
import type { ForwardOptions } from './reference-decoder';
import {
  activation,
  add,
  attend,
  conv1d,
  HfReferenceError,
  layerNorm,
  linear,
  tensor,
} from './reference-ops';
import type { Gpt2Config, HfWeights } from './types';

function blockWeights(c: Gpt2Config, w: HfWeights, i: number) {
  const p = `h.${i}.`;
  const E = c.nEmbd;
  return {
    ln1: tensor(w, `${p}ln_1.weight`, [E]),
    ln1Bias: tensor(w, `${p}ln_1.bias`, [E]),
    attn: tensor(w, `${p}attn.c_attn.weight`, [E, 3 * E]),
    attnBias: tensor(w, `${p}attn.c_attn.bias`, [3 * E]),
    proj: tensor(w, `${p}attn.c_proj.weight`, [E, E]),
    projBias: tensor(w, `${p}attn.c_proj.bias`, [E]),
    ln2: tensor(w, `${p}ln_2.weight`, [E]),
    ln2Bias: tensor(w, `${p}ln_2.bias`, [E]),
    fc: tensor(w, `${p}mlp.c_fc.weight`, [E, c.nInner]),
    fcBias: tensor(w, `${p}mlp.c_fc.bias`, [c.nInner]),
    out: tensor(w, `${p}mlp.c_proj.weight`, [c.nInner, E]),
    outBias: tensor(w, `${p}mlp.c_proj.bias`, [E]),
  };
}

/**
 * Logits of GPT-2 for every token of the call, as decoderForward gives them (same options,
 * same cache semantics, same position ids for a left-padded batch: generate's
 * cumsum(mask) − 1). Cached keys are stored as c_attn gives them (GPT-2 has no rotary).
 */
export function gpt2Forward(
  config: Gpt2Config,
  weights: HfWeights,
  tokens: number[][],
  options: ForwardOptions = {},
): Float64Array[][] {
  const c = config;
  const E = c.nEmbd;
  if (E % c.nHead !== 0) {
    throw new HfReferenceError(`n_embd ${E} is not a multiple of n_head ${c.nHead}`);
  }
  const headDim = E / c.nHead;
  const step = prepareStep(
    tokens,
    c.vocabSize,
    options.attentionMask,
    options.cache,
    c.nLayer,
    options.positionIds,
  );
  const last = Math.max(...step.positions.flat());
  if (last >= c.nPositions) {
    throw new HfReferenceError(`position ${last} is beyond n_positions ${c.nPositions}`);
  }
  checkCacheWidth(options.cache, E);
  const wte = tensor(weights, 'wte.weight', [c.vocabSize, E]);
  const wpe = tensor(weights, 'wpe.weight', [c.nPositions, E]);
  const lnF = tensor(weights, 'ln_f.weight', [E]);
  const lnFBias = tensor(weights, 'ln_f.bias', [E]);
  const blocks = Array.from({ length: c.nLayer }, (_, i) => blockWeights(c, weights, i));
  // Everything is checked: from here on nothing throws, so the cache is never left half-written.
  const cache = options.cache ?? new KvCache(step.batch, c.nLayer);
  const act = activation(c.activation);
  const scale = 1 / Math.sqrt(headDim);

  // GPT2Model.forward: inputs_embeds + position_embeds.
  let xs: Float64Array[][] = tokens.map((row, b) =>
    row.map((t, i) => {
      const p = step.positions[b]![i]!;
      return add(wte.subarray(t * E, (t + 1) * E), wpe.subarray(p * E, (p + 1) * E));
    }),
  );
  for (const [l, bw] of blocks.entries()) {
    const next: Float64Array[][] = [];
    for (let b = 0; b < step.batch; b++) {
      const keys = cache.keys[l]![b]!;
      const values = cache.values[l]![b]!;
      const queries: Float64Array[] = [];
      for (let t = 0; t < step.steps; t++) {
        const qkv = conv1d(
          layerNorm(xs[b]![t]!, bw.ln1, bw.ln1Bias, c.layerNormEpsilon),
          bw.attn,
          bw.attnBias,
          3 * E,
        );
        queries.push(qkv.slice(0, E));
        keys.push(qkv.slice(E, 2 * E));
        values.push(qkv.slice(2 * E));
      }
      const row: Float64Array[] = [];
      for (let t = 0; t < step.steps; t++) {
        const seen = visibleSlots(step.fullMask[b]!, step.past + t);
        const heads = new Float64Array(E);
        for (let h = 0; h < c.nHead; h++) {
          const off = h * headDim;
          heads.set(attend(queries[t]!, off, keys, values, off, headDim, scale, seen), off);
        }
        const x = add(xs[b]![t]!, conv1d(heads, bw.proj, bw.projBias, E));
        const m = conv1d(
          layerNorm(x, bw.ln2, bw.ln2Bias, c.layerNormEpsilon),
          bw.fc,
          bw.fcBias,
          c.nInner,
        );
        for (let i = 0; i < m.length; i++) m[i] = act(m[i]!);
        row.push(add(x, conv1d(m, bw.out, bw.outBias, E)));
      }
      next.push(row);
    }
    xs = next;
  }
  for (let b = 0; b < step.batch; b++) cache.mask[b]!.push(...step.fullMask[b]!.slice(step.past));
  return xs.map((row) =>
    row.map((x) =>
      linear(layerNorm(x, lnF, lnFBias, c.layerNormEpsilon), wte, undefined, c.vocabSize),
    ),
  );
}
