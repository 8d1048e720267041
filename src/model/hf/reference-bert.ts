// The float64 reference of Hugging Face's BertModel (transformers/models/bert/modeling_bert.py)
// and of sentence-transformers' pooling (sentence_transformers/models/Pooling.py) and
// Normalize (models/Normalize.py).
//
// BertEmbeddings: LayerNorm(word + token_type + position), positions 0..T−1 whatever the mask
// (absolute position_embedding_type). Each BertLayer, post-LN: a = LayerNorm(x + dense(self-
// attention(x))) (BertSelfOutput), then LayerNorm(a + dense(act(dense(a)))) (BertIntermediate,
// BertOutput). Self-attention is bidirectional, scaled by 1/√head_size, with padded keys masked
// (get_extended_attention_mask: (1 − mask)·finfo.min added, which gives them weight 0).

import {
  activation,
  add,
  attend,
  HfReferenceError,
  layerNorm,
  linear,
  tensor,
} from './reference-ops';
import type { BertConfig, HfWeights, PoolingConfig } from './types';

/** Options of one BERT forward call. */
export interface BertOptions {
  /** 1 for a token, 0 for padding, per sequence and token. Default: all 1. */
  attentionMask?: number[][];
  /** Segment of each token (token_type_ids). Default: all 0, as BertModel defaults them. */
  tokenTypeIds?: number[][];
}

function layerWeights(c: BertConfig, w: HfWeights, i: number) {
  const p = `encoder.layer.${i}.`;
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  return {
    q: tensor(w, `${p}attention.self.query.weight`, [H, H]),
    qBias: tensor(w, `${p}attention.self.query.bias`, [H]),
    k: tensor(w, `${p}attention.self.key.weight`, [H, H]),
    kBias: tensor(w, `${p}attention.self.key.bias`, [H]),
    v: tensor(w, `${p}attention.self.value.weight`, [H, H]),
    vBias: tensor(w, `${p}attention.self.value.bias`, [H]),
    o: tensor(w, `${p}attention.output.dense.weight`, [H, H]),
    oBias: tensor(w, `${p}attention.output.dense.bias`, [H]),
    ln1: tensor(w, `${p}attention.output.LayerNorm.weight`, [H]),
    ln1Bias: tensor(w, `${p}attention.output.LayerNorm.bias`, [H]),
    up: tensor(w, `${p}intermediate.dense.weight`, [I, H]),
    upBias: tensor(w, `${p}intermediate.dense.bias`, [I]),
    down: tensor(w, `${p}output.dense.weight`, [H, I]),
    downBias: tensor(w, `${p}output.dense.bias`, [H]),
    ln2: tensor(w, `${p}output.LayerNorm.weight`, [H]),
    ln2Bias: tensor(w, `${p}output.LayerNorm.bias`, [H]),
  };
}

function checkGrid(name: string, grid: number[][], rows: number, cols: number, limit: number) {
  if (grid.length !== rows || grid.some((r) => r.length !== cols)) {
    throw new HfReferenceError(`${name} must be ${rows} rows of ${cols}`);
  }
  for (const [b, r] of grid.entries()) {
    for (const v of r) {
      if (!Number.isInteger(v) || v < 0 || v >= limit) {
        throw new HfReferenceError(`${name} row ${b} holds ${v}, outside 0..${limit - 1}`);
      }
    }
  }
}

/**
 * BertModel's last_hidden_state: `hidden[b][t]` is token t of sequence b (hiddenSize values).
 * Padded tokens get hidden states too (they attend to the real ones); pooling ignores them.
 */
export function bertForward(
  config: BertConfig,
  weights: HfWeights,
  tokens: number[][],
  options: BertOptions = {},
): Float64Array[][] {
  const c = config;
  const H = c.hiddenSize;
  const batch = tokens.length;
  const T = tokens[0]?.length ?? 0;
  if (batch === 0 || T === 0) throw new HfReferenceError('a batch needs a sequence of tokens');
  if (H % c.numHeads !== 0) {
    throw new HfReferenceError(`hidden size ${H} is not a multiple of ${c.numHeads} heads`);
  }
  if (T > c.maxPositions) {
    throw new HfReferenceError(`${T} tokens exceed max_position_embeddings ${c.maxPositions}`);
  }
  checkGrid('tokens', tokens, batch, T, c.vocabSize);
  const mask = options.attentionMask ?? tokens.map((r) => r.map(() => 1));
  checkGrid('attention mask', mask, batch, T, 2);
  for (const [b, r] of mask.entries()) {
    if (!r.includes(1)) throw new HfReferenceError(`sequence ${b} is all padding`);
  }
  const types = options.tokenTypeIds ?? tokens.map((r) => r.map(() => 0));
  checkGrid('token type ids', types, batch, T, c.typeVocabSize);
  const word = tensor(weights, 'embeddings.word_embeddings.weight', [c.vocabSize, H]);
  const pos = tensor(weights, 'embeddings.position_embeddings.weight', [c.maxPositions, H]);
  const typ = tensor(weights, 'embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]);
  const embLn = tensor(weights, 'embeddings.LayerNorm.weight', [H]);
  const embLnBias = tensor(weights, 'embeddings.LayerNorm.bias', [H]);
  const layers = Array.from({ length: c.numLayers }, (_, i) => layerWeights(c, weights, i));
  const act = activation(c.hiddenAct);
  const headDim = H / c.numHeads;
  const scale = 1 / Math.sqrt(headDim);
  const row = (m: Float64Array, i: number) => m.subarray(i * H, (i + 1) * H);

  // BertEmbeddings.forward: inputs_embeds + token_type_embeddings, + position_embeddings.
  let xs: Float64Array[][] = tokens.map((r, b) =>
    r.map((t, i) => {
      const e = add(add(row(word, t), row(typ, types[b]![i]!)), row(pos, i));
      return layerNorm(e, embLn, embLnBias, c.layerNormEps);
    }),
  );
  for (const lw of layers) {
    xs = xs.map((seq, b) => {
      const qs = seq.map((x) => linear(x, lw.q, lw.qBias, H));
      const ks = seq.map((x) => linear(x, lw.k, lw.kBias, H));
      const vs = seq.map((x) => linear(x, lw.v, lw.vBias, H));
      const seen = mask[b]!.flatMap((m, j) => (m === 1 ? [j] : []));
      return seq.map((x, t) => {
        const heads = new Float64Array(H);
        for (let h = 0; h < c.numHeads; h++) {
          const off = h * headDim;
          heads.set(attend(qs[t]!, off, ks, vs, off, headDim, scale, seen), off);
        }
        const a = layerNorm(
          add(x, linear(heads, lw.o, lw.oBias, H)),
          lw.ln1,
          lw.ln1Bias,
          c.layerNormEps,
        );
        const m = linear(a, lw.up, lw.upBias, c.intermediateSize);
        for (let i = 0; i < m.length; i++) m[i] = act(m[i]!);
        return layerNorm(
          add(a, linear(m, lw.down, lw.downBias, H)),
          lw.ln2,
          lw.ln2Bias,
          c.layerNormEps,
        );
      });
    });
  }
  return xs;
}

/** sentence-transformers' Normalize clamps the norm here (F.normalize's eps). */
const NORMALIZE_EPS = 1e-12;
/** Pooling's floor on a mean's token count (torch.clamp(sum_mask, min=1e-9)). */
const MEAN_COUNT_FLOOR = 1e-9;
/** Pooling's fill for padded tokens before a max (token_embeddings[mask == 0] = -1e9). */
const MAX_PAD_FILL = -1e9;

/**
 * One embedding per sequence from token hidden states, as sentence-transformers' Pooling does:
 * `mean` (over tokens with mask 1), `cls` (token 0), `max` (per dimension, padded tokens
 * filled with -1e9), `lasttoken` (the last token with mask 1, either padding side; a row
 * with none gives zeros); then, with `normalize`, divided by max(‖x‖₂, 1e-12) (Normalize).
 */
export function poolEmbeddings(
  hidden: Float64Array[][],
  mask: number[][],
  pooling: PoolingConfig,
): Float64Array[] {
  if (mask.length !== hidden.length || mask.some((r, b) => r.length !== hidden[b]!.length)) {
    throw new HfReferenceError('the mask must have one entry per token of each sequence');
  }
  if (mask.some((r) => r.some((x) => x !== 0 && x !== 1))) {
    throw new HfReferenceError('the mask holds a value other than 0 or 1');
  }
  return hidden.map((seq, b) => {
    const m = mask[b]!;
    const dim = seq[0]?.length ?? 0;
    let v = new Float64Array(dim);
    if (pooling.mode === 'cls') {
      if (seq.length > 0) v = Float64Array.from(seq[0]!);
    } else if (pooling.mode === 'mean') {
      let count = 0;
      seq.forEach((x, t) => {
        count += m[t]!;
        for (let d = 0; d < dim; d++) v[d] = v[d]! + x[d]! * m[t]!;
      });
      for (let d = 0; d < dim; d++) v[d] = v[d]! / Math.max(count, MEAN_COUNT_FLOOR);
    } else if (pooling.mode === 'max') {
      v.fill(Number.NEGATIVE_INFINITY);
      seq.forEach((x, t) => {
        for (let d = 0; d < dim; d++) v[d] = Math.max(v[d]!, m[t] === 1 ? x[d]! : MAX_PAD_FILL);
      });
    } else {
      const last = m.lastIndexOf(1);
      // Pooling gathers from token_embeddings · mask, at index 0 when no token is real.
      if (last >= 0) v = Float64Array.from(seq[last]!);
    }
    if (pooling.normalize) {
      const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
      for (let d = 0; d < dim; d++) v[d] = v[d]! / Math.max(norm, NORMALIZE_EPS);
    }
    return v;
  });
}
