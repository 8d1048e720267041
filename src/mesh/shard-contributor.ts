import { multiaddr } from '@multiformats/multiaddr';
import type { AnnouncementMsg, LeaseMsg, ShardMsg } from './codec';
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
}

/** What happened to one of our results, as the owner answered. */
export interface ShardOutcome {
  jobId: string;
  shardId: number;
  accepted: boolean;
  reason: string;
  computeMs: number;
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

  constructor(node: MeshNode, options: ContributorOptions) {
    super();
    this.#node = node;
    this.#o = options;
  }

  /** Works on `job` until it is finished, `signal` aborts, or the owner goes away. */
  async work(job: AnnouncementMsg, signal?: AbortSignal): Promise<void> {
    // Browsers announce a relayed WebRTC address; dialing it ends in a direct connection. The
    // owner refuses shard streams on limited (relayed) connections whatever we dial.
    const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0];
    if (!addr) throw new Error(`job ${job.jobId}: owner ${job.owner} announced no address`);
    const stream = await this.#node.dialProtocol(multiaddr(addr), SHARD_PROTOCOL, { signal });
    const framed = new FramedStream(stream);
    try {
      while (!signal?.aborted) {
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
        await this.#runLease(reply, framed, signal);
      }
    } finally {
      await framed.close().catch(() => {});
    }
  }

  async #runLease(lease: LeaseMsg, framed: FramedStream, signal?: AbortSignal) {
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
      return;
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
    this.dispatchEvent(
      new CustomEvent<ShardOutcome>('outcome', {
        detail: {
          jobId: lease.jobId,
          shardId: lease.shardId,
          accepted: verdict.accepted,
          reason: verdict.reason,
          computeMs,
        },
      }),
    );
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
