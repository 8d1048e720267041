// A loaded Hugging Face checkpoint (checkpoint.ts) run on the GPU with the kernels of
// src/gpu/hf: Llama-style decoders and GPT-2 generate through a KV cache held on the GPU (a
// decode step computes one token per sequence), BERT embeds. Weights are uploaded once in their
// file's width (16-bit stays 16-bit). Semantics follow the float64 reference (reference*.ts),
// which follows Hugging Face's modeling code.
//
// No kernel writes into the cache at an offset, so each layer's new keys and values go to the
// cache [batch, capacity, kvHeads, headDim] by copyBufferToBuffer (one contiguous block per
// sequence); the residual add is the shipped model's shaders/residual.wgsl, dispatched here
// (src/gpu/ops.ts's Ops would compile its matmuls too, seconds under SwiftShader). GPT-2's fused
// c_attn is split into q/k/v Conv1D weights at load (columns copied, width kept) so k and v land
// apart. The KV cache is f32.
//
// Over the usual length (~750 lines, most of it one call per kernel, formatted one argument a
// line): one class whose three forward paths share its uploaded weights, scratch lifecycle and
// residual dispatch. Moving the weight upload and BERT's embed into modules of their own is
// the obvious split.

import residualWgsl from '../../../shaders/residual.wgsl?raw';
import type { GpuContext } from '../../gpu/context';
import { GpuError } from '../../gpu/errors';
import { HfOps, type POOL_MODES } from '../../gpu/hf/ops';
import {
  type GpuWeights,
  ROPE_EXACT_POSITIONS,
  rotaryTurns,
  storageBuffer,
  uploadIds,
  uploadWeights,
} from '../../gpu/hf/tensors';
import { readBack, TENSOR_USAGE } from '../../gpu/transfer';
import type { Checkpoint } from './checkpoint';
import { llama3InvFreq, rotaryInvFreq } from './reference-decoder';
import type { BertConfig, DecoderConfig, Gpt2Config, HfTensor, PoolingConfig } from './types';

/** Pooling when a BERT checkpoint names none (no modules.json): sentence-transformers' default. */
export const DEFAULT_POOLING: PoolingConfig = { mode: 'mean', normalize: false };

type Act = 'tanh' | 'erf';
type Layer = Record<string, GpuWeights | undefined>;

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

function bad(message: string): GpuError {
  return new GpuError('invalid-argument', message);
}

function activation(name: string): Act {
  if (name === 'gelu_new' || name === 'gelu_pytorch_tanh') return 'tanh';
  if (name === 'gelu') return 'erf';
  throw bad(`activation ${name} has no GPU kernel`);
}

/** Columns [from, from + n) of a row-major [rows, cols] tensor, in its own width. */
function columns(t: HfTensor, from: number, n: number): Float32Array | Uint16Array {
  const [rows, cols] = t.shape.length === 2 ? (t.shape as [number, number]) : [1, t.shape[0]!];
  const out =
    t.data instanceof Float32Array ? new Float32Array(rows * n) : new Uint16Array(rows * n);
  for (let r = 0; r < rows; r++)
    out.set(t.data.subarray(r * cols + from, r * cols + from + n), r * n);
  return out;
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
  readonly #w: Record<string, GpuWeights> = {};
  readonly #layers: Layer[] = [];
  #turns?: GPUBuffer;
  #session?: Session;
  #disposed = false;

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
      m.#upload();
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  #put(data: Float32Array | Uint16Array, format: HfTensor['dtype'], label: string): GpuWeights {
    const w = uploadWeights(this.#ctx, format, data, label);
    this.#owned.push(w.buffer);
    return w;
  }

  #get(name: string): GpuWeights {
    const t = this.checkpoint.weights.get(name);
    return this.#put(t.data, t.dtype, name);
  }

  #opt(name: string, has: boolean): GpuWeights | undefined {
    return has ? this.#get(name) : undefined;
  }

  /** A zero table of one row of `dim` in `like`'s format (an embedding term that adds 0). */
  #zeros(like: GpuWeights, dim: number, label: string): GpuWeights {
    const data = like.format === 'F32' ? new Float32Array(dim) : new Uint16Array(dim);
    return this.#put(data, like.format, label);
  }

  #upload(): void {
    const c = this.checkpoint.config;
    const w = this.#w;
    if (c.family === 'gpt2') {
      activation(c.activation);
      w.word = this.#get('wte.weight');
      w.position = this.#get('wpe.weight');
      w.type = this.#zeros(w.word, c.nEmbd, 'no token types');
      w.finalNorm = this.#get('ln_f.weight');
      w.finalBias = this.#get('ln_f.bias');
      w.head = w.word;
      const E = c.nEmbd;
      for (let i = 0; i < c.nLayer; i++) {
        const p = `h.${i}.`;
        const attn = this.checkpoint.weights.get(`${p}attn.c_attn.weight`);
        const bias = this.checkpoint.weights.get(`${p}attn.c_attn.bias`);
        const part = (j: number, what: string) => ({
          [what]: this.#put(columns(attn, j * E, E), attn.dtype, `${p}${what}`),
          [`${what}b`]: this.#put(columns(bias, j * E, E), bias.dtype, `${p}${what}.bias`),
        });
        this.#layers.push({
          ...part(0, 'q'),
          ...part(1, 'k'),
          ...part(2, 'v'),
          ln1: this.#get(`${p}ln_1.weight`),
          ln1b: this.#get(`${p}ln_1.bias`),
          o: this.#get(`${p}attn.c_proj.weight`),
          ob: this.#get(`${p}attn.c_proj.bias`),
          ln2: this.#get(`${p}ln_2.weight`),
          ln2b: this.#get(`${p}ln_2.bias`),
          up: this.#get(`${p}mlp.c_fc.weight`),
          upb: this.#get(`${p}mlp.c_fc.bias`),
          down: this.#get(`${p}mlp.c_proj.weight`),
          downb: this.#get(`${p}mlp.c_proj.bias`),
        });
      }
    } else if (c.family === 'bert') {
      activation(c.hiddenAct);
      w.word = this.#get('embeddings.word_embeddings.weight');
      w.position = this.#get('embeddings.position_embeddings.weight');
      w.type = this.#get('embeddings.token_type_embeddings.weight');
      w.embNorm = this.#get('embeddings.LayerNorm.weight');
      w.embBias = this.#get('embeddings.LayerNorm.bias');
      for (let i = 0; i < c.numLayers; i++) {
        const p = `encoder.layer.${i}.`;
        const g = (n: string) => this.#get(`${p}${n}`);
        this.#layers.push({
          q: g('attention.self.query.weight'),
          qb: g('attention.self.query.bias'),
          k: g('attention.self.key.weight'),
          kb: g('attention.self.key.bias'),
          v: g('attention.self.value.weight'),
          vb: g('attention.self.value.bias'),
          o: g('attention.output.dense.weight'),
          ob: g('attention.output.dense.bias'),
          ln1: g('attention.output.LayerNorm.weight'),
          ln1b: g('attention.output.LayerNorm.bias'),
          up: g('intermediate.dense.weight'),
          upb: g('intermediate.dense.bias'),
          down: g('output.dense.weight'),
          downb: g('output.dense.bias'),
          ln2: g('output.LayerNorm.weight'),
          ln2b: g('output.LayerNorm.bias'),
        });
      }
    } else {
      w.word = this.#get('model.embed_tokens.weight');
      w.position = this.#zeros(w.word, c.hiddenSize, 'no positions');
      w.type = this.#zeros(w.word, c.hiddenSize, 'no token types');
      w.finalNorm = this.#get('model.norm.weight');
      // LlamaForCausalLM ties lm_head to embed_tokens when tie_word_embeddings.
      w.head = c.tieWordEmbeddings ? w.word : this.#get('lm_head.weight');
      for (let i = 0; i < c.numLayers; i++) {
        const p = `model.layers.${i}.`;
        const g = (n: string, has = true) => this.#opt(`${p}${n}`, has);
        this.#layers.push({
          inNorm: g('input_layernorm.weight'),
          q: g('self_attn.q_proj.weight'),
          qb: g('self_attn.q_proj.bias', c.attentionBias),
          k: g('self_attn.k_proj.weight'),
          kb: g('self_attn.k_proj.bias', c.attentionBias),
          v: g('self_attn.v_proj.weight'),
          vb: g('self_attn.v_proj.bias', c.attentionBias),
          o: g('self_attn.o_proj.weight'),
          ob: g('self_attn.o_proj.bias', c.outputBias),
          qNorm: g('self_attn.q_norm.weight', c.qkNorm),
          kNorm: g('self_attn.k_norm.weight', c.qkNorm),
          postNorm: g('post_attention_layernorm.weight'),
          gate: g('mlp.gate_proj.weight'),
          gateb: g('mlp.gate_proj.bias', c.mlpBias),
          up: g('mlp.up_proj.weight'),
          upb: g('mlp.up_proj.bias', c.mlpBias),
          down: g('mlp.down_proj.weight'),
          downb: g('mlp.down_proj.bias', c.mlpBias),
        });
      }
      const plain = rotaryInvFreq(c.headDim, c.ropeTheta);
      const inv = c.ropeScaling ? llama3InvFreq(plain, c.ropeScaling) : plain;
      const turns = rotaryTurns(inv);
      this.#turns = storageBuffer(this.#ctx, turns.byteLength, 'rotary turns');
      this.#owned.push(this.#turns);
      this.#ctx.device.queue.writeBuffer(this.#turns, 0, turns);
    }
  }

  /** Bytes of GPU memory the weights (and rotary table) hold: 16-bit weights count 2 bytes each. */
  get weightBytes(): number {
    return this.#owned.reduce((n, b) => n + b.size, 0);
  }

  /** The shapes generation needs, from a decoder's or GPT-2's config. */
  #dims() {
    const c = this.checkpoint.config as DecoderConfig | Gpt2Config;
    if (c.family === 'gpt2') {
      const d = c.nEmbd / c.nHead;
      return { H: c.nEmbd, heads: c.nHead, kvHeads: c.nHead, d, I: c.nInner, V: c.vocabSize };
    }
    return {
      H: c.hiddenSize,
      heads: c.numHeads,
      kvHeads: c.numKvHeads,
      d: c.headDim,
      I: c.intermediateSize,
      V: c.vocabSize,
    };
  }

  /**
   * Prefills a batch of prompts (ragged; left-padded here, as generate pads decoders) into a
   * new KV cache with room for `maxNewTokens` more tokens each; returns each sequence's
   * next-token logits (vocab floats). Ends any generation in progress.
   */
  async start(batch: number[][], maxNewTokens: number): Promise<Float32Array[]> {
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
    this.#endSession();
    const { kvHeads, d } = this.#dims();
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
    this.#session = s;
    for (let l = 0; l < this.#layers.length; l++) {
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
    try {
      return await this.#forward(s, tokens, positions, T);
    } catch (e) {
      this.#endSession(); // a failed prefill leaves no cache to step on
      throw e;
    }
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

  /** One causal forward of `T` tokens per sequence at slots past..past+T−1. */
  async #forward(s: Session, tokens: number[], positions: number[], T: number) {
    const c = this.checkpoint.config as DecoderConfig | Gpt2Config;
    const gpt2 = c.family === 'gpt2';
    const { H, heads, kvHeads, d, I, V } = this.#dims();
    const B = s.batch;
    const rows = B * T;
    const ctx = this.#ctx;
    const hf = this.#hf;
    const w = this.#w;
    const { buf, ids, own, done } = this.#scratch();
    const add = this.#adder(rows * H, own);
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
      const last = buf(B * H, 'last');
      const lastN = buf(B * H, 'last normed');
      const logits = buf(B * V, 'logits');
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
      for (const [l, lw] of this.#layers.entries()) {
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
          const turns = this.#turns!;
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
          await this.#act(pass, activation(c.activation), g, rows * I);
        } else {
          await lin(x, lw.gate!, lw.gateb, g, H, I);
          await lin(x, lw.up!, lw.upb, u, H, I);
          await hf.swiglu(pass, { gate: g, up: u, n: rows * I });
        }
        await lin(g, lw.down!, lw.downb, x, I, H);
        add(pass, h, x);
      }
      pass.end();
      // Only each sequence's last slot (left padding puts every one at T − 1) reaches the head.
      for (let b = 0; b < B; b++)
        enc.copyBufferToBuffer(h, (b * T + T - 1) * H * 4, last, b * H * 4, H * 4);
      pass = enc.beginComputePass();
      if (c.family === 'gpt2') {
        const eps = c.layerNormEpsilon;
        await hf.layernorm(pass, {
          x: last,
          w: w.finalNorm!,
          bias: w.finalBias!,
          y: lastN,
          rows: B,
          dim: H,
          eps,
        });
      } else {
        await hf.rmsnorm(pass, {
          x: last,
          w: w.finalNorm!,
          y: lastN,
          rows: B,
          dim: H,
          eps: c.rmsNormEps,
        });
      }
      await hf.linear(pass, { x: lastN, w: w.head!, y: logits, rows: B, inDim: H, outDim: V });
      pass.end();
      const out = new Float32Array(await readBack(ctx, logits, B * V * 4, enc));
      s.past += T;
      return Array.from({ length: B }, (_, b) => out.slice(b * V, (b + 1) * V));
    } finally {
      hf.release();
      done();
    }
  }

  /**
   * One call's buffers: activations from the context's pool (a decode step allocates nothing
   * new), uploads of its own; `done` (after its work finished) returns and destroys them.
   */
  #scratch() {
    const ctx = this.#ctx;
    const pooled: GPUBuffer[] = [];
    const owned: GPUBuffer[] = [];
    const own = (b: GPUBuffer) => {
      owned.push(b);
      return b;
    };
    const limit = ctx.device.limits.maxStorageBufferBindingSize;
    return {
      buf: (floats: number, label: string) => {
        if (floats * 4 > limit) {
          throw new GpuError(
            'too-large',
            `${label} needs ${floats * 4} bytes; the limit is ${limit}`,
          );
        }
        const b = ctx.buffers.acquire(Math.max(4, floats * 4), TENSOR_USAGE(), label);
        pooled.push(b);
        return b;
      },
      ids: (v: number[], max: number, label: string) => own(uploadIds(ctx, v, max, label)),
      own,
      done: () => {
        for (const b of pooled.splice(0)) ctx.buffers.release(b);
        for (const b of owned.splice(0)) b.destroy();
      },
    };
  }

  /** The residual add x += y over n floats (shaders/residual.wgsl); its uniform is `own`ed. */
  #adder(n: number, own: (b: GPUBuffer) => GPUBuffer) {
    const device = this.#ctx.device;
    const dims = device.createBuffer({
      label: 'residual dims',
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    own(dims);
    device.queue.writeBuffer(dims, 0, new Uint32Array([n, 0, 0, 0]));
    const groups = Math.ceil(n / 256);
    const gx = Math.min(groups, 65_535);
    return (pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer) => {
      const bindGroup = device.createBindGroup({
        layout: this.#residual.getBindGroupLayout(0),
        entries: [x, y, dims].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      pass.setPipeline(this.#residual);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
    };
  }

  async #act(pass: GPUComputePassEncoder, act: Act, x: GPUBuffer, n: number) {
    if (act === 'tanh') await this.#hf.geluTanh(pass, { x, n });
    else await this.#hf.geluErf(pass, { x, n });
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
    return this.#embed(c, batch, tokenTypes);
  }

  async #embed(c: BertConfig, batch: number[][], tokenTypes?: number[][]) {
    const pooling = this.checkpoint.pooling ?? DEFAULT_POOLING;
    const B = batch.length;
    const T = Math.max(...batch.map((p) => p.length));
    const H = c.hiddenSize;
    const d = H / c.numHeads;
    const I = c.intermediateSize;
    const rows = B * T;
    const ctx = this.#ctx;
    const hf = this.#hf;
    const w = this.#w;
    const { buf, ids, own, done } = this.#scratch();
    const grid = (f: (b: number, t: number) => number) =>
      batch.flatMap((p, b) => Array.from({ length: T }, (_, t) => (t < p.length ? f(b, t) : 0)));
    const add = this.#adder(rows * H, own);
    try {
      const tokenIds = ids(
        grid((b, t) => batch[b]![t]!),
        c.vocabSize,
        'tokens',
      );
      const typeIds = ids(
        grid((b, t) => tokenTypes?.[b]?.[t] ?? 0),
        c.typeVocabSize,
        'token types',
      );
      const posIds = ids(
        batch.flatMap(() => Array.from({ length: T }, (_, t) => t)),
        c.maxPositions,
        'positions',
      );
      const mask = ids(
        grid(() => 1),
        2,
        'mask',
      );
      const valid = ids(
        batch.flatMap((p) => [0, p.length]),
        T + 1,
        'valid slots',
      );
      const e = buf(rows * H, 'embeddings');
      const h = buf(rows * H, 'h');
      const x = buf(rows * H, 'x');
      const q = buf(rows * H, 'q');
      const k = buf(rows * H, 'k');
      const v = buf(rows * H, 'v');
      const att = buf(rows * H, 'attention');
      const f = buf(rows * I, 'intermediate');
      const pooled = buf(B * H, 'pooled');
      const eps = c.layerNormEps;
      const act = activation(c.hiddenAct);
      const enc = ctx.device.createCommandEncoder();
      const pass = enc.beginComputePass();
      await hf.embedding(pass, {
        tokenIds,
        positionIds: posIds,
        typeIds,
        word: w.word!,
        position: w.position!,
        tokenType: w.type!,
        out: e,
        rows,
        dim: H,
      });
      await hf.layernorm(pass, { x: e, w: w.embNorm!, bias: w.embBias!, y: h, rows, dim: H, eps });
      const lin = (
        xb: GPUBuffer,
        wt: GpuWeights,
        bias: GpuWeights,
        y: GPUBuffer,
        i: number,
        o: number,
      ) => hf.linear(pass, { x: xb, w: wt, bias, y, rows, inDim: i, outDim: o });
      for (const lw of this.#layers) {
        await lin(h, lw.q!, lw.qb!, q, H, H);
        await lin(h, lw.k!, lw.kb!, k, H, H);
        await lin(h, lw.v!, lw.vb!, v, H, H);
        await hf.attention(pass, {
          q,
          k,
          v,
          valid,
          out: att,
          batch: B,
          tokens: T,
          heads: c.numHeads,
          kvHeads: c.numHeads,
          headDim: d,
          capacity: T,
          past: 0,
          causal: false,
        });
        // Post-LN: h = LN(h + o(att)), then h = LN(h + down(act(up(h)))).
        await lin(att, lw.o!, lw.ob!, x, H, H);
        add(pass, x, h);
        await hf.layernorm(pass, { x, w: lw.ln1!, bias: lw.ln1b!, y: h, rows, dim: H, eps });
        await lin(h, lw.up!, lw.upb!, f, H, I);
        await this.#act(pass, act, f, rows * I);
        await lin(f, lw.down!, lw.downb!, x, I, H);
        add(pass, x, h);
        await hf.layernorm(pass, { x, w: lw.ln2!, bias: lw.ln2b!, y: h, rows, dim: H, eps });
      }
      const mode: keyof typeof POOL_MODES = pooling.mode;
      await hf.pool(pass, {
        hidden: h,
        mask,
        out: pooled,
        batch: B,
        seq: T,
        dim: H,
        mode,
        normalize: pooling.normalize,
      });
      pass.end();
      const out = new Float32Array(await readBack(ctx, pooled, B * H * 4, enc));
      return Array.from({ length: B }, (_, b) => out.slice(b * H, (b + 1) * H));
    } finally {
      hf.release();
      done();
    }
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
