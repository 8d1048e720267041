import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import type { Receipt } from '../jobs/job';
import type { Output } from '../jobs/work-codec';
import type { AnnouncementMsg, LeaseMsg, NoWorkMsg, ShardMsg, VerdictMsg } from './codec';
import { FramedStream } from './framed';
import type { MeshNode } from './node';
import { SHARD_PROTOCOL } from './topics';

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
  budget?: number; // default 0.5
  /** Resolves when work may go on (tab visible, on mains power, …); checked between shards. */
  gate?: () => Promise<void>;
  /** Ask for the next lease while one computes, so transfer overlaps compute. */
  prefetch?: boolean; // default true
  /** Gives up dialing an owner after this long. */
  dialTimeoutMs?: number; // default 15_000
  /**
   * Checks and keeps the receipt of an accepted result (src/ledger supplies it: signature,
   * owner, contributor, job and shard); throws when it does not check out.
   */
  acceptReceipt?: (signed: Uint8Array, expect: ReceiptExpectation) => Promise<Receipt>;
}

export type ReceiptExpectation = Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>;

/** What happened to one of our results, as the owner answered. */
export interface ShardOutcome {
  jobId: string;
  shardId: number;
  accepted: boolean;
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

export interface ContributorEvents {
  outcome: CustomEvent<ShardOutcome>;
  abandoned: CustomEvent<AbandonedShard>;
}

/** Why a lease's compute was stopped: it outlived the lifetime its owner gave it. */
export class LeaseOverrunError extends Error {
  override readonly name = 'LeaseOverrunError';
  readonly code = 'overrun';
}

/** A lease in hand: heartbeating, with its lifetime running. */
interface HeldLease {
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
export class ShardContributor extends EventTarget {
  readonly #node: MeshNode;
  readonly #o: ContributorOptions;
  /** Results awaiting a verdict, by lease id. */
  readonly #pending = new Map<
    string,
    { owner: string; jobId: string; shardId: number; computeMs: number; computedAt: number }
  >();
  /** Share of wall time the GPU may be busy, (0, 1]; may be changed while working. */
  budget: number;
  /** Measured GFLOP/s sent with work requests (0 when unknown); may be set once measured. */
  gflops: number;
  /** Ask for the next lease while computing one (double-buffering); off: one at a time. */
  prefetch: boolean;

  constructor(node: MeshNode, options: ContributorOptions) {
    super();
    this.#node = node;
    this.#o = options;
    this.budget = options.budget ?? 0.5;
    this.gflops = options.gflops ?? 0;
    this.prefetch = options.prefetch ?? true;
  }

  /**
   * Works on `job` until it is finished, `signal` aborts, or the owner goes away. While one lease
   * computes, the next is already asked for (when `prefetch` is on), so its inputs cross the
   * network during the compute and the GPU does not wait for a round trip between shards.
   * Stopping closes the stream: the owner takes back every lease held on it at once.
   */
  async work(job: AnnouncementMsg, signal: AbortSignal = new AbortController().signal) {
    const framed = new FramedStream(await this.#dial(job, signal));
    let next: Promise<LeaseMsg | NoWorkMsg> | undefined; // the prefetched reply, if asked
    const held = new Set<HeldLease>();
    try {
      while (!signal.aborted) {
        await this.#o.gate?.();
        const reply = await (next ?? this.#ask(framed, job, signal));
        next = undefined;
        if (reply.type === 'no-work') {
          if (reply.finished) return;
          await sleep(reply.retryAfterMs, signal);
          continue;
        }
        const lease = this.#hold(reply, framed, held);
        if (this.prefetch) {
          next = this.#ask(framed, job, signal);
          next.catch(() => {}); // awaited next round; a broken stream fails the compute's write
        }
        const busyMs = await this.#runLease(job, lease, framed, signal);
        const b = Math.min(1, Math.max(0.01, this.budget));
        if (b < 1) await sleep((busyMs * (1 - b)) / b, signal);
      }
    } catch (e) {
      // The owner may have gone (a reload) while verdicts were already on their way here: it
      // counts them delivered. Read what arrived before the stream ended, then give up.
      if (!signal.aborted && !next) await this.#drain(framed, job.owner);
      throw e;
    } finally {
      for (const h of held) h.release();
      await framed.close().catch(() => {});
    }
  }

  /** Asks for a lease; resolves with it or a no-work, taking in any verdicts on the way. */
  async #ask(framed: FramedStream, job: AnnouncementMsg, signal: AbortSignal) {
    await framed.write({
      type: 'work-request',
      jobId: job.jobId,
      maxBufferBytes: this.#o.maxBufferBytes,
      gflops: this.gflops,
      adapter: this.#o.adapter,
    });
    return this.#nextReply(framed, job, signal);
  }

  /**
   * Takes a lease in hand: heartbeats start now (a prefetched lease waits for the one before
   * it), and so does its lifetime, which heartbeats cannot extend.
   */
  #hold(lease: LeaseMsg, framed: FramedStream, held: Set<HeldLease>): HeldLease {
    const beat = setInterval(() => {
      framed.write({ type: 'heartbeat', leaseId: lease.leaseId }).catch(() => {});
    }, lease.heartbeatMs);
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

  /** Handles the verdicts already received on a stream that broke (for at most a second). */
  async #drain(framed: FramedStream, owner: string) {
    const signal = AbortSignal.timeout(1_000);
    try {
      for (;;) {
        const msg = await framed.read(signal);
        if (msg.type === 'verdict') await this.#verdict(msg, owner);
      }
    } catch {
      // The stream has ended, or nothing more came: done.
    }
  }

  async #dial(job: AnnouncementMsg, signal: AbortSignal): Promise<Stream> {
    // Browsers announce a relayed WebRTC address; dialing it ends in a direct connection. The
    // owner refuses shard streams on limited (relayed) connections whatever we dial.
    const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0];
    if (!addr) throw new Error(`job ${job.jobId}: owner ${job.owner} announced no address`);
    // A dial that cannot complete (the owner is gone) should fail, not hang. The timer is
    // cleared once the stream is open: libp2p may keep the dial's signal for the stream's life.
    const dial = new AbortController();
    const ms = this.#o.dialTimeoutMs ?? 15_000;
    const timer = setTimeout(() => dial.abort(new Error(`dial timed out after ${ms} ms`)), ms);
    const onAbort = () => dial.abort(signal.reason);
    signal.addEventListener('abort', onAbort);
    try {
      return await this.#node.dialProtocol(multiaddr(addr), SHARD_PROTOCOL, {
        signal: dial.signal,
      });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Reads until a lease or a no-work arrives, taking in any verdicts on the way. */
  async #nextReply(framed: FramedStream, job: AnnouncementMsg, signal: AbortSignal) {
    for (;;) {
      const msg = await framed.read(signal);
      if (msg.type === 'verdict') await this.#verdict(msg, job.owner);
      else if (msg.type === 'lease' || msg.type === 'no-work') return msg;
      else throw unexpected(msg);
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
      const message = String((e as Error).message ?? e).slice(0, 500);
      await framed.write({ type: 'failure', leaseId: lease.leaseId, code, message }, signal);
      if (overrun.aborted) {
        const { jobId, shardId, leaseId, lifetimeMs } = lease;
        this.dispatchEvent(
          new CustomEvent<AbandonedShard>('abandoned', {
            detail: { jobId, shardId, leaseId, lifetimeMs },
          }),
        );
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
      console.warn(`tessel: owner ${owner} sent a verdict for a result we did not send it`);
      return;
    }
    this.#pending.delete(v.leaseId);
    let receipt: Receipt | undefined;
    if (v.accepted && this.#o.acceptReceipt) {
      try {
        receipt = await this.#o.acceptReceipt(v.receipt, {
          owner,
          contributor: this.#node.peerId.toString(),
          jobId: mine.jobId,
          shardId: mine.shardId,
        });
      } catch (e) {
        console.warn(`tessel: owner ${owner} sent a bad receipt: ${(e as Error).message}`);
      }
    }
    this.dispatchEvent(
      new CustomEvent<ShardOutcome>('outcome', {
        detail: {
          jobId: mine.jobId,
          shardId: mine.shardId,
          accepted: v.accepted,
          reason: v.reason,
          computeMs: mine.computeMs,
          computedAt: mine.computedAt,
          ...(receipt ? { receipt } : {}),
        },
      }),
    );
  }
}

function unexpected(msg: ShardMsg): Error {
  return new Error(`owner sent an unexpected '${msg.type}' frame`);
}

/** Waits `ms`, or rejects when `signal` aborts; leaves no listener behind on the signal (the
 * work loop's lives as long as the job, and sleeps after every shard). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
