// The float64 building blocks of the Hugging Face reference (reference-decoder.ts,
// reference-gpt2.ts, reference-bert.ts): clarity over speed, one vector at a time. Each op cites
// the Hugging Face function whose arithmetic it repeats; Hugging Face computes in float32 (norms
// and softmax upcast to float32), the reference in float64, so it is the answer those
// computations approximate, and the one the engines' kernels are checked against.

import type { HfWeights } from './types';

/** Input the reference cannot compute on: a missing or misshapen tensor, a token outside the
 * vocabulary, a ragged batch, a mask that is not 0/1, a cache of another batch. */
export class HfReferenceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HfReferenceError';
  }
}

const widened = new WeakMap<HfWeights, Map<string, Float64Array>>();

/**
 * A tensor widened to float64, checked against the shape the architecture needs (a lying
 * checkpoint gets an HfReferenceError, never a silent out-of-bounds read). Widened copies are
 * kept per weights object so a decode loop does not widen the whole model every step.
 */
export function tensor(weights: HfWeights, name: string, shape: readonly number[]): Float64Array {
  if (!weights.has(name)) throw new HfReferenceError(`tensor ${name} is missing`);
  const got = weights.get(name).shape;
  if (got.length !== shape.length || got.some((d, i) => d !== shape[i])) {
    throw new HfReferenceError(
      `tensor ${name} has shape [${got.join(', ')}], expected [${shape.join(', ')}]`,
    );
  }
  let memo = widened.get(weights);
  if (!memo) {
    memo = new Map();
    widened.set(weights, memo);
  }
  let data = memo.get(name);
  if (!data) {
    data = weights.f64(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (data.length !== n) {
      throw new HfReferenceError(`tensor ${name} holds ${data.length} elements, expected ${n}`);
    }
    memo.set(name, data);
  }
  return data;
}

/** torch.nn.Linear: y = x·Wᵀ + b with W stored [out, in] (row o is output o's weights). */
export function linear(
  x: Float64Array,
  w: Float64Array,
  b: Float64Array | undefined,
  out: number,
): Float64Array {
  const n = x.length;
  const y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o]! : 0;
    const row = o * n;
    for (let i = 0; i < n; i++) s += x[i]! * w[row + i]!;
    y[o] = s;
  }
  return y;
}

/** transformers.pytorch_utils.Conv1D (GPT-2): y = x·W + b with W stored [in, out]. */
export function conv1d(
  x: Float64Array,
  w: Float64Array,
  b: Float64Array,
  out: number,
): Float64Array {
  const y = Float64Array.from(b);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    const row = i * out;
    for (let o = 0; o < out; o++) y[o] = y[o]! + xi * w[row + o]!;
  }
  return y;
}

/** LlamaRMSNorm.forward (modeling_llama.py; Qwen2/Qwen3/Mistral copy it):
 * x · rsqrt(mean(x²) + eps) · weight. No mean subtraction, no bias. */
export function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i]! * x[i]!;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = x[i]! * r * weight[i]!;
  return y;
}

/** torch.nn.LayerNorm: (x − mean) / sqrt(biased variance + eps) · weight + bias. */
export function layerNorm(
  x: Float64Array,
  weight: Float64Array,
  bias: Float64Array,
  eps: number,
): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (x[i]! - mean) ** 2;
  const r = 1 / Math.sqrt(v / n + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = (x[i]! - mean) * r * weight[i]! + bias[i]!;
  return y;
}

/** x + y, elementwise, into a new vector (the residual stream). */
export function add(x: Float64Array, y: Float64Array): Float64Array {
  const z = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) z[i] = x[i]! + y[i]!;
  return z;
}

/**
 * erf(x) to float64 precision: erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ · x / (1·3·…·(2n+1)), a
 * series of positive terms (no cancellation). Beyond |x| = 6, erfc is below 2⁻⁵⁵, so erf
 * rounds to ±1. (JavaScript has no Math.erf.)
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  const twoX2 = 2 * a * a;
  let term = a;
  let sum = a;
  for (let n = 0; term > sum * 1e-17; n++) {
    term *= twoX2 / (2 * n + 3);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum);
}

/** activations.py GELUActivation (`gelu`, torch's exact GELU): 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** activations.py NewGELUActivation (`gelu_new`; PytorchGELUTanh, `gelu_pytorch_tanh`, is the
 * same formula): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** torch.nn.SiLU (the decoders' `hidden_act: silu`): x · sigmoid(x). */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** The activations a config may name, by their ACT2FN key (activations.py). */
export function activation(name: 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu' | 'silu') {
  switch (name) {
    case 'gelu':
      return geluErf;
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return geluTanh;
    case 'relu':
      return (x: number) => Math.max(0, x);
    case 'silu':
      return silu;
  }
}

/**
 * Softmax-weighted attention of one query over the keys it may see: the eager_attention_forward
 * of modeling_llama.py (softmax(q·kᵀ·scale + mask)·v). A masked key gets weight exactly 0, as
 * Hugging Face's additive finfo.min mask gives after float32 exp; `allowed` lists the slots the
 * query may see. With none allowed (a left-pad query), the output is zeros: Hugging Face's
 * output there differs between its attention implementations and is never used.
 */
export function attend(
  q: Float64Array,
  qOff: number,
  keys: readonly Float64Array[],
  values: readonly Float64Array[],
  kvOff: number,
  headDim: number,
  scale: number,
  allowed: readonly number[],
): Float64Array {
  const out = new Float64Array(headDim);
  if (allowed.length === 0) return out;
  const scores = allowed.map((j) => {
    const k = keys[j]!;
    let s = 0;
    for (let d = 0; d < headDim; d++) s += q[qOff + d]! * k[kvOff + d]!;
    return s * scale;
  });
  const max = Math.max(...scores);
  const e = scores.map((s) => Math.exp(s - max));
  const z = e.reduce((a, b) => a + b, 0);
  allowed.forEach((j, n) => {
    const v = values[j]!;
    const p = e[n]! / z;
    for (let d = 0; d < headDim; d++) out[d] = out[d]! + p * v[kvOff + d]!;
  });
  return out;
}
