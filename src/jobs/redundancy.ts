import { type Rng, uniform } from './rng';

/**
 * Verification for shards with no cheap algebraic check (inference): redundancy, canaries and
 * owner spot-checks, as in ARCHITECTURE.md. Pure; the owner executes what it decides.
 *
 * - Every real shard is computed by `copies` different contributors (on different adapters
 *   where the mesh has them) and counts only when their results agree within tolerance.
 * - On disagreement a third copy is leased; the pair that agrees wins, the odd one out is
 *   rejected; with no agreeing pair the owner recomputes the shard itself (spot-check).
 * - Canaries are extra shards whose answer the owner already knows, shaped and leased like any
 *   other, so a contributor cannot tell them apart; a wrong canary is a caught cheat.
 * - Agreed shards are also spot-checked by the owner at `spotCheckRate`, which catches
 *   contributors that collude on the same wrong answer.
 */
export interface RedundancyOptions {
  /** True when two results of one shard are the same answer (within float tolerance). */
  agree: (x: Float32Array, y: Float32Array) => boolean;
  copies?: number; // default 2
  spotCheckRate?: number; // default 0.02
  rng: Rng;
}

export type Decision =
  | { kind: 'wait' } // more copies are needed before anything counts
  | { kind: 'spot-check' } // the owner must recompute the shard and call resolveSpotCheck
  | { kind: 'settled'; accepted: string[]; rejected: string[] }; // contributors per verdict

interface Copy {
  contributor: string;
  adapter: string;
  result: Float32Array;
}

export class RedundancyVerifier {
  readonly #o: Required<Omit<RedundancyOptions, 'rng'>> & { rng: Rng };
  readonly #copies = new Map<number, Copy[]>();
  readonly #wanted = new Map<number, number>();
  readonly #settled = new Set<number>();
  readonly #results = new Map<number, Float32Array>();
  /** Copies computed beyond one per shard, for the verification report. */
  extraCopies = 0;
  spotChecks = 0;

  /**
   * @param realShards shards 0..realShards-1 are the job's own
   * @param canaries answers the owner knows, keyed by shard id (ids ≥ realShards)
   */
  constructor(
    readonly realShards: number,
    readonly canaries: ReadonlyMap<number, Float32Array>,
    options: RedundancyOptions,
  ) {
    this.#o = { copies: 2, spotCheckRate: 0.02, ...options };
  }

  isCanary(shardId: number): boolean {
    return this.canaries.has(shardId);
  }

  isSettled(shardId: number): boolean {
    return this.#settled.has(shardId);
  }

  /** How many results the shard still needs before it can be decided. */
  copiesWanted(shardId: number): number {
    if (this.#settled.has(shardId)) return 0;
    const want = this.isCanary(shardId) ? 1 : (this.#wanted.get(shardId) ?? this.#o.copies);
    return Math.max(0, want - (this.#copies.get(shardId)?.length ?? 0));
  }

  /**
   * Whether `contributor` (on `adapter`) may take a copy: never twice the same shard, and not
   * on an adapter that already computed it when `adapters` says the mesh has others.
   */
  canTake(shardId: number, contributor: string, adapter: string, otherAdaptersOnline = false) {
    if (this.copiesWanted(shardId) === 0) return false;
    const copies = this.#copies.get(shardId) ?? [];
    if (copies.some((c) => c.contributor === contributor)) return false;
    return !(otherAdaptersOnline && copies.some((c) => c.adapter === adapter));
  }

  submit(shardId: number, contributor: string, adapter: string, result: Float32Array): Decision {
    if (this.#settled.has(shardId)) return { kind: 'settled', accepted: [], rejected: [] };
    const known = this.canaries.get(shardId);
    if (known) {
      const ok = this.#o.agree(result, known);
      this.#settled.add(shardId);
      return {
        kind: 'settled',
        accepted: ok ? [contributor] : [],
        rejected: ok ? [] : [contributor],
      };
    }
    const copies = this.#copies.get(shardId) ?? [];
    if (copies.some((c) => c.contributor === contributor)) return { kind: 'wait' };
    copies.push({ contributor, adapter, result });
    this.#copies.set(shardId, copies);
    if (copies.length > 1) this.extraCopies++;
    if (this.copiesWanted(shardId) > 0) return { kind: 'wait' };

    const groups = this.#agreeingGroups(copies);
    const majority = groups.find((g) => g.length >= this.#o.copies);
    if (!majority) {
      if (copies.length < this.#o.copies + 1) {
        this.#wanted.set(shardId, this.#o.copies + 1); // disagreement: ask a third
        return { kind: 'wait' };
      }
      this.spotChecks++;
      return { kind: 'spot-check' };
    }
    if (uniform(this.#o.rng) < this.#o.spotCheckRate) {
      this.spotChecks++;
      return { kind: 'spot-check' };
    }
    return this.#settle(shardId, majority);
  }

  /** The owner's own result for a shard it spot-checked: it decides who was right. */
  resolveSpotCheck(shardId: number, ownerResult: Float32Array): Decision {
    const copies = this.#copies.get(shardId) ?? [];
    return this.#settle(
      shardId,
      copies.filter((c) => this.#o.agree(c.result, ownerResult)),
    );
  }

  /** The agreed result of a settled shard (the first agreeing copy). */
  result(shardId: number): Float32Array | undefined {
    return this.#results.get(shardId);
  }

  #settle(shardId: number, winners: Copy[]): Decision {
    this.#settled.add(shardId);
    const copies = this.#copies.get(shardId) ?? [];
    if (winners[0]) this.#results.set(shardId, winners[0].result);
    const accepted = winners.map((c) => c.contributor);
    const rejected = copies.filter((c) => !winners.includes(c)).map((c) => c.contributor);
    return { kind: 'settled', accepted, rejected };
  }

  #agreeingGroups(copies: Copy[]): Copy[][] {
    const groups: Copy[][] = [];
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
 * inference outputs computed on different adapters (different summation orders).
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
