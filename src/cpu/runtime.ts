import { notice } from '../log/log';
import { CpuError } from './errors';
import type { CpuSummary } from './identity';
import {
  CHUNKS_PER_THREAD,
  type PoolStats,
  type SpawnHelper,
  spawnWebHelper,
  ThreadPool,
} from './pool';
import { MIN_WORK_PER_THREAD, threadsFor } from './threads';
import { compileKernels, sharedMemoryAvailable } from './wasm';

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
  // Hugging Face models (assembly/hf*.ts)
  'rmsnorm',
  'rope',
  'swiglu',
  'gelu_erf',
  'gelu_tanh',
  'linear16',
  'attention_gqa',
  'embed16',
];
/** Rows per register block of `gemm`: `parallel`'s default row alignment. */
export const MR = 4;

/** Bytes rounded up to a cache line. */
const line = (bytes: number) => Math.ceil(bytes / 64) * 64;

interface Exports {
  SCRATCH_FLOATS: WebAssembly.Global;
  packedBFloats(k: number, n: number): number;
  [kernel: string]: unknown;
}

/** What a CpuRuntime is made of, as `CpuRuntime.boot` starts it. */
type Parts = [WebAssembly.Memory, Exports, ThreadPool | undefined, CpuSummary, number];

/**
 * The CPU engine's runtime: one WebAssembly instance of assembly/kernels.ts (SIMD, FMA where
 * the browser has relaxed SIMD) on a memory this class lays out, plus helper threads sharing
 * that memory. Memory is a stack: `alloc` bumps, `release(mark)` pops back; weights stay below
 * the mark of a call. The typed kernel calls are CpuKernels' (kernels.ts).
 */
export class CpuRuntime {
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

  protected constructor(
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
  protected static async boot(options: CpuOptions): Promise<Parts> {
    const shared = sharedMemoryAvailable();
    const cores = (globalThis.navigator?.hardwareConcurrency as number | undefined) ?? 1;
    const threads = shared ? Math.max(1, Math.min(options.threads ?? cores, 64)) : 1;
    if (!Number.isInteger(threads)) {
      throw new CpuError('invalid-argument', `CPU threads must be an integer, got ${threads}`);
    }
    const minWork = options.minWorkPerThread ?? MIN_WORK_PER_THREAD;
    if (!(minWork >= 0)) {
      throw new CpuError('invalid-argument', `minWorkPerThread must be ≥ 0, got ${minWork}`);
    }
    const wantShared = threads > 1;
    const { module, relaxed } = await compileKernels(wantShared);
    const memory = new WebAssembly.Memory(
      wantShared ? { initial: 16, maximum: MAX_PAGES, shared: true } : { initial: 16 },
    );
    const abort = () => {
      throw new CpuError('invalid-argument', 'a CPU kernel aborted');
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
        notice(`CPU helper threads did not start (${e}); computing on one thread`);
        started = 1;
      }
    }
    const summary: CpuSummary = { simd: relaxed ? 'relaxed-simd' : 'simd128', threads: started };
    return [memory, instance.exports as unknown as Exports, pool, summary, minWork];
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

  /** Runs `fn` exclusively (see `exclusive`) in a stack frame of its own: everything it
   * allocates is freed when it settles. */
  frame<T>(fn: () => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const mark = this.mark();
      try {
        return await fn();
      } finally {
        this.release(mark);
      }
    });
  }

  /** Reserves `floats` floats (cache-line aligned); returns the byte offset. */
  alloc(floats: number): number {
    const at = this.#top;
    const end = at + line(floats * 4);
    if (end > MAX_PAGES * PAGE) {
      throw new CpuError('too-large', `the CPU engine cannot hold another ${floats * 4} bytes`);
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
  protected get scratchFloats(): number {
    return this.#x.SCRATCH_FLOATS.value as number;
  }

  /** The engine's memory now (it may grow: take views afresh). */
  protected get buffer(): ArrayBuffer {
    return this.#memory.buffer as ArrayBuffer;
  }

  /** Stops the helper threads; the instance is unusable after. */
  dispose(): void {
    this.#pool?.stop();
  }
}
