/**
 * A lease and how long it may take: the defaults the scheduler sizes deadlines with, the time a
 * shard's bytes take over a contributor's link, and the windows and lifetimes built from them. A lease is a frame over a WebRTC data channel
 * or a TCP stream, and a big shard's transfer can dwarf its compute.
 */

/**
 * Throughput assumed for a link the owner has not measured yet (bytes/s): a browser's WebRTC
 * data channel through a relay or a busy uplink moves 1–2 MB/s, so the low end is assumed.
 */
export const DEFAULT_LINK_BYTES_PER_SEC = 1_000_000; // bytes/s

/** Margin on a lease's expected transfer time: measured throughput varies with load. */
export const TRANSFER_SLACK = 2;

/** Defaults of SchedulerOptions, in one place (times in ms). */
export const LEASE_DEFAULTS = {
  /** Heartbeat window = slack × the expected compute time, clamped to [minWindowMs, maxWindowMs]. */
  slack: 4,
  minWindowMs: 10_000, // ms
  maxWindowMs: 600_000, // ms
  /** Compute window for a contributor whose speed is unknown. */
  defaultWindowMs: 60_000, // ms
  /** A lease's compute lifetime = lifetimeSlack × the expected compute time, clamped. */
  lifetimeSlack: 16,
  minLifetimeMs: 60_000, // ms
  maxLifetimeMs: 1_800_000, // ms
  /** Compute lifetime for a contributor whose speed is unknown. */
  defaultLifetimeMs: 300_000, // ms
  maxLeasesPerPeer: 2,
  maxCopies: 2,
} as const;

/** Time to move `bytes` over a link of `bytesPerSec` (0 or less: unknown, so
 * DEFAULT_LINK_BYTES_PER_SEC), in ms, without margin. */
export function transferTimeMs(bytes: number, bytesPerSec: number): number {
  const rate = bytesPerSec > 0 ? bytesPerSec : DEFAULT_LINK_BYTES_PER_SEC;
  return bytes > 0 ? (bytes / rate) * 1_000 : 0;
}

/** A shard handed to a contributor until `deadline` (ms, on the owner's clock). */
export interface Lease {
  leaseId: string;
  shardId: number;
  contributor: string; // peer id
  issuedAt: number; // ms
  deadline: number; // ms
  /** How long this contributor is given from each heartbeat (ms): its compute window plus
   * `transferMs`, so a result still on its way after the last heartbeat is not late. */
  windowMs: number;
  /** The time allowed for the lease's bytes to cross the link one way (ms, TRANSFER_SLACK ×
   * the shard's bytes ÷ the link's throughput): the first deadline adds it, since heartbeats
   * only start once the lease has arrived. */
  transferMs: number;
  /** The lease ends at this time (ms) whatever the heartbeats: a peer that heartbeats and never
   * answers cannot hold a shard for ever. */
  expiresBy: number;
  /** True when the shard was already leased to someone else (a speculative copy). */
  speculative: boolean;
}

/** How a lease's deadlines are sized (SchedulerOptions' timing part; defaults: LEASE_DEFAULTS). */
export interface LeaseTimingOptions {
  /** Work in one shard, to size deadlines from a contributor's measured GFLOP/s. */
  shardFlops?: (shardId: number) => number;
  /** Bytes a lease of the shard and its result carry over the link, together: deadlines
   * cover their transfer at the link's throughput (default: 0, no transfer). */
  shardBytes?: (shardId: number) => number;
  /** Compute window = slack × the expected compute time, clamped to [minWindowMs, maxWindowMs]
   * (defaults: LEASE_DEFAULTS). */
  slack?: number;
  minWindowMs?: number; // ms
  maxWindowMs?: number; // ms
  /** Compute window for a contributor whose speed is unknown (ms). */
  defaultWindowMs?: number;
  /** A lease's whole life, heartbeats or not: lifetimeSlack × the expected compute time,
   * clamped to [minLifetimeMs, maxLifetimeMs]; defaultLifetimeMs when the speed is unknown;
   * plus the transfer both ways. */
  lifetimeSlack?: number;
  minLifetimeMs?: number; // ms
  maxLifetimeMs?: number; // ms
  defaultLifetimeMs?: number; // ms
}

/** Sizes a lease's deadlines from its shard's work and bytes and its contributor's speed. */
export class LeaseTiming {
  readonly #o: Required<LeaseTimingOptions>;

  constructor(options: Required<LeaseTimingOptions>) {
    this.#o = options;
  }

  /** Expected compute time of the shard at `gflops` (ms); undefined when the speed is unknown. */
  #computeMs(shardId: number, gflops: number): number | undefined {
    return gflops > 0 ? this.#o.shardFlops(shardId) / (gflops * 1e6) : undefined;
  }

  /** Time allowed for the shard's bytes to cross a link of `bytesPerSec` one way or the other
   * (ms, TRANSFER_SLACK included; 0 or less: unknown, DEFAULT_LINK_BYTES_PER_SEC). */
  transferMs(shardId: number, bytesPerSec = 0): number {
    return TRANSFER_SLACK * transferTimeMs(this.#o.shardBytes(shardId), bytesPerSec);
  }

  /** A lease's whole life for a contributor at `gflops` on a link of `bytesPerSec` (ms),
   * heartbeats or not: its compute lifetime plus the transfer both ways. */
  lifetime(shardId: number, gflops: number, bytesPerSec = 0): number {
    const { lifetimeSlack, minLifetimeMs, maxLifetimeMs, defaultLifetimeMs } = this.#o;
    const compute = this.#computeMs(shardId, gflops);
    const life =
      compute === undefined
        ? defaultLifetimeMs
        : Math.min(maxLifetimeMs, Math.max(minLifetimeMs, lifetimeSlack * compute));
    return life + 2 * this.transferMs(shardId, bytesPerSec);
  }

  /** How long a contributor at `gflops` on a link of `bytesPerSec` is given from each
   * heartbeat (ms): its compute window plus one transfer (the result's trip back). */
  window(shardId: number, gflops: number, bytesPerSec = 0): number {
    const { slack, minWindowMs, maxWindowMs, defaultWindowMs } = this.#o;
    const compute = this.#computeMs(shardId, gflops);
    const window =
      compute === undefined
        ? defaultWindowMs
        : Math.min(maxWindowMs, Math.max(minWindowMs, slack * compute));
    return window + this.transferMs(shardId, bytesPerSec);
  }
}
