import { shapeError } from '../gpu/matmul';
import type { MatmulShape } from '../reference/matmul';
import { CpuError } from './errors';
import { CPU_MAX_BINDING_BYTES } from './identity';
import { type CpuOptions, CpuRuntime, MR } from './runtime';

export { CPU_MAX_BINDING_BYTES, type CpuSummary, cpuIdentity } from './identity';
export { type CpuOptions, CpuRuntime } from './runtime';
export { MIN_WORK_PER_THREAD, threadsFor } from './threads';
export { compileKernels, sharedMemoryAvailable, type WasmVariant } from './wasm';

/** Weight dtypes `linear16` reads, by safetensors' names. */
export type CpuWeightDtype = 'F32' | 'F16' | 'BF16';
/** Their codes in assembly/hf.ts (DTYPE_F32, DTYPE_F16, DTYPE_BF16). */
const WEIGHT_DTYPE_CODES: Record<CpuWeightDtype, number> = { F32: 0, F16: 1, BF16: 2 };
/** Output features `linear16` widens together (assembly/hf.ts LINEAR_OUTS): a thread's share. */
const LINEAR_OUTS = 4;

/** Arguments of `CpuKernels.attentionGqa`: byte offsets into the engine's memory, and sizes. */
export interface GqaArgs {
  /** Queries, float32 [tokens, heads, headDim]. */
  q: number;
  /** Keys and values, float32 [cacheRows, kvHeads, headDim] each. */
  k: number;
  v: number;
  /** Int32 [tokens, 2]: token t attends to cache rows [ranges[2t], ranges[2t+1]). */
  ranges: number;
  /** Output, float32 [tokens, heads, headDim]; may be q, never k or v. */
  out: number;
  tokens: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** Rows k and v hold: every range must lie inside. */
  cacheRows: number;
  /** Score scale (default 1/√headDim, Hugging Face's `scaling`). */
  scale?: number;
}

/** Throws CpuError('invalid-argument') unless every size is a positive integer. */
function checkSizes(kernel: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new CpuError(
        'invalid-argument',
        `${kernel}: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
}

/**
 * The CPU engine's kernels: typed, checked calls of assembly/kernels.ts (the shipped model's
 * matmul and `linear`) and assembly/hf.ts (Hugging Face models' norms, rotary embeddings,
 * activations, 16-bit linear layers and grouped-query attention) on the runtime's memory and
 * threads (runtime.ts). Bad arguments are CpuError('invalid-argument').
 */
export class CpuKernels extends CpuRuntime {
  /** Compiles the best variant this JavaScript engine validates and starts the helpers. */
  static async create(options: CpuOptions = {}): Promise<CpuKernels> {
    return new CpuKernels(...(await CpuRuntime.boot(options)));
  }

  /** C = A·B (row-major float32), computed on the CPU. */
  async matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array> {
    const why = shapeError(shape, a.length, b.length);
    if (why) throw new CpuError('invalid-argument', why);
    const { m, k, n } = shape;
    const bytes = Math.max(m * k, k * n, m * n) * 4;
    if (bytes > CPU_MAX_BINDING_BYTES) {
      throw new CpuError(
        'too-large',
        `matmul ${JSON.stringify(shape)} needs ${bytes} bytes at once`,
      );
    }
    return this.frame(async () => {
      const pa = this.put(a);
      const pb = this.put(b);
      const bp = await this.packB(pb, n, k, n);
      const pc = this.alloc(m * n);
      await this.linear(pa, bp, pc, m, k, n);
      return this.view(pc, m * n).slice();
    });
  }

  /** y (rows × n) = x (rows × k) · W (packed) [+ bias (n, padded to 8)] [then GELU]. */
  async linear(
    x: number,
    wPacked: number,
    y: number,
    rows: number,
    k: number,
    n: number,
    bias = 0,
    gelu = false,
  ): Promise<void> {
    const flags = (gelu ? 1 : 0) | (bias ? 2 : 0);
    await this.parallel(
      'gemm',
      rows,
      (s) => [x, k, wPacked, y, n, k, n, bias, flags, s],
      MR,
      k * n,
    );
  }

  /** y (rows × dim) = x · 1/√(mean(x²) + eps) · w, Hugging Face's RMSNorm; y may be x. */
  async rmsnorm(x: number, w: number, y: number, rows: number, dim: number, eps: number) {
    checkSizes('rmsnorm', { rows, dim });
    if (!(Number.isFinite(eps) && eps >= 0)) {
      throw new CpuError(
        'invalid-argument',
        `rmsnorm: eps must be a finite number ≥ 0, got ${eps}`,
      );
    }
    await this.parallel('rmsnorm', rows, () => [x, w, y, dim, eps], 1, dim);
  }

  /**
   * Rotary embedding in place on x (float32 [tokens, heads, headDim]), Hugging Face's
   * rotate-half layout: token t turns by positions[t] (int32 at `positions`) times invFreq
   * (headDim/2 float32 at `invFreq`, rounded from the float64 rotaryInvFreq).
   */
  async rope(
    x: number,
    positions: number,
    invFreq: number,
    tokens: number,
    heads: number,
    headDim: number,
  ) {
    checkSizes('rope', { tokens, heads, headDim });
    if (headDim % 2 !== 0 || headDim > this.scratchFloats) {
      throw new CpuError('invalid-argument', `rope: head dimension ${headDim} is odd or too large`);
    }
    // Angles in float64 (sin and cos per pair): a few multiply-adds' worth an element.
    await this.parallel(
      'rope',
      tokens,
      (s) => [x, positions, invFreq, heads, headDim, s],
      1,
      heads * headDim * 4,
    );
  }

  /** out (rows × n) = silu(gate) · up, LlamaMLP's activation; out may be gate or up. */
  async swiglu(gate: number, up: number, out: number, rows: number, n: number) {
    checkSizes('swiglu', { rows, n });
    await this.parallel('swiglu', rows, () => [gate, up, out, n], 1, n * 4); // exp, divide
  }

  /** y (rows × n) = x/2 · (1 + erf(x/√2)), torch's exact GELU (BERT); y may be x. */
  async geluErf(x: number, y: number, rows: number, n: number) {
    checkSizes('geluErf', { rows, n });
    await this.parallel('gelu_erf', rows, () => [x, y, n], 1, n * 8); // erf's polynomial
  }

  /** y (rows × n) = x/2 · (1 + tanh(√(2/π)·(x + 0.044715·x³))), GPT-2's `gelu_new`; y may be x. */
  async geluTanh(x: number, y: number, rows: number, n: number) {
    checkSizes('geluTanh', { rows, n });
    await this.parallel('gelu_tanh', rows, () => [x, y, n], 1, n * 8); // exp and a divide
  }

  /**
   * y (rows × outF) = x (rows × inF) · Wᵀ [+ bias (outF float32)], W [outF, inF] as
   * torch.nn.Linear stores it, in `dtype` where it lies (16-bit stays 16-bit: see putBits).
   * Threads split the output features. y must not overlap x.
   */
  async linear16(
    x: number,
    w: number,
    dtype: CpuWeightDtype,
    y: number,
    rows: number,
    inF: number,
    outF: number,
    bias = 0,
  ) {
    checkSizes('linear16', { rows, outF });
    const code = WEIGHT_DTYPE_CODES[dtype];
    if (code === undefined || !(Number.isInteger(inF) && inF >= 0)) {
      throw new CpuError('invalid-argument', `linear16: dtype ${dtype} or inF ${inF} is invalid`);
    }
    await this.parallel(
      'linear16',
      outF,
      (s) => [x, w, code, bias, y, rows, inF, outF, s],
      LINEAR_OUTS,
      rows * inF,
    );
  }

  /**
   * out (tokens × dim) = (accumulate ? out : 0) + table[ids[t]]: an embedding lookup over a
   * [vocab, dim] table in `dtype` where it lies (int32 ids at `ids`, checked here against
   * `vocab`). BERT's word + position + token-type sum is three calls with `accumulate`.
   */
  async embed16(
    ids: number,
    table: number,
    dtype: CpuWeightDtype,
    out: number,
    tokens: number,
    vocab: number,
    dim: number,
    accumulate = false,
  ) {
    checkSizes('embed16', { tokens, vocab, dim });
    const code = WEIGHT_DTYPE_CODES[dtype];
    if (code === undefined) throw new CpuError('invalid-argument', `embed16: dtype ${dtype}`);
    const view = new Int32Array(this.buffer, ids, tokens);
    for (let t = 0; t < tokens; t++) {
      if (view[t]! < 0 || view[t]! >= vocab) {
        throw new CpuError(
          'invalid-argument',
          `embed16: token ${t} is id ${view[t]}, not < ${vocab}`,
        );
      }
    }
    await this.parallel(
      'embed16',
      tokens,
      () => [ids, table, code, out, dim, accumulate ? 1 : 0],
      1,
      dim,
    );
  }

  /**
   * Causal grouped-query attention over a KV cache: head h of token t reads kv head
   * h / (heads / kvHeads) over the cache rows its range gives (mask and causality in one),
   * softmax(q·k · scale)·v in float32; an empty range gives zeros. Ranges are checked here.
   */
  async attentionGqa(a: GqaArgs) {
    const { tokens, heads, kvHeads, headDim, cacheRows } = a;
    checkSizes('attentionGqa', { tokens, heads, kvHeads, headDim, cacheRows });
    if (heads % kvHeads !== 0) {
      throw new CpuError('invalid-argument', `attentionGqa: ${heads} heads in ${kvHeads} groups`);
    }
    const scale = a.scale ?? 1 / Math.sqrt(headDim);
    if (!Number.isFinite(scale)) {
      throw new CpuError('invalid-argument', `attentionGqa: scale ${scale} is not finite`);
    }
    const ranges = new Int32Array(this.buffer, a.ranges, 2 * tokens);
    let keys = 0;
    for (let t = 0; t < tokens; t++) {
      const lo = ranges[2 * t]!;
      const hi = ranges[2 * t + 1]!;
      keys += Math.max(0, hi - lo);
      if (lo < 0 || hi > cacheRows || hi - lo > this.scratchFloats) {
        throw new CpuError(
          'invalid-argument',
          `attentionGqa: token ${t}'s keys [${lo}, ${hi}) are outside the cache's ${cacheRows} rows or too many`,
        );
      }
    }
    await this.parallel(
      'attention_gqa',
      tokens * heads,
      (s) => [a.q, a.k, a.v, a.ranges, a.out, heads, kvHeads, headDim, scale, s],
      1,
      // q·k and p·v over the keys, per (token, head) on average
      (2 * keys * headDim) / tokens,
    );
  }
}
