// Typed entry points of the Hugging Face kernels (shaders/hf): each checks its sizes against
// the buffers it is given (a short buffer is a GpuError, never an out-of-bounds read clamped to
// a wrong answer), picks the workgroup grid and encodes one dispatch through KernelEncoder.
// Tensors are f32 row-major unless a GpuWeights (weights in their checkpoint's width).

import type { GpuContext } from '../context';
import { GpuError } from '../errors';
import {
  ATTENTION_GQA,
  EMBEDDING_TT,
  GELU_ERF,
  GELU_TANH,
  LAYERNORM,
  LINEAR16,
  POOL,
  RMSNORM,
  ROPE,
  SWIGLU,
} from './descriptor';
import { KernelEncoder } from './kernel';
import { type GpuWeights, storageBuffer, WEIGHT_FORMAT_CODE } from './tensors';

/** Invocations per workgroup of the row kernels (rmsnorm, layernorm, attention, pool): a power of two. */
export const HF_ROW_WG = 64;
/** Largest attention head: each of HF_ROW_WG invocations owns up to 4 of its dimensions. */
export const MAX_HEAD_DIM = 4 * HF_ROW_WG;
/** Pooling modes of sentence-transformers' Pooling, by pool.wgsl's code. */
export const POOL_MODES = { mean: 0, cls: 1, max: 2, lasttoken: 3 } as const;

const ELEMENTWISE_WG = 256; // rope, swiglu, gelu_erf
const MAX_GROUPS = 65_535; // WebGPU's default per-dimension limit

function bad(message: string): GpuError {
  return new GpuError('invalid-argument', message);
}

/** Checks that each named value is a positive (or, with zero, non-negative) integer. */
function sizes(kernel: string, values: Record<string, number>, zeroOk: string[] = []) {
  for (const [name, v] of Object.entries(values)) {
    const min = zeroOk.includes(name) ? 0 : 1;
    if (!Number.isSafeInteger(v) || v < min || v > 0xffff_ffff) {
      throw bad(`${kernel}: ${name} = ${v} is not an integer ≥ ${min}`);
    }
  }
}

/** Checks that `buffer` holds at least `words` 4-byte elements. */
function holds(kernel: string, what: string, buffer: GPUBuffer, words: number) {
  if (buffer.size < words * 4) {
    throw bad(`${kernel}: ${what} holds ${buffer.size} bytes, needs ${words * 4}`);
  }
}

/** Checks a weight tensor's element count (and that its buffer holds them). */
function weighs(kernel: string, what: string, w: GpuWeights, elements: number) {
  if (w.length !== elements) {
    throw bad(`${kernel}: ${what} has ${w.length} elements, needs ${elements}`);
  }
  holds(kernel, what, w.buffer, w.format === 'F32' ? elements : Math.ceil(elements / 2));
}

/** A 1D count of workgroups as an x·y grid within the per-dimension limit. */
function grid(groups: number): [number, number] {
  const x = Math.min(Math.max(groups, 1), MAX_GROUPS);
  return [x, Math.ceil(groups / x)];
}

export class HfOps {
  readonly #ctx: GpuContext;
  readonly #enc: KernelEncoder;
  #noBias?: GpuWeights;

  constructor(ctx: GpuContext) {
    this.#ctx = ctx;
    this.#enc = new KernelEncoder(ctx);
  }

  /** Returns the uniform buffers of everything encoded so far (after its work finished). */
  release(): void {
    this.#enc.release();
  }

  /** Hugging Face's RMSNorm of `rows` rows of `dim`: y = x·rsqrt(mean(x²) + eps)·w. */
  async rmsnorm(
    pass: GPUComputePassEncoder,
    a: { x: GPUBuffer; w: GpuWeights; y: GPUBuffer; rows: number; dim: number; eps: number },
  ): Promise<void> {
    sizes('rmsnorm', { rows: a.rows, dim: a.dim });
    holds('rmsnorm', 'x', a.x, a.rows * a.dim);
    holds('rmsnorm', 'y', a.y, a.rows * a.dim);
    weighs('rmsnorm', 'w', a.w, a.dim);
    const k = await this.#enc.compile(RMSNORM, {
      WEIGHT_FORMAT: WEIGHT_FORMAT_CODE[a.w.format],
      WG: HF_ROW_WG,
    });
    const { rows, dim, eps } = a;
    this.#enc.encode(pass, k, { x: a.x, w: a.w.buffer, y: a.y }, { rows, dim, eps }, grid(rows));
  }

  /** torch.nn.LayerNorm of `rows` rows of `dim`: (x − mean)/√(var + eps)·w + bias. */
  async layernorm(
    pass: GPUComputePassEncoder,
    a: {
      x: GPUBuffer;
      w: GpuWeights;
      bias: GpuWeights;
      y: GPUBuffer;
      rows: number;
      dim: number;
      eps: number;
    },
  ): Promise<void> {
    sizes('layernorm', { rows: a.rows, dim: a.dim });
    holds('layernorm', 'x', a.x, a.rows * a.dim);
    holds('layernorm', 'y', a.y, a.rows * a.dim);
    weighs('layernorm', 'w', a.w, a.dim);
    weighs('layernorm', 'bias', a.bias, a.dim);
    if (a.bias.format !== a.w.format) {
      throw bad(`layernorm: bias is ${a.bias.format}, weights ${a.w.format}`);
    }
    const k = await this.#enc.compile(LAYERNORM, {
      WEIGHT_FORMAT: WEIGHT_FORMAT_CODE[a.w.format],
      WG: HF_ROW_WG,
    });
    const { rows, dim, eps } = a;
    this.#enc.encode(
      pass,
      k,
      { x: a.x, w: a.w.buffer, bias: a.bias.buffer, y: a.y },
      { rows, dim, eps },
      grid(rows),
    );
  }

  /**
   * Rotary embedding in rotate-half layout, in place on x [tokens, heads, headDim]; `positions`
   * holds one u32 per token, `turns` is rotaryTurns(invFreq) (headDim/2 frequencies).
   */
  async rope(
    pass: GPUComputePassEncoder,
    a: {
      x: GPUBuffer;
      positions: GPUBuffer;
      turns: GPUBuffer;
      tokens: number;
      heads: number;
      headDim: number;
    },
  ): Promise<void> {
    sizes('rope', { tokens: a.tokens, heads: a.heads, headDim: a.headDim });
    if (a.headDim % 2 !== 0) throw bad(`rope: head size ${a.headDim} is odd`);
    holds('rope', 'x', a.x, a.tokens * a.heads * a.headDim);
    holds('rope', 'positions', a.positions, a.tokens);
    holds('rope', 'turns', a.turns, 2 * a.headDim);
    const k = await this.#enc.compile(ROPE);
    const { tokens, heads, headDim } = a;
    const n = (tokens * heads * headDim) / 2;
    this.#enc.encode(
      pass,
      k,
      { x: a.x, positions: a.positions, turns: a.turns },
      { tokens, heads, headDim },
      grid(Math.ceil(n / ELEMENTWISE_WG)),
    );
  }

  /** The decoders' MLP gate, in place: gate[i] = silu(gate[i])·up[i], n elements. */
  async swiglu(
    pass: GPUComputePassEncoder,
    a: { gate: GPUBuffer; up: GPUBuffer; n: number },
  ): Promise<void> {
    sizes('swiglu', { n: a.n });
    holds('swiglu', 'gate', a.gate, a.n);
    holds('swiglu', 'up', a.up, a.n);
    const k = await this.#enc.compile(SWIGLU);
    this.#enc.encode(
      pass,
      k,
      { gate: a.gate, up: a.up },
      { n: a.n },
      grid(Math.ceil(a.n / ELEMENTWISE_WG)),
    );
  }

  /** Erf GELU (BERT's `gelu`), in place on n elements. */
  async geluErf(pass: GPUComputePassEncoder, a: { x: GPUBuffer; n: number }): Promise<void> {
    sizes('gelu_erf', { n: a.n });
    holds('gelu_erf', 'x', a.x, a.n);
    const k = await this.#enc.compile(GELU_ERF);
    this.#enc.encode(pass, k, { x: a.x }, { n: a.n }, grid(Math.ceil(a.n / ELEMENTWISE_WG)));
  }

  /** GPT-2's `gelu_new` (tanh GELU), in place on n elements. */
  async geluTanh(pass: GPUComputePassEncoder, a: { x: GPUBuffer; n: number }): Promise<void> {
    sizes('gelu_tanh', { n: a.n });
    holds('gelu_tanh', 'x', a.x, a.n);
    const k = await this.#enc.compile(GELU_TANH);
    this.#enc.encode(pass, k, { x: a.x }, { n: a.n }, grid(Math.ceil(a.n / ELEMENTWISE_WG)));
  }

  /**
   * torch.nn.Linear: y[rows, outDim] = x[rows, inDim]·Wᵀ + bias, W [outDim, inDim]; with
   * `conv1d`, GPT-2's Conv1D: y = x·W + bias, W [inDim, outDim].
   */
  async linear(
    pass: GPUComputePassEncoder,
    a: {
      x: GPUBuffer;
      w: GpuWeights;
      bias?: GpuWeights;
      y: GPUBuffer;
      rows: number;
      inDim: number;
      outDim: number;
      conv1d?: boolean;
    },
  ): Promise<void> {
    const { rows, inDim, outDim } = a;
    sizes('linear16', { rows, inDim, outDim });
    holds('linear16', 'x', a.x, rows * inDim);
    holds('linear16', 'y', a.y, rows * outDim);
    weighs('linear16', 'w', a.w, outDim * inDim);
    if (a.bias) {
      weighs('linear16', 'bias', a.bias, outDim);
      if (a.bias.format !== a.w.format) {
        throw bad(`linear16: bias is ${a.bias.format}, weights ${a.w.format}`);
      }
    }
    const k = await this.#enc.compile(LINEAR16, {
      WEIGHT_FORMAT: WEIGHT_FORMAT_CODE[a.w.format],
      HAS_BIAS: a.bias !== undefined,
      CONV1D: a.conv1d === true,
    });
    this.#noBias ??= {
      buffer: storageBuffer(this.#ctx, 4, 'no bias'),
      format: 'F32',
      length: 1,
    };
    const bias = (a.bias ?? this.#noBias).buffer;
    this.#enc.encode(pass, k, { x: a.x, w: a.w.buffer, bias, y: a.y }, { rows, inDim, outDim }, [
      Math.ceil(outDim / 16),
      Math.ceil(rows / 16),
    ]);
  }

  /**
   * Attention of q [batch, tokens, heads, headDim] over the cache k, v [batch, capacity,
   * kvHeads, headDim] into out (q's shape). Token t of this call sits at cache slot past + t (its
   * key and value already written there); `valid` holds [start, end) of each sequence's real
   * slots (2 u32 per sequence); causal queries see slots ≤ their own, and with `window` > 0 only
   * the last `window` of them. Scale defaults to 1/√headDim.
   */
  async attention(
    pass: GPUComputePassEncoder,
    a: {
      q: GPUBuffer;
      k: GPUBuffer;
      v: GPUBuffer;
      valid: GPUBuffer;
      out: GPUBuffer;
      batch: number;
      tokens: number;
      heads: number;
      kvHeads: number;
      headDim: number;
      capacity: number;
      past: number;
      window?: number;
      causal?: boolean;
      scale?: number;
    },
  ): Promise<void> {
    const { batch, tokens, heads, kvHeads, headDim, capacity, past } = a;
    const window = a.window ?? 0;
    sizes('attention', { batch, tokens, heads, kvHeads, headDim, capacity, past, window }, [
      'past',
      'window',
    ]);
    if (heads % kvHeads !== 0) throw bad(`attention: ${heads} heads over ${kvHeads} kv heads`);
    if (headDim > MAX_HEAD_DIM) throw bad(`attention: head size ${headDim} > ${MAX_HEAD_DIM}`);
    if (past + tokens > capacity) {
      throw bad(`attention: slots ${past}..${past + tokens - 1} exceed the cache's ${capacity}`);
    }
    if (tokens > MAX_GROUPS || heads > MAX_GROUPS || batch > MAX_GROUPS) {
      throw new GpuError('too-large', `attention: ${batch}×${tokens}×${heads} workgroups`);
    }
    holds('attention', 'q', a.q, batch * tokens * heads * headDim);
    holds('attention', 'out', a.out, batch * tokens * heads * headDim);
    holds('attention', 'k', a.k, batch * capacity * kvHeads * headDim);
    holds('attention', 'v', a.v, batch * capacity * kvHeads * headDim);
    holds('attention', 'valid', a.valid, 2 * batch);
    const k = await this.#enc.compile(ATTENTION_GQA, { WG: HF_ROW_WG });
    this.#enc.encode(
      pass,
      k,
      { q: a.q, k: a.k, v: a.v, valid: a.valid, out: a.out },
      {
        tokens,
        heads,
        kvHeads,
        headDim,
        capacity,
        past,
        window,
        causal: a.causal === false ? 0 : 1,
        scale: a.scale ?? 1 / Math.sqrt(headDim),
      },
      [tokens, heads, batch],
    );
  }

  /**
   * BertEmbeddings' sum: out[r] = word[token] + tokenType[type] + position[pos], `rows` rows of
   * `dim`; ids are uploadIds buffers (one u32 per row), tables [vocab|positions|types, dim].
   */
  async embedding(
    pass: GPUComputePassEncoder,
    a: {
      tokenIds: GPUBuffer;
      positionIds: GPUBuffer;
      typeIds: GPUBuffer;
      word: GpuWeights;
      position: GpuWeights;
      tokenType: GpuWeights;
      out: GPUBuffer;
      rows: number;
      dim: number;
    },
  ): Promise<void> {
    const { rows, dim } = a;
    sizes('embedding_tt', { rows, dim });
    const tables = { word: a.word, position: a.position, tokenType: a.tokenType };
    const counts: Record<string, number> = {};
    for (const [name, t] of Object.entries(tables)) {
      if (t.format !== a.word.format) throw bad(`embedding_tt: ${name} is ${t.format}`);
      if (t.length === 0 || t.length % dim !== 0) {
        throw bad(`embedding_tt: ${name} holds ${t.length} elements, not rows of ${dim}`);
      }
      weighs('embedding_tt', name, t, t.length);
      counts[name] = t.length / dim;
    }
    for (const id of ['tokenIds', 'positionIds', 'typeIds'] as const) {
      holds('embedding_tt', id, a[id], rows);
    }
    holds('embedding_tt', 'out', a.out, rows * dim);
    const k = await this.#enc.compile(EMBEDDING_TT, {
      WEIGHT_FORMAT: WEIGHT_FORMAT_CODE[a.word.format],
    });
    this.#enc.encode(
      pass,
      k,
      {
        tokenIds: a.tokenIds,
        positionIds: a.positionIds,
        typeIds: a.typeIds,
        word: a.word.buffer,
        position: a.position.buffer,
        tokenType: a.tokenType.buffer,
        out: a.out,
      },
      {
        rows,
        dim,
        vocab: counts.word!,
        positions: counts.position!,
        types: counts.tokenType!,
      },
      [Math.ceil(dim / 64), Math.min(rows, MAX_GROUPS), Math.ceil(rows / MAX_GROUPS)],
    );
  }

  /**
   * sentence-transformers' Pooling (+ Normalize): hidden [batch, seq, dim], mask [batch, seq]
   * u32 (nonzero: a real token), out [batch, dim].
   */
  async pool(
    pass: GPUComputePassEncoder,
    a: {
      hidden: GPUBuffer;
      mask: GPUBuffer;
      out: GPUBuffer;
      batch: number;
      seq: number;
      dim: number;
      mode: keyof typeof POOL_MODES;
      normalize: boolean;
    },
  ): Promise<void> {
    const { batch, seq, dim } = a;
    sizes('pool', { batch, seq, dim });
    if (!Object.hasOwn(POOL_MODES, a.mode)) throw bad(`pool: no mode ${String(a.mode)}`);
    if (batch > MAX_GROUPS) throw new GpuError('too-large', `pool: batch ${batch}`);
    holds('pool', 'hidden', a.hidden, batch * seq * dim);
    holds('pool', 'mask', a.mask, batch * seq);
    holds('pool', 'out', a.out, batch * dim);
    const k = await this.#enc.compile(POOL, { WG: HF_ROW_WG });
    this.#enc.encode(
      pass,
      k,
      { hidden: a.hidden, mask: a.mask, out: a.out },
      { batch, seq, dim, mode: POOL_MODES[a.mode], normalize: a.normalize ? 1 : 0 },
      [batch],
    );
  }
}
