import { type Rng, uniform } from '../model/rng';
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
} from './job';
import { OwnerTrust } from './owner-trust';
import { type Lease, Scheduler, type SchedulerOptions } from './scheduler';
import type { MatmulOutput, Output } from './work-codec';

/** Unresolved verdicts a shard may get before the owner recomputes all its flagged rows. */
export const MAX_UNRESOLVED = 1;

/** Splits an m×n result into blocks of at most blockRows × blockCols, row-major order. */
export function planBlocks(m: number, n: number, blockRows: number, blockCols: number): Block[] {
  const blocks: Block[] = [];
  for (let row0 = 0; row0 < m; row0 += blockRows) {
    for (let col0 = 0; col0 < n; col0 += blockCols) {
      blocks.push({
        row0,
        rows: Math.min(blockRows, m - row0),
        col0,
        cols: Math.min(blockCols, n - col0),
      });
    }
  }
  return blocks;
}

/**
 * A square-ish block size such that one shard's inputs and output fit in `maxShardBytes` and the
 * job has at least `minShards` shards when it can.
 */
export function chooseBlockSize(
  m: number,
  k: number,
  n: number,
  { maxShardBytes = 16 * 2 ** 20, minShards = 4 } = {},
): { blockRows: number; blockCols: number } {
  // Sides are multiples of 64 (the kernel's tile) unless the matrix is smaller than that.
  let side = 64 * Math.max(1, Math.ceil(Math.sqrt((m * n) / minShards) / 64));
  const bytes = (s: number) => (2 * s * k + s * s) * 4;
  while (side > 64 && bytes(side) > maxShardBytes) side -= 64;
  if (bytes(Math.min(side, m, n)) > maxShardBytes) {
    throw new RangeError(`K = ${k} is too deep for ${maxShardBytes}-byte shards`);
  }
  return { blockRows: Math.min(side, m), blockCols: Math.min(side, n) };
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
  readonly #book: Scheduler;
  readonly #report: VerificationReport;
  /** Unresolved verdicts per shard: past `MAX_UNRESOLVED` the owner resolves every flagged row. */
  readonly #unresolved = new Map<number, number>();

  constructor(
    readonly id: string,
    readonly problem: MatmulProblem,
    readonly blocks: Block[],
    readonly options: SchedulerOptions & {
      verify?: FreivaldsOptions & { projector?: Projector };
      now?: () => number;
      /** What this owner's checks caught, shared by its jobs (src/jobs/owner-trust.ts). */
      trust?: OwnerTrust;
    } = {},
  ) {
    this.#book = new Scheduler(blocks.length, {
      shardFlops: (s) => this.#flops(s),
      ...options,
    });
    this.c = new Float32Array(problem.m * problem.n);
    this.#report = emptyReport('matmul', blocks.length);
    this.#trust = options.trust ?? new OwnerTrust();
    // A contributor caught in another of this owner's jobs: what it did here is checked again.
    this.#stopListening = this.#trust.onCaught((c, why) => {
      if (this.done || this.#revoked.has(c)) return;
      this.#revoke(c, why).then(
        (r) => this.#emitRevocation(r),
        (e) => console.warn(`tessel: job ${this.id} could not re-check ${c}'s shards: ${e}`),
      );
    });
  }

  readonly #trust: OwnerTrust;
  readonly #stopListening: () => void;
  /** Shards each contributor was credited for, and the contributors caught in this job. */
  readonly #creditedTo = new Map<string, number[]>();
  readonly #revoked = new Set<string>();

  close(): void {
    this.#stopListening();
  }

  get shardCount(): number {
    return this.blocks.length;
  }
  get doneCount(): number {
    return this.#book.doneCount;
  }
  get done(): boolean {
    return this.#book.done;
  }

  answer(): JobAnswer {
    return { kind: 'matmul', c: this.c };
  }

  report(): VerificationReport {
    const r = {
      ...this.#report,
      reassignments: this.#book.reassignments,
      redundancyOverhead: this.#book.speculativeLeases / this.blocks.length,
    };
    r.verifyOverCompute = r.computeMs > 0 ? r.verifyMs / r.computeMs : 0;
    return r;
  }

  /** Puts back a block verified in an earlier session; it is never leased again. */
  restore(shardId: number, output: Output): boolean {
    const block = this.blocks[shardId];
    if (
      !block ||
      output.kind !== 'matmul' ||
      output.c.length !== block.rows * block.cols ||
      this.#book.isDone(shardId)
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
    return this.#flops(shardId);
  }

  #flops(shardId: number): number {
    const b = this.blocks[shardId]!;
    return 2 * b.rows * b.cols * this.problem.k;
  }

  /** Bytes a contributor's GPU must bind for one shard: its A rows, B columns and C block. */
  shardBytes(): number {
    let max = 0;
    for (const b of this.blocks)
      max = Math.max(max, (b.rows + b.cols) * this.problem.k + b.rows * b.cols);
    return 4 * max;
  }

  /** A lease for `c`, or why there is none. A GPU too small for this job's shards gets none. */
  offer(c: ContributorInfo, now: number, mayTake?: (shardId: number) => boolean): LeaseOffer {
    if (this.done) return { kind: 'none', finished: true, retryAfterMs: 0 };
    if (this.shardBytes() > c.maxBufferBytes)
      return { kind: 'none', finished: true, retryAfterMs: 0 };
    if (this.#revoked.has(c.id) || this.#trust.isCaught(c.id))
      return { kind: 'none', finished: true, retryAfterMs: 0 };
    const lease = this.#book.lease(c.id, now, c.gflops, mayTake);
    if (!lease) return { kind: 'none', finished: false, retryAfterMs: 1_000 };
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
      this.#settled(leaseId, contributor, -1, 'stale', 'no such lease for this peer');
      return;
    }
    const block = this.blocks[lease.shardId]!;
    let accepted = false;
    let reason = 'shape';
    const barred = this.#revoked.has(contributor) || this.#trust.isCaught(contributor);
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
      this.#creditedTo.set(contributor, [
        ...(this.#creditedTo.get(contributor) ?? []),
        lease.shardId,
      ]);
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
    if (this.#revoked.has(contributor)) return undefined;
    this.#revoked.add(contributor);
    this.#trust.caught(contributor, `${this.id}: ${reason}`);
    const credited = this.#creditedTo.get(contributor) ?? [];
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
          flops: shardId >= 0 ? this.#flops(shardId) : 0,
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
  expire(now: number): Lease[] {
    return this.#book.expire(now);
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
