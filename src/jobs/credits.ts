/**
 * Who a job credited for which shards, and whom it barred. When a contributor is caught, the
 * shards it was credited for are what its Revocation voids and what the job checks again.
 */
export class Credits {
  readonly #credited = new Map<string, Set<number>>();
  readonly #barred = new Set<string>();

  /** Notes that an accepted verdict credited `contributor` for `shardId`. */
  credit(contributor: string, shardId: number): void {
    const mine = this.#credited.get(contributor) ?? new Set<number>();
    this.#credited.set(contributor, mine.add(shardId));
  }

  /** Whether `contributor` was barred from the job. */
  barred(contributor: string): boolean {
    return this.#barred.has(contributor);
  }

  /** Bars `contributor`; returns the shards it was credited for, in the order credited, or
   * undefined when it was barred already. */
  bar(contributor: string): number[] | undefined {
    if (this.#barred.has(contributor)) return undefined;
    this.#barred.add(contributor);
    return [...(this.#credited.get(contributor) ?? [])];
  }
}
