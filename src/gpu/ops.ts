import attentionWgsl from '../../shaders/attention.wgsl?raw';
import embeddingWgsl from '../../shaders/embedding.wgsl?raw';
import layernormWgsl from '../../shaders/layernorm.wgsl?raw';
import residualWgsl from '../../shaders/residual.wgsl?raw';
import softmaxWgsl from '../../shaders/softmax.wgsl?raw';
import type { GpuContext } from './context';
import { GpuError } from './errors';
import { DEFAULT_TILE, matmulPipeline, type TileConfig, tileExtent } from './matmul';

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
  readonly #tile: TileConfig;
  #p?: Record<
    'layernorm' | 'softmax' | 'residual' | 'embedding' | 'attention' | 'matmul' | 'matmulGelu',
    GPUComputePipeline
  >;

  private constructor(ctx: GpuContext, tile: TileConfig) {
    this.#ctx = ctx;
    this.#tile = tile;
  }

  /**
   * Compiles every kernel; `headDim` is the attention head size (≤ 64), `tile` the matmul's
   * shape (tensors given to `matmul` must be padded to it).
   */
  static async create(
    ctx: GpuContext,
    headDim: number,
    tile: TileConfig = DEFAULT_TILE,
  ): Promise<Ops> {
    if (!Number.isInteger(headDim) || headDim < 1 || headDim > 64) {
      throw new GpuError('invalid-argument', `attention head size ${headDim} is not in 1..64`);
    }
    const ops = new Ops(ctx, tile);
    const p = ctx.pipelines;
    const [layernorm, softmax, residual, embedding, attention, matmul, matmulGelu] =
      await Promise.all([
        p.get('layernorm', layernormWgsl, { WG: ROW_WG }),
        p.get('softmax', softmaxWgsl, { WG: ROW_WG }),
        p.get('residual', residualWgsl, {}),
        p.get('embedding', embeddingWgsl, {}),
        p.get('attention', attentionWgsl, { HD: headDim }),
        matmulPipeline(ctx, tile, false),
        matmulPipeline(ctx, tile, true),
      ]);
    ops.#p = { layernorm, softmax, residual, embedding, attention, matmul, matmulGelu };
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

  /**
   * c = a·b + bias (then GELU if asked) on padded sizes: m a multiple of the tile's rows, n of
   * its columns, k of its K slice; bias holds n values.
   */
  matmul(
    pass: GPUComputePassEncoder,
    a: GPUBuffer,
    b: GPUBuffer,
    c: GPUBuffer,
    bias: GPUBuffer,
    m: number,
    k: number,
    n: number,
    gelu: boolean,
  ) {
    const { bm, bn } = tileExtent(this.#tile);
    const pipeline = gelu ? this.#p!.matmulGelu : this.#p!.matmul;
    // Binding order of shaders/matmul.wgsl: A, B, C, uniform, bias.
    this.#dispatch(
      pass,
      pipeline,
      [a, b, c],
      new Uint32Array([m, n, k, 0]).buffer,
      [n / bn, m / bm],
      [bias],
    );
  }

  /** Returns the uniform buffers of everything encoded so far to the pool. */
  release(): void {
    for (const b of this.#scratch.splice(0)) this.#ctx.buffers.release(b);
  }

  /** Binds `buffers`, then a fresh uniform holding `uniform`, then `after`, and dispatches. */
  #dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    buffers: GPUBuffer[],
    uniform: ArrayBuffer,
    groups: [number, number?],
    after: GPUBuffer[] = [],
  ) {
    const u = this.#ctx.buffers.acquire(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.#ctx.device.queue.writeBuffer(u, 0, uniform);
    this.#scratch.push(u);
    const bindGroup = this.#ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [...buffers, u, ...after].map((buffer, binding) => ({
        binding,
        resource: { buffer },
      })),
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(...groups);
  }
}
