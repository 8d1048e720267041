import {
  type MatmulProblem,
  type ProjectionRequest,
  type Projections,
  projectJs,
  U_F64,
} from '../gpu/projection';
import { compileKernels } from './kernels';

// Freivalds' projections for the owner of a matmul job, on the CPU engine's float64 SIMD kernels
// (assembly/verify.ts). One thread, on the thread that owns the job (the page's main thread, or
// Node): it cannot wait on helper threads there, and a check is a few milliseconds. The job's A
// and B stay in the kernels' memory between shards (the owner checks many blocks of one
// problem); only the claimed block is copied in for each check.

const PAGE = 65_536; // bytes
/** Largest memory the projector grows to (bytes): problems beyond it are projected in JS. */
export const PROJECTOR_MAX_BYTES = 1024 * 2 ** 20;
const BASE = 1024; // the first KiB stays unused: a null pointer never aliases data

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
  /** The problem whose A and B are in memory, and where (weakly: a finished job's matrices
   * are not kept alive by their copy here). */
  #resident: { problem: WeakRef<MatmulProblem>; a: number; b: number; top: number } | undefined;
  #top = BASE;
  /** Checks run so far, and the ones that fell back to JavaScript (too large). */
  readonly stats = { projected: 0, fallbacks: 0 };

  private constructor(
    memory: WebAssembly.Memory,
    x: Kernels,
    readonly fma: boolean,
  ) {
    this.#memory = memory;
    this.#x = x;
  }

  /** Compiles the kernels (relaxed SIMD where valid); throws GpuError without WebAssembly SIMD. */
  static async create(): Promise<CpuProjector> {
    const { module, relaxed } = await compileKernels(false);
    const memory = new WebAssembly.Memory({ initial: 16 });
    const abort = () => {
      throw new Error('a verification kernel aborted');
    };
    const instance = await WebAssembly.instantiate(module, { env: { memory, abort } });
    return new CpuProjector(memory, instance.exports as unknown as Kernels, relaxed);
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
    this.#x.fvProjectB(res.b, n, col0, cols, pr, kv, gw, br, st, vp, 0, k);
    this.#x.fvProjectA(res.a, k, row0, k, br, st, vp, abr, aux, 0, rows);
    this.#x.fvProjectC(pc, cols, pr, kv, gw, cr, vp, csq, 0, rows);
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

  /** Forgets the resident problem (a finished job), so its memory is reused. */
  release(problem: MatmulProblem): void {
    if (this.#resident?.problem.deref() === problem) this.#resident = undefined;
  }

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
