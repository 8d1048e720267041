// A Hugging Face GPT-2 (GPT2LMHeadModel: pre-LN blocks, Conv1D weights stored [in, out], gelu_new,
// the head tied to wte) written with TF.js ops: the training script uses it (with autodiff, on
// TF.js's CPU/WASM backend in Node) and the inference benchmark runs it as a peer (TF.js's
// WebGPU backend, the checkpoint's weights, the same ops). Parameter names are the checkpoint's
// canonical ones (`wte.weight`, `h.0.attn.c_attn.weight`, …: src/model/hf/checkpoint.ts).
import type * as TF from '@tensorflow/tfjs';
import type { Gpt2Config, HfWeights } from './hf/types';

export type TfParams = Record<string, TF.Variable>;

/** Every parameter's name and shape, in checkpoint order. */
function gpt2TensorShapes(c: Gpt2Config): Record<string, number[]> {
  const D = c.nEmbd;
  const shapes: Record<string, number[]> = {
    'wte.weight': [c.vocabSize, D],
    'wpe.weight': [c.nPositions, D],
  };
  for (let i = 0; i < c.nLayer; i++) {
    const p = `h.${i}.`;
    Object.assign(shapes, {
      [`${p}ln_1.weight`]: [D],
      [`${p}ln_1.bias`]: [D],
      [`${p}attn.c_attn.weight`]: [D, 3 * D],
      [`${p}attn.c_attn.bias`]: [3 * D],
      [`${p}attn.c_proj.weight`]: [D, D],
      [`${p}attn.c_proj.bias`]: [D],
      [`${p}ln_2.weight`]: [D],
      [`${p}ln_2.bias`]: [D],
      [`${p}mlp.c_fc.weight`]: [D, c.nInner],
      [`${p}mlp.c_fc.bias`]: [c.nInner],
      [`${p}mlp.c_proj.weight`]: [c.nInner, D],
      [`${p}mlp.c_proj.bias`]: [D],
    });
  }
  shapes['ln_f.weight'] = [D];
  shapes['ln_f.bias'] = [D];
  return shapes;
}

/** GELU's tanh form is the only activation written here. */
function checkActivation(c: Gpt2Config): void {
  if (c.activation !== 'gelu_new' && c.activation !== 'gelu_pytorch_tanh') {
    throw new RangeError(`gpt-tf: activation ${c.activation} is not GELU's tanh form`);
  }
}

/** GPT-2-style initialisation: N(0, 0.02), residual projections scaled by 1/√(2·layers). */
export function initTfParams(tf: typeof TF, c: Gpt2Config, seed = 1): TfParams {
  checkActivation(c);
  const params: TfParams = {};
  let s = seed;
  for (const [name, shape] of Object.entries(gpt2TensorShapes(c))) {
    let init: TF.Tensor;
    if (/ln_[12f]\.weight$/.test(name)) {
      init = tf.ones(shape);
    } else if (name.endsWith('.bias')) {
      init = tf.zeros(shape);
    } else {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * c.nLayer) : 0.02;
      init = tf.randomNormal(shape, 0, std, 'float32', s++);
    }
    params[name] = tf.variable(init, true, name);
  }
  return params;
}

/** A loaded checkpoint's weights as TF.js variables (16-bit ones widened to float32). */
export function tfGpt2Params(tf: typeof TF, c: Gpt2Config, weights: HfWeights): TfParams {
  checkActivation(c);
  const params: TfParams = {};
  for (const [name, shape] of Object.entries(gpt2TensorShapes(c))) {
    const t = weights.get(name);
    const data =
      t.dtype === 'F32' ? (t.data as Float32Array) : Float32Array.from(weights.f64(name));
    params[name] = tf.variable(tf.tensor(data, shape), false, name);
  }
  return params;
}

function layernorm(tf: typeof TF, x: TF.Tensor, g: TF.Tensor, b: TF.Tensor, eps: number) {
  const { mean, variance } = tf.moments(x, -1, true);
  return x
    .sub(mean)
    .mul(tf.rsqrt(variance.add(eps)))
    .mul(g)
    .add(b);
}

function gelu(tf: typeof TF, x: TF.Tensor) {
  const inner = x.add(x.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
  return x.mul(0.5).mul(tf.tanh(inner).add(1));
}

/**
 * Final hidden states before ln_f, [batch·seq, D], for tokens [batch, seq] (no padding).
 * `oneHotEmbedding` looks tokens up with a one-hot matmul instead of a gather: TF.js's WASM
 * backend cannot differentiate a gather.
 */
function tfGpt2Hidden(
  tf: typeof TF,
  p: TfParams,
  c: Gpt2Config,
  tokens: TF.Tensor2D,
  oneHotEmbedding = false,
): TF.Tensor2D {
  const [B, S] = tokens.shape;
  const D = c.nEmbd;
  const H = c.nHead;
  const hd = D / H;
  const wte = p['wte.weight']!;
  const flat = tokens.reshape([B * S]) as TF.Tensor1D;
  const tokenEmb = oneHotEmbedding
    ? tf.oneHot(flat, c.vocabSize).matMul(wte)
    : tf.gather(wte, flat);
  let h = tokenEmb
    .reshape([B, S, D])
    .add(p['wpe.weight']!.slice([0, 0], [S, D]))
    .reshape([B * S, D]);
  // 0 on and below the diagonal, a large negative number above it: no attending to the future.
  const mask = tf.linalg
    .bandPart(tf.ones([S, S]), -1, 0)
    .sub(1)
    .mul(1e9);
  const eps = c.layerNormEpsilon;
  for (let i = 0; i < c.nLayer; i++) {
    const w = (n: string) => p[`h.${i}.${n}`]!;
    const x = layernorm(tf, h, w('ln_1.weight'), w('ln_1.bias'), eps);
    const qkv = x
      .matMul(w('attn.c_attn.weight'))
      .add(w('attn.c_attn.bias'))
      .reshape([B, S, 3, H, hd]);
    const [q, k, v] = tf
      .split(qkv, 3, 2)
      .map((t) => t.reshape([B, S, H, hd]).transpose([0, 2, 1, 3]));
    const scores = tf
      .matMul(q!, k!, false, true)
      .mul(1 / Math.sqrt(hd))
      .add(mask);
    const att = tf
      .matMul(tf.softmax(scores, -1), v!)
      .transpose([0, 2, 1, 3])
      .reshape([B * S, D]);
    h = h.add(att.matMul(w('attn.c_proj.weight')).add(w('attn.c_proj.bias')));
    const y = layernorm(tf, h, w('ln_2.weight'), w('ln_2.bias'), eps);
    const f = gelu(tf, y.matMul(w('mlp.c_fc.weight')).add(w('mlp.c_fc.bias')));
    h = h.add(f.matMul(w('mlp.c_proj.weight')).add(w('mlp.c_proj.bias')));
  }
  return h as TF.Tensor2D;
}

/** Logits at every position, [batch·seq, vocab] (training). */
export function tfGpt2Logits(
  tf: typeof TF,
  p: TfParams,
  c: Gpt2Config,
  tokens: TF.Tensor2D,
): TF.Tensor2D {
  const h = tfGpt2Hidden(tf, p, c, tokens, true);
  const y = layernorm(tf, h, p['ln_f.weight']!, p['ln_f.bias']!, c.layerNormEpsilon);
  return y.matMul(p['wte.weight']!, false, true) as TF.Tensor2D;
}

/** Last-position logits, [batch, vocab] (inference). */
export function tfGpt2LastLogits(
  tf: typeof TF,
  p: TfParams,
  c: Gpt2Config,
  tokens: TF.Tensor2D,
): TF.Tensor2D {
  const [B, S] = tokens.shape;
  const D = c.nEmbd;
  const h = tfGpt2Hidden(tf, p, c, tokens).reshape([B, S, D]);
  const last = h.slice([0, S - 1, 0], [B, 1, D]).reshape([B, D]);
  const y = layernorm(tf, last, p['ln_f.weight']!, p['ln_f.bias']!, c.layerNormEpsilon);
  return y.matMul(p['wte.weight']!, false, true) as TF.Tensor2D;
}
