import type { Work } from '../jobs/codec';

/** Throughput samples kept per peer are folded with this weight for the newest. */
const EWMA_WEIGHT = 0.3;
/** Peers whose links are remembered (ids are free to make: the longest unseen go). */
const MAX_LINKS = 1_024;
/** Sends too small to time (a few kB cross in one round trip) say nothing of the link. */
const MIN_SAMPLE_BYTES = 256 * 1024;

/** Bytes a lease's work carries: its arrays (the frame's header is small beside them). */
export function workBytes(work: Work): number {
  let bytes = 0;
  for (const v of Object.values(work)) if (ArrayBuffer.isView(v)) bytes += v.byteLength;
  return bytes;
}

/**
 * The owner's measure of each contributor's link: a lease's bytes over the time from its send to
 * the contributor's first heartbeat (which it sends as the lease arrives), as a moving average. Deadlines and shard sizes use it; it is the owner's own measurement, never
 * what a peer says of itself.
 */
export class LinkMeter {
  readonly #sent = new Map<string, { peer: string; at: number; bytes: number }>();
  readonly #links = new Map<string, number>(); // peer → bytes/s

  /** A lease of `bytes` was written to `peer` at `at` (ms). */
  sent(leaseId: string, peer: string, bytes: number, at: number): void {
    if (bytes < MIN_SAMPLE_BYTES) return;
    this.#sent.set(leaseId, { peer, at, bytes });
    if (this.#sent.size > MAX_LINKS) this.#sent.delete(this.#sent.keys().next().value as string);
  }

  /** The first word from `peer` about a lease (a heartbeat or its result) came at `at` (ms). */
  heard(leaseId: string, peer: string, at: number): void {
    const s = this.#sent.get(leaseId);
    if (!s || s.peer !== peer) return;
    this.#sent.delete(leaseId);
    // A floor of 50 ms keeps one lucky sample from claiming an all but infinite link.
    const ms = Math.max(50, at - s.at);
    const sample = (s.bytes * 1000) / ms;
    const old = this.#links.get(peer);
    this.#links.delete(peer);
    this.#links.set(peer, old === undefined ? sample : old + EWMA_WEIGHT * (sample - old));
    if (this.#links.size > MAX_LINKS) this.#links.delete(this.#links.keys().next().value as string);
  }

  /** A lease ended without word (lapsed, failed): nothing to learn from it. */
  forget(leaseId: string): void {
    this.#sent.delete(leaseId);
  }

  /** Measured bytes/s of the link to `peer`; 0 when not measured yet. */
  bytesPerSec(peer: string): number {
    return this.#links.get(peer) ?? 0;
  }
}
