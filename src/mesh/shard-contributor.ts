import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { TypedEventEmitter } from 'main-event';
import { clampBudget, DEFAULT_BUDGET } from '../jobs/budget';
import type { Output } from '../jobs/codec';
import type { Receipt } from '../jobs/job';
import { notice } from '../log/log';
import { DIAL_TIMEOUT_MS } from '../wire/dial';
import { describeStreamError } from '../wire/stream-errors';
import type { AnnouncementMsg, LeaseMsg, NoWorkMsg, VerdictMsg } from './codec';
import { FramedStream } from './framed';
import type { MeshNode } from './node';
import { delay, Replies, sleep } from './owner-replies';
import { SHARD_PROTOCOL } from './topics';

/** What a contributor uses of the node (a full MeshNode satisfies it): dialing owners, and its
 * id for checking the receipts it earns. */
export type ContributorComponents = Pick<MeshNode, 'dialProtocol' | 'peerId'>;

/**
 * Computes one leased shard (fetching what it needs first, e.g. a model from the job's owner);
 * rejects with an error that has a `code` when the GPU fails.
 */
export type ShardComputer = (
  lease: LeaseMsg,
  job: AnnouncementMsg,
  signal: AbortSignal,
) => Promise<Output>;

export interface ContributorOptions {
  compute: ShardComputer;
  /** The adapter's largest binding, sent with work requests so owners size shards to fit. */
  maxBufferBytes: number;
  /** This tab's engine and adapter (e.g. "webgpu:google/swiftshader"), sent with work requests. */
  adapter: string;
  /** Measured GFLOP/s, sent with work requests (0 when unknown). */
  gflops?: number;
  /** Share of wall time the GPU may be busy (0, 1]: after a shard of t ms, rest t·(1−b)/b. */
  budget?: number; // default DEFAULT_BUDGET
  /** Resolves when work may go on (tab visible, on mains power, …); checked between shards. */
  gate?: () => Promise<void>;
  /** Ask for the next lease while one computes, so transfer overlaps compute. */
  prefetch?: boolean; // default true
  /** Gives up dialing an owner after this long. */
  dialTimeoutMs?: number; // default DIAL_TIMEOUT_MS
  /**
   * Checks and keeps the receipt of an accepted result (src/ledger supplies it: signature,
   * owner, contributor, job and shard); throws when it does not check out.
   */
  acceptReceipt?: (signed: Uint8Array, expect: ReceiptExpectation) => Promise<Receipt>;
  /** Whether another job could be worked on now (besides `jobId`): a job with nothing to lease
   * (paused, all leased) is then left for it, once its verdicts are in, instead of waited on. */
  elsewhere?: (jobId: string) => boolean;
}

/** How `work` ended: the job is finished (for this contributor), or it had nothing to lease now
 * and other work was waiting (ask it again after `retryAfterMs`). */
export type WorkEnd = { finished: true } | { finished: false; retryAfterMs: number };

export type ReceiptExpectation = Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>;

/** What happened to one of our results, as the owner answered. */
export interface ShardOutcome {
  jobId: string;
  shardId: number;
  accepted: boolean;
  /** Not accepted, but no fault of ours: another copy of the shard was settled first. */
  stale?: boolean;
  reason: string;
  computeMs: number;
  /** When the compute ended (ms since the epoch, this machine's clock). */
  computedAt: number;
  /** The owner's signed receipt, when accepted and its signature checked out. */
  receipt?: Receipt;
}

/** A lease given up because it outlived its lifetime (a hung or far too slow GPU). */
export interface AbandonedShard {
  jobId: string;
  shardId: number;
  leaseId: string;
  lifetimeMs: number;
}

/** An owner told us it has nothing more for us on a job, and why (e.g. it quarantined us). */
export interface StoppedByOwner {
  owner: string;
  jobId: string;
  /** The owner's words (one line, at most MAX_REASON_CHARS characters; a peer's claim). */
  reason: string;
}

export interface ContributorEvents {
  outcome: CustomEvent<ShardOutcome>;
  abandoned: CustomEvent<AbandonedShard>;
  /** An owner answered "finished" with a reason: it will give this contributor no more work. */
  stopped: CustomEvent<StoppedByOwner>;
}

/** Why a lease's compute was stopped: it outlived the lifetime its owner gave it. */
export class LeaseOverrunError extends Error {
  override readonly name = 'LeaseOverrunError';
  readonly code = 'overrun';
}

/** A lease in hand: heartbeating, with its lifetime running. */
interface HeldLease {
  type: 'held';
  lease: LeaseMsg;
  /** Aborts when the lease outlives its lifetime. */
  overrun: AbortSignal;
  /** Stops its heartbeats and lifetime timer. */
  release(): void;
}

/** Results sent and not yet answered, kept at most this many (oldest forgotten first). */
const MAX_PENDING = 1_024;

/**
 * The contributor's side of /tessel/shard/2.0.0: dials a job's owner over a direct WebRTC
 * connection, then asks for shards, computes them, heartbeats while computing, and returns
 * results until the owner says the job is finished. Verdicts come when the owner has decided,
 * which may be after the next lease (a copy waiting for another to compare with), so every
 * frame read may be a verdict.
 */
export class ShardContributor extends TypedEventEmitter<ContributorEvents> {
  readonly #node: ContributorComponents;
  readonly #o: ContributorOptions;
  /** Results awaiting a verdict, by lease id. */
  /** Owners that accepted a result with no receipt (told once each). */
  readonly #unpaid = new Set<string>();
  readonly #pending = new Map<
    string,
    { owner: string; jobId: string; shardId: number; computeMs: number; computedAt: number }
  >();
  /** Share of wall time the GPU may be busy, (0, 1]; may be changed while working. */
  budget: number;
  /** Measured GFLOP/s sent with work requests (0 when unknown); may be set once measured. */
  gflops: number;
  /** The engine and adapter sent with work requests; changes when the tab switches engine. */
  adapter: string;
  /** The engine's largest binding, sent with work requests so owners size shards to fit. */
  maxBufferBytes: number;
  /** Ask for the next lease while computing one (double-buffering); off: one at a time. */
  prefetch: boolean;

  constructor(components: ContributorComponents, options: ContributorOptions) {
    super();
    this.#node = components;
    this.#o = options;
    this.budget = options.budget ?? DEFAULT_BUDGET;
    this.gflops = options.gflops ?? 0;
    this.adapter = options.adapter;
    this.maxBufferBytes = options.maxBufferBytes;
    this.prefetch = options.prefetch ?? true;
  }

  /**
   * Works on `job` until it is finished, `signal` aborts, or the owner goes away. The next lease
   * is asked for before it is needed (when `prefetch` is on): as a compute starts, or after it
   * at a budget under a quarter; its inputs cross the network meanwhile, so the GPU does not
   * wait a round trip between shards (double-buffering). Stopping closes the stream: the owner
   * takes back every lease held on it at once.
   */
  async work(
    job: AnnouncementMsg,
    signal: AbortSignal = new AbortController().signal,
  ): Promise<WorkEnd> {
    const framed = new FramedStream(await this.#dial(job, signal));
    // One reader for the stream's whole life: verdicts are taken in as they come, also while
    // this side computes or rests, and replies go to the requests in the order they were made.
    const replies = new Replies(framed, signal, (v) => this.#verdict(v, job.owner));
    const held = new Set<HeldLease>();
    let next: Promise<HeldLease | NoWorkMsg> | undefined; // asked ahead, if any
    const askAhead = () => {
      next = this.#ask(framed, replies, job, held);
      next.catch(() => {}); // awaited next round; a broken stream fails the compute's write
    };
    try {
      while (!signal.aborted) {
        await this.#o.gate?.();
        const got = await (next ?? this.#ask(framed, replies, job, held));
        next = undefined;
        if (got.type === 'no-work') {
          if (got.finished) {
            if (got.reason) this.#stopped(job, got.reason);
            return { finished: true };
          }
          // Another job can use this tab now: leave this one, but not before its verdicts (and
          // receipts) are in, so that nothing earned is left behind on a closed stream.
          if (this.#o.elsewhere?.(job.jobId) && !this.#awaiting(job.jobId)) {
            return { finished: false, retryAfterMs: got.retryAfterMs };
          }
          await sleep(got.retryAfterMs, signal);
          continue;
        }
        const b = clampBudget(this.budget);
        // At a budget of a quarter or more the next lease is asked for as this one starts, so
        // it crosses during the compute; below, the rest alone (≥ 3 computes) leaves time, and
        // asking after the compute keeps the lease's wait well inside its lifetime.
        if (this.prefetch && b >= 0.25) askAhead();
        const busyMs = await this.#runLease(job, got, framed, signal);
        if (this.prefetch && !next) askAhead();
        if (b < 1) await sleep((busyMs * (1 - b)) / b, signal);
      }
      return { finished: false, retryAfterMs: 0 }; // stopped: the job is not over
    } catch (e) {
      // The owner may have gone (a reload) while verdicts were already on their way here: it
      // counts them delivered. Let the reader take in what arrived (a second at most).
      if (!signal.aborted) await Promise.race([replies.ended, delay(1_000)]);
      throw e;
    } finally {
      for (const h of held) h.release();
      await framed.close().catch(() => {});
    }
  }

  /** Whether a result of ours for `jobId` still awaits its verdict. */
  #awaiting(jobId: string): boolean {
    for (const p of this.#pending.values()) if (p.jobId === jobId) return true;
    return false;
  }

  /** Asks for a lease; resolves with it in hand (heartbeating from its arrival) or a no-work. */
  async #ask(
    framed: FramedStream,
    replies: Replies,
    job: AnnouncementMsg,
    held: Set<HeldLease>,
  ): Promise<HeldLease | NoWorkMsg> {
    const reply = replies.next(); // before the request: a fast answer must find its taker
    // A failed write throws its own error below; the reader then fails this reply too, and
    // nobody would await it: an unhandled rejection (the peer's going away, seen twice).
    reply.catch(() => {});
    await framed.write({
      type: 'work-request',
      jobId: job.jobId,
      maxBufferBytes: this.maxBufferBytes,
      gflops: this.gflops,
      adapter: this.adapter,
    });
    const r = await reply;
    return r.type === 'lease' ? this.#hold(r, framed, held) : r;
  }

  /**
   * Takes a lease in hand: heartbeats start now (one asked ahead waits for the one before it),
   * and so does its lifetime, which heartbeats cannot extend.
   */
  #hold(lease: LeaseMsg, framed: FramedStream, held: Set<HeldLease>): HeldLease {
    const heartbeat = () =>
      void framed.write({ type: 'heartbeat', leaseId: lease.leaseId }).catch(() => {});
    // The first at once: it tells the owner the lease has arrived (how it measures our link).
    heartbeat();
    const beat = setInterval(heartbeat, lease.heartbeatMs);
    // Past its lifetime the lease is the owner's again: stop computing (the engine recycles a
    // hung GPU), say so, and take new work.
    const overrun = new AbortController();
    const timer =
      lease.lifetimeMs > 0
        ? setTimeout(
            () =>
              overrun.abort(
                new LeaseOverrunError(
                  `lease ${lease.leaseId} outlived its ${lease.lifetimeMs} ms lifetime`,
                ),
              ),
            lease.lifetimeMs,
          )
        : undefined;
    const h: HeldLease = {
      type: 'held',
      lease,
      overrun: overrun.signal,
      release: () => {
        clearInterval(beat);
        clearTimeout(timer);
        held.delete(h);
      },
    };
    held.add(h);
    return h;
  }

  /** The owner says it is done with us on `job`, and why: say so, once per answer. */
  #stopped(job: AnnouncementMsg, reason: string) {
    notice(`owner ${job.owner} gives no more work on job ${job.jobId}: ${reason}`);
    this.safeDispatchEvent('stopped', { detail: { owner: job.owner, jobId: job.jobId, reason } });
  }

  async #dial(job: AnnouncementMsg, signal: AbortSignal): Promise<Stream> {
    // Browsers announce relayed WebRTC addresses, one per relay they reserved on; dialing one
    // ends in a direct connection, and libp2p tries them all (a relay may be down). The owner
    // refuses shard streams on limited (relayed) connections whatever we dial.
    const webrtc = job.addrs.filter((a) => a.includes('/webrtc'));
    const addrs = (webrtc.length > 0 ? webrtc : job.addrs).map((a) => multiaddr(a));
    if (addrs.length === 0) {
      throw new Error(`job ${job.jobId}: owner ${job.owner} announced no address`);
    }
    // A dial that cannot complete (the owner is gone) should fail, not hang. The timer is
    // cleared once the stream is open: libp2p may keep the dial's signal for the stream's life.
    const dial = new AbortController();
    const ms = this.#o.dialTimeoutMs ?? DIAL_TIMEOUT_MS;
    const timer = setTimeout(() => dial.abort(new Error(`dial timed out after ${ms} ms`)), ms);
    const onAbort = () => dial.abort(signal.reason);
    signal.addEventListener('abort', onAbort);
    try {
      return await this.#node.dialProtocol(addrs, SHARD_PROTOCOL, {
        signal: dial.signal,
      });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Computes one lease and sends the result; returns the milliseconds the GPU was busy. */
  async #runLease(
    job: AnnouncementMsg,
    held: HeldLease,
    framed: FramedStream,
    signal: AbortSignal,
  ): Promise<number> {
    const { lease, overrun } = held;
    let output: Output;
    const t0 = performance.now();
    try {
      overrun.throwIfAborted();
      output = await this.#o.compute(lease, job, AbortSignal.any([signal, overrun]));
    } catch (e) {
      if (signal.aborted) throw e;
      const code = String((e as { code?: unknown }).code ?? 'error').slice(0, 64);
      // An Event (a model stream that broke) says nothing as String(e): describe it.
      const message = (e instanceof Error ? e.message : describeStreamError(e)).slice(0, 500);
      await framed.write({ type: 'failure', leaseId: lease.leaseId, code, message }, signal);
      if (overrun.aborted) {
        const { jobId, shardId, leaseId, lifetimeMs } = lease;
        this.safeDispatchEvent('abandoned', { detail: { jobId, shardId, leaseId, lifetimeMs } });
      }
      return performance.now() - t0;
    } finally {
      held.release();
    }
    const computeMs = performance.now() - t0;
    this.#pending.set(lease.leaseId, {
      owner: job.owner,
      jobId: lease.jobId,
      shardId: lease.shardId,
      computeMs,
      computedAt: Date.now(),
    });
    if (this.#pending.size > MAX_PENDING) this.#pending.delete(this.#pending.keys().next().value!);
    await framed.write(
      { type: 'result', jobId: lease.jobId, leaseId: lease.leaseId, output, computeMs },
      signal,
    );
    return computeMs;
  }

  /**
   * An owner's verdict on one of our results; a receipt is kept only if it checks out. It is
   * matched by lease, owner and job; the shard is the one we computed (an owner that forgot the
   * lease, e.g. of a late speculative copy, cannot name it), and the receipt must be for it.
   */
  async #verdict(v: VerdictMsg, owner: string) {
    const mine = this.#pending.get(v.leaseId);
    if (!mine || mine.owner !== owner || mine.jobId !== v.jobId) {
      notice(`owner ${owner} sent a verdict for a result we did not send it`);
      return;
    }
    this.#pending.delete(v.leaseId);
    let receipt: Receipt | undefined;
    if (v.accepted && this.#o.acceptReceipt && v.receipt.length === 0) {
      // An owner without books (a script, a bench) pays nothing: said once, not per shard.
      if (!this.#unpaid.has(owner))
        notice(`owner ${owner} accepts results without receipts: no credit`);
      this.#unpaid.add(owner);
    } else if (v.accepted && this.#o.acceptReceipt) {
      try {
        receipt = await this.#o.acceptReceipt(v.receipt, {
          owner,
          contributor: this.#node.peerId.toString(),
          jobId: mine.jobId,
          shardId: mine.shardId,
        });
      } catch (e) {
        notice(`owner ${owner} sent a bad receipt: ${(e as Error).message}`);
      }
    }
    this.safeDispatchEvent('outcome', {
      detail: {
        jobId: mine.jobId,
        shardId: mine.shardId,
        accepted: v.accepted,
        ...(v.stale ? { stale: true } : {}),
        reason: v.reason,
        computeMs: mine.computeMs,
        computedAt: mine.computedAt,
        ...(receipt ? { receipt } : {}),
      },
    });
  }
}
