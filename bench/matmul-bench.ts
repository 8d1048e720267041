// tessel's matmul against its peers on the same page and adapter: tessel's WebGPU kernel against
// TF.js's and ONNX Runtime Web's WebGPU backends (inputs resident on the GPU for tessel and TF.js;
// each timed run dispatches and reads C back), and tessel's CPU engine against ONNX Runtime
// Web's wasm backend with the same thread count (each timed run copies A and B in, C out).
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { CpuKernels, type CpuSummary } from '../src/cpu/kernels';
import { CpuProjector } from '../src/cpu/projector';
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import type { AdapterSummary } from '../src/gpu/device';
import { Matmul, type TileConfig } from '../src/gpu/matmul';
import { verifyBlock } from '../src/jobs/freivalds';
import { randomProblem } from '../src/jobs/matmul-job';
import { matmulToOnnx } from '../src/model/gpt-onnx';
import { seededRng } from '../src/model/rng';
import { ORT_VERSION, type OrtSession, ortSession } from './ort';
import { time } from './timing';

export interface MatmulBenchRow {
  n: number;
  tessel_ms: number;
  tessel_gflops: number;
  tfjs_ms: number;
  tfjs_gflops: number;
  ratio: number; // tessel_gflops / tfjs_gflops
  verify_ms: number; // the owner's Freivalds check of the whole C (CPU engine's float64 projector)
  verify_over_compute: number; // verify_ms / tessel_ms
  max_abs_diff: number; // |C_tessel − C_tfjs|∞, a sanity check that both computed the same thing
  cpu_ms: number; // tessel's CPU engine (WebAssembly SIMD), `cpu.threads` threads
  cpu_gflops: number;
  ort_wasm_ms: number; // ONNX Runtime Web, wasm backend, the same threads
  ort_wasm_gflops: number;
  ort_webgpu_ms: number; // ONNX Runtime Web, WebGPU backend
  ort_webgpu_gflops: number;
  cpu_over_ort_wasm: number; // cpu_gflops / ort_wasm_gflops
  tessel_over_ort_webgpu: number; // tessel_gflops / ort_webgpu_gflops
  cpu_max_abs_diff: number; // |C_cpu − C_tessel|∞
}

export interface MatmulBenchResult {
  adapter: AdapterSummary;
  tile: TileConfig;
  cpu: CpuSummary;
  crossOriginIsolated: boolean;
  ort: string;
  runs: number;
  rows: MatmulBenchRow[];
}

const log = (s: string) => {
  document.querySelector('#log')!.textContent += `${s}\n`;
};

async function runMatmulBench(sizes: number[], runs: number): Promise<MatmulBenchResult> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const ctx = await GpuContext.create();
  const { tile } = await autotune(ctx, { store: new MemoryTuneStore() });
  log(`adapter ${ctx.summary.description}; tile ${JSON.stringify(tile)}`);
  const threads = crossOriginIsolated ? navigator.hardwareConcurrency : 1;
  const cpu = await CpuKernels.create({ threads });
  const projector = await CpuProjector.create();
  const ortModel = matmulToOnnx();
  const ortWasm = await ortSession(ortModel, 'wasm', threads);
  const ortGpu = await ortSession(ortModel, 'webgpu', threads);
  log(
    `CPU engine ${JSON.stringify(cpu.summary)}; ONNX Runtime Web ${ORT_VERSION}, ${threads} threads`,
  );
  const rows: MatmulBenchRow[] = [];
  for (const n of sizes) {
    const { a, b } = randomProblem(n, n, n, seededRng(n));
    const flops = 2 * n ** 3;

    const prepared = await new Matmul(ctx, tile).prepare(a, b, { m: n, k: n, n });
    let ours: Float32Array = new Float32Array(0);
    const tesselMs = await time(runs, async () => {
      ours = await prepared.run();
    });
    prepared.dispose();

    const ta = tf.tensor2d(a, [n, n]);
    const tb = tf.tensor2d(b, [n, n]);
    let theirs: Float32Array = new Float32Array(0);
    const tfjsMs = await time(runs, async () => {
      const tc = tf.matMul(ta, tb);
      theirs = (await tc.data()) as Float32Array;
      tc.dispose();
    });
    ta.dispose();
    tb.dispose();

    let onCpu: Float32Array = new Float32Array(0);
    const cpuMs = await time(runs, async () => {
      onCpu = await cpu.matmul(a, b, { m: n, k: n, n });
    });
    const ortFeed = (s: OrtSession) => () =>
      s.run({
        a: { type: 'float32', data: a, dims: [n, n] },
        b: { type: 'float32', data: b, dims: [n, n] },
      });
    const ortWasmMs = await time(runs, ortFeed(ortWasm));
    const ortGpuMs = await time(runs, ortFeed(ortGpu));

    // The owner's check, as the mesh runs it: the CPU engine's float64 projector.
    const block = { row0: 0, rows: n, col0: 0, cols: n };
    const problem = { a, b, m: n, k: n, n };
    const check = { projector: projector.project };
    let accepted = (await verifyBlock(problem, block, ours, check)).accepted; // warm-up
    const verifyMs = await time(runs, async () => {
      accepted &&= (await verifyBlock(problem, block, ours, check)).accepted;
    });
    if (!accepted) throw new Error(`Freivalds rejected tessel's own result at n = ${n}`);
    if (!(await verifyBlock(problem, block, onCpu, check)).accepted) {
      throw new Error(`Freivalds rejected the CPU engine's result at n = ${n}`);
    }
    let cpuDiff = 0;
    for (let i = 0; i < ours.length; i++)
      cpuDiff = Math.max(cpuDiff, Math.abs(ours[i]! - onCpu[i]!));
    let maxAbsDiff = 0;
    for (let i = 0; i < ours.length; i++) {
      maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours[i]! - theirs[i]!));
    }

    const row: MatmulBenchRow = {
      n,
      tessel_ms: tesselMs,
      tessel_gflops: flops / (tesselMs * 1e6),
      tfjs_ms: tfjsMs,
      tfjs_gflops: flops / (tfjsMs * 1e6),
      ratio: tfjsMs / tesselMs,
      verify_ms: verifyMs,
      verify_over_compute: verifyMs / tesselMs,
      max_abs_diff: maxAbsDiff,
      cpu_ms: cpuMs,
      cpu_gflops: flops / (cpuMs * 1e6),
      ort_wasm_ms: ortWasmMs,
      ort_wasm_gflops: flops / (ortWasmMs * 1e6),
      ort_webgpu_ms: ortGpuMs,
      ort_webgpu_gflops: flops / (ortGpuMs * 1e6),
      cpu_over_ort_wasm: ortWasmMs / cpuMs,
      tessel_over_ort_webgpu: ortGpuMs / tesselMs,
      cpu_max_abs_diff: cpuDiff,
    };
    log(JSON.stringify(row));
    rows.push(row);
  }
  const adapter = ctx.summary;
  ctx.destroy();
  const summary = cpu.summary;
  cpu.dispose();
  await Promise.all([ortWasm.release(), ortGpu.release()]);
  return { adapter, tile, cpu: summary, crossOriginIsolated, ort: ORT_VERSION, runs, rows };
}

(globalThis as { runMatmulBench?: typeof runMatmulBench }).runMatmulBench = runMatmulBench;
