import gemvWgsl from '../../shaders/gemv.wgsl?raw';
import type { GpuContext } from './context';
import { GpuError } from './errors';
import { dispatchAndRead, uploadPadded } from './transfer';

/** Knobs of shaders/gemv.wgsl. */
export interface GemvConfig {
  wg: number; // invocations per workgroup, a power of two
  rows: number; // rows of A per workgroup
}

export const DEFAULT_GEMV: GemvConfig = { wg: 64, rows: 4 };

/** y = A·x on the GPU, A m×k row-major f32. Used by inference and by GPU-side checks. */
export class Gemv {
  constructor(
    readonly ctx: GpuContext,
    readonly config: GemvConfig = DEFAULT_GEMV,
  ) {
    const { wg, rows } = config;
    if (
      !Number.isInteger(wg) ||
      wg < 1 ||
      (wg & (wg - 1)) !== 0 ||
      !Number.isInteger(rows) ||
      rows < 1 ||
      rows > wg
    ) {
      throw new GpuError('invalid-argument', `bad gemv config ${JSON.stringify(config)}`);
    }
  }

  async run(a: Float32Array, x: Float32Array, m: number, k: number): Promise<Float32Array> {
    for (const [name, v] of Object.entries({ m, k })) {
      if (!Number.isSafeInteger(v) || v < 1) {
        throw new GpuError('invalid-argument', `gemv ${name} must be a positive integer, got ${v}`);
      }
    }
    if (a.length !== m * k || x.length !== k) {
      throw new GpuError(
        'invalid-argument',
        `gemv expects A of ${m * k} and x of ${k} elements, got ${a.length} and ${x.length}`,
      );
    }
    const { ctx, config } = this;
    const groups = Math.ceil(m / config.rows);
    if (groups > ctx.device.limits.maxComputeWorkgroupsPerDimension) {
      throw new GpuError('too-large', `gemv with ${m} rows needs too many workgroups`);
    }
    const kp = Math.ceil(k / 4) * 4;
    const pipeline = await ctx.pipelines.get('gemv', gemvWgsl, {
      WG: config.wg,
      ROWS: config.rows,
    });
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const bufA = uploadPadded(ctx, a, m, k, m, kp, S, 'A');
    const bufX = uploadPadded(ctx, x, 1, k, 1, kp, S, 'x');
    const bufY = ctx.buffers.acquire(m * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, 'y');
    const uniform = ctx.buffers.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    ctx.device.queue.writeBuffer(uniform, 0, new Uint32Array([m, kp, 0, 0]));
    const bindGroup = ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [bufA, bufX, bufY, uniform].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    try {
      return await dispatchAndRead(ctx, {
        pipeline,
        bindGroup,
        workgroups: [groups],
        source: bufY,
        rows: 1,
        cols: m,
        stride: m,
      });
    } finally {
      for (const buf of [bufA, bufX, bufY, uniform]) ctx.buffers.release(buf);
    }
  }
}
