import { GpuContext } from '../gpu/context';
import type { AcquireOptions } from '../gpu/device';
import { GpuError } from '../gpu/errors';

/**
 * Owns the worker's GPU context across device losses. `use(fn)` runs fn on a live context and
 * fails it with GpuError('device-lost') if the device goes away first; the next `use` acquires
 * a fresh device. Losses are counted so a caller can report them to a job's owner.
 */
export class DeviceKeeper {
  #current: Promise<GpuContext> | undefined;
  /** Devices lost since start; also counts simulated losses. */
  losses = 0;
  /** Called once per fresh context (after start and after every loss), e.g. to autotune. */
  onContext?: (ctx: GpuContext) => Promise<void>;

  constructor(readonly options: AcquireOptions = {}) {}

  /** The live context, acquiring one if there is none. */
  context(): Promise<GpuContext> {
    if (!this.#current) {
      const p = this.#acquire();
      this.#current = p;
      p.catch(() => {
        if (this.#current === p) this.#current = undefined; // let the next call retry
      });
    }
    return this.#current;
  }

  async #acquire(): Promise<GpuContext> {
    const ctx = await GpuContext.create(this.options);
    ctx.lost.then(() => {
      this.losses++;
      // Drop the dead context so the next call gets a new device.
      this.#current?.then((c) => {
        if (c === ctx) this.#current = undefined;
      });
    });
    await this.onContext?.(ctx);
    return ctx;
  }

  /** Runs `fn` on a live device; rejects with GpuError('device-lost') if it is lost meanwhile. */
  async use<T>(fn: (ctx: GpuContext) => Promise<T>): Promise<T> {
    const ctx = await this.context();
    const lost = ctx.lost.then((info): never => {
      throw new GpuError('device-lost', `the GPU device was lost: ${info.reason} ${info.message}`);
    });
    try {
      return await Promise.race([fn(ctx), lost]);
    } catch (e) {
      if (ctx.isLost && !(e instanceof GpuError && e.code === 'device-lost')) {
        throw new GpuError('device-lost', 'the GPU device was lost during the call', { cause: e });
      }
      throw e;
    } finally {
      lost.catch(() => {}); // the race may have settled first; silence the loser
    }
  }

  /** Releases the device for good (worker shutdown). */
  async dispose(): Promise<void> {
    const ctx = await this.#current?.catch(() => undefined);
    this.#current = undefined;
    ctx?.destroy();
  }
}
