// The model's definition, validation and float64 reference: no WebGPU here, so Node tools and
// tests can use it without a device. The GPU implementation is src/model/gpt-gpu.ts.
import { GpuError } from '../gpu/errors';
import { gammaF32, geluF64, matmulF64 } from '../gpu/reference';
import { attentionF64, embeddingF64, layernormF64 } from '../gpu/reference-nn';
import { SafetensorsError, type Tensor } from './safetensors';

/** A GPT-2-style decoder: token + position embeddings, pre-LN blocks, final LN, tied LM head. */
export interface GptConfig {
  vocab: number;
  dModel: number; // a multiple of 64 (the kernels' tile width)
  nHead: number; // dModel / nHead ≤ 64
  nLayer: number;
  dFF: number; // a multiple of 64, usually 4·dModel
  maxSeq: number;
  eps: number; // layernorm epsilon
}

export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** Validates a model config (config.json beside the weights). */
export function parseGptConfig(raw: unknown): GptConfig {
  if (typeof raw !== 'object' || raw === null)
    throw new ModelConfigError('config', 'expected an object');
  const r = raw as Record<string, unknown>;
  const int = (f: string, min: number, max: number) => {
    const v = r[f];
    if (!Number.isSafeInteger(v) || (v as number) < min || (v as number) > max) {
      throw new ModelConfigError(
        f,
        `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    }
    return v as number;
  };
  const c = {
    vocab: int('vocab', 2, 65_536),
    dModel: int('dModel', 64, 4_096),
    nHead: int('nHead', 1, 64),
    nLayer: int('nLayer', 1, 64),
    dFF: int('dFF', 64, 16_384),
    maxSeq: int('maxSeq', 1, 4_096),
    eps: r.eps === undefined ? 1e-5 : Number(r.eps),
  };
  if (c.dModel % 64 || c.dFF % 64)
    throw new ModelConfigError('dModel', 'dModel and dFF must be multiples of 64');
  if (c.dModel % c.nHead || c.dModel / c.nHead > 64) {
    throw new ModelConfigError('nHead', 'dModel / nHead must be a whole head size ≤ 64');
  }
  if (!(c.eps > 0 && c.eps < 1)) throw new ModelConfigError('eps', 'must be in (0, 1)');
  return c;
}

export interface BlockWeights {
  ln1g: Float32Array;
  ln1b: Float32Array;
  attnW: Float32Array; // D × 3D
  attnB: Float32Array; // 3D
  projW: Float32Array; // D × D
  projB: Float32Array;
  ln2g: Float32Array;
  ln2b: Float32Array;
  fcW: Float32Array; // D × FF
  fcB: Float32Array;
  fc2W: Float32Array; // FF × D
  fc2B: Float32Array;
}

export interface GptWeights {
  wte: Float32Array; // V × D (also the LM head, transposed)
  wpe: Float32Array; // maxSeq × D
  blocks: BlockWeights[];
  lnfg: Float32Array;
  lnfb: Float32Array;
}

/** Tensor names and shapes, GPT-2's layout (weights stored input-major: x · W). */
export function gptTensorShapes(c: GptConfig): Record<string, number[]> {
  const D = c.dModel;
  const shapes: Record<string, number[]> = {
    wte: [c.vocab, D],
    wpe: [c.maxSeq, D],
    'ln_f.weight': [D],
    'ln_f.bias': [D],
  };
  for (let i = 0; i < c.nLayer; i++) {
    Object.assign(shapes, {
      [`h.${i}.ln_1.weight`]: [D],
      [`h.${i}.ln_1.bias`]: [D],
      [`h.${i}.attn.c_attn.weight`]: [D, 3 * D],
      [`h.${i}.attn.c_attn.bias`]: [3 * D],
      [`h.${i}.attn.c_proj.weight`]: [D, D],
      [`h.${i}.attn.c_proj.bias`]: [D],
      [`h.${i}.ln_2.weight`]: [D],
      [`h.${i}.ln_2.bias`]: [D],
      [`h.${i}.mlp.c_fc.weight`]: [D, c.dFF],
      [`h.${i}.mlp.c_fc.bias`]: [c.dFF],
      [`h.${i}.mlp.c_proj.weight`]: [c.dFF, D],
      [`h.${i}.mlp.c_proj.bias`]: [D],
    });
  }
  return shapes;
}

/** Picks the model's tensors out of a safetensors file, checking every name and shape. */
export function gptWeightsFrom(tensors: Map<string, Tensor>, c: GptConfig): GptWeights {
  const shapes = gptTensorShapes(c);
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new SafetensorsError('missing-tensor', 'the model needs this tensor', name);
    const want = shapes[name]!;
    if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
      throw new SafetensorsError('tensor-shape', `shape [${t.shape}], expected [${want}]`, name);
    }
    return t.data;
  };
  return {
    wte: get('wte'),
    wpe: get('wpe'),
    lnfg: get('ln_f.weight'),
    lnfb: get('ln_f.bias'),
    blocks: Array.from({ length: c.nLayer }, (_, i) => ({
      ln1g: get(`h.${i}.ln_1.weight`),
      ln1b: get(`h.${i}.ln_1.bias`),
      attnW: get(`h.${i}.attn.c_attn.weight`),
      attnB: get(`h.${i}.attn.c_attn.bias`),
      projW: get(`h.${i}.attn.c_proj.weight`),
      projB: get(`h.${i}.attn.c_proj.bias`),
      ln2g: get(`h.${i}.ln_2.weight`),
      ln2b: get(`h.${i}.ln_2.bias`),
      fcW: get(`h.${i}.mlp.c_fc.weight`),
      fcB: get(`h.${i}.mlp.c_fc.bias`),
      fc2W: get(`h.${i}.mlp.c_proj.weight`),
      fc2B: get(`h.${i}.mlp.c_proj.bias`),
    })),
  };
}

/**
 * How far one honest float32 logit may lie from the exact one: rounding compounds through each
 * layer's dFF-long dot products and layernorms, so nLayer·γ_dFF on the logit scale (`scale` =
 * the row's largest |logit|, at least 1). Measured on the GPU against the float64 reference:
 * about 2% of it (tests/unit/gpt.test.ts). Two honest runs on different adapters differ by at
 * most twice this.
 */
export function logitErrorBound(c: GptConfig, scale: number): number {
  return c.nLayer * gammaF32(c.dFF) * Math.max(1, scale);
}

/**
 * Floating-point operations of one forward pass over `seq` tokens whose last position goes
 * through the LM head (multiply-adds count 2). Credit for inference work is computed from this,
 * never from a contributor's report.
 */
export function forwardFlops(c: GptConfig, seq: number): number {
  const D = c.dModel;
  const perToken = 2 * (D * 3 * D + D * D + 2 * D * c.dFF); // QKV, projection, MLP
  const attention = 2 * 2 * D * ((seq * (seq + 1)) / 2); // QKᵀ and A·V over causal pairs
  return c.nLayer * (seq * perToken + attention) + 2 * D * c.vocab;
}

/** Checks a batch of token sequences against the model; throws ModelConfigError. */
export function checkTokens(c: GptConfig, tokens: Uint32Array, batch: number, seq: number): void {
  if (!Number.isSafeInteger(batch) || batch < 1) throw new ModelConfigError('batch', 'must be ≥ 1');
  if (!Number.isSafeInteger(seq) || seq < 1 || seq > c.maxSeq) {
    throw new ModelConfigError('seq', `must be in [1, ${c.maxSeq}]`);
  }
  if (tokens.length !== batch * seq)
    throw new ModelConfigError('tokens', `expected ${batch * seq} tokens`);
  const bad = tokens.findIndex((t) => t >= c.vocab);
  if (bad >= 0)
    throw new ModelConfigError(
      'tokens',
      `token ${tokens[bad]} at ${bad} is outside the vocabulary`,
    );
}

/** Checks a forward pass's arguments: tokens as `checkTokens`, positions [from, seq) inside the
 * sequence (GpuError invalid-argument otherwise). */
export function checkForward(
  c: GptConfig,
  tokens: Uint32Array,
  batch: number,
  seq: number,
  from: number,
): void {
  checkTokens(c, tokens, batch, seq);
  if (!Number.isSafeInteger(from) || from < 0 || from >= seq) {
    throw new GpuError('invalid-argument', `positions from ${from} are not inside [0, ${seq})`);
  }
}

/** The float64 reference forward pass: last-position logits, batch × vocab. */
export function gptForwardF64(
  c: GptConfig,
  w: GptWeights,
  tokens: Uint32Array,
  batch: number,
  seq: number,
) {
  checkTokens(c, tokens, batch, seq);
  const D = c.dModel;
  const T = batch * seq;
  const linear = (x: Float64Array, W: Float32Array, b: Float32Array, k: number, n: number) => {
    const y = matmulF64(x, W, { m: T, k, n });
    for (let i = 0; i < T; i++) for (let j = 0; j < n; j++) y[i * n + j]! += b[j]!;
    return y;
  };
  const h = embeddingF64(tokens, w.wte, w.wpe, D, seq);
  for (const b of w.blocks) {
    const a = attentionF64(
      linear(layernormF64(h, b.ln1g, b.ln1b, T, D, c.eps), b.attnW, b.attnB, D, 3 * D),
      T,
      seq,
      c.nHead,
      D,
    );
    const p = linear(a, b.projW, b.projB, D, D);
    for (let i = 0; i < h.length; i++) h[i]! += p[i]!;
    const f = linear(layernormF64(h, b.ln2g, b.ln2b, T, D, c.eps), b.fcW, b.fcB, D, c.dFF).map(
      geluF64,
    );
    const m = linear(f, b.fc2W, b.fc2B, c.dFF, D);
    for (let i = 0; i < h.length; i++) h[i]! += m[i]!;
  }
  const last = new Float64Array(batch * D);
  for (let s = 0; s < batch; s++)
    last.set(h.subarray((s * seq + seq - 1) * D, (s * seq + seq) * D), s * D);
  const lnf = layernormF64(last, w.lnfg, w.lnfb, batch, D, c.eps);
  const logits = new Float64Array(batch * c.vocab);
  for (let s = 0; s < batch; s++) {
    for (let v = 0; v < c.vocab; v++) {
      let acc = 0;
      for (let d = 0; d < D; d++) acc += lnf[s * D + d]! * w.wte[v * D + d]!;
      logits[s * c.vocab + v] = acc;
    }
  }
  return logits;
}
