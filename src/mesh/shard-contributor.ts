import type { Stream } from '@libp2p/interface';
import { multiaddr } from '@multiformats/multiaddr';
import { verifyReceipt } from '../ledger/receipts';
import type { AnnouncementMsg, LeaseMsg, ReceiptMsg, ShardMsg } from './codec';
import { FramedStream } from './framed';
import type { MeshNode } from './node';
import { SHARD_PROTOCOL } from './topics';

/** Computes one leased block; rejects with an error that has a `code` when the GPU fails. */
export type ShardComputer = (lease: LeaseMsg) => Promise<Float32Array>;

export interface ContributorOptions {
  compute: ShardComputer;
  /** The adapter's largest binding, sent with work requests so owners size shards to fit. */
  maxBufferBytes: number;
  /** Measured GFLOP/s, sent with work requests (0 when unknown). */
  gflops?: number;
  /** Share of wall time the GPU may be busy (0, 1]: after a shard of t ms, rest t·(1−b)/b. */
  budget?: number; // default 0.5
  /** Resolves when work may go on (tab visible, on mains power, …); checked between shards. */
  gate?: () => Promise<void>;
  /** Gives up dialing an owner after this long. */
  dialTimeoutMs?: number; // default 15_000
  /** Keeps a verified receipt for an accepted result (the contributor's ledger). */
  onReceipt?: (signed: Uint8Array, receipt: ReceiptMsg) => Promise<void> | void;
}

/** What happened to one of our results, as the owner answered. */
export interface ShardOutcome {
  jobId: string;
  shardId: number;
  accepted: boolean;
  reason: string;
  computeMs: number;
  /** The owner's signed receipt, when accepted and its signature checked out. */
  receipt?: ReceiptMsg;
}

export interface ContributorEvents {
  outcome: CustomEvent<ShardOutcome>;
}

/**
 * The contributor's side of /tessel/shard/1.0.0: dials a job's owner over a direct WebRTC
 * connection, then asks for shards, computes them, heartbeats while computing, returns
 * results and reads verdicts until the owner says the job is finished.
 */
export class ShardContributor extends EventTarget {
  readonly #node: MeshNode;
  readonly #o: ContributorOptions;
  /** Share of wall time the GPU may be busy, (0, 1]; may be changed while working. */
  budget: number;

  constructor(node: MeshNode, options: ContributorOptions) {
    super();
    this.#node = node;
    this.#o = options;
    this.budget = options.budget ?? 0.5;
  }

  /** Works on `job` until it is finished, `signal` aborts, or the owner goes away. */
  async work(job: AnnouncementMsg, signal?: AbortSignal): Promise<void> {
    // Browsers announce a relayed WebRTC address; dialing it ends in a direct connection. The
    // owner refuses shard streams on limited (relayed) connections whatever we dial.
    const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0];
    if (!addr) throw new Error(`job ${job.jobId}: owner ${job.owner} announced no address`);
    // A dial that cannot complete (the owner is gone) should fail, not hang. The timer is
    // cleared once the stream is open: libp2p may keep the dial's signal for the stream's life.
    const dial = new AbortController();
    const ms = this.#o.dialTimeoutMs ?? 15_000;
    const timer = setTimeout(() => dial.abort(new Error(`dial timed out after ${ms} ms`)), ms);
    const onAbort = () => dial.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort);
    let stream: Stream;
    try {
      stream = await this.#node.dialProtocol(multiaddr(addr), SHARD_PROTOCOL, {
        signal: dial.signal,
      });
    } catch (e) {
      signal?.removeEventListener('abort', onAbort);
      throw e;
    } finally {
      clearTimeout(timer);
    }
    const framed = new FramedStream(stream);
    try {
      while (!signal?.aborted) {
        await this.#o.gate?.();
        await framed.write({
          type: 'work-request',
          jobId: job.jobId,
          maxBufferBytes: this.#o.maxBufferBytes,
          gflops: this.#o.gflops ?? 0,
        });
        const reply = await framed.read(signal);
        if (reply.type === 'no-work') {
          if (reply.finished) return;
          await sleep(reply.retryAfterMs, signal);
          continue;
        }
        if (reply.type !== 'lease') throw unexpected(reply);
        const busyMs = await this.#runLease(job, reply, framed, signal);
        const b = Math.min(1, Math.max(0.01, this.budget));
        if (b < 1) await sleep((busyMs * (1 - b)) / b, signal);
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await framed.close().catch(() => {});
    }
  }

  /** Computes one lease and reports it; returns the milliseconds the GPU was busy. */
  async #runLease(
    job: AnnouncementMsg,
    lease: LeaseMsg,
    framed: FramedStream,
    signal?: AbortSignal,
  ): Promise<number> {
    const beat = setInterval(() => {
      framed.write({ type: 'heartbeat', leaseId: lease.leaseId }).catch(() => {});
    }, lease.heartbeatMs);
    let c: Float32Array;
    const t0 = performance.now();
    try {
      c = await this.#o.compute(lease);
    } catch (e) {
      const code = String((e as { code?: unknown }).code ?? 'error').slice(0, 64);
      const message = String((e as Error).message ?? e).slice(0, 500);
      await framed.write({ type: 'failure', leaseId: lease.leaseId, code, message }, signal);
      return performance.now() - t0;
    } finally {
      clearInterval(beat);
    }
    const computeMs = performance.now() - t0;
    await framed.write(
      { type: 'result', leaseId: lease.leaseId, rows: lease.m, cols: lease.n, c, computeMs },
      signal,
    );
    const verdict = await framed.read(signal);
    if (verdict.type !== 'verdict' || verdict.leaseId !== lease.leaseId) throw unexpected(verdict);
    let receipt: ReceiptMsg | undefined;
    if (verdict.accepted) {
      try {
        receipt = await verifyReceipt(verdict.receipt, {
          owner: job.owner,
          contributor: this.#node.peerId.toString(),
          jobId: lease.jobId,
          shardId: lease.shardId,
        });
        await this.#o.onReceipt?.(verdict.receipt, receipt);
      } catch (e) {
        console.warn(`tessel: owner ${job.owner} sent a bad receipt: ${(e as Error).message}`);
      }
    }
    this.dispatchEvent(
      new CustomEvent<ShardOutcome>('outcome', {
        detail: {
          jobId: lease.jobId,
          shardId: lease.shardId,
          accepted: verdict.accepted,
          reason: verdict.reason,
          computeMs,
          ...(receipt ? { receipt } : {}),
        },
      }),
    );
    return computeMs;
  }
}

function unexpected(msg: ShardMsg): Error {
  return new Error(`owner sent an unexpected '${msg.type}' frame`);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    });
  });
}
