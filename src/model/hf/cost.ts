/**
 * What a Hugging Face model costs to run and how far an honest float32 answer may stray, from
 * its config alone: the numbers the mesh's inference kind pays credit by and checks copies
 * against (src/jobs/inference-*.ts). A job carries a `ModelSummary`, not the whole config, so
 * these are computed from the summary.
 */

import { gammaF32 } from '../../reference/matmul';
import type { HfFamily, ModelConfig } from './types';

/** A model's shape as far as cost and error bounds need it (every field a count). */
export interface ModelSummary {
  family: HfFamily;
  /** Logits per position (config.json vocab_size). */
  vocab: number;
  /** Longest sequence in tokens. */
  maxPositions: number;
  layers: number;
  /** Embedding width. */
  hidden: number;
  /** Query (and attention output) width: heads × head size. */
  attnWidth: number;
  /** Key/value width: kv heads × head size (= attnWidth without GQA). */
  kvWidth: number;
  /** MLP inner width. */
  ffWidth: number;
  /** The MLP has a gate (SwiGLU: three matrices), else two. */
  gated: boolean;
}

/** The summary of a checked config (src/model/hf/config.ts parseConfig). */
export function modelSummary(c: ModelConfig): ModelSummary {
  if (c.family === 'gpt2') {
    return {
      family: c.family,
      vocab: c.vocabSize,
      maxPositions: c.nPositions,
      layers: c.nLayer,
      hidden: c.nEmbd,
      attnWidth: c.nEmbd,
      kvWidth: c.nEmbd,
      ffWidth: c.nInner,
      gated: false,
    };
  }
  if (c.family === 'bert') {
    return {
      family: c.family,
      vocab: c.vocabSize,
      maxPositions: c.maxPositions,
      layers: c.numLayers,
      hidden: c.hiddenSize,
      attnWidth: c.hiddenSize,
      kvWidth: c.hiddenSize,
      ffWidth: c.intermediateSize,
      gated: false,
    };
  }
  return {
    family: c.family,
    vocab: c.vocabSize,
    maxPositions: c.maxPositions,
    layers: c.numLayers,
    hidden: c.hiddenSize,
    attnWidth: c.numHeads * c.headDim,
    kvWidth: c.numKvHeads * c.headDim,
    ffWidth: c.intermediateSize,
    gated: true,
  };
}

/**
 * Floating-point operations of one causal forward pass over `seq` tokens of which the last
 * `outputs` go through the LM head (multiply-adds count 2): the projections and MLP per token,
 * QKᵀ and A·V over the causal pairs, and the head. Norms, activations and softmax are left out
 * (a few per cent at these shapes). Credit for inference work is computed from this, never from
 * a contributor's report.
 */
export function forwardFlops(s: ModelSummary, seq: number, outputs = 1): number {
  const D = s.hidden;
  const projections = D * s.attnWidth + 2 * D * s.kvWidth + s.attnWidth * D;
  const mlp = (s.gated ? 3 : 2) * D * s.ffWidth;
  const perToken = 2 * (projections + mlp);
  const attention = 2 * 2 * s.attnWidth * ((seq * (seq + 1)) / 2);
  return s.layers * (seq * perToken + attention) + 2 * D * s.vocab * outputs;
}

/**
 * How far one honest float32 logit may lie from the exact one: rounding compounds through each
 * layer's longest dot product and its norms, so layers·γ_K on the logit scale, K the longest
 * dot product of a layer (the MLP's inner width, usually), `scale` the row's largest |logit|,
 * at least 1. Measured for the shipped GPT-2 against the float64 reference: 0.3% of it on the
 * CPU engine (tests/unit/model/shipped-model.test.ts); the old GPU implementation measured about 2%.
 * Two honest runs on different engines differ by at most twice this.
 */
export function logitErrorBound(s: ModelSummary, scale: number): number {
  const k = Math.max(s.hidden, s.attnWidth, s.ffWidth);
  return s.layers * gammaF32(k) * Math.max(1, scale);
}
