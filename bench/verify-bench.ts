// The verifier at the float32 noise floor (src/jobs/freivalds.ts), measured on this page's
// adapter: ≥ 10,000 honest shards of mixed sizes, inputs and summation orders (every tile the
// autotuner can pick, and TF.js's WebGPU kernel), and the cheats it must catch.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { CpuKernels } from '../src/cpu/kernels';
import { CpuProjector } from '../src/cpu/projector';
import { isUsable, TILE_CANDIDATES } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import type { AdapterSummary } from '../src/gpu/device';
import { Matmul } from '../src/gpu/matmul';
import { type Projector, projectJs } from '../src/gpu/projection';
import { gpuProjector } from '../src/gpu/projector';
import { type FreivaldsOptions, type MatmulProblem, verifyBlock } from '../src/jobs/freivalds';
import { type Rng, seededRng, uniform } from '../src/model/rng';
import { matmulF64 } from '../src/reference/matmul';
import { ownerVerdict } from '../tests/support/owner-verdict';
import { type Inputs, inputs, oneElementOff, toHalf } from '../tests/support/structured-inputs';

export interface VerifyBenchResult {
  adapter: AdapterSummary;
  honest_shards: number;
  honest_rejected: number;
  /** Largest and 99.9th-percentile residual ÷ probabilistic bound over honest shards (≤ 1 is
   * accepted at once; above, rows are recomputed). */
  honest_max_ratio: number;
  honest_p999_ratio: number;
  /** Honest shards whose first verdict was `unresolved` (more flagged rows than the owner
   * recomputes at once: computed again, then every flagged row recomputed). */
  honest_unresolved_first: number;
  /** Honest shards whose verdict needed rows recomputed by the owner, and how many rows. */
  honest_recomputed_shards: number;
  honest_recomputed_rows: number;
  /** Largest residual ÷ rigorous (worst-case) bound over honest shards. */
  honest_max_rigorous_ratio: number;
  by_inputs: Record<string, { shards: number; rejected: number; max_ratio: number }>;
  by_engine: Record<string, { shards: number; rejected: number; max_ratio: number }>;
  cheats_tried: number;
  cheats_caught: number;
  by_cheat: Record<string, { tried: number; caught: number }>;
  /** The owner's check of a whole n×n×n product ÷ the product's time, per engine computing it
   * (`cpu`, `webgpu`) and per projector checking it (`cpu-f64`: the CPU engine's float64 SIMD
   * kernels, what owners use; `webgpu-f32`; `js-f64`: the JavaScript reference). */
  /** The same on the CPU engine for shapes far from square (skinny K, thin blocks). */
  verify_over_compute_shapes: {
    m: number;
    k: number;
    n: number;
    compute_ms: number;
    verify_ms: number;
    ratio: number;
  }[];
  verify_over_compute: {
    n: number;
    engine: string;
    compute_ms: number;
    verify_ms: Record<string, number>;
    ratio: Record<string, number>;
  }[];
}

const KINDS: Inputs[] = ['uniform', 'positive', 'constant', 'ill-conditioned', 'dynamic-range'];

const log = (s: string) => {
  document.querySelector('#log')!.textContent += `${s}\n`;
};

const counts = { unresolved: 0 };
/** What an owner decides on a result (tests/support/owner-verdict.ts). */
const freivalds = (
  p: MatmulProblem,
  blk: { row0: number; rows: number; col0: number; cols: number },
  c: ArrayLike<number>,
  options: FreivaldsOptions,
) => ownerVerdict(p, blk, c, options, counts);

function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.nextUint32() % xs.length]!;
}

async function tfjsMatmul(p: MatmulProblem): Promise<Float32Array> {
  const c = tf.tidy(() => tf.matMul(tf.tensor2d(p.a, [p.m, p.k]), tf.tensor2d(p.b, [p.k, p.n])));
  const out = (await c.data()) as Float32Array;
  c.dispose();
  return out;
}

async function runVerifyBench(honestShards: number): Promise<VerifyBenchResult> {
  await tf.setBackend('webgpu');
  await tf.ready();
  const ctx = await GpuContext.create();
  const tiles = TILE_CANDIDATES.filter((t) => isUsable(t, ctx.device.limits));
  const kernels = tiles.map((t) => new Matmul(ctx, t));
  const rng = seededRng(2026);
  const whole = (p: MatmulProblem) => ({ row0: 0, rows: p.m, col0: 0, cols: p.n });

  const ratios: number[] = [];
  let rejected = 0;
  let recomputedShards = 0;
  let recomputedRows = 0;
  let worstRigorous = 0;
  const byInputs: VerifyBenchResult['by_inputs'] = {};
  const byEngine: VerifyBenchResult['by_engine'] = {};
  const tally = (
    table: Record<string, { shards: number; rejected: number; max_ratio: number }>,
    key: string,
    ok: boolean,
    ratio: number,
  ) => {
    const t = table[key] ?? { shards: 0, rejected: 0, max_ratio: 0 };
    table[key] = t;
    t.shards++;
    if (!ok) t.rejected++;
    t.max_ratio = Math.max(t.max_ratio, ratio);
  };
  for (let s = 0; s < honestShards; s++) {
    // Mostly uniform data (what jobs carry); a fifth structured. Sizes log-uniform; K to 16,384.
    const kind = s % 5 === 0 ? pick(rng, KINDS.slice(1)) : 'uniform';
    const deep = s % 250 === 0;
    const m = deep ? 16 : 8 + (rng.nextUint32() % 121);
    const n = deep ? 16 : 8 + (rng.nextUint32() % 121);
    const k = deep ? 16_384 : Math.round(2 ** (4 + uniform(rng) * 7)); // 16 … 2,048
    const p = inputs(kind, m, k, n, rng);
    const engine = s % 10 === 9 ? 'tfjs-webgpu' : `tessel-tile-${s % kernels.length}`;
    const c =
      engine === 'tfjs-webgpu'
        ? await tfjsMatmul(p)
        : await kernels[s % kernels.length]!.run(p.a, p.b, { m, k, n });
    const v = freivalds(p, whole(p), c, { rng });
    ratios.push(v.worstRatio);
    worstRigorous = Math.max(worstRigorous, v.rigorousRatio);
    if (!v.accepted) {
      rejected++;
      log(`honest shard rejected: ${kind} ${m}×${k}×${n} ${engine} ${JSON.stringify(v)}`);
    }
    if (v.recomputedRows > 0) {
      recomputedShards++;
      recomputedRows += v.recomputedRows;
    }
    tally(byInputs, kind, v.accepted, v.worstRatio);
    tally(
      byEngine,
      engine.startsWith('tessel') ? 'tessel (every tile)' : engine,
      v.accepted,
      v.worstRatio,
    );
    if (s % 1_000 === 999) log(`${s + 1} honest shards, ${rejected} rejected`);
  }
  ratios.sort((x, y) => x - y);
  const honestUnresolved = counts.unresolved;

  // Cheats at n ≥ 256, each tried on fresh random data.
  const byCheat: VerifyBenchResult['by_cheat'] = {};
  const cheat = (name: string, caught: boolean) => {
    const t = byCheat[name] ?? { tried: 0, caught: 0 };
    byCheat[name] = t;
    t.tried++;
    if (caught) t.caught++;
  };
  for (const [n, k] of [
    [256, 256],
    [256, 1024],
    [512, 512],
    [256, 4096],
  ] as const) {
    for (const kind of ['uniform', 'positive'] as const) {
      const p = inputs(kind, n, k, n, rng);
      const honest = await kernels[0]!.run(p.a, p.b, { m: n, k, n });
      for (const [name, mantissa] of [
        ['f16 inputs', 10],
        ['bf16 inputs', 7],
      ] as const) {
        const half = (x: Float32Array) => x.map((v) => toHalf(v, mantissa));
        const c = await kernels[0]!.run(half(p.a), half(p.b), { m: n, k, n });
        for (let t = 0; t < 5; t++) cheat(name, !freivalds(p, whole(p), c, { rng }).accepted);
      }
      for (const f of [1 + 1e-4, 1 - 1e-4]) {
        for (let t = 0; t < 5; t++) {
          const c = honest.map((x) => x * f);
          cheat('scaled by 1 ± 1e-4', !freivalds(p, whole(p), c, { rng }).accepted);
        }
      }
      const exact = matmulF64(p.a, p.b, { m: n, k, n });
      for (let t = 0; t < 25; t++) {
        const i = rng.nextUint32() % n;
        const j = rng.nextUint32() % n;
        const bad = oneElementOff(honest, exact, n, [i, j], t & 1 ? 100 : -100);
        cheat(
          'one element 100× its row’s honest error',
          !freivalds(p, whole(p), bad, { rng }).accepted,
        );
      }
    }
  }

  // The owner's cost: verifying a whole n×n×n product against computing it, per engine. Each
  // engine's product (its own kernel, timed after a warm-up) beside each projector's check of
  // it: the CPU engine's float64 kernels (what the mesh's owners use), the WebGPU kernel, and the
  // float64 JavaScript reference (the verifier before issue 21). Median of 5.
  const cost: VerifyBenchResult['verify_over_compute'] = [];
  const cpu = await CpuKernels.create();
  const cpuProj = await CpuProjector.create();
  const gpuProj = gpuProjector(ctx);
  const median = async (f: () => Promise<unknown>) => {
    const ts: number[] = [];
    for (let t = 0; t < 5; t++) {
      const t0 = performance.now();
      await f();
      ts.push(performance.now() - t0);
    }
    return ts.sort((x, y) => x - y)[2]!;
  };
  for (const n of [1024, 2048]) {
    const p = inputs('uniform', n, n, n, rng);
    const engines: [string, () => Promise<Float32Array>][] = [
      ['cpu', () => cpu.matmul(p.a.slice(), p.b.slice(), { m: n, k: n, n })],
    ];
    const prepared = await kernels[0]!.prepare(p.a, p.b, { m: n, k: n, n });
    engines.push(['webgpu', () => prepared.run()]);
    for (const [engine, product] of engines) {
      const c = await product(); // warm-up, and the result checked below
      const computeMs = await median(product);
      const projectors: [string, Projector][] = [
        ['cpu-f64', cpuProj.project],
        ['webgpu-f32', gpuProj],
        ['js-f64', projectJs],
      ];
      const row: VerifyBenchResult['verify_over_compute'][number] = {
        n,
        engine,
        compute_ms: computeMs,
        verify_ms: {},
        ratio: {},
      };
      for (const [name, projector] of projectors) {
        const check = async () => {
          const v = await verifyBlock(p, whole(p), c, { rng, projector });
          if (!v.accepted)
            throw new Error(`honest ${n}³ (${engine}) refused: ${JSON.stringify(v)}`);
        };
        await check(); // warm-up: compiles, uploads A and B once (the owner keeps them)
        const ms = await median(check);
        row.verify_ms[name] = ms;
        row.ratio[name] = ms / computeMs;
        log(
          `n=${n} ${engine}: product ${computeMs.toFixed(1)} ms; check with ${name} ${ms.toFixed(2)} ms`,
        );
      }
      cost.push(row);
    }
    prepared.dispose();
    gpuProj.release(p);
  }
  // Shapes far from square, where the check's own passes over B and Ĉ weigh most against the
  // product: skinny K (the product is m·n·k, reading Ĉ alone is m·n) and thin blocks. The CPU
  // engine's product (the fastest here) beside the owner's check of it.
  const shapes: VerifyBenchResult['verify_over_compute_shapes'] = [];
  for (const [m, k, n] of [
    [1024, 1, 1024],
    [1024, 4, 1024],
    [1024, 16, 1024],
    [1024, 64, 1024],
    [64, 4096, 64],
    [4096, 256, 64],
    [64, 256, 4096],
    [16, 16, 16],
  ] as const) {
    const p = inputs('uniform', m, k, n, rng);
    const product = () => cpu.matmul(p.a.slice(), p.b.slice(), { m, k, n });
    const c = await product();
    const computeMs = await median(product);
    const check = async () => {
      const v = await verifyBlock(p, whole(p), c, { rng, projector: cpuProj.project });
      if (!v.accepted) throw new Error(`honest ${m}×${k}×${n} refused: ${JSON.stringify(v)}`);
    };
    await check();
    const verifyMs = await median(check);
    shapes.push({
      m,
      k,
      n,
      compute_ms: computeMs,
      verify_ms: verifyMs,
      ratio: verifyMs / computeMs,
    });
    log(`${m}×${k}×${n} cpu: product ${computeMs.toFixed(2)} ms; check ${verifyMs.toFixed(2)} ms`);
  }
  cpu.dispose();
  gpuProj.dispose();
  ctx.destroy();

  const tried = Object.values(byCheat).reduce((s, c) => s + c.tried, 0);
  const caught = Object.values(byCheat).reduce((s, c) => s + c.caught, 0);
  return {
    adapter: ctx.summary,
    honest_shards: honestShards,
    honest_rejected: rejected,
    honest_max_ratio: ratios.at(-1) ?? 0,
    honest_p999_ratio: ratios[Math.floor(0.999 * (ratios.length - 1))] ?? 0,
    honest_unresolved_first: honestUnresolved,
    honest_recomputed_shards: recomputedShards,
    honest_recomputed_rows: recomputedRows,
    honest_max_rigorous_ratio: worstRigorous,
    by_inputs: byInputs,
    by_engine: byEngine,
    cheats_tried: tried,
    cheats_caught: caught,
    by_cheat: byCheat,
    verify_over_compute: cost,
    verify_over_compute_shapes: shapes,
  };
}

(globalThis as unknown as { runVerifyBench: typeof runVerifyBench }).runVerifyBench =
  runVerifyBench;
