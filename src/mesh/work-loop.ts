import { peerIdFromString } from '@libp2p/peer-id';
import { TypedEventEmitter } from 'main-event';
import { BUDGET_MAX, BUDGET_MIN, isBudget } from '../jobs/budget';
import type { Engine } from '../jobs/job';
import { computeShard, requiredModel } from '../jobs/kinds';
import type { Reputation } from '../jobs/reputation';
import { notice } from '../log/log';
import { DEFAULT_MAX_MODEL_BYTES } from '../model/limits';
import { describeStreamError } from '../wire/stream-errors';
import type { AnnouncementMsg } from './codec';
import type { JobBoard } from './job-board';
import type { ModelLibrary } from './models';
import type { MeshNode } from './node';
import type { ContributionView, StoppedBy } from './read-model';
import {
  type AbandonedShard,
  type ContributorOptions,
  ShardContributor,
  type ShardOutcome,
} from './shard-contributor';

/** Largest model this tab fetches to contribute when its options name no limit. */

/** How long a job whose work broke is skipped before it is tried again. */
const SKIP_BROKEN_MS = 1_000; // ms
/** An owner's first back-off; it doubles with each consecutive failure, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 1_000; // ms
const MAX_BACKOFF_MS = 300_000; // ms
/** Skip and back-off records kept before those of jobs and owners gone from the board go. */
const PRUNE_AT = 4_096;
/** How long stopping waits for the shard being worked on to close its stream. */
const STOP_WAIT_MS = 2_000; // ms
/** Owners' reasons for turning this tab away, kept for the volunteer's view. */
const MAX_STOPPED_BY = 20;

/** What the work loop is built from: the narrow parts of the mesh it uses. */
export interface WorkLoopComponents {
  /** The node shard streams are dialed from. */
  node: MeshNode;
  /** Announced jobs. */
  board: Pick<JobBoard, 'jobs'>;
  /** Where a lease's model comes from when this tab lacks it. */
  models: Pick<ModelLibrary, 'ensure'>;
  /** Owners this tab's own owner side quarantined get no work from it either. */
  reputation: Pick<Reputation, 'isQuarantined'>;
}

export interface WorkLoopOptions
  extends Pick<
    ContributorOptions,
    'maxBufferBytes' | 'adapter' | 'budget' | 'gflops' | 'gate' | 'acceptReceipt'
  > {
  /** The engine shards are computed on. */
  engine: Engine;
  /** This tab's peer id: its own jobs are not work for it. */
  peerId: string;
  /** Only jobs announced for this kernel build are worked on. */
  kernelDigest: string;
  maxModelBytes?: number; // bytes, default DEFAULT_MAX_MODEL_BYTES
  /** Whether it starts contributing. */
  contributing: boolean;
}

export interface WorkLoopEvents {
  /** An owner answered one of this tab's results. */
  outcome: CustomEvent<ShardOutcome>;
  /** A shard was given back: its compute outlived the lease. */
  abandoned: CustomEvent<AbandonedShard>;
  /** An owner stopped giving this tab work, and said why. */
  stopped: CustomEvent<StoppedBy>;
}

/**
 * The contributor's side of a tab: which announced job to work on (the best-paying it can
 * run), one at a time, skipping a job a while when it has nothing to lease or its work broke,
 * and backing off an owner whose work cannot be had (dial failed, stream broke), doubling to
 * MAX_BACKOFF_MS. The work itself is ShardContributor's.
 */
export class WorkLoop extends TypedEventEmitter<WorkLoopEvents> {
  readonly contributor: ShardContributor;
  /** Every verdict this tab received as a contributor, in order. */
  readonly outcomes: ShardOutcome[] = [];
  /** Owners that stopped giving this tab work, and why; newest first, at most MAX_STOPPED_BY. */
  readonly stoppedBy: StoppedBy[] = [];
  #contributing: boolean;
  #busy = false;
  /** The current work, settled when it has closed its shard stream. */
  #working: Promise<void> = Promise.resolve();
  /** Stops the shard being worked on when contributing is switched off. */
  #work = new AbortController();
  readonly #abort = new AbortController();
  readonly #skip = new Map<string, number>(); // jobId -> retry after (ms since epoch)
  /** Owners whose work could not be had: consecutive failures and when to try them again.
   * Announcing jobs that do not exist costs their announcer's other jobs the same back-off. */
  readonly #backoff = new Map<string, { failures: number; until: number }>();

  constructor(
    readonly c: WorkLoopComponents,
    readonly o: WorkLoopOptions,
  ) {
    super();
    this.#contributing = o.contributing;
    this.contributor = new ShardContributor(c.node, {
      maxBufferBytes: o.maxBufferBytes,
      adapter: o.adapter,
      ...(o.budget !== undefined ? { budget: o.budget } : {}),
      ...(o.gflops !== undefined ? { gflops: o.gflops } : {}),
      ...(o.gate ? { gate: o.gate } : {}),
      ...(o.acceptReceipt ? { acceptReceipt: o.acceptReceipt } : {}),
      elsewhere: (jobId) => this.workable().some((j) => j.jobId !== jobId),
      compute: leaseCompute(c.models, o.engine),
    });
    this.contributor.addEventListener('abandoned', (e) => {
      const abandoned = e.detail;
      notice(
        `gave back shard ${abandoned.shardId} of ${abandoned.jobId}: it outlived its ${abandoned.lifetimeMs} ms lease`,
      );
      this.safeDispatchEvent('abandoned', { detail: abandoned });
    });
    this.contributor.addEventListener('stopped', (e) => {
      const { owner, jobId, reason } = e.detail;
      const stopped = { owner, jobId, reason, at: Date.now() };
      this.stoppedBy.unshift(stopped);
      this.stoppedBy.splice(MAX_STOPPED_BY);
      this.safeDispatchEvent('stopped', { detail: stopped });
    });
    this.contributor.addEventListener('outcome', (e) => {
      const outcome = e.detail;
      this.outcomes.push(outcome);
      this.safeDispatchEvent('outcome', { detail: outcome });
    });
  }

  get contributing(): boolean {
    return this.#contributing;
  }

  /** Contributing and waiting for work (the supply the price rule counts). */
  get idle(): boolean {
    return this.#contributing && !this.#busy;
  }

  /** Switches contributing on or off; off abandons the shard being worked on at once. Returns
   * whether anything changed. */
  setContributing(on: boolean): boolean {
    if (on === this.#contributing) return false;
    this.#contributing = on;
    if (!on) {
      this.#work.abort();
      this.#work = new AbortController();
    }
    if (on) void this.pick();
    return true;
  }

  /** What the volunteer's view shows of this tab's contribution. */
  view(): ContributionView {
    return {
      contributing: this.#contributing,
      verified: this.outcomes.filter((o) => o.accepted).length,
      rejected: this.outcomes.filter((o) => !o.accepted).length,
      stoppedBy: [...this.stoppedBy],
    };
  }

  /** This tab's measured GFLOP/s, sent with its next work requests (owners size deadlines). */
  setMeasuredSpeed(gflops: number): void {
    if (gflops > 0 && Number.isFinite(gflops)) this.contributor.gflops = gflops;
  }

  /** The engine this tab computes on now (its identity, e.g. "cpu:wasm-fma", and largest
   * binding), sent with its next work requests: redundancy tells engines apart by it. */
  setEngine(adapter: string, maxBufferBytes: number): void {
    this.contributor.adapter = adapter;
    this.contributor.maxBufferBytes = maxBufferBytes;
  }

  /** The share of wall time the GPU may be busy, (0, 1]; applies from the next shard. */
  setBudget(budget: number): void {
    if (!isBudget(budget)) {
      throw new RangeError(`budget ${budget} is not in [${BUDGET_MIN}, ${BUDGET_MAX}]`);
    }
    this.contributor.budget = budget;
  }

  /** Works on announced jobs one at a time while contributing (call it when the board
   * changes). */
  async pick(): Promise<void> {
    if (this.#busy || !this.#contributing) return;
    // The best-paying work this tab can run first.
    const job = this.workable()[0];
    if (!job) return;
    this.#busy = true;
    const signal = AbortSignal.any([this.#abort.signal, this.#work.signal]);
    try {
      const work = this.contributor.work(job, signal);
      this.#working = work.then(
        () => {},
        () => {},
      );
      const end = await work;
      this.#backoff.delete(job.owner);
      if (end.finished) {
        this.#skip.set(job.jobId, Number.POSITIVE_INFINITY); // finished: never again
      } else if (end.retryAfterMs > 0) {
        // Nothing to lease there now, and other work is waiting: that first, this one later.
        this.#skip.set(job.jobId, Date.now() + end.retryAfterMs);
        setTimeout(() => void this.pick(), end.retryAfterMs);
      }
    } catch (e) {
      // Switched off or stopped: the stream was closed on purpose, nobody failed.
      if (!signal.aborted) await this.#failed(job, e);
    } finally {
      this.#busy = false;
    }
    void this.pick();
  }

  /** Announced jobs this tab could work on now, the best-paying first. */
  workable(): AnnouncementMsg[] {
    const now = Date.now();
    const maxModel = this.o.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
    return this.c.board
      .jobs()
      .filter(
        (j) =>
          j.owner !== this.o.peerId &&
          !this.c.reputation.isQuarantined(j.owner) &&
          j.shardsLeft > 0 &&
          !j.paused &&
          j.kernelDigest === this.o.kernelDigest &&
          j.modelBytes <= maxModel &&
          (this.#skip.get(j.jobId) ?? 0) <= now &&
          (this.#backoff.get(j.owner)?.until ?? 0) <= now,
      )
      .sort((a, b) => b.price - a.price);
  }

  /** Stops: the shard being worked on is abandoned and its stream closed (waited for up to
   * STOP_WAIT_MS, so its owner takes the lease back at once rather than at its deadline). */
  async stop(): Promise<void> {
    this.#contributing = false;
    this.#work.abort();
    this.#abort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#working, new Promise((r) => (timer = setTimeout(r, STOP_WAIT_MS)))]);
    clearTimeout(timer);
  }

  /** Work on `job` broke (dial failed, stream broke): skip it a while, back off its owner. */
  async #failed(job: AnnouncementMsg, e: unknown) {
    notice(`work on job ${job.jobId} of ${job.owner} stopped: ${describeStreamError(e)}`);
    this.#skip.set(job.jobId, Date.now() + SKIP_BROKEN_MS);
    const failures = (this.#backoff.get(job.owner)?.failures ?? 0) + 1;
    const wait = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 1));
    this.#backoff.set(job.owner, { failures, until: Date.now() + wait });
    this.#prune();
    // The owner may have reloaded: drop what is left of the old connection, or the next dial
    // would reuse it and wait for it to time out.
    await this.c.node.hangUp(peerIdFromString(job.owner)).catch(() => {});
  }

  /** Keeps the skip and back-off records to jobs and owners still on the board. */
  #prune() {
    if (this.#skip.size + this.#backoff.size < PRUNE_AT) return;
    const live = this.c.board.jobs();
    const jobs = new Set(live.map((j) => j.jobId));
    const owners = new Set(live.map((j) => j.owner));
    for (const id of this.#skip.keys()) if (!jobs.has(id)) this.#skip.delete(id);
    for (const id of this.#backoff.keys()) if (!owners.has(id)) this.#backoff.delete(id);
  }
}

/** The contributor's compute: fetches the model a lease needs from the job's owner when this
 * tab lacks it, then runs the work on `engine`. */
export function leaseCompute(
  models: Pick<ModelLibrary, 'ensure'>,
  engine: Engine,
): ContributorOptions['compute'] {
  return async (lease, job, signal) => {
    const digest = requiredModel(lease.work);
    if (digest) {
      const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0]!;
      await models.ensure(digest, { owner: job.owner, addr, jobId: job.jobId }, signal);
    }
    return computeShard(lease.work, engine, signal);
  };
}
