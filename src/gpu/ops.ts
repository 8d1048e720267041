import attentionWgsl from '../../shaders/attention.wgsl?raw';
import embeddingWgsl from '../../shaders/embedding.wgsl?raw';
import layernormWgsl from '../../shaders/layernorm.wgsl?raw';
import residualWgsl from '../../shaders/residual.wgsl?raw';
import softmaxWgsl from '../../shaders/softmax.wgsl?raw';
import type { GpuContext } from './context';
import { GpuError } from './errors';

const ROW_WG = 64; // invocations per row for layernorm and softmax

/**
 * The transformer kernels, encoded into a caller's compute pass on GPU-resident buffers, so a
 * forward pass runs without round trips to the CPU. Each call takes a fresh uniform buffer
 * from the pool; `release()` returns them once the work that used them has been submitted and
 * finished.
 */
export class Ops {
  readonly #ctx: GpuContext;
  readonly #scratch: GPUBuffer[] = [];
  #p?: Record<'layernorm' | 'softmax' | 'residual' | 'embedding' | 'attention', GPUComputePipeline>;

  private constructor(ctx: GpuContext) {
    this.#ctx = ctx;
  }

  /** Compiles every kernel; `headDim` is the attention head size (≤ 64). */
  static async create(ctx: GpuContext, headDim: number): Promise<Ops> {
    if (!Number.isInteger(headDim) || headDim < 1 || headDim > 64) {
      throw new GpuError('invalid-argument', `attention head size ${headDim} is not in 1..64`);
    }
    const ops = new Ops(ctx);
    const p = ctx.pipelines;
    const [layernorm, softmax, residual, embedding, attention] = await Promise.all([
      p.get('layernorm', layernormWgsl, { WG: ROW_WG }),
      p.get('softmax', softmaxWgsl, { WG: ROW_WG }),
      p.get('residual', residualWgsl, {}),
      p.get('embedding', embeddingWgsl, {}),
      p.get('attention', attentionWgsl, { HD: headDim }),
    ]);
    ops.#p = { layernorm, softmax, residual, embedding, attention };
    return ops;
  }

  layernorm(
    pass: GPUComputePassEncoder,
    x: GPUBuffer,
    gamma: GPUBuffer,
    beta: GPUBuffer,
    y: GPUBuffer,
    rows: number,
    dim: number,
    eps = 1e-5,
  ) {
    const u = new ArrayBuffer(16);
    new Uint32Array(u, 0, 2).set([rows, dim]);
    new Float32Array(u, 8, 1)[0] = eps;
    this.#dispatch(pass, this.#p!.layernorm, [x, gamma, beta, y], u, [rows]);
  }

  /** Softmax over the first `cols` of each row; rows are `stride` floats apart. */
  softmax(
    pass: GPUComputePassEncoder,
    x: GPUBuffer,
    y: GPUBuffer,
    rows: number,
    cols: number,
    stride = cols,
  ) {
    this.#dispatch(
      pass,
      this.#p!.softmax,
      [x, y],
      new Uint32Array([rows, cols, stride, 0]).buffer,
      [rows],
    );
  }

  /** x += y, n elements. */
  residual(pass: GPUComputePassEncoder, x: GPUBuffer, y: GPUBuffer, n: number) {
    const groups = Math.ceil(n / 256);
    const gx = Math.min(groups, 65_535);
    this.#dispatch(pass, this.#p!.residual, [x, y], new Uint32Array([n, 0, 0, 0]).buffer, [
      gx,
      Math.ceil(groups / gx),
    ]);
  }

  embedding(
    pass: GPUComputePassEncoder,
    tokens: GPUBuffer,
    wte: GPUBuffer,
    wpe: GPUBuffer,
    h: GPUBuffer,
    rows: number,
    dim: number,
    seq: number,
  ) {
    this.#dispatch(
      pass,
      this.#p!.embedding,
      [tokens, wte, wpe, h],
      new Uint32Array([rows, dim, seq, 0]).buffer,
      [Math.ceil(dim / 64), rows],
    );
  }

  attention(
    pass: GPUComputePassEncoder,
    qkv: GPUBuffer,
    out: GPUBuffer,
    rows: number,
    seq: number,
    heads: number,
    dim: number,
  ) {
    this.#dispatch(
      pass,
      this.#p!.attention,
      [qkv, out],
      new Uint32Array([rows, seq, heads, dim]).buffer,
      [Math.ceil(rows / 64), heads],
    );
  }

  /** Returns the uniform buffers of everything encoded so far to the pool. */
  release(): void {
    for (const b of this.#scratch.splice(0)) this.#ctx.buffers.release(b);
  }

  #dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    buffers: GPUBuffer[],
    uniform: ArrayBuffer,
    groups: [number, number?],
  ) {
    const u = this.#ctx.buffers.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.#ctx.device.queue.writeBuffer(u, 0, uniform);
    this.#scratch.push(u);
    const bindGroup = this.#ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...buffers, u].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...groups);
  }
}
