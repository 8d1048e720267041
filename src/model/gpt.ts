import type { GpuContext } from '../gpu/context';
import { GpuError } from '../gpu/errors';
import { DEFAULT_TILE, matmulPipeline, type TileConfig, tileExtent } from '../gpu/matmul';
import { Ops } from '../gpu/ops';
import { geluF64, matmulF64 } from '../gpu/reference';
import { attentionF64, embeddingF64, layernormF64 } from '../gpu/reference-nn';
import { readBack, TENSOR_USAGE, upload } from '../gpu/transfer';
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

const up = (v: number, s: number) => Math.ceil(v / s) * s;

/**
 * The model on the GPU: weights uploaded once, one command buffer per forward pass built from
 * src/gpu kernels only, activation buffers reused across layers.
 */
export class GpuGpt {
  readonly #ctx: GpuContext;
  readonly #ops: Ops;
  readonly #tile: TileConfig;
  readonly #bufs: GPUBuffer[] = [];
  readonly #w: {
    wte: GPUBuffer;
    wpe: GPUBuffer;
    head: GPUBuffer; // D × Vp, zero-padded columns
    headBias: GPUBuffer;
    lnfg: GPUBuffer;
    lnfb: GPUBuffer;
    blocks: Record<keyof BlockWeights, GPUBuffer>[];
  };
  readonly vocabPadded: number;

  private constructor(
    ctx: GpuContext,
    readonly config: GptConfig,
    w: GptWeights,
    ops: Ops,
    tile: TileConfig,
  ) {
    this.#ctx = ctx;
    this.#ops = ops;
    this.#tile = tile;
    const { bn } = tileExtent(tile);
    const D = config.dModel;
    this.vocabPadded = up(config.vocab, bn);
    const head = new Float32Array(D * this.vocabPadded);
    for (let v = 0; v < config.vocab; v++)
      for (let d = 0; d < D; d++) head[d * this.vocabPadded + v] = w.wte[v * D + d]!;
    const u = (data: Float32Array, label: string) => {
      const b = upload(ctx, data, label);
      this.#bufs.push(b);
      return b;
    };
    this.#w = {
      wte: u(w.wte, 'wte'),
      wpe: u(w.wpe, 'wpe'),
      head: u(head, 'lm_head'),
      headBias: u(new Float32Array(this.vocabPadded), 'lm_head.bias'),
      lnfg: u(w.lnfg, 'ln_f.weight'),
      lnfb: u(w.lnfb, 'ln_f.bias'),
      blocks: w.blocks.map(
        (b, i) =>
          Object.fromEntries(Object.entries(b).map(([k, v]) => [k, u(v, `h.${i}.${k}`)])) as Record<
            keyof BlockWeights,
            GPUBuffer
          >,
      ),
    };
  }

  /** Uploads the weights and compiles the kernels. */
  static async load(
    ctx: GpuContext,
    config: GptConfig,
    weights: GptWeights,
    tile: TileConfig = DEFAULT_TILE,
  ) {
    const { bm, bn } = tileExtent(tile);
    if (config.dModel % bn || config.dFF % bn || bm > 128) {
      throw new GpuError(
        'invalid-argument',
        `model widths must be multiples of the tile width ${bn}`,
      );
    }
    const ops = await Ops.create(ctx, config.dModel / config.nHead);
    await Promise.all([matmulPipeline(ctx, tile, false), matmulPipeline(ctx, tile, true)]);
    return new GpuGpt(ctx, config, weights, ops, tile);
  }

  /** Last-position logits for `batch` sequences of `seq` tokens each: batch × vocab. */
  async forward(tokens: Uint32Array, batch: number, seq: number): Promise<Float32Array> {
    const c = this.config;
    checkTokens(c, tokens, batch, seq);
    const ctx = this.#ctx;
    const { bm } = tileExtent(this.#tile);
    const D = c.dModel;
    const T = batch * seq;
    const Tp = up(T, bm);
    const Bp = up(batch, bm);
    const scratch: GPUBuffer[] = [];
    const buf = (floats: number, label: string) => {
      const b = ctx.buffers.acquire(floats * 4, TENSOR_USAGE(), label);
      scratch.push(b);
      return b;
    };
    const h = buf(Tp * D, 'h');
    const x = buf(Tp * D, 'x');
    const qkv = buf(Tp * 3 * D, 'qkv');
    const att = buf(Tp * D, 'att');
    const ff = buf(Tp * c.dFF, 'ff');
    const last = buf(Bp * D, 'last');
    const lastN = buf(Bp * D, 'last_ln');
    const logits = buf(Bp * this.vocabPadded, 'logits');
    const tok = upload(ctx, tokens, 'tokens');
    scratch.push(tok);

    const enc = ctx.device.createCommandEncoder();
    // Padded rows are never read into real rows, but start them at zero so nothing odd (NaN)
    // ever sits in a buffer.
    for (const b of [h, x, qkv, att, ff, last]) enc.clearBuffer(b);
    let pass = enc.beginComputePass();
    const ops = this.#ops;
    const mm = await this.#matmuls();
    ops.embedding(pass, tok, this.#w.wte, this.#w.wpe, h, T, D, seq);
    for (const b of this.#w.blocks) {
      ops.layernorm(pass, h, b.ln1g, b.ln1b, x, Tp, D, c.eps);
      mm(pass, x, b.attnW, qkv, b.attnB, Tp, D, 3 * D, false);
      ops.attention(pass, qkv, att, T, seq, c.nHead, D);
      mm(pass, att, b.projW, x, b.projB, Tp, D, D, false);
      ops.residual(pass, h, x, Tp * D);
      ops.layernorm(pass, h, b.ln2g, b.ln2b, x, Tp, D, c.eps);
      mm(pass, x, b.fcW, ff, b.fcB, Tp, D, c.dFF, true);
      mm(pass, ff, b.fc2W, x, b.fc2B, Tp, c.dFF, D, false);
      ops.residual(pass, h, x, Tp * D);
    }
    pass.end();
    // Only the last position of each sequence reaches the LM head.
    for (let s = 0; s < batch; s++)
      enc.copyBufferToBuffer(h, (s * seq + seq - 1) * D * 4, last, s * D * 4, D * 4);
    pass = enc.beginComputePass();
    ops.layernorm(pass, last, this.#w.lnfg, this.#w.lnfb, lastN, Bp, D, c.eps);
    mm(pass, lastN, this.#w.head, logits, this.#w.headBias, Bp, D, this.vocabPadded, false);
    pass.end();
    try {
      const out = new Float32Array(await readBack(ctx, logits, batch * this.vocabPadded * 4, enc));
      const result = new Float32Array(batch * c.vocab);
      for (let s = 0; s < batch; s++) {
        result.set(out.subarray(s * this.vocabPadded, s * this.vocabPadded + c.vocab), s * c.vocab);
      }
      return result;
    } finally {
      ops.release();
      this.#releaseUniforms();
      for (const b of scratch) ctx.buffers.release(b);
    }
  }

  readonly #uniforms: GPUBuffer[] = [];

  async #matmuls() {
    const ctx = this.#ctx;
    const [plain, gelu] = await Promise.all([
      matmulPipeline(ctx, this.#tile, false),
      matmulPipeline(ctx, this.#tile, true),
    ]);
    const { bm, bn } = tileExtent(this.#tile);
    return (
      pass: GPUComputePassEncoder,
      a: GPUBuffer,
      b: GPUBuffer,
      c: GPUBuffer,
      bias: GPUBuffer,
      m: number,
      k: number,
      n: number,
      withGelu: boolean,
    ) => {
      const pipeline = withGelu ? gelu : plain;
      const u = ctx.buffers.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
      ctx.device.queue.writeBuffer(u, 0, new Uint32Array([m, n, k, 0]));
      this.#uniforms.push(u);
      pass.setPipeline(pipeline);
      pass.setBindGroup(
        0,
        ctx.device.createBindGroup({
          layout: pipeline.getBindGroupLayout(0),
          entries: [a, b, c, u, bias].map((buffer, binding) => ({ binding, resource: { buffer } })),
        }),
      );
      pass.dispatchWorkgroups(n / bn, m / bm);
    };
  }

  #releaseUniforms() {
    for (const u of this.#uniforms.splice(0)) this.#ctx.buffers.release(u);
  }

  /** Frees the weights. */
  destroy(): void {
    for (const b of this.#bufs) this.#ctx.buffers.release(b);
  }
}
