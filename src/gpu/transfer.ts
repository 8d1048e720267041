import type { GpuContext } from './context';
import { GpuError } from './errors';

/**
 * Uploads a rows×cols row-major matrix into a pooled buffer laid out as padRows×padCols,
 * zero-filling the padding (kernels rely on it to skip bounds checks).
 */
export function uploadPadded(
  ctx: GpuContext,
  data: Float32Array,
  rows: number,
  cols: number,
  padRows: number,
  padCols: number,
  usage: GPUBufferUsageFlags,
  label: string,
): GPUBuffer {
  const bytes = padRows * padCols * 4;
  const limits = ctx.device.limits;
  if (bytes > limits.maxStorageBufferBindingSize || bytes > limits.maxBufferSize) {
    throw new GpuError(
      'too-large',
      `${label} needs ${bytes} bytes; this adapter binds at most ${limits.maxStorageBufferBindingSize}`,
    );
  }
  const buf = ctx.buffers.acquire(bytes, usage, label);
  if (padCols === cols) {
    ctx.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, rows * cols * 4);
    if (padRows > rows) {
      ctx.device.queue.writeBuffer(buf, rows * cols * 4, new Float32Array((padRows - rows) * cols));
    }
  } else {
    const padded = new Float32Array(padRows * padCols);
    for (let r = 0; r < rows; r++) {
      padded.set(data.subarray(r * cols, (r + 1) * cols), r * padCols);
    }
    ctx.device.queue.writeBuffer(buf, 0, padded);
  }
  return buf;
}

export interface DispatchRead {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number?, number?];
  /** The output buffer, row-major with `stride` floats a row. */
  source: GPUBuffer;
  rows: number;
  cols: number;
  stride: number;
}

/** Runs one dispatch, copies `rows` rows of the output back, and strips the padding. */
export async function dispatchAndRead(ctx: GpuContext, d: DispatchRead): Promise<Float32Array> {
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(d.pipeline);
  pass.setBindGroup(0, d.bindGroup);
  pass.dispatchWorkgroups(...d.workgroups);
  pass.end();
  const view = new Float32Array(await readBack(ctx, d.source, d.rows * d.stride * 4, enc));
  if (d.stride === d.cols) return view;
  const out = new Float32Array(d.rows * d.cols);
  for (let r = 0; r < d.rows; r++) {
    out.set(view.subarray(r * d.stride, r * d.stride + d.cols), r * d.cols);
  }
  return out;
}

/** Storage buffer usage for tensors the model keeps on the GPU. */
export const TENSOR_USAGE = () =>
  GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** A pooled storage buffer holding `data` (f32 or u32). */
export function upload(
  ctx: GpuContext,
  data: Float32Array | Uint32Array,
  label: string,
): GPUBuffer {
  const buf = ctx.buffers.acquire(Math.max(4, data.byteLength), TENSOR_USAGE(), label);
  ctx.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
  return buf;
}

/** Submits `encoder` (if given), then copies `bytes` of `source` back to the CPU. */
export async function readBack(
  ctx: GpuContext,
  source: GPUBuffer,
  bytes: number,
  encoder?: GPUCommandEncoder,
): Promise<ArrayBuffer> {
  const staging = ctx.buffers.acquire(bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  const enc = encoder ?? ctx.device.createCommandEncoder();
  enc.copyBufferToBuffer(source, 0, staging, 0, bytes);
  ctx.submit([enc.finish()]);
  try {
    await staging.mapAsync(GPUMapMode.READ, 0, bytes);
  } catch (cause) {
    // mapAsync rejects when the device goes away mid-call (the lost promise may settle a tick
    // later); say so in our own terms.
    if (ctx.isLost || (await Promise.race([ctx.lost.then(() => true), tick()]))) {
      throw new GpuError('device-lost', 'the GPU device was lost during the call', { cause });
    }
    ctx.buffers.release(staging);
    throw new GpuError('invalid-argument', `reading back failed: ${cause}`, { cause });
  }
  const out = staging.getMappedRange(0, bytes).slice(0);
  staging.unmap();
  ctx.buffers.release(staging);
  return out;
}

const tick = () => new Promise<false>((r) => setTimeout(() => r(false), 0));
