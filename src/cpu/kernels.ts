// The CPU engine's host side: memory, threads and typed calls of assembly/kernels.ts. Over 450
// lines since the Hugging Face kernels' calls (rmsnorm … attentionGqa, after `linear`) joined
// the shipped model's; they use only `parallel`, the memory and the scratch size, so they can
// move to a module of their own once their callers settle.
import { GpuError } from '../gpu/errors';
import { checkShape } from '../gpu/matmul';
import type { MatmulShape } from '../reference/matmul';
import { CPU_MAX_BINDING_BYTES, type CpuSummary } from './identity';
import {
  CHUNKS_PER_THREAD,
  type PoolStats,
  type SpawnHelper,
  spawnWebHelper,
  ThreadPool,
} from './pool';
import { MIN_WORK_PER_THREAD, threadsFor } from './threads';

export { CPU_MAX_BINDING_BYTES, type CpuSummary, cpuIdentity } from './identity';
export { MIN_WORK_PER_THREAD, threadsFor } from './threads';

/** Which build of assembly/kernels.ts runs (scripts/build-wasm.mjs). */
export type WasmVariant = 'relaxed-shared' | 'relaxed' | 'simd-shared' | 'simd';

const VARIANT_SOURCES: Record<WasmVariant, () => Promise<{ default: string }>> = {
  'relaxed-shared': () => import('./generated/relaxed-shared'),
  relaxed: () => import('./generated/relaxed'),
  'simd-shared': () => import('./generated/simd-shared'),
  simd: () => import('./generated/simd'),
};

export interface CpuOptions {
  /** Threads to use (default: navigator.hardwareConcurrency where memory can be shared, else
   * 1). More than 1 needs SharedArrayBuffer: a cross-origin isolated page, or Node. */
  threads?: number;
  /** How helper threads start (default: Web Workers from a blob: URL). */
  spawn?: SpawnHelper;
  /** Work a call must give each thread before helpers are woken for it (default
   * MIN_WORK_PER_THREAD; see threadsFor). */
  minWorkPerThread?: number;
}

const PAGE = 65_536; // bytes
const MAX_PAGES = 32_768; // 2 GiB, as scripts/build-wasm.mjs declares for shared memory
const NR = 8; // columns per packed panel of B (assembly/kernels.ts)
/** The kernels `parallel` may split across threads. */
const KERNELS = [
  'gemm',
  'packB',
  'layernorm',
  'embedding',
  'residual',
  'attention',
  // Hugging Face models (assembly/hf.ts)
  'rmsnorm',
  'rope',
  'swiglu',
  'gelu_erf',
  'gelu_tanh',
  'linear16',
  'attention_gqa',
  'embed16',
];
const MR = 4; // rows per register block

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

/** Throws GpuError('invalid-argument') unless every size is a positive integer. */
function checkSizes(kernel: string, sizes: Record<string, number>): void {
  for (const [name, v] of Object.entries(sizes)) {
    if (!(Number.isInteger(v) && v > 0)) {
      throw new GpuError(
        'invalid-argument',
        `${kernel}: ${name} must be a positive integer, got ${v}`,
      );
    }
  }
}

/** Bytes rounded up to a cache line. */
const line = (bytes: number) => Math.ceil(bytes / 64) * 64;

interface Exports {
  SCRATCH_FLOATS: WebAssembly.Global;
  packedBFloats(k: number, n: number): number;
  [kernel: string]: unknown;
}

async function wasmBytes(v: WasmVariant): Promise<Uint8Array<ArrayBuffer>> {
  const b64 = (await VARIANT_SOURCES[v]()).default;
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/**
 * Compiles the best build of assembly/kernels.ts this JavaScript engine validates: relaxed SIMD
 * (fused multiply-add) where it can, plain SIMD otherwise; `shared` for threads.
 */
export async function compileKernels(
  shared: boolean,
): Promise<{ module: WebAssembly.Module; relaxed: boolean }> {
  let relaxed = true;
  let bytes = await wasmBytes(shared ? 'relaxed-shared' : 'relaxed');
  if (!WebAssembly.validate(bytes)) {
    relaxed = false;
    bytes = await wasmBytes(shared ? 'simd-shared' : 'simd');
    if (!WebAssembly.validate(bytes)) {
      throw new GpuError('webgpu-unavailable', 'this browser runs no WebAssembly SIMD');
    }
  }
  return { module: await WebAssembly.compile(bytes), relaxed };
}

export function sharedMemoryAvailable(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  // Browsers hand out SharedArrayBuffer only to cross-origin isolated pages; Node always.
  return (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
}

/**
 * The CPU engine's kernels: one WebAssembly instance (SIMD, FMA where the browser has relaxed
 * SIMD) on a memory this class lays out, plus helper threads sharing that memory. Memory is a
 * stack: `alloc` bumps, `release(mark)` pops back; weights stay below the mark of a call.
 */
export class CpuKernels {
  readonly summary: CpuSummary;
  readonly #memory: WebAssembly.Memory;
  readonly #x: Exports;
  readonly #pool: ThreadPool | undefined;
  readonly #minWork: number;
  /** Per-thread scratch (packed A blocks, attention scores), one block each. */
  readonly #scratch: number[];
  #top: number;
  /** The call running now: calls run one at a time, each on its own stack of memory. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(
    memory: WebAssembly.Memory,
    x: Exports,
    pool: ThreadPool | undefined,
    summary: CpuSummary,
    minWork: number,
  ) {
    this.#memory = memory;
    this.#x = x;
    this.#pool = pool;
    this.#minWork = minWork;
    this.summary = summary;
    this.#top = 1024; // the first KiB stays unused: a null pointer never aliases data
    const scratchBytes = line((x.SCRATCH_FLOATS.value as number) * 4);
    this.#scratch = Array.from({ length: summary.threads }, () => this.alloc(scratchBytes / 4));
  }

  /** Compiles the best variant this JavaScript engine validates and starts the helpers. */
  static async create(options: CpuOptions = {}): Promise<CpuKernels> {
    const shared = sharedMemoryAvailable();
    const cores = (globalThis.navigator?.hardwareConcurrency as number | undefined) ?? 1;
    const threads = shared ? Math.max(1, Math.min(options.threads ?? cores, 64)) : 1;
    if (!Number.isInteger(threads)) {
      throw new GpuError('invalid-argument', `CPU threads must be an integer, got ${threads}`);
    }
    const minWork = options.minWorkPerThread ?? MIN_WORK_PER_THREAD;
    if (!(minWork >= 0)) {
      throw new GpuError('invalid-argument', `minWorkPerThread must be ≥ 0, got ${minWork}`);
    }
    const wantShared = threads > 1;
    const { module, relaxed } = await compileKernels(wantShared);
    const memory = new WebAssembly.Memory(
      wantShared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 },
    );
    const abort = () => {
      throw new GpuError('invalid-argument', 'a CPU kernel aborted');
    };
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
    let pool: ThreadPool | undefined;
    let started = threads;
    if (threads > 1) {
      try {
        const spawn = options.spawn ?? spawnWebHelper;
        pool = await ThreadPool.start(threads - 1, spawn, module, memory, KERNELS);
      } catch (e) {
        // A host page's CSP may forbid blob: Workers: one thread still computes.
        console.warn(`tessel: CPU helper threads did not start (${e}); computing on one thread`);
        started = 1;
      }
    }
    return new CpuKernels(
      memory,
      instance.exports as unknown as Exports,
      pool,
      { simd: relaxed ? 'relaxed-simd' : 'simd128', threads: started },
      minWork,
    );
  }

  /**
   * Runs `fn` after every call queued before it has finished: a call's memory is a stack frame
   * (`mark`…`release`), and frames of two interleaved calls would free each other's data.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Reserves `floats` floats (cache-line aligned); returns the byte offset. */
  alloc(floats: number): number {
    const at = this.#top;
    const end = at + line(floats * 4);
    if (end > MAX_PAGES * PAGE) {
      throw new GpuError('too-large', `the CPU engine cannot hold another ${floats * 4} bytes`);
    }
    const have = this.#memory.buffer.byteLength;
    if (end > have) this.#memory.grow(Math.ceil((end - have) / PAGE));
    this.#top = end;
    return at;
  }

  /** Where the next allocation goes: pass it to `release` to free everything after it. */
  mark(): number {
    return this.#top;
  }

  release(mark: number): void {
    this.#top = mark;
  }

  /** A view of `floats` floats at byte offset `ptr` (made afresh: memory may have grown). */
  view(ptr: number, floats: number): Float32Array {
    return new Float32Array(this.#memory.buffer, ptr, floats);
  }

  /** Copies `data` to a fresh allocation; returns its byte offset. */
  put(data: Float32Array | Uint32Array): number {
    const ptr = this.alloc(data.length);
    new (data.constructor as Float32ArrayConstructor)(this.#memory.buffer, ptr, data.length).set(
      data as Float32Array,
    );
    return ptr;
  }

  /** Threads a call of `work` multiply-adds (or the like: see MIN_WORK_PER_THREAD) runs on. */
  threadsFor(work: number): number {
    return threadsFor(work, this.summary.threads, this.#minWork);
  }

  /** What the helper threads have done (undefined on one thread). */
  get poolStats(): Readonly<PoolStats> | undefined {
    return this.#pool?.stats;
  }

  /**
   * Runs kernel `fn` over rows [0, rows) in chunks of `align`-row blocks that the threads claim
   * as they come free (CHUNKS_PER_THREAD a thread, so a thread the OS has descheduled leaves
   * its share to the others); `args(scratch)` gives its arguments before the row range for a
   * thread's scratch pointer. `work`: multiply-adds (or the like) a row costs; helpers are woken
   * only when the call has MIN_WORK_PER_THREAD for each (threadsFor). A call of fewer than 2
   * chunks runs on this thread.
   */
  async parallel(
    fn: string,
    rows: number,
    args: (scratch: number) => number[],
    align = MR,
    work = 1,
  ): Promise<void> {
    const threads = this.threadsFor(rows * work);
    const chunk = Math.max(align, Math.ceil(rows / (threads * CHUNKS_PER_THREAD) / align) * align);
    const kernel = this.#x[fn] as (...a: number[]) => void;
    if (!this.#pool || threads < 2 || rows <= chunk) {
      if (rows > 0) kernel(...args(this.#scratch[0]!), 0, rows);
      return;
    }
    this.#pool.run(
      fn,
      rows,
      chunk,
      (t) => args(this.#scratch[t]!),
      (p) => kernel(...p),
      threads - 1,
    );
  }

  /** Packs a K × N matrix at `b` (row stride `ldb`) for `gemm`; returns the packed copy. */
  async packB(b: number, ldb: number, k: number, n: number): Promise<number> {
    const out = this.alloc(this.#x.packedBFloats(k, n));
    const panels = Math.ceil(n / NR);
    await this.parallel('packB', panels, () => [b, ldb, k, n, out], 1, k * NR);
    return out;
  }

  /** C = A·B (row-major float32), computed on the CPU. */
  async matmul(a: Float32Array, b: Float32Array, shape: MatmulShape): Promise<Float32Array> {
    checkShape(shape, a.length, b.length);
    const { m, k, n } = shape;
    const bytes = Math.max(m * k, k * n, m * n) * 4;
    if (bytes > CPU_MAX_BINDING_BYTES) {
      throw new GpuError(
        'too-large',
        `matmul ${JSON.stringify(shape)} needs ${bytes} bytes at once`,
      );
    }
    return this.exclusive(async () => {
      const mark = this.mark();
      try {
        const pa = this.put(a);
        const pb = this.put(b);
        const bp = await this.packB(pb, n, k, n);
        const pc = this.alloc(m * n);
        await this.linear(pa, bp, pc, m, k, n);
        return this.view(pc, m * n).slice();
      } finally {
        this.release(mark);
      }
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

  /** Copies 16-bit weight bits (F16 or BF16, as src/model/hf/weights.ts keeps them) to a fresh
   * allocation, still 16-bit; returns its byte offset. */
  putBits(bits: Uint16Array): number {
    const ptr = this.alloc(Math.ceil(bits.length / 2));
    new Uint16Array(this.#memory.buffer, ptr, bits.length).set(bits);
    return ptr;
  }

  /** Copies int32 data (positions, key ranges) to a fresh allocation; returns its byte offset. */
  putInt32(data: Int32Array): number {
    const ptr = this.alloc(data.length);
    new Int32Array(this.#memory.buffer, ptr, data.length).set(data);
    return ptr;
  }

  /** Floats of per-thread scratch each kernel call may use. */
  get #scratchFloats(): number {
    return this.#x.SCRATCH_FLOATS.value as number;
  }

  /** y (rows × dim) = x · 1/√(mean(x²) + eps) · w, Hugging Face's RMSNorm; y may be x. */
  async rmsnorm(x: number, w: number, y: number, rows: number, dim: number, eps: number) {
    checkSizes('rmsnorm', { rows, dim });
    if (!(Number.isFinite(eps) && eps >= 0)) {
      throw new GpuError(
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
    if (headDim % 2 !== 0 || headDim > this.#scratchFloats) {
      throw new GpuError('invalid-argument', `rope: head dimension ${headDim} is odd or too large`);
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
      throw new GpuError('invalid-argument', `linear16: dtype ${dtype} or inF ${inF} is invalid`);
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
    if (code === undefined) throw new GpuError('invalid-argument', `embed16: dtype ${dtype}`);
    const view = new Int32Array(this.#memory.buffer, ids, tokens);
    for (let t = 0; t < tokens; t++) {
      if (view[t]! < 0 || view[t]! >= vocab) {
        throw new GpuError(
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
      throw new GpuError('invalid-argument', `attentionGqa: ${heads} heads in ${kvHeads} groups`);
    }
    const scale = a.scale ?? 1 / Math.sqrt(headDim);
    if (!Number.isFinite(scale)) {
      throw new GpuError('invalid-argument', `attentionGqa: scale ${scale} is not finite`);
    }
    const ranges = new Int32Array(this.#memory.buffer, a.ranges, 2 * tokens);
    let keys = 0;
    for (let t = 0; t < tokens; t++) {
      const lo = ranges[2 * t]!;
      const hi = ranges[2 * t + 1]!;
      keys += Math.max(0, hi - lo);
      if (lo < 0 || hi > cacheRows || hi - lo > this.#scratchFloats) {
        throw new GpuError(
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

  /** Stops the helper threads; the instance is unusable after. */
  dispose(): void {
    this.#pool?.stop();
  }
}
