import type { VerdictMsg } from './codec';
import type { FramedStream } from './framed';
import { MAX_UNDELIVERED } from './shard-owner-options';

/**
 * Where the owner's verdicts go: each contributor's newest open shard stream, or, while it has
 * none, a bounded per-peer backlog sent when it next opens one. A settlement stands whether or
 * not its contributor is there to hear it.
 */
export class VerdictOutbox {
  /** Each contributor's open streams, newest last: where its verdicts go. */
  readonly #streams = new Map<string, FramedStream[]>();
  readonly #undelivered = new Map<string, VerdictMsg[]>();

  constructor(
    /** Told when a verdict was written to its contributor (it may leave the durable outbox). */
    private readonly delivered?: (leaseId: string) => Promise<void>,
    /** Verdicts kept per peer that is not connected; the oldest go first. */
    private readonly maxUndelivered = MAX_UNDELIVERED,
  ) {}

  /** Sends a verdict on the contributor's newest open stream, or keeps it for its next one. */
  deliver(peer: string, msg: VerdictMsg): void {
    const stream = this.#streams.get(peer)?.at(-1);
    if (stream) {
      stream.write(msg).then(
        () => this.delivered?.(msg.leaseId).catch(() => {}),
        () => this.#keep(peer, msg),
      );
    } else {
      this.#keep(peer, msg);
    }
  }

  #keep(peer: string, msg: VerdictMsg) {
    const kept = this.#undelivered.get(peer) ?? [];
    kept.push(msg);
    // Bounded: a contributor that never comes back costs a few hundred small frames at most.
    if (kept.length > this.maxUndelivered) kept.shift();
    this.#undelivered.set(peer, kept);
  }

  /** A stream of `peer` opened: its verdicts go there from now, the backlog first. */
  attach(peer: string, framed: FramedStream): void {
    this.#streams.set(peer, [...(this.#streams.get(peer) ?? []), framed]);
    const kept = this.#undelivered.get(peer);
    this.#undelivered.delete(peer);
    for (const msg of kept ?? []) this.deliver(peer, msg);
  }

  /** A stream of `peer` ended. */
  detach(peer: string, framed: FramedStream): void {
    const left = (this.#streams.get(peer) ?? []).filter((f) => f !== framed);
    if (left.length) this.#streams.set(peer, left);
    else this.#streams.delete(peer);
  }
}
