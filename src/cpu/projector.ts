import {
  type MatmulProblem,
  type ProjectionRequest,
  type Projections,
  projectJs,
  U_F64,
} from '../gpu/projection';
import { notice } from '../log/log';
import { CHUNKS_PER_THREAD, type SpawnHelper, spawnWebHelper, ThreadPool } from './pool';
import { compileKernels, sharedMemoryAvailable } from './wasm';

// Freivalds' projections for the owner of a matmul job, on the CPU engine's float64 SIMD kernels
// (assembly/verify.ts), on the thread that owns the job (the page's main thread, or Node) and,
// where memory can be shared (a cross-origin isolated page, Node), helper threads: each pass is
// split by rows, the caller computing its share while it waits (a page's main thread spins
// rather than blocks; its share is most of the wait). The job's A and B stay in the kernels'
// memory between shards (the owner checks many blocks of one problem); only the claimed block
// is copied in for each check.

const PAGE = 65_536; // bytes
const BASE = 1024; // the first KiB stays unused: a null pointer never aliases data
/** The kernels helper threads may run. */
const KERNELS = ['fvProjectB', 'fvProjectA', 'fvProjectC'];
/** Largest memory the projector grows to (bytes; it keeps what it grew to): problems beyond it
 * are projected in JavaScript. */
export const PROJECTOR_MAX_BYTES = 1024 * 2 ** 20;
/** Threads a projector uses at most (the caller's included). */
export const PROJECTOR_MAX_THREADS = 4;

export interface CpuProjectorOptions {
  /** Threads (default: hardwareConcurrency, at most PROJECTOR_MAX_THREADS, where memory can
   * be shared; else 1). */
  threads?: number;
  /** How helper threads start (default: Web Workers from a blob: URL; Node passes
   * src/cpu/node-threads.ts). */
  spawn?: SpawnHelper;
}

interface Kernels {
  fvProjectB(...args: number[]): void;
  fvProjectA(...args: number[]): void;
  fvProjectC(...args: number[]): void;
}

const line = (bytes: number) => Math.ceil(bytes / 64) * 64;

/** The owner's projector on the CPU engine's kernels. */
export class CpuProjector {
  readonly #memory: WebAssembly.Memory;
  readonly #x: Kernels;
  readonly #pool: ThreadPool | undefined;
  /** The problem whose A and B are in memory, and where (weakly: a finished job's matrices
   * are not kept alive by their copy here). */
  #resident: { problem: WeakRef<MatmulProblem>; a: number; b: number; top: number } | undefined;
  #top = BASE;
  /** Checks run so far, and the ones that fell back to JavaScript (too large). */
  readonly stats = { projected: 0, fallbacks: 0 };

  private constructor(memory: WebAssembly.Memory, x: Kernels, pool: ThreadPool | undefined) {
    this.#memory = memory;
    this.#x = x;
    this.#pool = pool;
  }

  /** Threads that compute a projection, the caller's included. */
  get threads(): number {
    return this.#pool?.size ?? 1;
  }

  /** Compiles the kernels (relaxed SIMD where valid) and starts the helpers; throws CpuError
   * without WebAssembly SIMD. Helpers that cannot start leave one thread projecting. */
  static async create(options: CpuProjectorOptions = {}): Promise<CpuProjector> {
    const cores = (globalThis.navigator?.hardwareConcurrency as number | undefined) ?? 1;
    const want = Math.min(options.threads ?? cores, PROJECTOR_MAX_THREADS);
    // Node has no Web Workers: its callers pass spawnNodeHelper, or project on one thread.
    const spawn = options.spawn ?? (typeof Worker === 'function' ? spawnWebHelper : undefined);
    const shared =
      sharedMemoryAvailable() && spawn !== undefined && Number.isInteger(want) && want > 1;
    const { module } = await compileKernels(shared);
    const memory = new WebAssembly.Memory(
      shared
        ? { initial: 16, maximum: PROJECTOR_MAX_BYTES / PAGE, shared: true }
        : { initial: 16, maximum: PROJECTOR_MAX_BYTES / PAGE },
    );
    const abort = () => {
      throw new Error('a verification kernel aborted');
    };
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
    let pool: ThreadPool | undefined;
    if (shared) {
      try {
        pool = await ThreadPool.start(want - 1, spawn, module, memory, KERNELS);
      } catch (e) {
        notice(`verifier helper threads did not start (${e}); one thread checks`);
      }
    }
    return new CpuProjector(memory, instance.exports as unknown as Kernels, pool);
  }

  /** Stops the helper threads. */
  dispose(): void {
    this.#pool?.stop();
  }

  /** Runs a kernel over [0, count), in chunks the threads claim as they come free (see
   * ThreadPool.run); `args` come before the range. Under 64 it runs on this thread. */
  #parallel(fn: keyof Kernels, count: number, args: number[]): void {
    const kernel = this.#x[fn];
    const chunk = Math.max(16, Math.ceil(count / (this.threads * CHUNKS_PER_THREAD)));
    if (!this.#pool || count < 64 || count <= chunk) {
      if (count > 0) kernel(...args, 0, count);
      return;
    }
    this.#pool.run(
      fn,
      count,
      chunk,
      () => args,
      (p) => kernel(...p),
    );
  }

  /** The projections of `req` (a `Projector`); falls back to `projectJs` past the memory cap. */
  project = (req: ProjectionRequest): Projections => {
    const { problem, block, claimed, r, vectors: kv, groupCols: gw } = req;
    const { k, n } = problem;
    const { row0, rows, col0, cols } = block;
    const groups = Math.ceil(cols / gw);
    const vg = kv * groups;
    const vp = Math.ceil(vg / 8) * 8; // projection columns, padded for 4 f64x2 accumulators
    const st = vp + 2; // br's row stride: the projections, then max Σ|b| and max Σb²
    const perCall =
      line(r.length * 8) +
      line(k * st * 8) +
      2 * line(rows * vp * 8) +
      line(rows * 16) +
      line(claimed.length * 4) +
      line(rows * groups * 8);
    const needed = BASE + line(problem.a.length * 4) + line(problem.b.length * 4) + perCall;
    if (needed > PROJECTOR_MAX_BYTES) {
      this.stats.fallbacks++;
      return projectJs(req);
    }
    const res = this.#residentFor(problem);
    this.#top = res.top;
    const pr = this.#put(r);
    const br = this.#alloc(k * st * 8);
    const abr = this.#alloc(rows * vp * 8);
    const aux = this.#alloc(rows * 16);
    const pc = this.#put(claimed);
    const cr = this.#alloc(rows * vp * 8);
    const csq = this.#alloc(rows * groups * 8);
    // Padding columns of br must be zeros: memory below the top is reused between calls.
    new Float64Array(this.#memory.buffer, br, k * st).fill(0);
    this.#parallel('fvProjectB', k, [res.b, n, col0, cols, pr, kv, gw, br, st, vp]);
    this.#parallel('fvProjectA', rows, [res.a, k, row0, k, br, st, vp, abr, aux]);
    this.#parallel('fvProjectC', rows, [pc, cols, pr, kv, gw, cr, vp, csq]);
    const buf = this.#memory.buffer;
    const f64 = (ptr: number, len: number) => new Float64Array(buf, ptr, len);
    const abrOut = new Float64Array(rows * vg);
    const crOut = new Float64Array(rows * vg);
    const absAB = new Float64Array(rows);
    const sqAB = new Float64Array(rows);
    const abrAll = f64(abr, rows * vp);
    const crAll = f64(cr, rows * vp);
    const auxAll = f64(aux, rows * 2);
    for (let i = 0; i < rows; i++) {
      abrOut.set(abrAll.subarray(i * vp, i * vp + vg), i * vg);
      crOut.set(crAll.subarray(i * vp, i * vp + vg), i * vg);
      absAB[i] = auxAll[2 * i]!;
      sqAB[i] = auxAll[2 * i + 1]!;
    }
    this.stats.projected++;
    return {
      abr: abrOut,
      cr: crOut,
      absAB,
      sqAB,
      cSq: f64(csq, rows * groups).slice(),
      unitRoundoff: U_F64,
      nonFiniteInCSq: true,
    };
  };

  #residentFor(problem: MatmulProblem) {
    if (this.#resident?.problem.deref() !== problem) {
      this.#resident = undefined;
      this.#top = BASE;
      const a = this.#put(problem.a);
      const b = this.#put(problem.b);
      this.#resident = { problem: new WeakRef(problem), a, b, top: this.#top };
    }
    return this.#resident;
  }

  #alloc(bytes: number): number {
    const at = this.#top;
    const end = at + line(bytes);
    const have = this.#memory.buffer.byteLength;
    if (end > have) this.#memory.grow(Math.ceil((end - have) / PAGE));
    this.#top = end;
    return at;
  }

  #put(data: Float32Array | Float64Array): number {
    const ptr = this.#alloc(data.byteLength);
    const View = data instanceof Float32Array ? Float32Array : Float64Array;
    new View(this.#memory.buffer, ptr, data.length).set(data);
    return ptr;
  }
}
