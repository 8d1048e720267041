import { type Block, type FreivaldsOptions, freivalds, type MatmulProblem } from './freivalds';
import { type Rng, uniform } from './rng';
import { type Lease, Scheduler, type SchedulerOptions } from './scheduler';

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

export interface VerificationReport {
  shards: number;
  accepted: number;
  /** Of `accepted`, shards verified in an earlier session (restored after a reload). */
  restored: number;
  rejected: number;
  reassignments: number;
  /** Speculative copies of straggling shards ÷ shards: what redundancy cost. */
  redundancyOverhead: number;
  verifyMs: number; // total time spent in the verifier
  computeMs: number; // contributors' reported compute time of accepted shards
  /** verifyMs ÷ computeMs: the owner's cost of trusting nobody. */
  verifyOverCompute: number;
}

export type LeaseOffer =
  | { kind: 'lease'; lease: Lease; block: Block; a: Float32Array; b: Float32Array }
  | { kind: 'none'; finished: boolean; retryAfterMs: number };

export interface SubmitOutcome {
  settlement: 'accepted' | 'rejected' | 'stale';
  reason: string;
}

/**
 * The owner's side of one matmul job: leases blocks of C, verifies every result with Freivalds
 * before it counts, and assembles C. Pure: the clock is passed in, nothing touches the network.
 */
export class MatmulOwnerJob {
  readonly book: Scheduler;
  readonly c: Float32Array;
  readonly #report: VerificationReport;

  constructor(
    readonly id: string,
    readonly problem: MatmulProblem,
    readonly blocks: Block[],
    readonly options: SchedulerOptions & { verify?: FreivaldsOptions; now?: () => number } = {},
  ) {
    this.book = new Scheduler(blocks.length, {
      shardFlops: (s) => 2 * blocks[s]!.rows * blocks[s]!.cols * problem.k,
      ...options,
    });
    this.c = new Float32Array(problem.m * problem.n);
    this.#report = {
      shards: blocks.length,
      accepted: 0,
      restored: 0,
      rejected: 0,
      reassignments: 0,
      redundancyOverhead: 0,
      verifyMs: 0,
      computeMs: 0,
      verifyOverCompute: 0,
    };
  }

  get done(): boolean {
    return this.book.done;
  }

  report(): VerificationReport {
    const r = {
      ...this.#report,
      reassignments: this.book.reassignments,
      redundancyOverhead: this.book.speculativeLeases / this.blocks.length,
    };
    r.verifyOverCompute = r.computeMs > 0 ? r.verifyMs / r.computeMs : 0;
    return r;
  }

  /** Puts back a block verified in an earlier session; it is never leased again. */
  restore(shardId: number, c: Float32Array): void {
    const block = this.blocks[shardId];
    if (!block || c.length !== block.rows * block.cols || this.book.isDone(shardId)) return;
    this.book.markDone(shardId);
    this.#write(block, c);
    this.#report.accepted++;
    this.#report.restored++;
  }

  #write(block: Block, c: Float32Array) {
    for (let i = 0; i < block.rows; i++) {
      this.c.set(
        c.subarray(i * block.cols, (i + 1) * block.cols),
        (block.row0 + i) * this.problem.n + block.col0,
      );
    }
  }

  /** Bytes a contributor's GPU must bind for one shard: its A rows, B columns and C block. */
  shardBytes(): number {
    let max = 0;
    for (const b of this.blocks)
      max = Math.max(max, (b.rows + b.cols) * this.problem.k + b.rows * b.cols);
    return 4 * max;
  }

  /**
   * A lease for `contributor` (measured at `gflops`, 0 if unknown, able to bind
   * `maxBufferBytes`), or why there is none. A GPU too small for this job's shards gets none.
   */
  offer(contributor: string, now: number, gflops = 0, maxBufferBytes = Infinity): LeaseOffer {
    if (this.done) return { kind: 'none', finished: true, retryAfterMs: 0 };
    if (this.shardBytes() > maxBufferBytes)
      return { kind: 'none', finished: true, retryAfterMs: 0 };
    const lease = this.book.lease(contributor, now, gflops);
    if (!lease) return { kind: 'none', finished: false, retryAfterMs: 1_000 };
    const block = this.blocks[lease.shardId]!;
    return { kind: 'lease', lease, block, ...shardInputs(this.problem, block) };
  }

  /** Verifies a contributor's block; only an accepted one is written into C. */
  submit(
    leaseId: string,
    contributor: string,
    rows: number,
    cols: number,
    c: Float32Array,
    computeMs: number,
  ): SubmitOutcome {
    const lease = this.book.get(leaseId, contributor);
    if (!lease) return { settlement: 'stale', reason: 'no such lease for this peer' };
    const block = this.blocks[lease.shardId]!;
    let accepted = false;
    let reason = 'shape';
    if (rows === block.rows && cols === block.cols) {
      const now = this.options.now ?? (() => performance.now());
      const t0 = now();
      const v = freivalds(this.problem, block, c, this.options.verify);
      this.#report.verifyMs += now() - t0;
      accepted = v.accepted;
      reason = v.accepted ? 'verified' : (v.reason ?? 'residual');
    }
    const settlement = this.book.settle(leaseId, contributor, accepted);
    if (settlement === 'accepted') {
      this.#report.accepted++;
      this.#report.computeMs += computeMs;
      this.#write(block, c);
    } else if (settlement === 'rejected') {
      this.#report.rejected++;
    }
    return { settlement, reason };
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
