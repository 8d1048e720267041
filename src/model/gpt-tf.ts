// The same GPT as src/model/gpt.ts, written with TF.js ops: the training script uses it (with
// autodiff, on TF.js's CPU/WASM backend in Node) and the benchmark runs it as the peer (on TF.js's
// WebGPU backend, same weights, same ops). Tensor names match gptTensorShapes().
import type * as TF from '@tensorflow/tfjs';
import { type GptConfig, gptTensorShapes } from './gpt';

export type TfParams = Record<string, TF.Variable>;

/** GPT-2-style initialisation: N(0, 0.02), residual projections scaled by 1/√(2·layers). */
export function initTfParams(tf: typeof TF, c: GptConfig, seed = 1): TfParams {
  const params: TfParams = {};
  let s = seed;
  for (const [name, shape] of Object.entries(gptTensorShapes(c))) {
    let init: TF.Tensor;
    if (name.endsWith('ln_1.weight') || name.endsWith('ln_2.weight') || name === 'ln_f.weight') {
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

/** Loads weights (e.g. from safetensors) as TF.js variables. */
export function tfParamsFrom(
  tf: typeof TF,
  c: GptConfig,
  tensors: Map<string, { data: Float32Array }>,
): TfParams {
  const params: TfParams = {};
  for (const [name, shape] of Object.entries(gptTensorShapes(c))) {
    params[name] = tf.variable(tf.tensor(tensors.get(name)!.data, shape), false, name);
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
 * Final hidden states, [batch·seq, D], for tokens [batch, seq]. `oneHotEmbedding` looks tokens up
 * with a one-hot matmul instead of a gather: TF.js's WASM backend cannot differentiate a gather.
 */
export function tfGptHidden(
  tf: typeof TF,
  p: TfParams,
  c: GptConfig,
  tokens: TF.Tensor2D,
  oneHotEmbedding = false,
): TF.Tensor2D {
  const [B, S] = tokens.shape;
  const D = c.dModel;
  const H = c.nHead;
  const hd = D / H;
  const flat = tokens.reshape([B * S]) as TF.Tensor1D;
  const tokenEmb = oneHotEmbedding
    ? tf.oneHot(flat, c.vocab).matMul(p.wte!)
    : tf.gather(p.wte!, flat);
  let h = tokenEmb
    .reshape([B, S, D])
    .add(p.wpe!.slice([0, 0], [S, D]))
    .reshape([B * S, D]);
  // 0 on and below the diagonal, a large negative number above it: no attending to the future.
  const mask = tf.linalg
    .bandPart(tf.ones([S, S]), -1, 0)
    .sub(1)
    .mul(1e9);
  for (let i = 0; i < c.nLayer; i++) {
    const w = (n: string) => p[`h.${i}.${n}`]!;
    const x = layernorm(tf, h, w('ln_1.weight'), w('ln_1.bias'), c.eps);
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
    const y = layernorm(tf, h, w('ln_2.weight'), w('ln_2.bias'), c.eps);
    const f = gelu(tf, y.matMul(w('mlp.c_fc.weight')).add(w('mlp.c_fc.bias')));
    h = h.add(f.matMul(w('mlp.c_proj.weight')).add(w('mlp.c_proj.bias')));
  }
  return h as TF.Tensor2D;
}

/** Logits at every position, [batch·seq, vocab] (training). */
export function tfGptLogits(
  tf: typeof TF,
  p: TfParams,
  c: GptConfig,
  tokens: TF.Tensor2D,
): TF.Tensor2D {
  const h = layernorm(
    tf,
    tfGptHidden(tf, p, c, tokens, true),
    p['ln_f.weight']!,
    p['ln_f.bias']!,
    c.eps,
  );
  return h.matMul(p.wte!, false, true) as TF.Tensor2D;
}

/** Last-position logits, [batch, vocab] (inference, as GpuGpt.forward). */
export function tfGptLastLogits(
  tf: typeof TF,
  p: TfParams,
  c: GptConfig,
  tokens: TF.Tensor2D,
): TF.Tensor2D {
  const [B, S] = tokens.shape;
  const h = tfGptHidden(tf, p, c, tokens).reshape([B, S, c.dModel]);
  const last = h.slice([0, S - 1, 0], [B, 1, c.dModel]).reshape([B, c.dModel]);
  const y = layernorm(tf, last, p['ln_f.weight']!, p['ln_f.bias']!, c.eps);
  return y.matMul(p.wte!, false, true) as TF.Tensor2D;
}
