import type { GpuContext } from '../gpu/context';
import { GpuError } from '../gpu/errors';
import { DEFAULT_TILE, roundUp, type TileConfig, tileExtent } from '../gpu/matmul';
import { Ops } from '../gpu/ops';
import { readBack, TENSOR_USAGE, upload } from '../gpu/transfer';
import { type BlockWeights, checkForward, type GptConfig, type GptWeights } from './gpt';

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
    this.vocabPadded = roundUp(config.vocab, bn);
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
    const ops = await Ops.create(ctx, config.dModel / config.nHead, tile);
    return new GpuGpt(ctx, config, weights, ops, tile);
  }

  /**
   * Logits of `batch` sequences of `seq` tokens each at positions [from, seq): batch × (seq −
   * from) × vocab. By default only the last position (what generation needs); a teacher-forced
   * check of generated tokens asks for every generated position at once.
   */
  async forward(
    tokens: Uint32Array,
    batch: number,
    seq: number,
    from = seq - 1,
  ): Promise<Float32Array> {
    const c = this.config;
    checkForward(c, tokens, batch, seq, from);
    const ctx = this.#ctx;
    const { bm } = tileExtent(this.#tile);
    const D = c.dModel;
    const T = batch * seq;
    const Tp = roundUp(T, bm);
    const P = seq - from; // positions per sequence through the head
    const rows = batch * P;
    const Bp = roundUp(rows, bm);
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
    ops.embedding(pass, tok, this.#w.wte, this.#w.wpe, h, T, D, seq);
    for (const b of this.#w.blocks) {
      ops.layernorm(pass, h, b.ln1g, b.ln1b, x, Tp, D, c.eps);
      ops.matmul(pass, x, b.attnW, qkv, b.attnB, Tp, D, 3 * D, false);
      ops.attention(pass, qkv, att, T, seq, c.nHead, D);
      ops.matmul(pass, att, b.projW, x, b.projB, Tp, D, D, false);
      ops.residual(pass, h, x, Tp * D);
      ops.layernorm(pass, h, b.ln2g, b.ln2b, x, Tp, D, c.eps);
      ops.matmul(pass, x, b.fcW, ff, b.fcB, Tp, D, c.dFF, true);
      ops.matmul(pass, ff, b.fc2W, x, b.fc2B, Tp, c.dFF, D, false);
      ops.residual(pass, h, x, Tp * D);
    }
    pass.end();
    // Only positions [from, seq) of each sequence reach the LM head.
    for (let s = 0; s < batch; s++)
      enc.copyBufferToBuffer(h, (s * seq + from) * D * 4, last, s * P * D * 4, P * D * 4);
    pass = enc.beginComputePass();
    ops.layernorm(pass, last, this.#w.lnfg, this.#w.lnfb, lastN, Bp, D, c.eps);
    ops.matmul(pass, lastN, this.#w.head, logits, this.#w.headBias, Bp, D, this.vocabPadded, false);
    pass.end();
    try {
      const out = new Float32Array(await readBack(ctx, logits, rows * this.vocabPadded * 4, enc));
      const result = new Float32Array(rows * c.vocab);
      for (let r = 0; r < rows; r++) {
        result.set(out.subarray(r * this.vocabPadded, r * this.vocabPadded + c.vocab), r * c.vocab);
      }
      return result;
    } finally {
      ops.release();
      for (const b of scratch) ctx.buffers.release(b);
    }
  }

  /** Frees the weights. */
  destroy(): void {
    for (const b of this.#bufs) this.#ctx.buffers.release(b);
  }
}
