import { type Rng, uniform } from '../model/rng';

/**
 * Verification for shards with no cheap algebraic check (inference): redundancy, canaries and
 * owner checks, as in ARCHITECTURE.md. Pure; the owner executes what it decides.
 *
 * - A real shard is computed by `copies` different contributors (on different adapters where
 *   the mesh has them) and counts only when their results agree within tolerance.
 * - On disagreement a third copy is leased; the pair that agrees wins, the odd one out is
 *   rejected; with no agreeing pair the owner checks the copies itself.
 * - Canaries are shards whose answer the owner knows (or computes once), shaped and leased like
 *   any other, so a contributor cannot tell them apart: every canary result is checked.
 * - Agreed shards are also checked by the owner at `spotCheckRate`, which catches contributors
 *   that collude on the same wrong answer. With `copies` 1 the owner's check is the verifier.
 * - A check never rejects on suspicion: the owner decides from its own computation which copies
 *   are right; when none is, the shard goes out again.
 */
export interface RedundancyOptions<T> {
  /** True when two results of one shard are the same answer (within float tolerance). */
  agree: (x: T, y: T) => boolean;
  copies?: number; // default 2
  spotCheckRate?: number; // default 0.02
  rng: Rng;
}

/** Why the owner must check a shard's copies itself. */
export type CheckReason = 'canary' | 'spot-check' | 'disagreement' | 'no-second-copy';

export type Decision =
  | { kind: 'wait' } // more copies are needed before anything counts
  | { kind: 'check'; reason: CheckReason } // the owner must check, then call resolveCheck
  | { kind: 'settled'; accepted: string[]; rejected: string[] } // contributors per verdict
  | { kind: 'retry'; rejected: string[] } // no copy was right: lease the shard again
  | { kind: 'stale' }; // the shard is decided or being checked, or this contributor sent it before

interface Copy<T> {
  contributor: string;
  adapter: string;
  result: T;
}

export class RedundancyVerifier<T> {
  readonly #o: Required<Omit<RedundancyOptions<T>, 'rng'>> & { rng: Rng };
  readonly #copies = new Map<number, Copy<T>[]>();
  readonly #wanted = new Map<number, number>();
  readonly #settled = new Set<number>();
  readonly #checking = new Set<number>();
  readonly #results = new Map<number, T>();
  /** Copies computed beyond one per shard, for the verification report. */
  extraCopies = 0;
  /** Shards whose copies disagreed. */
  disagreements = 0;

  /**
   * @param realShards how many shards the job has
   * @param canaries ids of the shards that are canaries
   */
  constructor(
    readonly realShards: number,
    readonly canaries: ReadonlySet<number>,
    options: RedundancyOptions<T>,
  ) {
    this.#o = { copies: 2, spotCheckRate: 0.02, ...options };
  }

  /** Shards with at least one result in and no decision yet. */
  awaiting(): number {
    let n = 0;
    for (const [shardId, copies] of this.#copies) {
      if (copies.length > 0 && !this.#settled.has(shardId)) n++;
    }
    return n;
  }

  isCanary(shardId: number): boolean {
    return this.canaries.has(shardId);
  }

  isSettled(shardId: number): boolean {
    return this.#settled.has(shardId);
  }

  /** True while the owner is checking the shard (no new copies are wanted meanwhile). */
  isChecking(shardId: number): boolean {
    return this.#checking.has(shardId);
  }

  /** Contributors and adapters that returned a copy of the shard so far. */
  copies(shardId: number): readonly { contributor: string; adapter: string }[] {
    return this.#copies.get(shardId) ?? [];
  }

  /** The results returned for the shard so far, to check them. */
  results(shardId: number): readonly T[] {
    return (this.#copies.get(shardId) ?? []).map((c) => c.result);
  }

  /** How many results the shard still needs before it can be decided. */
  copiesWanted(shardId: number): number {
    if (this.#settled.has(shardId) || this.#checking.has(shardId)) return 0;
    const want = this.isCanary(shardId) ? 1 : (this.#wanted.get(shardId) ?? this.#o.copies);
    return Math.max(0, want - (this.#copies.get(shardId)?.length ?? 0));
  }

  /**
   * Whether `contributor` (on `adapter`) may take a copy: never twice the same shard, and not
   * on an adapter that already computed it when `otherAdaptersOnline` says the mesh has others.
   */
  canTake(shardId: number, contributor: string, adapter: string, otherAdaptersOnline = false) {
    if (this.copiesWanted(shardId) === 0) return false;
    const copies = this.#copies.get(shardId) ?? [];
    if (copies.some((c) => c.contributor === contributor)) return false;
    return !(otherAdaptersOnline && copies.some((c) => c.adapter === adapter));
  }

  submit(shardId: number, contributor: string, adapter: string, result: T): Decision {
    const copies = this.#copies.get(shardId) ?? [];
    if (
      this.#settled.has(shardId) ||
      this.#checking.has(shardId) ||
      copies.some((c) => c.contributor === contributor)
    ) {
      return { kind: 'stale' };
    }
    copies.push({ contributor, adapter, result });
    this.#copies.set(shardId, copies);
    if (copies.length > 1) this.extraCopies++;
    if (this.isCanary(shardId)) return this.#check(shardId, 'canary');
    if (this.copiesWanted(shardId) > 0) return { kind: 'wait' };

    const groups = this.#agreeingGroups(copies);
    const majority = groups.find((g) => g.length >= this.#o.copies);
    if (!majority) {
      if (copies.length === this.#o.copies) this.disagreements++;
      if (copies.length < this.#o.copies + 1) {
        this.#wanted.set(shardId, this.#o.copies + 1); // disagreement: ask a third
        return { kind: 'wait' };
      }
      return this.#check(shardId, 'disagreement');
    }
    if (uniform(this.#o.rng) < this.#o.spotCheckRate) return this.#check(shardId, 'spot-check');
    return this.#settle(shardId, majority);
  }

  /**
   * The owner checks a shard whose next copy nobody online can take (e.g. a lone contributor):
   * its copies so far are judged by the owner's own computation.
   */
  ownerCheck(shardId: number): Decision {
    if (this.#settled.has(shardId) || !this.#copies.get(shardId)?.length) return { kind: 'wait' };
    return this.#check(shardId, 'no-second-copy');
  }

  /** The owner's check of a shard: `valid` says which copies are right. */
  resolveCheck(shardId: number, valid: (result: T) => boolean): Decision {
    this.#checking.delete(shardId);
    const copies = this.#copies.get(shardId) ?? [];
    const winners = copies.filter((c) => valid(c.result));
    if (winners.length > 0) return this.#settle(shardId, winners);
    // Nobody was right: forget the copies and start the shard over.
    this.#copies.delete(shardId);
    this.#wanted.delete(shardId);
    return { kind: 'retry', rejected: copies.map((c) => c.contributor) };
  }

  /** Gives up a check that could not run (the owner's GPU failed): the copies wait again. */
  abandonCheck(shardId: number): void {
    this.#checking.delete(shardId);
  }

  /** The agreed result of a settled shard (the first agreeing copy). */
  result(shardId: number): T | undefined {
    return this.#results.get(shardId);
  }

  /** Marks a shard verified in an earlier session. */
  restore(shardId: number, result: T): void {
    this.#settled.add(shardId);
    this.#results.set(shardId, result);
  }

  #check(shardId: number, reason: CheckReason): Decision {
    this.#checking.add(shardId);
    return { kind: 'check', reason };
  }

  #settle(shardId: number, winners: Copy<T>[]): Decision {
    this.#settled.add(shardId);
    const copies = this.#copies.get(shardId) ?? [];
    this.#results.set(shardId, winners[0]!.result);
    const accepted = winners.map((c) => c.contributor);
    const rejected = copies.filter((c) => !winners.includes(c)).map((c) => c.contributor);
    return { kind: 'settled', accepted, rejected };
  }

  #agreeingGroups(copies: Copy<T>[]): Copy<T>[][] {
    const groups: Copy<T>[][] = [];
    for (const c of copies) {
      const g = groups.find((group) => this.#o.agree(group[0]!.result, c.result));
      if (g) g.push(c);
      else groups.push([c]);
    }
    return groups.sort((x, y) => y.length - x.length);
  }
}

/**
 * Elementwise closeness: |x − y| ≤ atol + rtol·max(|x|, |y|) everywhere, and no NaN. For
 * outputs computed on different adapters (different summation orders).
 */
export function withinTolerance(rtol: number, atol: number) {
  return (x: Float32Array, y: Float32Array): boolean => {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i]! - y[i]!);
      if (!(d <= atol + rtol * Math.max(Math.abs(x[i]!), Math.abs(y[i]!)))) return false;
    }
    return true;
  };
}
