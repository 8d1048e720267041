// One side of the matmul comparison, in a page of its own (scripts/bench.mjs opens a fresh
// browser per side per run, A B A B, so no side runs beside another's threads or GPU work):
//   webgpu       tessel's WebGPU kernel (inputs resident; each timed run dispatches and reads C
//                back), and the owner's Freivalds check of C on the CPU projector
//   tfjs-webgpu  TF.js's WebGPU backend (tf.matMul + data())
//   ort-webgpu   ONNX Runtime Web's WebGPU backend (a MatMul graph, session.run + getData())
//   cpu          tessel's CPU engine, `threads` threads (each timed run copies A and B in, C out)
//   ort-wasm     ONNX Runtime Web's wasm backend, the same threads, the same copies
// Each row checks the side's C against float64 on sampled rows.
import { CpuKernels, type CpuSummary } from '../src/cpu/kernels';
import { CpuProjector } from '../src/cpu/projector';
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import { Matmul } from '../src/gpu/matmul';
import { verifyBlock } from '../src/jobs/freivalds';
import { randomProblem } from '../src/jobs/matmul-job';
import { seededRng } from '../src/model/rng';
import { matmulToOnnx, ortSession } from './ort';
import { time } from './timing';

export const MATMUL_SIDES = ['webgpu', 'tfjs-webgpu', 'ort-webgpu', 'cpu', 'ort-wasm'] as const;
export type MatmulSide = (typeof MATMUL_SIDES)[number];

export interface MatmulSideRow {
  n: number;
  /** Median ms of `reps` timed calls after a warm-up. */
  ms: number;
  gflops: number;
  /** max |C − A·B (float64)| over sampled rows */
  max_abs_err: number;
  /** webgpu only: the owner's Freivalds check of the whole C, ms, and ÷ the product's ms */
  verify_ms?: number;
  verify_over_compute?: number;
}

/** The CPU engine's 128-bit SIMD peak, probed in its page (scripts/bench.mjs cpuPeakProbe). */
export interface CpuPeak {
  /** GFLOP/s of one thread, × threads */
  gflops_per_thread: number;
  threads: number;
  gflops: number;
  build: 'relaxed' | 'simd';
}

export interface MatmulSideResult {
  side: MatmulSide;
  peak?: CpuPeak;
  /** What ran: adapter, tile, CPU engine summary, peer version, threads. */
  info: Record<string, unknown>;
  crossOriginIsolated: boolean;
  reps: number;
  rows: MatmulSideRow[];
}

/** A side's C for `n`; `setup` once per size, then `run` is timed. */
interface Runner {
  info: Record<string, unknown>;
  prepare(n: number, a: Float32Array, b: Float32Array): Promise<() => Promise<Float32Array>>;
  done(): Promise<void>;
}

/** Max |C − A·B| in float64 over 8 sampled rows. */
function sampledError(a: Float32Array, b: Float32Array, c: Float32Array, n: number): number {
  let worst = 0;
  for (let s = 0; s < 8; s++) {
    const i = Math.floor((s * (n - 1)) / 7);
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += a[i * n + k]! * b[k * n + j]!;
      worst = Math.max(worst, Math.abs(c[i * n + j]! - acc));
    }
  }
  return c.length === n * n ? worst : Number.POSITIVE_INFINITY;
}

async function runner(side: MatmulSide, threads: number): Promise<Runner> {
  switch (side) {
    case 'webgpu': {
      const ctx = await GpuContext.create();
      const { tile } = await autotune(ctx, { store: new MemoryTuneStore() });
      return {
        info: { adapter: ctx.summary, tile },
        async prepare(n, a, b) {
          const p = await new Matmul(ctx, tile).prepare(a, b, { m: n, k: n, n });
          return () => p.run();
        },
        done: async () => ctx.destroy(),
      };
    }
    case 'tfjs-webgpu': {
      const tf = await import('@tensorflow/tfjs');
      await import('@tensorflow/tfjs-backend-webgpu');
      await tf.setBackend('webgpu');
      await tf.ready();
      return {
        info: { tfjs: tf.version.tfjs, backend: tf.getBackend() },
        async prepare(n, a, b) {
          const ta = tf.tensor2d(a, [n, n]);
          const tb = tf.tensor2d(b, [n, n]);
          return async () => {
            const tc = tf.matMul(ta, tb);
            const c = (await tc.data()) as Float32Array;
            tc.dispose();
            return c;
          };
        },
        done: async () => tf.disposeVariables(),
      };
    }
    case 'ort-webgpu':
    case 'ort-wasm': {
      const s = await ortSession(matmulToOnnx(), side === 'ort-wasm' ? 'wasm' : 'webgpu', threads);
      return {
        info: { ort: s.version, threads },
        async prepare(n, a, b) {
          return () =>
            s.run({
              a: { type: 'float32', data: a, dims: [n, n] },
              b: { type: 'float32', data: b, dims: [n, n] },
            });
        },
        done: () => s.release(),
      };
    }
    case 'cpu': {
      const cpu = await CpuKernels.create({ threads });
      const info: Record<string, unknown> = { cpu: cpu.summary };
      return {
        info,
        async prepare(n, a, b) {
          return () => cpu.matmul(a, b, { m: n, k: n, n });
        },
        done: async () => {
          info.pool = cpu.poolStats; // how often helpers were woken, or sat out
          cpu.dispose();
        },
      };
    }
  }
}

/**
 * One thread's rate through the fastest probe (`probe<chains>(iterations)`: 8 flops per chain
 * per iteration): the median of 5 runs of ~0.2 s after calibrating, in the build the CPU engine
 * itself runs.
 */
async function probePeak(
  builds: { relaxed: string; simd: string },
  summary: CpuSummary,
): Promise<CpuPeak> {
  const build = summary.simd === 'relaxed-simd' ? 'relaxed' : 'simd';
  const bytes = Uint8Array.from(atob(builds[build]), (c) => c.charCodeAt(0));
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => {} } });
  let perThread = 0;
  for (const [name, fn] of Object.entries(instance.exports)) {
    const chains = /^probe(\d+)$/.exec(name)?.[1];
    if (!chains || typeof fn !== 'function') continue;
    const probe = fn as (iterations: number) => number;
    let iterations = 1 << 16;
    for (;;) {
      const t0 = performance.now();
      probe(iterations);
      if (performance.now() - t0 > 200 || iterations > 1 << 30) break;
      iterations *= 2;
    }
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      probe(iterations);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    perThread = Math.max(perThread, (iterations * Number(chains) * 8) / (ms[2]! * 1e6));
  }
  return {
    gflops_per_thread: perThread,
    threads: summary.threads,
    gflops: perThread * summary.threads,
    build,
  };
}

async function runMatmulSide(
  side: MatmulSide,
  sizes: number[],
  reps: number,
  threads = crossOriginIsolated ? navigator.hardwareConcurrency : 1,
  peakBuilds?: { relaxed: string; simd: string },
): Promise<MatmulSideResult> {
  if (!MATMUL_SIDES.includes(side)) throw new Error(`no matmul side ${side}`);
  const r = await runner(side, threads);
  const projector = side === 'webgpu' ? await CpuProjector.create() : undefined;
  const rows: MatmulSideRow[] = [];
  for (const n of sizes) {
    const { a, b } = randomProblem(n, n, n, seededRng(n));
    const run = await r.prepare(n, a, b);
    let c: Float32Array = new Float32Array(0);
    const ms = await time(reps, async () => {
      c = await run();
    });
    const row: MatmulSideRow = {
      n,
      ms,
      gflops: (2 * n ** 3) / (ms * 1e6),
      max_abs_err: sampledError(a, b, c, n),
    };
    if (projector) {
      // The owner's check, as the mesh runs it: the CPU engine's float64 projector.
      const problem = { a, b, m: n, k: n, n };
      const block = { row0: 0, rows: n, col0: 0, cols: n };
      const check = { projector: projector.project };
      let accepted = true;
      row.verify_ms = await time(reps, async () => {
        accepted &&= (await verifyBlock(problem, block, c, check)).accepted;
      });
      if (!accepted) throw new Error(`Freivalds rejected tessel's own result at n = ${n}`);
      row.verify_over_compute = row.verify_ms / ms;
    }
    rows.push(row);
  }
  // After the products, so the probe's heat and clocks do not favour them.
  const peak =
    side === 'cpu' && peakBuilds
      ? await probePeak(peakBuilds, r.info.cpu as CpuSummary)
      : undefined;
  await r.done();
  return { side, info: r.info, crossOriginIsolated, reps, rows, ...(peak ? { peak } : {}) };
}

Object.assign(globalThis, { runMatmulSide });
