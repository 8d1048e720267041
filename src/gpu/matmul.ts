import matmulWgsl from '../../shaders/matmul.wgsl?raw';
import type { MatmulShape } from '../reference/matmul';
import type { GpuContext } from './context';
import { sha256Hex } from './digest';
import { GpuError } from './errors';
import { dispatchAndRead, uploadPadded } from './transfer';

/**
 * The compile-time shape of the matmul kernel (shaders/matmul.wgsl). Every invocation computes
 * an 8×8 block of C, so a workgroup covers (8·wgY) × (8·wgX) of C.
 */
export interface TileConfig {
  wgX: number; // invocations along N
  wgY: number; // invocations along M
  tk: number; // depth of the K slice staged in workgroup memory, a multiple of 4
}

/** 64×64 tiles of 64 invocations with 8 KiB of workgroup memory: fits every adapter. */
export const DEFAULT_TILE: TileConfig = { wgX: 8, wgY: 8, tk: 16 };

/** Rows (bm) and columns (bn) of C one workgroup computes. */
export function tileExtent(t: TileConfig): { bm: number; bn: number } {
  return { bm: 8 * t.wgY, bn: 8 * t.wgX };
}

/** Bytes of workgroup memory the kernel declares for `t`. */
function tileWorkgroupBytes(t: TileConfig): number {
  const { bm, bn } = tileExtent(t);
  return t.tk * (bm + bn) * 4;
}

/** Throws unless `t` is well formed and fits the device's limits. */
export function checkTile(t: TileConfig, limits: GPUSupportedLimits): void {
  const ints = [t.wgX, t.wgY, t.tk].every((v) => Number.isInteger(v) && v > 0);
  if (!ints || t.tk % 4 !== 0) {
    throw new GpuError('invalid-argument', `bad tile ${JSON.stringify(t)}`);
  }
  if (t.wgX * t.wgY > limits.maxComputeInvocationsPerWorkgroup) {
    throw new GpuError('invalid-argument', `tile ${JSON.stringify(t)} has too many invocations`);
  }
  if (tileWorkgroupBytes(t) > limits.maxComputeWorkgroupStorageSize) {
    throw new GpuError(
      'invalid-argument',
      `tile ${JSON.stringify(t)} needs too much workgroup memory`,
    );
  }
}

/** `v` rounded up to a multiple of `step`. */
const roundUp = (v: number, step: number) => Math.ceil(v / step) * step;

/** Padded sizes the kernel runs at. */
export function paddedShape({ m, k, n }: MatmulShape, t: TileConfig): MatmulShape {
  const { bm, bn } = tileExtent(t);
  return { m: roundUp(m, bm), k: roundUp(k, t.tk), n: roundUp(n, bn) };
}

/** Why `shape` does not describe positive integers matching the data, or undefined. */
export function shapeError(
  shape: MatmulShape,
  aLength: number,
  bLength: number,
): string | undefined {
  const { m, k, n } = shape;
  for (const [name, v] of Object.entries({ m, k, n })) {
    if (!Number.isSafeInteger(v) || v < 1)
      return `matmul ${name} must be a positive integer, got ${v}`;
  }
  if (aLength !== m * k) return `A has ${aLength} elements, expected m·k = ${m * k}`;
  if (bLength !== k * n) return `B has ${bLength} elements, expected k·n = ${k * n}`;
  return undefined;
}

/** Throws GpuError('invalid-argument') unless the shape is positive integers matching the data. */
function checkShape(shape: MatmulShape, aLength: number, bLength: number): void {
  const why = shapeError(shape, aLength, bLength);
  if (why) throw new GpuError('invalid-argument', why);
}

/** A matmul whose inputs are already on the GPU; `run()` may be called many times. */
export interface PreparedMatmul {
  readonly shape: MatmulShape;
  /** Dispatches and reads C (m×n, row-major) back. */
  run(): Promise<Float32Array>;
  /** Dispatches `times` times in one command buffer and waits for the GPU, reading nothing
   * back: the kernel's own time, for benchmarks against the adapter's peak. */
  dispatch(times: number): Promise<void>;
  /** Returns the buffers to the pool. */
  dispose(): void;
}

/** Optional epilogue: C = A·B + bias (one value per column of C), then GELU if asked. */
export interface Epilogue {
  bias?: Float32Array; // n values
  gelu?: boolean;
}

/** C = A·B on the GPU, f32 in and out, any m, k, n ≥ 1. */
export class Matmul {
  constructor(
    readonly ctx: GpuContext,
    readonly tile: TileConfig = DEFAULT_TILE,
  ) {
    checkTile(tile, ctx.device.limits);
  }

  /** Uploads, multiplies, reads back, and frees. */
  async run(
    a: Float32Array,
    b: Float32Array,
    shape: MatmulShape,
    epilogue: Epilogue = {},
  ): Promise<Float32Array> {
    const p = await this.prepare(a, b, shape, epilogue);
    try {
      return await p.run();
    } finally {
      p.dispose();
    }
  }

  /** Uploads A and B (zero-padded to whole tiles) and compiles the kernel. */
  async prepare(
    a: Float32Array,
    b: Float32Array,
    shape: MatmulShape,
    epilogue: Epilogue = {},
  ): Promise<PreparedMatmul> {
    checkShape(shape, a.length, b.length);
    if (epilogue.bias && epilogue.bias.length !== shape.n) {
      throw new GpuError(
        'invalid-argument',
        `bias has ${epilogue.bias.length} values, C has ${shape.n} columns`,
      );
    }
    const { ctx, tile } = this;
    const pad = paddedShape(shape, tile);
    const { bm, bn } = tileExtent(tile);
    const groups = [pad.n / bn, pad.m / bm];
    if (Math.max(...groups) > ctx.device.limits.maxComputeWorkgroupsPerDimension) {
      throw new GpuError('too-large', `matmul ${JSON.stringify(shape)} needs too many workgroups`);
    }
    const pipeline = await ctx.pipelines.get(
      'matmul',
      matmulWgsl,
      knobs(tile, epilogue.gelu ?? false),
    );
    const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const bufA = uploadPadded(ctx, a, shape.m, shape.k, pad.m, pad.k, S, 'A');
    const bufB = uploadPadded(ctx, b, shape.k, shape.n, pad.k, pad.n, S, 'B');
    const bufC = ctx.buffers.acquire(
      pad.m * pad.n * 4,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC,
      'C',
    );
    const uniform = ctx.buffers.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    ctx.device.queue.writeBuffer(uniform, 0, new Uint32Array([pad.m, pad.n, pad.k, 0]));
    // No bias is a zero bias: x + 0 is exact, and one kernel serves both.
    const bias = epilogue.bias ?? new Float32Array(shape.n);
    const bufBias = uploadPadded(ctx, bias, 1, shape.n, 1, pad.n, S, 'bias');
    const bindGroup = ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [bufA, bufB, bufC, uniform, bufBias].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    let disposed = false;
    return {
      shape,
      run: () => {
        if (disposed) throw new GpuError('invalid-argument', 'prepared matmul was disposed');
        return dispatchAndRead(ctx, {
          pipeline,
          bindGroup,
          workgroups: groups as [number, number],
          source: bufC,
          rows: shape.m,
          cols: shape.n,
          stride: pad.n,
        });
      },
      dispatch: async (times) => {
        if (disposed) throw new GpuError('invalid-argument', 'prepared matmul was disposed');
        const enc = ctx.device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroup);
        for (let i = 0; i < times; i++) pass.dispatchWorkgroups(...(groups as [number, number]));
        pass.end();
        ctx.submit([enc.finish()]);
        await ctx.device.queue.onSubmittedWorkDone();
      },
      dispose: () => {
        if (disposed) return;
        disposed = true;
        for (const buf of [bufA, bufB, bufC, uniform, bufBias]) ctx.buffers.release(buf);
      },
    };
  }
}

/**
 * The matmul pipeline for `tile` (with or without GELU), for callers that keep tensors on the GPU
 * and encode many matmuls into one pass (the transformer forward pass). Bindings: 0 A, 1 B, 2 C,
 * 3 uniform {m, n, k, 0} (padded sizes), 4 bias (padded n).
 */
export function matmulPipeline(ctx: GpuContext, tile: TileConfig, gelu: boolean) {
  return ctx.pipelines.get('matmul', matmulWgsl, knobs(tile, gelu));
}

function knobs(t: TileConfig, gelu: boolean): Record<string, number> {
  return { WG_X: t.wgX, WG_Y: t.wgY, TK: t.tk, GELU: gelu ? 1 : 0 };
}

/**
 * Hex SHA-256 of the matmul kernel source. Owners put it in job announcements; contributors
 * with a different kernel (an older or newer tessel) skip the job rather than return results
 * computed another way.
 */
export async function matmulKernelDigest(): Promise<string> {
  return sha256Hex(new TextEncoder().encode(matmulWgsl));
}
