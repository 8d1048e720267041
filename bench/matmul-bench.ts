// tessel's matmul against TF.js's WebGPU backend, same page, same adapter. Both keep their
// inputs resident on the GPU; each timed run dispatches and reads C back to the CPU.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import type { AdapterSummary } from '../src/gpu/device';
import { Matmul, type TileConfig } from '../src/gpu/matmul';
import { freivalds } from '../src/jobs/freivalds';
import { randomProblem } from '../src/jobs/matmul-job';
import { seededRng } from '../src/model/rng';
import { time } from './timing';

export interface MatmulBenchRow {
  n: number;
  tessel_ms: number;
  tessel_gflops: number;
  tfjs_ms: number;
  tfjs_gflops: number;
  ratio: number; // tessel_gflops / tfjs_gflops
  verify_ms: number; // Freivalds (2 vectors, float64, CPU) on the whole C
  verify_over_compute: number; // verify_ms / tessel_ms
  max_abs_diff: number; // |C_tessel − C_tfjs|∞, a sanity check that both computed the same thing
}

export interface MatmulBenchResult {
  adapter: AdapterSummary;
  tile: TileConfig;
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

    const block = { row0: 0, rows: n, col0: 0, cols: n };
    let accepted = true;
    const verifyMs = await time(runs, async () => {
      accepted &&= freivalds({ a, b, m: n, k: n, n }, block, ours).accepted;
    });
    if (!accepted) throw new Error(`Freivalds rejected tessel's own result at n = ${n}`);
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
    };
    log(JSON.stringify(row));
    rows.push(row);
  }
  const adapter = ctx.summary;
  ctx.destroy();
  return { adapter, tile, runs, rows };
}

(globalThis as { runMatmulBench?: typeof runMatmulBench }).runMatmulBench = runMatmulBench;
