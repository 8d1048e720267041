import type { ComputeApi } from '../worker/api';
import type { JobKind, Output, Work } from './codec';
import type { Lease } from './scheduler';

/**
 * What every kind of job shares. src/mesh knows these types and the kind registry (kinds.ts),
 * nothing about any one kind: it hands out a job's leases, passes results to it, and delivers
 * the verdicts the job decides.
 */

/** A spec that cannot run: `field` names what is wrong. */
export class JobSpecError extends Error {
  override readonly name = 'JobSpecError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** How a verdict was reached; receipts name it. */
export type VerificationMethod = 'freivalds' | 'redundancy' | 'canary' | 'spot-check';

/** Credit for one verified shard, as its owner signs it (codec and signing: src/ledger). */
export interface Receipt {
  jobId: string;
  shardId: number;
  owner: string; // peer id that signs
  contributor: string; // peer id credited
  flops: number; // work in the shard, from the job
  method: VerificationMethod;
  issuedAt: number; // ms since the epoch
  /** µcredits paid: the shard's GFLOP × the job's price (credits per GFLOP) × 10⁶, rounded.
   * 0 on receipts from before the market (version 1). */
  credit: number;
}

/** The contributor asking for work, as it described itself in its work request, and its link
 * as the owner measured it. */
export interface ContributorInfo {
  id: string; // peer id
  /** Measured matmul speed (GFLOP/s), 0 when unknown: deadlines are sized to it. */
  gflops: number;
  /** Throughput of the link to this contributor as the owner measured it (bytes/s), 0 when
   * unknown (DEFAULT_LINK_BYTES_PER_SEC, src/jobs/lease-timing.ts, is assumed): deadlines
   * cover the shard's transfer at this rate. */
  bytesPerSec: number;
  /** Its adapter's largest binding (bytes): shards that do not fit are not leased to it (a
   * matmul splits one to fit). */
  maxBufferBytes: number;
  /** The largest lease frame it accepts (bytes), when it said. */
  maxFrameBytes?: number;
  /** Its engine and adapter (e.g. "webgpu:google/swiftshader"): redundant copies of a shard go
   * to different adapters when the mesh has them. */
  adapter: string;
}

/**
 * Why a job leases nothing to a contributor now, so the owner can say why a job is stalled:
 * - 'too-big': no shard fits the contributor's buffer or frame limit, even split as far as
 *   shards go (smaller shards do not help: a smaller engine does);
 * - 'barred': the owner's checks caught this contributor;
 * - 'all-leased': every shard left is out with someone (or waits for a copy elsewhere);
 * - 'budget': shards are left, but the owner's money cannot pay for one now.
 */
export type NoLeaseReason = 'too-big' | 'barred' | 'all-leased' | 'budget';

/** The owner's `mayTake` (its money), noting whether it refused a shard: a job that leases
 * nothing then says 'budget' rather than 'all-leased'. */
export function watchRefusals(mayTake?: (shardId: number) => boolean): {
  mayTake: (shardId: number) => boolean;
  refused: () => boolean;
} {
  let refused = false;
  return {
    mayTake: (s) => {
      const ok = mayTake?.(s) ?? true;
      if (!ok) refused = true;
      return ok;
    },
    refused: () => refused,
  };
}

export type LeaseOffer =
  | { kind: 'lease'; lease: Lease; work: Work }
  | { kind: 'none'; finished: boolean; retryAfterMs: number; reason?: NoLeaseReason };

/** The owner's decision on one contributor's result. */
export interface Verdict {
  jobId: string;
  shardId: number;
  leaseId: string;
  contributor: string;
  settlement: 'accepted' | 'rejected' | 'stale';
  reason: string;
  method: VerificationMethod;
  /** Work in the shard, computed from the job (never self-reported): the credit it earns. */
  flops: number;
}

/** What one step of verification settled. */
export interface Settlement {
  verdicts: Verdict[];
  /** Set when a shard's verified output became final: the owner persists it before anyone
   * hears "accepted". */
  shard?: { shardId: number; output: Output };
  /** Contributors caught in this job (or, while it runs, in another of this owner's jobs). */
  revoke?: Revocation[];
}

/**
 * A contributor the owner's own check caught returning a wrong result: its credit for this job
 * is void. The mesh voids every receipt it issued the contributor for `jobId` (one log entry
 * stating `reason`) and records it as rejected; the job has already redone what it returned.
 * Emitted once per contributor and job; every later result of the contributor in the job is
 * rejected.
 */
export interface Revocation {
  jobId: string;
  contributor: string;
  /** Why, for the log entry: which check caught it, on which shard of which job. */
  reason: string;
  /** Shards of this job it was credited for (accepted verdicts) before it was caught: their
   * receipts are void. */
  credited: number[];
  /** Shards whose verified output is being re-verified because the contributor was part of the
   * agreement that settled it: a stored output of one of these must not be restored until a
   * settlement carries the shard again. */
  reopened: number[];
}

export interface VerificationReport {
  kind: JobKind;
  /** Every shard the job leases, canaries included: a shard split into smaller ones no longer
   * counts, its pieces do (the job's shardCount). */
  shards: number;
  /** Shards verified (an agreed copy counts once). */
  accepted: number;
  /** Of `accepted`, shards verified in an earlier session (restored after a reload). */
  restored: number;
  /** Results rejected. */
  rejected: number;
  /** Leases that ended without a result and went out again. */
  reassignments: number;
  /** Copies computed beyond one per shard (speculative and redundant) ÷ shards. */
  redundancyOverhead: number;
  /** Canary shards (known answers), and how many of their results were wrong. */
  canaries: number;
  canariesFailed: number;
  /** Results the owner checked itself (recomputed, or teacher-forced for generated tokens). */
  spotChecks: number;
  spotChecksFailed: number;
  /** Shards whose copies disagreed. */
  disagreements: number;
  verifyMs: number; // the owner's time spent verifying (canary answers and spot-checks included)
  /** Compute time of accepted results as the owner observed it: from lease to result (ms;
   * transfers included), so no contributor can shrink or inflate it. */
  computeMs: number;
  /** What contributors said their compute took (ms): a hint, never used for a decision. */
  reportedComputeMs: number;
  /** Rows of matmul results the owner recomputed exactly (residuals between the expected
   * honest noise and the rigorous bound). */
  rowsRecomputed: number;
  /** verifyMs ÷ computeMs: the owner's cost of trusting nobody. */
  verifyOverCompute: number;
  /** Contributors barred from the job: caught by its checks, or by another job of the owner
   * while this one ran (all they returned here is redone). */
  contributorsCaught: number;
  /** Rows (sequences) the owner's own checks recomputed, canaries included (inference kinds). */
  rowsChecked: number;
  /** FLOPs of the owner's own checks (inference kinds), beside computeFlops: their ratio is
   * the checks' cost in work, which no clock can skew. */
  checkFlops: number;
  /** FLOPs of the verified real shards (restored ones not counted). */
  computeFlops: number;
}

/** An empty report of a kind, for jobs to fill in. */
export function emptyReport(kind: JobKind, shards: number): VerificationReport {
  return {
    kind,
    shards,
    accepted: 0,
    restored: 0,
    rejected: 0,
    reassignments: 0,
    redundancyOverhead: 0,
    canaries: 0,
    canariesFailed: 0,
    spotChecks: 0,
    spotChecksFailed: 0,
    disagreements: 0,
    verifyMs: 0,
    computeMs: 0,
    reportedComputeMs: 0,
    rowsRecomputed: 0,
    verifyOverCompute: 0,
    contributorsCaught: 0,
    rowsChecked: 0,
    checkFlops: 0,
    computeFlops: 0,
  };
}

/** Where a job's shards are, for a progress bar: each shard is counted in one place at most. */
export interface JobProgress {
  shards: number;
  /** Shards out with a contributor, no result back yet. */
  leased: number;
  /** Shards with a result back that is not yet verified (a copy waiting for its twin, a check). */
  awaiting: number;
  /** Shards verified. */
  verified: number;
  /** Inference kinds: the job's rows (sequences), and how many of them are verified. */
  rows?: number;
  rowsVerified?: number;
}

/**
 * A job's progress from its outstanding leases and counts: a shard is counted in one place at
 * most (a lease on a shard that is already awaiting or verified counts there, not as leased).
 */
export function progressOf(
  shards: number,
  outstanding: readonly { shardId: number }[],
  awaiting: number,
  verified: number,
): JobProgress {
  const leased = new Set(outstanding.map((l) => l.shardId)).size;
  return {
    shards,
    leased: Math.max(0, Math.min(leased, shards - verified - awaiting)),
    awaiting,
    verified,
  };
}

/**
 * The owner's side of one job of any kind: leases its shards, verifies every result before it
 * counts and assembles the answer. Pure: the clock is passed in, and whatever computing the
 * owner does itself (canary answers, spot-checks) goes through an engine handed to the job.
 */
export interface OwnerJob {
  readonly id: string;
  readonly kind: JobKind;
  /** Shards that count, canaries included (what announcements show): a shard split into
   * smaller ones no longer counts, its pieces do. */
  readonly shardCount: number;
  readonly doneCount: number;
  readonly done: boolean;
  /** The model the job runs (by content digest), when it runs one. */
  readonly modelDigest?: string;
  /** Where the shards are now (leased, awaiting verification, verified). */
  progress(): JobProgress;
  /** Ids of the shards verified so far (restored ones included), ascending. */
  doneShards(): number[];
  /** Bytes a contributor binds for shard `shardId` (what its lease and result carry); without
   * an id, the largest shard still to do. Kinds that do not know leave it out. */
  shardBytes?(shardId?: number): number;
  /**
   * Told every settlement as it happens, synchronously: on a submit, or later (a copy that
   * waited for a second one, an owner check that finished).
   */
  onSettled?: (s: Settlement) => void;
  /** A lease for `c`, or why there is none. */
  /**
   * A lease for `c`, or why there is none. `mayTake` narrows the shards it may lease (the
   * owner's money: a shard whose credit nobody can pay now is left for later, not leased and
   * given back).
   */
  offer(c: ContributorInfo, now: number, mayTake?: (shardId: number) => boolean): LeaseOffer;
  /** Floating-point operations of shard `shardId` (its compute, not its verification), 0 for
   * no such shard: what its verdicts credit, its price, and the GFLOP announcements show. */
  shardFlops(shardId: number): number;
  /** Verifies a result; verdicts arrive through onSettled. Resolves when this result's checks
   * are done (an owner recomputation may take a while). `computeMs` is the contributor's claim
   * (kept as a hint); `now` (ms) is when the result arrived, on the clock leases were issued. */
  submit(
    leaseId: string,
    contributor: string,
    output: Output,
    computeMs: number,
    now: number,
  ): Promise<void>;
  /** Pushes a current lease's deadline out. False when it is not current. */
  heartbeat(leaseId: string, contributor: string, now: number): boolean;
  /** Ends a lease whose contributor gave up; its shard goes out again. */
  fail(leaseId: string, contributor: string): boolean;
  /** Fails every lease `contributor` holds (it disconnected). */
  dropContributor(contributor: string): number;
  /** Releases lapsed leases. */
  expire(now: number): Lease[];
  outstanding(): Lease[];
  /** Puts back a shard verified in an earlier session. False when it does not fit the job.
   * A job that does not hold its answer (`holdsAnswer` false) takes the id alone: its output
   * stays in the store. */
  restore(shardId: number, output?: Output): boolean;
  /** False when the job keeps no answer in memory (a data-set job): its outputs are read from
   * the owner's store. */
  readonly holdsAnswer?: boolean;
  report(): VerificationReport;
  /** The verified answer assembled so far (complete once `done`). */
  answer(): JobAnswer;
  /** The owner dropped the job (cancelled, or forgotten unfinished): it lets go of what it
   * listens to. A finished job needs no call. */
  close?(): void;
  /**
   * Splits every shard still pending or that lapsed into smaller ones (the owner's "smaller
   * shards" action); returns how many shards were split. Kinds whose shards do not split
   * leave it out.
   */
  splitPending?(): number;
  /** The shards split so far, parents in order: stored with the job and passed back (the
   * kind's `splits` option) so a reloaded job has the same shard ids. */
  splits?(): number[];
  /** Told the whole list of splits after each one, to persist it. */
  onSplit?: (splits: number[]) => void;
}

/** A job's verified answer. */
export type JobAnswer =
  | { kind: 'matmul'; c: Float32Array } // m×n, row-major
  // Per sequence, in order; empty for a data-set job, whose outputs stay in the owner's store.
  | { kind: 'inference'; logits: Float32Array; tokens: Uint32Array; scores?: Float32Array };

/**
 * What the compute functions of job kinds and the owner's own checks run on: the Worker's API
 * (src/worker/api.ts; the page's ComputeClient has the same methods), or a reference in tests.
 */
export type Engine = Pick<
  ComputeApi,
  'matmul' | 'logits' | 'generateTokens' | 'embed' | 'score'
> & {
  /** Runs `fn` (calls on this engine) so that `signal` stops it, dispatch and all (the page's
   * ComputeClient recycles its Worker). Engines that cannot stop a dispatch leave it out: the
   * caller then stops waiting, and the work finishes unobserved. */
  cancellable?<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T>;
};
