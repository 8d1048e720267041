import { BufferPool } from './buffers';
import { type AcquireOptions, type AdapterSummary, acquireDevice } from './device';
import { PipelineCache } from './pipelines';

/** A device plus the caches every kernel wrapper shares. One per device; recreate after loss. */
export class GpuContext {
  readonly pipelines: PipelineCache;
  readonly buffers: BufferPool;
  /** Resolves when the device is lost or destroyed. */
  readonly lost: Promise<GPUDeviceLostInfo>;
  #lost = false;
  /** Command buffers submitted on this device: lets a tab show that it did no GPU work. */
  submits = 0;

  constructor(
    readonly device: GPUDevice,
    readonly summary: AdapterSummary,
  ) {
    this.pipelines = new PipelineCache(device);
    this.buffers = new BufferPool(device);
    this.lost = device.lost.then((info) => {
      this.#lost = true;
      return info;
    });
  }

  /** Acquires a device (browser, Worker or Node) and wraps it. */
  static async create(options?: AcquireOptions): Promise<GpuContext> {
    const { device, summary } = await acquireDevice(options);
    return new GpuContext(device, summary);
  }

  /** Submits work to the device's queue; every kernel goes through here, so it is counted. */
  submit(buffers: GPUCommandBuffer[]): void {
    this.submits += buffers.length;
    this.device.queue.submit(buffers);
  }

  get isLost(): boolean {
    return this.#lost;
  }

  /** Frees pooled buffers and the device. The context is unusable afterwards. */
  destroy(): void {
    this.buffers.clear();
    this.device.destroy();
  }
}
