/**
 * How long a lease may take: the defaults the scheduler sizes deadlines with, and the time a
 * shard's bytes take over a contributor's link. A lease is a frame over a WebRTC data channel
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
