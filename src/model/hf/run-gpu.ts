// A loaded Hugging Face checkpoint (checkpoint.ts) run on the GPU with the kernels of
// src/gpu/hf: Llama-style decoders and GPT-2 generate through a KV cache held on the GPU (a
// decode step computes one token per sequence), BERT embeds (run-gpu-bert.ts). Weights are
// uploaded once in their file's width (16-bit stays 16-bit; run-gpu-weights.ts). Semantics
// follow the float64 reference (reference*.ts), which follows Hugging Face's modeling code.
//
// No kernel writes into the cache at an offset, so each layer's new keys and values go to the
// cache [batch, capacity, kvHeads, headDim] by copyBufferToBuffer (one contiguous block per
// sequence). The KV cache is f32. The LM head and the decoder's shapes: run-gpu-head.ts.

import residualWgsl from '../../../shaders/residual.wgsl?raw';
import type { GpuContext } from '../../gpu/context';
import { HfOps } from '../../gpu/hf/ops';
import { type GpuWeights, ROPE_EXACT_POSITIONS, storageBuffer } from '../../gpu/hf/tensors';
import type { Checkpoint } from './checkpoint';
import { bertEmbed } from './run-gpu-bert';
import { decoderDims, lmHead } from './run-gpu-head';
import { activate, adder, scratch } from './run-gpu-scratch';
import { activation, bad, type GpuParts, type Layer, uploadGpuParts } from './run-gpu-weights';
import { HEAD_CHUNK_FLOATS } from './runtime-types';
import type { DecoderConfig, Gpt2Config } from './types';

export { DEFAULT_POOLING } from './run-cpu-pool';

/** The generation in progress: its KV cache and per-sequence bookkeeping. */
interface Session {
  batch: number;
  capacity: number;
  /** Slots filled per sequence (padding included). */
  past: number;
  /** Left padding of each sequence: its real slots start here. */
  starts: number[];
  /** Real tokens seen per sequence (the next one's position id). */
  real: number[];
  keys: GPUBuffer[];
  values: GPUBuffer[];
}

/**
 * A checkpoint on the GPU. Decoders (Llama, Qwen2, Qwen3, Mistral) and GPT-2: `start` a batch,
 * then `step` one token per sequence; BERT: `embed`. One generation at a time per model.
 */
export class GpuHfModel {
  readonly #ctx: GpuContext;
  readonly #hf: HfOps;
  readonly #residual: GPUComputePipeline;
  readonly #owned: GPUBuffer[] = [];
  #parts: GpuParts = { w: {}, layers: [] };
  #session?: Session;
  #disposed = false;
  /** Most logits one chunk of the LM head computes at once, floats (tests set it small). */
  headChunkFloats = HEAD_CHUNK_FLOATS;

  private constructor(
    ctx: GpuContext,
    readonly checkpoint: Checkpoint,
    residual: GPUComputePipeline,
  ) {
    this.#ctx = ctx;
    this.#hf = new HfOps(ctx);
    this.#residual = residual;
  }

  /** Uploads the weights (in their stored width) and the rotary table. */
  static async load(ctx: GpuContext, checkpoint: Checkpoint): Promise<GpuHfModel> {
    const residual = await ctx.pipelines.get('residual', residualWgsl, {});
    const m = new GpuHfModel(ctx, checkpoint, residual);
    try {
      m.#parts = uploadGpuParts(ctx, checkpoint, m.#owned);
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  /** Bytes of GPU memory the weights (and rotary table) hold: 16-bit weights count 2 bytes each. */
  get weightBytes(): number {
    return this.#owned.reduce((n, b) => n + b.size, 0);
  }

  /**
   * Prefills a batch of prompts (ragged; left-padded here, as generate pads decoders) into a
   * new KV cache with room for `maxNewTokens` more tokens each; returns each sequence's
   * next-token logits (vocab floats). Ends any generation in progress.
   */
  async start(batch: number[][], maxNewTokens: number): Promise<Float32Array[]> {
    const { s, tokens, positions, T } = this.#open(batch, maxNewTokens);
    this.#endSession();
    this.#session = s;
    try {
      return await this.#forward(s, tokens, positions, T);
    } catch (e) {
      this.#endSession(); // a failed prefill leaves no cache to step on
      throw e;
    }
  }

  /**
   * Logits after every token from index `from` on of each prompt: (length − from) × vocab floats
   * per sequence, row i the logits predicting token from + i + 1. One prefill of the ragged
   * batch through a cache of its own, destroyed after: a generation in progress is left as it was.
   */
  async logits(batch: number[][], from = 0): Promise<Float32Array[]> {
    const { s, tokens, positions, T } = this.#open(batch, 0);
    try {
      const shortest = Math.min(...batch.map((p) => p.length));
      if (!(Number.isSafeInteger(from) && from >= 0 && from < shortest)) {
        throw bad(`logits: from = ${from} is not in 0..${shortest - 1} (the shortest sequence)`);
      }
      const heads = s.starts.map((start) => start + from);
      return await this.#forward(s, tokens, positions, T, heads);
    } finally {
      for (const b of [...s.keys, ...s.values]) b.destroy();
    }
  }

  /** Checks a prefill and makes its session: the cache, padding and position ids. */
  #open(batch: number[][], maxNewTokens: number) {
    this.#live();
    const c = this.checkpoint.config;
    if (c.family === 'bert') throw bad('a BERT model embeds; it does not generate');
    if (batch.length === 0 || batch.some((p) => p.length === 0)) {
      throw bad('start needs at least one prompt, each of at least one token');
    }
    if (!Number.isSafeInteger(maxNewTokens) || maxNewTokens < 0) {
      throw bad(`maxNewTokens = ${maxNewTokens} is not a non-negative integer`);
    }
    const T = Math.max(...batch.map((p) => p.length));
    const longest = T + maxNewTokens;
    if (c.family === 'gpt2' && longest > c.nPositions) {
      throw bad(`${longest} positions exceed GPT-2's n_positions ${c.nPositions}`);
    }
    if (longest > ROPE_EXACT_POSITIONS) throw bad(`${longest} positions are too many`);
    const { kvHeads, d } = decoderDims(this.checkpoint.config);
    const B = batch.length;
    const capacity = T + Math.max(maxNewTokens, 1);
    const cacheBytes = B * capacity * kvHeads * d * 4;
    const s: Session = {
      batch: B,
      capacity,
      past: 0,
      starts: batch.map((p) => T - p.length),
      real: batch.map((p) => p.length),
      keys: [],
      values: [],
    };
    for (let l = 0; l < this.#parts.layers.length; l++) {
      s.keys.push(storageBuffer(this.#ctx, cacheBytes, `keys ${l}`));
      s.values.push(storageBuffer(this.#ctx, cacheBytes, `values ${l}`));
    }
    const tokens: number[] = [];
    const positions: number[] = [];
    for (const [b, p] of batch.entries()) {
      const pad = s.starts[b]!;
      // Padding: any valid id (masked out); position 1 as generate's masked_fill gives it.
      for (let t = 0; t < T; t++) {
        tokens.push(t < pad ? 0 : p[t - pad]!);
        positions.push(t < pad ? 1 : t - pad);
      }
    }
    return { s, tokens, positions, T };
  }

  /** Appends one token per sequence and returns each sequence's next-token logits. */
  async step(next: number[]): Promise<Float32Array[]> {
    const s = this.#session;
    if (!s) throw bad('step before start');
    if (next.length !== s.batch) throw bad(`step got ${next.length} tokens for ${s.batch}`);
    if (s.past + 1 > s.capacity) throw bad(`the KV cache is full (${s.capacity} slots)`);
    const positions = [...s.real];
    const logits = await this.#forward(s, next, positions, 1);
    for (let b = 0; b < s.batch; b++) s.real[b]! += 1;
    return logits;
  }

  /**
   * One causal forward of `T` tokens per sequence at slots past..past+T−1; returns the logits
   * after each sequence's last slot, or after its slots headFrom[b]..T−1 when given.
   */
  async #forward(
    s: Session,
    tokens: number[],
    positions: number[],
    T: number,
    headFrom?: number[],
  ): Promise<Float32Array[]> {
    const c = this.checkpoint.config as DecoderConfig | Gpt2Config;
    const gpt2 = c.family === 'gpt2';
    const { H, heads, kvHeads, d, I, V } = decoderDims(this.checkpoint.config);
    const B = s.batch;
    const rows = B * T;
    const ctx = this.#ctx;
    const hf = this.#hf;
    const w = this.#parts.w;
    const { buf, ids, own, done } = scratch(ctx);
    const add = adder(ctx, this.#residual, rows * H, own);
    try {
      const tokenIds = ids(tokens, V, 'tokens');
      const posIds = gpt2
        ? ids(positions, c.nPositions, 'positions')
        : ids(
            tokens.map(() => 0),
            1,
            'zeros',
          );
      const ropePos = gpt2 ? posIds : ids(positions, ROPE_EXACT_POSITIONS, 'rope positions');
      const typeIds = ids(
        tokens.map(() => 0),
        1,
        'token types',
      );
      const valid = ids(
        s.starts.flatMap((start) => [start, s.past + T]),
        s.capacity + 1,
        'valid slots',
      );
      const h = buf(rows * H, 'h');
      const x = buf(rows * H, 'x');
      const q = buf(rows * heads * d, 'q');
      const qn = buf(rows * heads * d, 'q normed');
      const kNew = buf(rows * kvHeads * d, 'k');
      const kn = buf(rows * kvHeads * d, 'k normed');
      const vNew = buf(rows * kvHeads * d, 'v');
      const att = buf(rows * heads * d, 'attention');
      const g = buf(rows * I, 'gate');
      const u = buf(rows * I, 'up');
      const enc = ctx.device.createCommandEncoder();
      let pass = enc.beginComputePass();
      await hf.embedding(pass, {
        tokenIds,
        positionIds: posIds,
        typeIds,
        word: w.word!,
        position: w.position!,
        tokenType: w.type!,
        out: h,
        rows,
        dim: H,
      });
      const conv1d = gpt2;
      const lin = (
        xb: GPUBuffer,
        wt: GpuWeights,
        bias: GpuWeights | undefined,
        y: GPUBuffer,
        i: number,
        o: number,
      ) => hf.linear(pass, { x: xb, w: wt, bias, y, rows, inDim: i, outDim: o, conv1d });
      const norm = async (lw: Layer, which: 1 | 2, xb: GPUBuffer, y: GPUBuffer) => {
        if (c.family === 'gpt2') {
          await hf.layernorm(pass, {
            x: xb,
            w: lw[`ln${which}`]!,
            bias: lw[`ln${which}b`]!,
            y,
            rows,
            dim: H,
            eps: c.layerNormEpsilon,
          });
        } else {
          const wt = lw[which === 1 ? 'inNorm' : 'postNorm']!;
          await hf.rmsnorm(pass, { x: xb, w: wt, y, rows, dim: H, eps: c.rmsNormEps });
        }
      };
      for (const [l, lw] of this.#parts.layers.entries()) {
        await norm(lw, 1, h, x);
        await lin(x, lw.q!, lw.qb, q, H, heads * d);
        await lin(x, lw.k!, lw.kb, kNew, H, kvHeads * d);
        await lin(x, lw.v!, lw.vb, vNew, H, kvHeads * d);
        let qr = q;
        let kr = kNew;
        if (c.family !== 'gpt2') {
          if (lw.qNorm && lw.kNorm) {
            // Qwen3: RMSNorm over each head before rotary.
            const e = c.rmsNormEps;
            await hf.rmsnorm(pass, {
              x: q,
              w: lw.qNorm,
              y: qn,
              rows: rows * heads,
              dim: d,
              eps: e,
            });
            await hf.rmsnorm(pass, {
              x: kNew,
              w: lw.kNorm,
              y: kn,
              rows: rows * kvHeads,
              dim: d,
              eps: e,
            });
            qr = qn;
            kr = kn;
          }
          const turns = this.#parts.turns!;
          await hf.rope(pass, {
            x: qr,
            positions: ropePos,
            turns,
            tokens: rows,
            heads,
            headDim: d,
          });
          await hf.rope(pass, {
            x: kr,
            positions: ropePos,
            turns,
            tokens: rows,
            heads: kvHeads,
            headDim: d,
          });
        }
        pass.end();
        const slot = kvHeads * d * 4; // bytes per cached slot
        for (let b = 0; b < B; b++) {
          const at = (b * s.capacity + s.past) * slot;
          enc.copyBufferToBuffer(kr, b * T * slot, s.keys[l]!, at, T * slot);
          enc.copyBufferToBuffer(vNew, b * T * slot, s.values[l]!, at, T * slot);
        }
        pass = enc.beginComputePass();
        await hf.attention(pass, {
          q: qr,
          k: s.keys[l]!,
          v: s.values[l]!,
          valid,
          out: att,
          batch: B,
          tokens: T,
          heads,
          kvHeads,
          headDim: d,
          capacity: s.capacity,
          past: s.past,
          window: gpt2 ? 0 : (c.slidingWindow ?? 0),
        });
        await lin(att, lw.o!, lw.ob, x, heads * d, H);
        add(pass, h, x);
        await norm(lw, 2, h, x);
        if (c.family === 'gpt2') {
          await lin(x, lw.up!, lw.upb, g, H, I);
          await activate(hf, pass, activation(c.activation), g, rows * I);
        } else {
          await lin(x, lw.gate!, lw.gateb, g, H, I);
          await lin(x, lw.up!, lw.upb, u, H, I);
          await hf.swiglu(pass, { gate: g, up: u, n: rows * I });
        }
        await lin(g, lw.down!, lw.downb, x, I, H);
        add(pass, h, x);
      }
      pass.end();
      s.past += T;
      const from = headFrom ?? new Array<number>(B).fill(T - 1);
      const lm = {
        ctx: this.#ctx,
        hf: this.#hf,
        w: this.#parts.w,
        chunkFloats: this.headChunkFloats,
      };
      return await lmHead(lm, this.checkpoint.config, h, T, from, enc, buf);
    } finally {
      hf.release();
      done();
    }
  }

  /**
   * BERT: one pooled embedding (hidden floats) per sequence, by the checkpoint's pooling
   * (DEFAULT_POOLING when it names none). Sequences are right-padded here and the padding
   * masked; `tokenTypes` (segment ids) default to 0.
   */
  async embed(batch: number[][], tokenTypes?: number[][]): Promise<Float32Array[]> {
    this.#live();
    const c = this.checkpoint.config;
    if (c.family !== 'bert') throw bad(`a ${c.family} model generates; embed needs BERT`);
    if (batch.length === 0 || batch.some((p) => p.length === 0)) {
      throw bad('embed needs at least one sequence, each of at least one token');
    }
    if (
      tokenTypes &&
      (tokenTypes.length !== batch.length ||
        tokenTypes.some((t, b) => t.length !== batch[b]!.length))
    ) {
      throw bad('token types must match the tokens, sequence by sequence');
    }
    return bertEmbed(
      {
        ctx: this.#ctx,
        hf: this.#hf,
        residual: this.#residual,
        w: this.#parts.w,
        layers: this.#parts.layers,
        pooling: this.checkpoint.pooling,
      },
      c,
      batch,
      tokenTypes,
    );
  }

  #live(): void {
    if (this.#disposed) throw bad('the model was disposed');
  }

  #endSession(): void {
    const s = this.#session;
    this.#session = undefined;
    for (const b of [...(s?.keys ?? []), ...(s?.values ?? [])]) b.destroy();
  }

  /** Destroys the weights and any KV cache; the model is unusable after. */
  dispose(): void {
    this.#disposed = true;
    this.#endSession();
    for (const b of this.#owned.splice(0)) b.destroy();
  }
}
