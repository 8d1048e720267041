// `npm run bench -- --only gpu-node`: tessel's WebGPU matmul in Node on Dawn, on whatever adapter
// Dawn finds (Vulkan, Metal, D3D12; SwiftShader where there is no GPU): GFLOP/s of the kernel
// alone at n = 4096 (1024 on a software adapter, where 4096 takes minutes), beside the
// adapter's fp32 peak: its spec sheet's where known, and its FMA throughput measured by
// shaders/fma-peak.wgsl. Prints one JSON line.
import { autotune, MemoryTuneStore } from '../src/gpu/autotune';
import { GpuContext } from '../src/gpu/context';
import { isSoftwareAdapter } from '../src/gpu/device';
import { Matmul } from '../src/gpu/matmul';
import { measureFmaPeak, specPeak } from '../src/gpu/peak';

const ctx = await GpuContext.create();
const software = isSoftwareAdapter(ctx.summary);
const n = Number(process.env.GPU_BENCH_N ?? (software ? 1024 : 4096));
const tuned = await autotune(ctx, {
  store: new MemoryTuneStore(),
  force: true,
  size: software ? 256 : 2048,
});
const a = new Float32Array(n * n).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
const b = new Float32Array(n * n).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
const p = await new Matmul(ctx, tuned.tile).prepare(a, b, { m: n, k: n, n });
await p.dispatch(1);
// Enough dispatches for ~1 s of work on this adapter, measured from one.
let t0 = performance.now();
await p.dispatch(1);
const one = performance.now() - t0;
const times = Math.max(1, Math.min(200, Math.round(1000 / Math.max(one, 1))));
t0 = performance.now();
await p.dispatch(times);
const ms = (performance.now() - t0) / times;
p.dispose();
const gflops = (2 * n ** 3) / (ms * 1e6);
const measuredPeak = await measureFmaPeak(ctx, software ? { workgroups: 64, iter: 1024 } : {});
const spec = specPeak(ctx.summary.description || ctx.summary.device);
const peak = spec ?? measuredPeak;
console.log(
  JSON.stringify({
    adapter: ctx.summary,
    software,
    tile: tuned.tile,
    tuning: tuned.timings,
    n,
    dispatches: times,
    ms,
    gflops,
    fma_peak_gflops: measuredPeak,
    spec_peak_gflops: spec ?? null,
    percent_of_peak: (100 * gflops) / peak,
    peak_source: spec ? 'spec sheet' : 'measured FMA throughput',
  }),
);
ctx.destroy();
