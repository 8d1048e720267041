/**
 * Reuses GPU buffers between kernel calls. Buffers are bucketed by usage and a size class
 * (sizes rounded up to 1/8-octave steps, so at most 12.5% is wasted), released buffers are kept
 * until `maxIdleBytes` is exceeded, then the oldest idle ones are destroyed.
 */
export class BufferPool {
  readonly #device: GPUDevice;
  readonly #idle = new Map<string, GPUBuffer[]>();
  readonly #order: GPUBuffer[] = []; // idle buffers, oldest first
  #idleBytes = 0;
  /** Buffers created over the pool's life; tests read it to prove reuse. */
  created = 0;

  constructor(
    device: GPUDevice,
    readonly maxIdleBytes = 256 * 1024 * 1024, // bytes
  ) {
    this.#device = device;
  }

  /** Rounds a byte size up to its size class (multiple of 256 B; then 8 steps per doubling). */
  static sizeClass(bytes: number): number {
    const min = Math.max(256, Math.ceil(bytes / 256) * 256);
    if (min <= 4096) return min;
    const step = 2 ** (Math.floor(Math.log2(min)) - 3);
    return Math.ceil(min / step) * step;
  }

  /** A buffer of at least `bytes` with exactly `usage`; its contents are undefined. */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label = 'tessel'): GPUBuffer {
    const size = BufferPool.sizeClass(bytes);
    const key = `${usage}:${size}`;
    const buf = this.#idle.get(key)?.pop();
    if (buf) {
      this.#idleBytes -= buf.size;
      this.#order.splice(this.#order.indexOf(buf), 1);
      return buf;
    }
    this.created++;
    return this.#device.createBuffer({ label, size, usage });
  }

  /** Returns a buffer for reuse. It must not be mapped or used by pending work after this. */
  release(buf: GPUBuffer): void {
    const key = `${buf.usage}:${buf.size}`;
    let list = this.#idle.get(key);
    if (!list) {
      list = [];
      this.#idle.set(key, list);
    }
    list.push(buf);
    this.#order.push(buf);
    this.#idleBytes += buf.size;
    while (this.#idleBytes > this.maxIdleBytes && this.#order.length > 0) {
      const old = this.#order.shift()!;
      const l = this.#idle.get(`${old.usage}:${old.size}`)!;
      l.splice(l.indexOf(old), 1);
      this.#idleBytes -= old.size;
      old.destroy();
    }
  }

  /** Destroys every idle buffer. */
  clear(): void {
    for (const b of this.#order) b.destroy();
    this.#order.length = 0;
    this.#idle.clear();
    this.#idleBytes = 0;
  }
}
