import type { Connection, Stream } from '@libp2p/interface';
import type { MatmulOwnerJob } from '../jobs/matmul-job';
import { type ShardMsg, WireError } from './codec';
import { FramedStream } from './framed';
import type { MeshNode } from './node';
import { SHARD_PROTOCOL } from './topics';

export interface ShardOwnerOptions {
  /** How often contributors must heartbeat; a lease lapses after `deadlineMs` of silence. */
  heartbeatMs?: number; // default 2_000
}

/** What the owner saw of one settled result (for the UI, reports and tests). */
export interface SettledEvent {
  jobId: string;
  shardId: number;
  contributor: string;
  settlement: 'accepted' | 'rejected' | 'stale';
  reason: string;
  /** Multiaddr of the connection the result came over, and whether it was a limited (relayed) one. */
  remoteAddr: string;
  limited: boolean;
}

export interface ShardOwnerEvents {
  settled: CustomEvent<SettledEvent>;
  done: CustomEvent<{ jobId: string }>;
  misbehaved: CustomEvent<{ peer: string; error: Error }>;
}

/**
 * The owner's side of /tessel/shard/1.0.0: answers work requests with leases of its jobs'
 * shards, extends leases on heartbeats, verifies results before they count and answers with a
 * verdict. Registered without `runOnLimitedConnection`, so shard data only ever flows over
 * direct (WebRTC) connections, never through the relay.
 */
export class ShardOwnerService extends EventTarget {
  readonly jobs = new Map<string, MatmulOwnerJob>();
  readonly #node: MeshNode;
  readonly #heartbeatMs: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(node: MeshNode, options: ShardOwnerOptions = {}) {
    super();
    this.#node = node;
    this.#heartbeatMs = options.heartbeatMs ?? 2_000;
  }

  async start(): Promise<void> {
    await this.#node.handle(SHARD_PROTOCOL, (stream, conn) => this.handle(stream, conn), {
      maxInboundStreams: 64,
    });
    // Lapsed leases go back to the queue even when nobody is asking for work.
    this.#timer = setInterval(() => {
      for (const job of this.jobs.values()) job.book.expire(Date.now());
    }, 1_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#node.unhandle(SHARD_PROTOCOL);
  }

  addJob(job: MatmulOwnerJob): void {
    this.jobs.set(job.id, job);
  }

  /** Serves one contributor's stream until it closes. */
  async handle(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString();
    const framed = new FramedStream(stream);
    const mine = new Map<string, MatmulOwnerJob>(); // leases issued on this stream
    try {
      for (;;) {
        let msg: ShardMsg;
        try {
          msg = await framed.read();
        } catch (e) {
          if (e instanceof WireError) throw e;
          return; // the contributor closed the stream or went away
        }
        await this.#dispatch(msg, peer, conn, framed, mine);
      }
    } catch (e) {
      const error = e instanceof Error ? e : new Error(String(e));
      console.warn(`tessel: shard stream from ${peer} ended: ${error.message}`);
      this.dispatchEvent(new CustomEvent('misbehaved', { detail: { peer, error } }));
      framed.abort(error);
    } finally {
      // A contributor that left (tab closed) gives its shards back now, not at the deadline.
      for (const [leaseId, job] of mine) job.book.fail(leaseId, peer);
    }
  }

  async #dispatch(
    msg: ShardMsg,
    peer: string,
    conn: Connection,
    framed: FramedStream,
    mine: Map<string, MatmulOwnerJob>,
  ): Promise<void> {
    const now = Date.now();
    switch (msg.type) {
      case 'work-request': {
        const job = this.jobs.get(msg.jobId);
        const offer = job?.offer(peer, now, msg.gflops) ?? {
          kind: 'none',
          finished: true,
          retryAfterMs: 0,
        };
        if (offer.kind === 'none') {
          await framed.write({
            type: 'no-work',
            jobId: msg.jobId,
            retryAfterMs: offer.retryAfterMs,
            finished: offer.finished,
          });
          return;
        }
        mine.set(offer.lease.leaseId, job!);
        await framed.write({
          type: 'lease',
          jobId: msg.jobId,
          shardId: offer.lease.shardId,
          leaseId: offer.lease.leaseId,
          deadlineMs: offer.lease.windowMs,
          heartbeatMs: Math.min(this.#heartbeatMs, offer.lease.windowMs),
          m: offer.block.rows,
          k: job!.problem.k,
          n: offer.block.cols,
          a: offer.a,
          b: offer.b,
        });
        return;
      }
      case 'heartbeat':
        mine.get(msg.leaseId)?.book.heartbeat(msg.leaseId, peer, now);
        return;
      case 'failure':
        mine.get(msg.leaseId)?.book.fail(msg.leaseId, peer);
        mine.delete(msg.leaseId);
        return;
      case 'result': {
        const job = mine.get(msg.leaseId);
        mine.delete(msg.leaseId);
        const lease = job?.book.get(msg.leaseId, peer);
        const outcome = job
          ? job.submit(msg.leaseId, peer, msg.rows, msg.cols, msg.c, msg.computeMs)
          : { settlement: 'stale' as const, reason: 'unknown lease' };
        await framed.write({
          type: 'verdict',
          leaseId: msg.leaseId,
          accepted: outcome.settlement === 'accepted',
          reason: outcome.reason,
        });
        if (job && lease) {
          this.dispatchEvent(
            new CustomEvent<SettledEvent>('settled', {
              detail: {
                jobId: job.id,
                shardId: lease.shardId,
                contributor: peer,
                ...outcome,
                remoteAddr: conn.remoteAddr.toString(),
                limited: conn.limits != null,
              },
            }),
          );
          if (job.done) this.dispatchEvent(new CustomEvent('done', { detail: { jobId: job.id } }));
        }
        return;
      }
      default:
        throw new WireError('invalid-field', `a contributor may not send '${msg.type}'`);
    }
  }
}
