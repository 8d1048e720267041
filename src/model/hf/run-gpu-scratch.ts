// The per-call plumbing GpuHfModel's forward paths share (split out of run-gpu.ts): scratch
// buffers from the context's pool, the residual add (the shipped model's shaders/residual.wgsl,
// dispatched here: src/gpu/ops.ts's Ops would compile its matmuls too, seconds under
// SwiftShader), and the MLP activation.

import type { GpuContext } from '../../gpu/context';
import { GpuError } from '../../gpu/errors';
import type { HfOps } from '../../gpu/hf/ops';
import { uploadIds } from '../../gpu/hf/tensors';
import { TENSOR_USAGE } from '../../gpu/transfer';
import type { Act } from './run-gpu-weights';

/**
 * One call's buffers: activations from the context's pool (a decode step allocates nothing
 * new), uploads of its own; `done` (after its work finished) returns and destroys them.
 */
export function scratch(ctx: GpuContext) {
  const pooled: GPUBuffer[] = [];
  const owned: GPUBuffer[] = [];
  const own = (b: GPUBuffer) => {
    owned.push(b);
    return b;
  };
  const limit = ctx.device.limits.maxStorageBufferBindingSize;
  return {
    buf: (floats: number, label: string) => {
      if (floats * 4 > limit) {
        throw new GpuError(
          'too-large',
          `${label} needs ${floats * 4} bytes; the limit is ${limit}`,
        );
      }
      const b = ctx.buffers.acquire(Math.max(4, floats * 4), TENSOR_USAGE(), label);
      pooled.push(b);
      return b;
    },
    ids: (v: number[], max: number, label: string) => own(uploadIds(ctx, v, max, label)),
    own,
    done: () => {
      for (const b of pooled.splice(0)) ctx.buffers.release(b);
      for (const b of owned.splice(0)) b.destroy();
    },
  };
}

/** The residual add x += y over n floats with `residual` (shaders/residual.wgsl); its uniform
 * is `own`ed. */
export function adder(
  ctx: GpuContext,
  residual: GPUComputePipeline,
  n: number,
  own: (b: GPUBuffer) => GPUBuffer,
) {
  const device = ctx.device;
  const dims = device.createBuffer({
    label: 'residual dims',
    size: 16,
    usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
  });
  own(dims);
  device.queue.writeBuffer(dims, 0, new Uint32Array([n, 0, 0, 0]));
  const groups = Math.ceil(n / 256);
  const gx = Math.min(groups, 65_535);
  return (pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer) => {
    const bindGroup = device.createBindGroup({
      layout: residual.getBindGroupLayout(0),
      entries: [x, y, dims].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    pass.setPipeline(residual);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(gx, Math.ceil(groups / gx));
  };
}

/** The MLP activation in place on n floats of x. */
export async function activate(
  hf: HfOps,
  pass: GPUComputePassEncoder,
  act: Act,
  x: GPUBuffer,
  n: number,
) {
  if (act === 'tanh') await hf.geluTanh(pass, { x, n });
  else await hf.geluErf(pass, { x, n });
}
