import { notice } from '../log/log';
import { type Rng, uniform } from '../model/rng';
import type { MatmulOutput, Output } from './codec';
import { Credits } from './credits';
import {
  type Block,
  type FreivaldsOptions,
  type MatmulProblem,
  type Projector,
  verifyBlock,
} from './freivalds';
import {
  type ContributorInfo,
  emptyReport,
  type JobAnswer,
  type JobProgress,
  type LeaseOffer,
  type OwnerJob,
  progressOf,
  type Revocation,
  type Settlement,
  type Verdict,
  type VerificationReport,
  watchRefusals,
} from './job';
import { MatmulShards } from './matmul-shards';
import { OwnerTrust } from './owner-trust';
import type { Lease, Scheduler, SchedulerOptions } from './scheduler';
import { blockFits } from './shard-size';

// Planning moved to shard-size.ts; re-exported so older imports keep working.
export { SPLIT_AFTER_LAPSES } from './matmul-shards';
export { chooseBlockSize, planBlocks } from './shard-size';

/** Unresolved verdicts a shard may get before the owner recomputes all its flagged rows. */
export const MAX_UNRESOLVED = 1;

/** How long a contributor no shard fits is told to wait before asking again (ms): the owner may
 * split shards meanwhile. */
export const TOO_BIG_RETRY_MS = 30_000; // ms

export interface MatmulJobOptions extends SchedulerOptions {
  verify?: FreivaldsOptions & { projector?: Projector };
  now?: () => number;
  /** What this owner's checks caught, shared by its jobs (src/jobs/owner-trust.ts). */
  trust?: OwnerTrust;
  /** Shards split in an earlier session, parents in order (the job's `splits()`): replayed
   * first, so restore() finds the same shard ids. */
  splits?: readonly number[];
}

/** The inputs a contributor needs for a block: A's rows (rows×k) and B's columns (k×cols). */
export function shardInputs(p: MatmulProblem, b: Block): { a: Float32Array; b: Float32Array } {
  const a = p.a.slice(b.row0 * p.k, (b.row0 + b.rows) * p.k);
  const bc = new Float32Array(p.k * b.cols);
  for (let r = 0; r < p.k; r++) {
    bc.set(p.b.subarray(r * p.n + b.col0, r * p.n + b.col0 + b.cols), r * b.cols);
  }
  return { a, b: bc };
}

/**
 * The owner's side of one matmul job: leases blocks of C, verifies every result with Freivalds
 * before it counts, and assembles C. Pure: the clock is passed in, nothing touches the network.
 */
export class MatmulOwnerJob implements OwnerJob {
  readonly kind = 'matmul';
  readonly c: Float32Array;
  onSettled?: (s: Settlement) => void;
  readonly #shards: MatmulShards;
  readonly #book: Scheduler;
  readonly #report: VerificationReport;
  /** Unresolved verdicts per shard: past `MAX_UNRESOLVED` the owner resolves every flagged row. */
  readonly #unresolved = new Map<number, number>();
  /** Told the list of splits after each split, to persist it with the job. */
  onSplit?: (splits: number[]) => void;

  /**
   * @param blocks the plan (planBlocks); copied, since splits add to it
   * @throws JobSpecError ('splits') when `options.splits` names a shard that cannot be split
   *   as listed (a damaged record: the ids after it would not match the stored outputs)
   */
  constructor(
    readonly id: string,
    readonly problem: MatmulProblem,
    blocks: readonly Block[],
    readonly options: MatmulJobOptions = {},
  ) {
    this.#shards = new MatmulShards(blocks, problem.k, options, (s) => this.onSplit?.(s));
    this.#book = this.#shards.book;
    this.c = new Float32Array(problem.m * problem.n);
    this.#report = emptyReport('matmul', this.shardCount);
    this.#trust = options.trust ?? new OwnerTrust();
    // A contributor caught in another of this owner's jobs: what it did here is checked again.
    this.#stopListening = this.#trust.onCaught((c, why) => {
      if (this.done || this.#credits.barred(c)) return;
      this.#revoke(c, why).then(
        (r) => this.#emitRevocation(r),
        (e) => notice(`job ${this.id} could not re-check ${c}'s shards: ${e}`),
      );
    });
  }

  /** Every block by shard id; a split appends its pieces (ids are never reused). */
  get blocks(): readonly Block[] {
    return this.#shards.blocks;
  }

  readonly #trust: OwnerTrust;
  readonly #stopListening: () => void;
  /** Shards each contributor was credited for, and the contributors caught in this job. */
  readonly #credits = new Credits();

  close(): void {
    this.#stopListening();
  }

  /** Shards that count: a shard split into smaller ones no longer does, its pieces do. So
   * progress and the report count live shards (the pieces of a split add to both). */
  get shardCount(): number {
    return this.#book.liveCount;
  }
  get doneCount(): number {
    return this.#book.doneCount;
  }
  get done(): boolean {
    return this.#book.done;
  }

  /** The shards split so far, parents in order: stored with the job, passed back as the
   * `splits` option. */
  splits(): number[] {
    return this.#shards.splits();
  }

  /**
   * Splits a shard that is neither done nor split already into smaller blocks (splitBlock:
   * quarters, or halves of the longer side), appended as new shard ids ahead of the queue. Its
   * current leases end: a late result is 'stale'. Returns the new ids, none when it cannot be
   * split (done, split, unknown, or under two tiles on both sides).
   */
  split(shardId: number): number[] {
    return this.#shards.split(shardId);
  }

  /**
   * The owner's "smaller shards" action: splits every shard waiting in the queue or whose lease
   * lapsed before; returns how many were split. A shard out with a contributor that has not
   * lapsed keeps going.
   */
  splitPending(): number {
    return this.#shards.splitPending();
  }

  answer(): JobAnswer {
    return { kind: 'matmul', c: this.c };
  }

  report(): VerificationReport {
    const r = {
      ...this.#report,
      shards: this.shardCount,
      reassignments: this.#book.reassignments,
      redundancyOverhead: this.#book.speculativeLeases / this.shardCount,
    };
    r.verifyOverCompute = r.computeMs > 0 ? r.verifyMs / r.computeMs : 0;
    return r;
  }

  /** Puts back a block verified in an earlier session; it is never leased again. */
  restore(shardId: number, output?: Output): boolean {
    const block = this.blocks[shardId];
    if (
      !block ||
      output?.kind !== 'matmul' ||
      output.c.length !== block.rows * block.cols ||
      this.#book.isDone(shardId) ||
      this.#book.isRetired(shardId)
    ) {
      return false;
    }
    this.#book.markDone(shardId);
    this.#write(block, output.c);
    this.#report.accepted++;
    this.#report.restored++;
    return true;
  }

  #write(block: Block, c: Float32Array) {
    for (let i = 0; i < block.rows; i++) {
      this.c.set(
        c.subarray(i * block.cols, (i + 1) * block.cols),
        (block.row0 + i) * this.problem.n + block.col0,
      );
    }
  }

  shardFlops(shardId: number): number {
    return this.#shards.flops(shardId);
  }

  /**
   * Bytes a contributor's GPU binds for a shard (its A rows, B columns and C block), which is
   * also what its lease and result carry over the link; without an id, the largest shard
   * still to do.
   */
  shardBytes(shardId?: number): number {
    return this.#shards.bytes(shardId);
  }

  /**
   * A lease for `c`, or why there is none. A shard too big for its buffer or frame limit is
   * split to fit it (down to TILE-sided pieces) rather than leaving it idle; when even those do
   * not fit, it is told 'too-big' (not finished: the job goes on for others).
   */
  offer(c: ContributorInfo, now: number, mayTake?: (shardId: number) => boolean): LeaseOffer {
    if (this.done) return { kind: 'none', finished: true, retryAfterMs: 0 };
    if (this.#credits.barred(c.id) || this.#trust.isCaught(c.id))
      return { kind: 'none', finished: true, retryAfterMs: 0, reason: 'barred' };
    this.expire(now);
    const fits = (b: Pick<Block, 'rows' | 'cols'>) => blockFits(b, this.problem.k, c);
    const money = watchRefusals(mayTake);
    const canTake = (s: number) => fits(this.blocks[s]!) && money.mayTake(s);
    const request = { gflops: c.gflops, bytesPerSec: c.bytesPerSec, canTake };
    let lease = this.#book.lease(c.id, now, request);
    // Nothing it can hold, and it holds nothing: split a shard to fit it.
    if (!lease && !money.refused() && this.#book.heldBy(c.id) === 0) {
      const fit = this.#shards.splitToFit(fits, (s) => mayTake?.(s) ?? true);
      if (fit === 'too-big') {
        return { kind: 'none', finished: false, retryAfterMs: TOO_BIG_RETRY_MS, reason: 'too-big' };
      }
      if (fit === 'split') lease = this.#book.lease(c.id, now, request);
    }
    if (!lease) {
      const reason = money.refused() ? 'budget' : 'all-leased';
      return { kind: 'none', finished: false, retryAfterMs: 1_000, reason };
    }
    const block = this.blocks[lease.shardId]!;
    const { a, b } = shardInputs(this.problem, block);
    return {
      kind: 'lease',
      lease,
      work: { kind: 'matmul', m: block.rows, k: this.problem.k, n: block.cols, a, b },
    };
  }

  /** Verifies a contributor's block; only an accepted one is written into C. */
  async submit(
    leaseId: string,
    contributor: string,
    output: Output,
    computeMs: number,
    now: number = (this.options.now ?? Date.now)(),
  ): Promise<void> {
    const lease = this.#book.get(leaseId, contributor);
    if (!lease) {
      const ended = this.#shards.whyStale(leaseId, contributor);
      if (ended) this.#settled(leaseId, contributor, ended.shardId, 'stale', ended.reason);
      else this.#settled(leaseId, contributor, -1, 'stale', 'no such lease for this peer');
      return;
    }
    const block = this.blocks[lease.shardId]!;
    let accepted = false;
    let reason = 'shape';
    const barred = this.#credits.barred(contributor) || this.#trust.isCaught(contributor);
    if (barred) {
      reason = 'caught earlier in this owner’s jobs';
    } else if (
      output.kind === 'matmul' &&
      output.rows === block.rows &&
      output.cols === block.cols
    ) {
      const t0 = performance.now();
      const seen = this.#unresolved.get(lease.shardId) ?? 0;
      const v = await verifyBlock(this.problem, block, output.c, {
        ...this.options.verify,
        ...(seen >= MAX_UNRESOLVED ? { maxRecomputeRows: Infinity } : {}),
      });
      this.#report.verifyMs += performance.now() - t0;
      this.#report.rowsRecomputed += v.recomputedRows;
      if (v.reason === 'unresolved') {
        // No proof either way: nothing is held against the contributor (a stale verdict: no
        // receipt, no penalty), and the shard is computed again — the next result's flagged
        // rows are all recomputed once the shard has been unresolved MAX_UNRESOLVED times.
        this.#unresolved.set(lease.shardId, seen + 1);
        this.#book.requeue(leaseId, contributor);
        this.#settled(
          leaseId,
          contributor,
          lease.shardId,
          'stale',
          `unresolved: ${v.flaggedRows} rows flagged, ${v.recomputedRows} sampled and honest`,
        );
        return;
      }
      accepted = v.accepted;
      reason = v.accepted ? 'verified' : (v.reason ?? 'residual');
    }
    // A rejection is proof (a wrong shape, a residual past the rigorous bound, an element outside
    // the honest envelope): everything the contributor returned in this job is checked again.
    const revocation =
      !accepted && !barred
        ? await this.#revoke(contributor, `shard ${lease.shardId}: ${reason}`)
        : undefined;
    const settlement = this.#book.settle(leaseId, contributor, accepted);
    if (settlement === 'accepted') {
      this.#credits.credit(contributor, lease.shardId);
      this.#report.accepted++;
      this.#report.computeMs += Math.max(0, now - lease.issuedAt);
      this.#report.reportedComputeMs += computeMs;
      this.#write(block, (output as MatmulOutput).c);
    } else if (settlement === 'rejected') {
      this.#report.rejected++;
    }
    this.#settled(
      leaseId,
      contributor,
      lease.shardId,
      settlement,
      reason,
      settlement === 'accepted' ? output : undefined,
      revocation,
    );
  }

  /**
   * Bars a caught contributor from this job and checks again every shard it was credited for,
   * with fresh weights and every flagged row recomputed: a shard that fails goes back in the
   * queue. Its receipts for the job are voided by the owner (the returned revocation).
   */
  async #revoke(contributor: string, reason: string): Promise<Revocation | undefined> {
    const credited = this.#credits.bar(contributor);
    if (!credited) return undefined;
    this.#report.contributorsCaught++;
    this.#trust.caught(contributor, `${this.id}: ${reason}`);
    const reopened: number[] = [];
    for (const shardId of credited) {
      const block = this.blocks[shardId]!;
      const c = new Float32Array(block.rows * block.cols);
      for (let i = 0; i < block.rows; i++) {
        const at = (block.row0 + i) * this.problem.n + block.col0;
        c.set(this.c.subarray(at, at + block.cols), i * block.cols);
      }
      const v = await verifyBlock(this.problem, block, c, {
        ...this.options.verify,
        maxRecomputeRows: Infinity,
      });
      this.#report.rowsRecomputed += v.recomputedRows;
      if (!v.accepted && this.#book.reopen(shardId)) {
        reopened.push(shardId);
        this.#report.accepted--;
      }
    }
    return { jobId: this.id, contributor, reason, credited, reopened };
  }

  /** A revocation decided outside any verdict (the contributor was caught in another job). */
  #emitRevocation(r: Revocation | undefined) {
    if (r) this.onSettled?.({ verdicts: [], revoke: [r] });
  }

  #settled(
    leaseId: string,
    contributor: string,
    shardId: number,
    settlement: Verdict['settlement'],
    reason: string,
    output?: Output,
    revocation?: Revocation,
  ) {
    this.onSettled?.({
      ...(revocation ? { revoke: [revocation] } : {}),
      verdicts: [
        {
          jobId: this.id,
          shardId,
          leaseId,
          contributor,
          settlement,
          reason,
          method: 'freivalds',
          flops: shardId >= 0 ? this.#shards.flops(shardId) : 0,
        },
      ],
      ...(output ? { shard: { shardId, output } } : {}),
    });
  }

  heartbeat(leaseId: string, contributor: string, now: number): boolean {
    return this.#book.heartbeat(leaseId, contributor, now);
  }
  fail(leaseId: string, contributor: string): boolean {
    return this.#book.fail(leaseId, contributor);
  }
  dropContributor(contributor: string): number {
    return this.#book.dropContributor(contributor);
  }
  /** Releases lapsed leases; a shard whose leases lapsed SPLIT_AFTER_LAPSES times is split. */
  expire(now: number): Lease[] {
    const lapsed = this.#book.expire(now);
    this.#shards.splitLapsed();
    return lapsed;
  }
  doneShards(): number[] {
    return this.#book.doneShards();
  }
  progress(): JobProgress {
    // Freivalds decides as a result arrives, so nothing waits.
    return progressOf(this.shardCount, this.#book.outstanding, 0, this.doneCount);
  }

  outstanding(): Lease[] {
    return this.#book.outstanding;
  }
}

/** A reproducible random problem (uniform in [-1, 1)), e.g. for demos and tests. */
export function randomProblem(m: number, k: number, n: number, rng: Rng): MatmulProblem {
  const fill = (len: number) => {
    const out = new Float32Array(len);
    for (let i = 0; i < len; i++) out[i] = uniform(rng) * 2 - 1;
    return out;
  };
  return { a: fill(m * k), b: fill(k * n), m, k, n };
}
