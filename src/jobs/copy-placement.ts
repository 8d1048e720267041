import type { RedundancyVerifier } from './redundancy';

/** A contributor that asked for work this recently is online (for adapters and stuck shards). */
export const ONLINE_MS = 30_000; // ms

/**
 * Who is online (asked for work lately), and which of them may take the next copy of a shard:
 * never twice the same shard; on another adapter than the copies so far while the mesh has one;
 * and, while the copies so far all come from unproven ids, a proven contributor when one is
 * online and may take it — so agreement counts without costing the owner a check, and a
 * sybil's twin is never the one to confirm it. Pure; the job keeps one per job.
 */
export class CopyPlacement {
  readonly #seen = new Map<string, { adapter: string; at: number }>();

  constructor(
    readonly verifier: Pick<RedundancyVerifier<unknown>, 'copies' | 'canTake'>,
    readonly proven: (contributor: string) => boolean,
  ) {}

  /** A contributor asked for work at `now` (ms). */
  saw(id: string, adapter: string, now: number): void {
    this.#seen.set(id, { adapter, at: now });
    // Only who asked lately counts as online; forgetting the rest keeps fresh ids from costing
    // memory or time.
    for (const [x, s] of this.#seen) if (now - s.at >= ONLINE_MS) this.#seen.delete(x);
  }

  /** The adapter a contributor last reported, or ''. */
  adapterOf(id: string): string {
    return this.#seen.get(id)?.adapter ?? '';
  }

  /** Whether anyone online may take the shard's next copy. */
  anyoneCan(shardId: number, now: number): boolean {
    return [...this.#seen.entries()].some(
      ([id, s]) => now - s.at < ONLINE_MS && this.canTake(shardId, id, s.adapter, now),
    );
  }

  canTake(shardId: number, id: string, adapter: string, now: number): boolean {
    const copies = this.verifier.copies(shardId);
    const adapters = new Set(copies.map((x) => x.adapter));
    // Another adapter is online when someone seen lately runs one no copy was computed on.
    const otherAdapters = [...this.#seen.values()].some(
      (s) => now - s.at < ONLINE_MS && !adapters.has(s.adapter),
    );
    if (!this.verifier.canTake(shardId, id, adapter, otherAdapters)) return false;
    if (copies.length === 0 || this.proven(id) || copies.some((x) => this.proven(x.contributor))) {
      return true;
    }
    return ![...this.#seen.entries()].some(
      ([other, s]) =>
        now - s.at < ONLINE_MS &&
        this.proven(other) &&
        this.verifier.canTake(shardId, other, s.adapter, otherAdapters),
    );
  }
}
