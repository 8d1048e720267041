import fmaPeakWgsl from '../../shaders/fma-peak.wgsl?raw';
import type { GpuContext } from './context';
import { dispatchAndRead } from './transfer';

const WG = 256;

/**
 * The adapter's float32 FMA throughput, GFLOP/s, measured with shaders/fma-peak.wgsl: what "%
 * of peak" is measured against where the adapter's spec sheet is not known. Best of `runs`.
 */
export async function measureFmaPeak(
  ctx: GpuContext,
  { workgroups = 4096, iter = 4096, runs = 3 } = {},
): Promise<number> {
  const pipeline = await ctx.pipelines.get('fma-peak', fmaPeakWgsl, { WG, ITER: iter });
  const invocations = workgroups * WG;
  const out = ctx.buffers.acquire(
    invocations * 16,
    GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
    'fma-peak',
  );
  const bindGroup = ctx.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: out } }],
  });
  try {
    const run = () =>
      dispatchAndRead(ctx, {
        pipeline,
        bindGroup,
        workgroups: [workgroups],
        source: out,
        rows: 1,
        cols: 4,
        stride: 4,
      });
    await run();
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await run();
      best = Math.min(best, performance.now() - t0);
    }
    return (invocations * iter * 8 * 4 * 2) / (best * 1e6);
  } finally {
    ctx.buffers.release(out);
  }
}

/** float32 (non-tensor) peaks from vendors' spec sheets, GFLOP/s, by adapter description. */
export const SPEC_PEAKS: [RegExp, number][] = [
  [/H200/i, 67_000],
  [/H100.*PCIe/i, 51_200],
  [/H100/i, 67_000],
  [/A100/i, 19_500],
  [/L40S/i, 91_600],
  [/\bL4\b/i, 30_300],
  [/RTX 4090/i, 82_600],
  [/RTX 3090/i, 35_600],
  [/\bT4\b/i, 8_100],
];

/** The spec-sheet fp32 peak of an adapter, if it is one we know. */
export function specPeak(description: string): number | undefined {
  return SPEC_PEAKS.find(([re]) => re.test(description))?.[1];
}
