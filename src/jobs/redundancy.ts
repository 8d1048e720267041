import { type Rng, uniform } from '../model/rng';

/**
 * Verification for shards with no cheap algebraic check (inference): redundancy, canaries and
 * owner checks (docs/verification.md). Pure; the owner executes what it decides.
 *
 * - A real shard is computed by `copies` different contributors (on different adapters where
 *   the mesh has them). Their agreement counts only when at least one agreeing contributor is
 *   `proven` (it passed this owner's own checks, src/jobs/owner-trust.ts): ids are free, and
 *   two ids of one attacker running one cheaper model agree with each other. Agreement among
 *   unproven contributors only is checked by the owner ('unproven').
 * - Copies that disagree are checked by the owner ('disagreement'), not put to a vote: a third
 *   copy may be another id of the same attacker, and the owner's answer says who lied.
 * - Canaries are shards whose answer the owner knows (or computes once), shaped and leased like
 *   any other, so a contributor cannot tell them apart: every canary result is checked.
 * - Agreed shards are also checked by the owner at `spotCheckRate`, which catches a proven
 *   contributor agreeing on a wrong answer. With `copies` 1 the owner's check is the verifier.
 * - A check never rejects on suspicion: the owner decides from its own computation which copies
 *   are right; when none is, the owner's own answer settles the shard, or the shard goes out
 *   again.
 * - A contributor caught (`bar`) has every copy it returned redone: unsettled copies are dropped
 *   (the shard needs another), and shards settled on agreement it was part of are reopened
 *   for the owner to check ('revoked'); shards the owner checked itself stand.
 */
export interface RedundancyOptions<T> {
  /** True when two results of one shard are the same answer (within float tolerance). */
  agree: (x: T, y: T) => boolean;
  /** Whether a contributor passed this owner's own checks (its agreement counts). */
  proven: (contributor: string) => boolean;
  copies?: number; // default 2
  spotCheckRate?: number; // default 0.02
  rng: Rng;
}

/** Why the owner must check a shard's copies itself. */
export type CheckReason =
  | 'canary'
  | 'spot-check'
  | 'disagreement'
  | 'no-second-copy'
  | 'unproven' // the copies agree, but no agreeing contributor is proven
  | 'revoked'; // a contributor to an agreed shard was caught: the owner re-verifies it

export type Decision =
  | { kind: 'wait' } // more copies are needed before anything counts
  | { kind: 'check'; reason: CheckReason } // the owner must check, then call resolveCheck
  | { kind: 'settled'; accepted: string[]; rejected: string[] } // contributors per verdict
  | { kind: 'retry'; rejected: string[] } // no copy was right: lease the shard again
  | { kind: 'stale' }; // the shard is decided or being checked, or this contributor sent it before

/** How a settled shard was decided: by agreement alone, by the owner's own computation, or by
 * the owner's computation of a sample of its rows (the rest taken on trust). */
export type SettledBy = 'agreement' | 'owner' | 'sample';

interface Copy<T> {
  contributor: string;
  adapter: string;
  /** Dropped once the shard is settled and its output stored (`forget`). */
  result?: T;
}

export class RedundancyVerifier<T> {
  readonly #o: Required<Omit<RedundancyOptions<T>, 'rng'>> & { rng: Rng };
  readonly #copies = new Map<number, Copy<T>[]>();
  readonly #settled = new Map<number, SettledBy>();
  readonly #checking = new Set<number>();
  readonly #results = new Map<number, T>();
  /** Contributors caught: none of their copies counts any more. */
  readonly #barred = new Set<string>();
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

  /** How a settled shard was decided; undefined while it is not. */
  settledBy(shardId: number): SettledBy | undefined {
    return this.#settled.get(shardId);
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
    return (this.#copies.get(shardId) ?? []).flatMap((c) =>
      c.result === undefined ? [] : [c.result],
    );
  }

  /** How many results the shard still needs before it can be decided. */
  copiesWanted(shardId: number): number {
    if (this.#settled.has(shardId) || this.#checking.has(shardId)) return 0;
    const want = this.isCanary(shardId) ? 1 : this.#o.copies;
    return Math.max(0, want - (this.#copies.get(shardId)?.length ?? 0));
  }

  /**
   * Whether `contributor` (on `adapter`) may take a copy: never twice the same shard, never
   * once caught, and not on an adapter that already computed it when `otherAdaptersOnline` says
   * the mesh has others.
   */
  canTake(shardId: number, contributor: string, adapter: string, otherAdaptersOnline = false) {
    if (this.copiesWanted(shardId) === 0 || this.#barred.has(contributor)) return false;
    const copies = this.#copies.get(shardId) ?? [];
    if (copies.some((c) => c.contributor === contributor)) return false;
    return !(otherAdaptersOnline && copies.some((c) => c.adapter === adapter));
  }

  submit(shardId: number, contributor: string, adapter: string, result: T): Decision {
    const copies = this.#copies.get(shardId) ?? [];
    if (
      this.#settled.has(shardId) ||
      this.#checking.has(shardId) ||
      this.#barred.has(contributor) ||
      copies.some((c) => c.contributor === contributor)
    ) {
      return { kind: 'stale' };
    }
    copies.push({ contributor, adapter, result });
    this.#copies.set(shardId, copies);
    if (copies.length > 1) this.extraCopies++;
    if (this.isCanary(shardId)) return this.#check(shardId, 'canary');
    if (this.copiesWanted(shardId) > 0) return { kind: 'wait' };

    const all = this.#agreeingGroups(copies)[0]!;
    if (all.length < copies.length) {
      this.disagreements++;
      return this.#check(shardId, 'disagreement');
    }
    if (!all.some((c) => this.#o.proven(c.contributor))) return this.#check(shardId, 'unproven');
    if (uniform(this.#o.rng) < this.#o.spotCheckRate) return this.#check(shardId, 'spot-check');
    return this.#settle(shardId, all, 'agreement');
  }

  /**
   * The owner checks a shard whose next copy nobody online can take (e.g. a lone contributor):
   * its copies so far are judged by the owner's own computation.
   */
  ownerCheck(shardId: number): Decision {
    if (this.#settled.has(shardId) || !this.#copies.get(shardId)?.length) return { kind: 'wait' };
    return this.#check(shardId, 'no-second-copy');
  }

  /**
   * The owner's check of a shard: `valid` says which copies are right (a barred contributor's
   * copy never is). With `own` (the owner's own answer), a shard no copy got right is settled
   * with it rather than leased again.
   */
  resolveCheck(shardId: number, valid: (result: T) => boolean, own?: T, sampled = false): Decision {
    this.#checking.delete(shardId);
    const copies = this.#copies.get(shardId) ?? [];
    const winners = copies.filter(
      (c) => !this.#barred.has(c.contributor) && c.result !== undefined && valid(c.result),
    );
    if (winners.length > 0 || own !== undefined) {
      return this.#settle(
        shardId,
        winners,
        sampled && winners.length > 0 ? 'sample' : 'owner',
        own,
      );
    }
    // Nobody was right: forget the copies and start the shard over.
    this.#copies.delete(shardId);
    return { kind: 'retry', rejected: copies.map((c) => c.contributor) };
  }

  /** Gives up a check that could not run (the owner's GPU failed): the copies wait again. */
  abandonCheck(shardId: number): void {
    this.#checking.delete(shardId);
  }

  /**
   * A contributor was caught: none of its copies counts from now on. Returns the shards whose
   * unsettled copy of its was dropped (each needs another copy), and the settled shards it was
   * part of that were decided by agreement alone: the caller reopens them (`reopen`).
   */
  bar(contributor: string): { dropped: number[]; agreed: number[] } {
    this.#barred.add(contributor);
    const dropped: number[] = [];
    const agreed: number[] = [];
    for (const [shardId, copies] of this.#copies) {
      if (!copies.some((c) => c.contributor === contributor)) continue;
      const by = this.#settled.get(shardId);
      if (by === 'agreement' || by === 'sample') agreed.push(shardId);
      else if (by === undefined && !this.#checking.has(shardId)) {
        this.#copies.set(
          shardId,
          copies.filter((c) => c.contributor !== contributor),
        );
        dropped.push(shardId);
      }
      // Being checked: the check judges its copy (barred, so never right); checked by the
      // owner: the answer is the owner's, and stands.
    }
    return { dropped, agreed };
  }

  /** Reopens a shard settled by agreement or on a sample for the owner to check whole: call
   * resolveCheck next. */
  reopen(shardId: number): Decision {
    const by = this.#settled.get(shardId);
    if (by !== 'agreement' && by !== 'sample') return { kind: 'stale' };
    this.#settled.delete(shardId);
    return this.#check(shardId, 'revoked');
  }

  /** The agreed result of a settled shard (the first right copy, or the owner's own answer). */
  result(shardId: number): T | undefined {
    return this.#results.get(shardId);
  }

  /** Marks a shard verified in an earlier session (`result`: its output, when the job keeps
   * outputs in memory). */
  restore(shardId: number, result?: T): void {
    this.#settled.set(shardId, 'owner');
    if (result !== undefined) this.#results.set(shardId, result);
  }

  /** Drops a settled shard's outputs (the owner stored them): who sent copies is kept, so a
   * contributor caught later still has the shard reopened. */
  forget(shardId: number): void {
    if (!this.#settled.has(shardId)) return;
    this.#results.delete(shardId);
    for (const c of this.#copies.get(shardId) ?? []) delete c.result;
  }

  #check(shardId: number, reason: CheckReason): Decision {
    this.#checking.add(shardId);
    return { kind: 'check', reason };
  }

  #settle(shardId: number, winners: Copy<T>[], by: SettledBy, own?: T): Decision {
    this.#settled.set(shardId, by);
    const copies = this.#copies.get(shardId) ?? [];
    this.#results.set(shardId, (winners[0]?.result ?? own)!);
    const accepted = winners.map((c) => c.contributor);
    // A copy whose result was forgotten (a re-verified shard) was judged when the shard first
    // settled: with nothing to judge it by now, it is neither accepted nor rejected again.
    const rejected = copies
      .filter((c) => !winners.includes(c) && c.result !== undefined)
      .map((c) => c.contributor);
    return { kind: 'settled', accepted, rejected };
  }

  #agreeingGroups(copies: Copy<T>[]): Copy<T>[][] {
    const groups: Copy<T>[][] = [];
    for (const c of copies) {
      const g = groups.find((group) => this.#o.agree(group[0]!.result!, c.result!));
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
