/** A result of a shard kept until the shard is decided, with the lease it came on. */
export interface CopyLease {
  leaseId: string;
  contributor: string;
  /** The owner's own measure of its compute (ms, lease to result). */
  computeMs: number;
}

/**
 * A redundancy-verified job's results that wait for a decision (a copy waiting for its twin,
 * an owner check), per shard, and since when a shard has waited for another copy: a shard
 * nobody else can copy is checked by the owner after a while.
 */
export class WaitingCopies {
  readonly #received = new Map<number, CopyLease[]>();
  readonly #since = new Map<number, number>();

  /** Keeps a result of shard `s`. */
  add(s: number, copy: CopyLease): void {
    const copies = this.#received.get(s) ?? [];
    copies.push(copy);
    this.#received.set(s, copies);
  }

  /** The results of shard `s` kept so far. */
  of(s: number): CopyLease[] {
    return this.#received.get(s) ?? [];
  }

  /** Forgets the results of shard `s` (it was decided). */
  clear(s: number): void {
    this.#received.delete(s);
  }

  /** Takes `contributor`'s results of shard `s` out and returns them; a shard left with none
   * stops waiting. */
  drop(s: number, contributor: string): CopyLease[] {
    const copies = this.of(s);
    const mine = copies.filter((c) => c.contributor === contributor);
    const rest = copies.filter((c) => c.contributor !== contributor);
    if (rest.length) this.#received.set(s, rest);
    else {
      this.#received.delete(s);
      this.#since.delete(s);
    }
    return mine;
  }

  /** Shard `s` waits for another copy from `now` (ms). */
  wait(s: number, now: number): void {
    this.#since.set(s, now);
  }

  /** Shard `s` no longer waits (it was leased again, or decided). */
  stopWaiting(s: number): void {
    this.#since.delete(s);
  }

  /** Since when shard `s` has waited for a copy (ms), if it waits. */
  waitingSince(s: number): number | undefined {
    return this.#since.get(s);
  }
}
