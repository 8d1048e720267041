import type { Connection, PrivateKey, Stream } from '@libp2p/interface';
import type { MatmulOwnerJob } from '../jobs/matmul-job';
import type { Reputation } from '../jobs/reputation';
import { signReceipt } from '../ledger/receipts';
import { type ReceiptMsg, type ResultMsg, type ShardMsg, WireError } from './codec';
import { FramedStream } from './framed';
import type { MeshNode } from './node';
import { SHARD_PROTOCOL } from './topics';

export interface ShardOwnerOptions {
  /** How often contributors must heartbeat while computing. */
  heartbeatMs?: number; // default 2_000
  /** Per-peer record; quarantined peers get no shards. */
  reputation?: Reputation;
  /** The owner's key: accepted results get a receipt signed with it. */
  privateKey?: PrivateKey;
  /** Makes an accepted block durable before the contributor is told (job survives a reload). */
  persist?: (job: MatmulOwnerJob, shardId: number, c: Float32Array) => Promise<void>;
  /** The owner's copy of every receipt it issues. */
  onReceipt?: (signed: Uint8Array, receipt: ReceiptMsg) => Promise<void> | void;
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
 * shards, extends leases on heartbeats, verifies results before they count, and answers with a
 * verdict (plus a signed receipt when accepted). Registered without `runOnLimitedConnection`, so
 * shard data only ever flows over direct (WebRTC) connections, never through the relay.
 */
export class ShardOwnerService extends EventTarget {
  readonly jobs = new Map<string, MatmulOwnerJob>();
  readonly #node: MeshNode;
  readonly #o: ShardOwnerOptions;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(node: MeshNode, options: ShardOwnerOptions = {}) {
    super();
    this.#node = node;
    this.#o = options;
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
          if (e instanceof WireError) {
            this.#o.reputation?.record(peer, 'malformed');
            throw e;
          }
          return; // the contributor closed the stream or went away
        }
        if (!(await this.#dispatch(msg, peer, conn, framed, mine))) break;
      }
      await framed.close();
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

  /** Handles one message; false ends the stream. */
  async #dispatch(
    msg: ShardMsg,
    peer: string,
    conn: Connection,
    framed: FramedStream,
    mine: Map<string, MatmulOwnerJob>,
  ): Promise<boolean> {
    const now = Date.now();
    switch (msg.type) {
      case 'work-request': {
        const job = this.jobs.get(msg.jobId);
        // A quarantined peer is told the job is finished: it gets nothing more from this owner.
        const offer =
          job && !this.#o.reputation?.isQuarantined(peer)
            ? job.offer(peer, now, msg.gflops, msg.maxBufferBytes)
            : { kind: 'none' as const, finished: true, retryAfterMs: 0 };
        if (offer.kind === 'none') {
          await framed.write({
            type: 'no-work',
            jobId: msg.jobId,
            retryAfterMs: offer.retryAfterMs,
            finished: offer.finished,
          });
          return true;
        }
        mine.set(offer.lease.leaseId, job!);
        await framed.write({
          type: 'lease',
          jobId: msg.jobId,
          shardId: offer.lease.shardId,
          leaseId: offer.lease.leaseId,
          deadlineMs: offer.lease.windowMs,
          heartbeatMs: Math.min(this.#o.heartbeatMs ?? 2_000, offer.lease.windowMs),
          m: offer.block.rows,
          k: job!.problem.k,
          n: offer.block.cols,
          a: offer.a,
          b: offer.b,
        });
        return true;
      }
      case 'heartbeat':
        mine.get(msg.leaseId)?.book.heartbeat(msg.leaseId, peer, now);
        return true;
      case 'failure':
        if (mine.get(msg.leaseId)?.book.fail(msg.leaseId, peer)) {
          this.#o.reputation?.record(peer, 'failure');
        }
        mine.delete(msg.leaseId);
        return true;
      case 'result':
        await this.#result(msg, peer, conn, framed, mine);
        return true;
      default:
        this.#o.reputation?.record(peer, 'malformed');
        throw new WireError('invalid-field', `a contributor may not send '${msg.type}'`);
    }
  }

  async #result(
    msg: ResultMsg,
    peer: string,
    conn: Connection,
    framed: FramedStream,
    mine: Map<string, MatmulOwnerJob>,
  ) {
    const job = mine.get(msg.leaseId);
    mine.delete(msg.leaseId);
    const lease = job?.book.get(msg.leaseId, peer);
    const outcome = job
      ? job.submit(msg.leaseId, peer, msg.rows, msg.cols, msg.c, msg.computeMs)
      : { settlement: 'stale' as const, reason: 'unknown lease' };
    const completedJob = outcome.settlement === 'accepted' && job?.done === true; // this shard was the last
    // Announce the settlement at once, before any await: results from several contributors are
    // handled concurrently, and every settlement must be known before the job reports done.
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
    }
    let receipt: Uint8Array = new Uint8Array(0);
    if (job && lease && outcome.settlement === 'accepted') {
      this.#o.reputation?.record(peer, 'accepted');
      try {
        await this.#o.persist?.(job, lease.shardId, msg.c);
      } catch (e) {
        // The block is in C; only a reload before the job ends would cost a recomputation.
        console.warn(`tessel: could not persist shard ${lease.shardId} of ${job.id}: ${e}`);
      }
      if (this.#o.privateKey) {
        const r: ReceiptMsg = {
          jobId: job.id,
          shardId: lease.shardId,
          owner: this.#node.peerId.toString(),
          contributor: peer,
          flops: 2 * msg.rows * msg.cols * job.problem.k,
          method: 'freivalds',
          issuedAt: Date.now(),
        };
        try {
          receipt = await signReceipt(this.#o.privateKey, r);
          await this.#o.onReceipt?.(receipt, r);
        } catch (e) {
          console.warn(`tessel: receipt for shard ${lease.shardId} of ${job.id} not issued: ${e}`);
        }
      }
      // The shard that completed the job reports it, once, when its own block is durable.
      if (completedJob) this.dispatchEvent(new CustomEvent('done', { detail: { jobId: job.id } }));
    } else if (outcome.settlement === 'rejected') {
      this.#o.reputation?.record(peer, 'rejected');
    }
    // The settlement stands whether or not the contributor is still there to hear the verdict.
    await framed.write({
      type: 'verdict',
      leaseId: msg.leaseId,
      accepted: outcome.settlement === 'accepted',
      reason: outcome.reason,
      receipt,
    });
  }
}
