import type { Connection, Stream } from '@libp2p/interface';
import { TypedEventEmitter } from 'main-event';
import type { OwnerJob, Settlement } from '../jobs/job';
import { log, notice } from '../log/log';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import { clipReason, type ResultMsg, type ShardMsg, type VerdictMsg, WireError } from './codec';
import { FramedStream } from './framed';
import { LinkMeter, workBytes } from './link-meter';
import { type Ask, AskLog, MAX_KNOWN } from './owner-asks';
import { answerWorkRequest } from './owner-lease';
import { refuseV1 } from './refuse-v1';
import {
  type DurableSettlement,
  HEARTBEAT_MS,
  IDLE_TIMEOUT_MS,
  MAX_EARLY_REQUESTS,
  MAX_RESULT_FRAME_BYTES,
  MAX_STREAMS_PER_CONNECTION,
  type ShardOwnerComponents,
  type ShardOwnerEvents,
  type ShardOwnerOptions,
  TURN_AWAY_MS,
} from './shard-owner-options';
import { SHARD_PROTOCOL, SHARD_PROTOCOL_V1 } from './topics';
import { VerdictOutbox } from './verdict-outbox';

export { ASK_FRESH_MS, type Ask } from './owner-asks';
export * from './shard-owner-options';

const trace = log('mesh:owner');

/**
 * The owner's side of /tessel/shard/2.0.0, for jobs of any kind: answers work requests with
 * leases, extends leases on heartbeats, hands results to their job, and delivers the verdicts
 * the job decides (with a signed receipt when accepted), on whatever stream the contributor
 * has open then. Registered without `runOnLimitedConnection`, so shard data only ever flows
 * over direct (WebRTC) connections, never through the relay.
 */
export class ShardOwnerService extends TypedEventEmitter<ShardOwnerEvents> {
  readonly jobs = new Map<string, OwnerJob>();
  /** What contributors said of themselves in their latest work request (shown, never trusted),
   * newest last, at most MAX_KNOWN: peer ids are free to make. */
  readonly contributors = new Map<
    string,
    { adapter: string; gflops: number; maxBufferBytes: number }
  >();
  /** Jobs cancelled by their owner: late results hear so instead of "unknown job". */
  readonly #cancelled = new Set<string>();
  readonly #node: ShardOwnerComponents;
  readonly #o: ShardOwnerOptions;
  readonly #outbox: VerdictOutbox;
  /** Where each result came from, for the settled event. */
  readonly #origin = new Map<string, { remoteAddr: string; limited: boolean }>();
  /** Settlements still being made durable, per job: "finished" waits for them. */
  readonly #inflight = new Map<string, Set<Promise<void>>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The owner's measure of each contributor's link (lease bytes ÷ time to its first word). */
  readonly links = new LinkMeter();
  /** Per job, what each contributor that asked lately was answered (for a stalled job's why). */
  readonly #asks = new AskLog();

  constructor(components: ShardOwnerComponents, options: ShardOwnerOptions = {}) {
    super();
    this.#node = components;
    this.#o = options;
    this.#outbox = new VerdictOutbox(options.delivered, options.maxUndelivered);
  }

  async start(): Promise<void> {
    await this.#node.handle(SHARD_PROTOCOL, (stream, conn) => this.handle(stream, conn), {
      maxInboundStreams: this.#o.maxStreamsPerConnection ?? MAX_STREAMS_PER_CONNECTION,
    });
    await this.#node.handle(SHARD_PROTOCOL_V1, (stream, conn) =>
      refuseV1(stream, conn, (peer) =>
        this.safeDispatchEvent('refused', { detail: { peer, protocol: SHARD_PROTOCOL_V1 } }),
      ),
    );
    // Lapsed leases go back to the queue even when nobody is asking for work.
    this.#timer = setInterval(() => {
      for (const job of this.jobs.values()) job.expire(Date.now());
    }, 1_000);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#node.unhandle(SHARD_PROTOCOL);
    await this.#node.unhandle(SHARD_PROTOCOL_V1);
  }

  addJob(job: OwnerJob): void {
    job.onSettled = (s) => this.#settle(job, s);
    this.jobs.set(job.id, job);
  }

  /** Stops a job: contributors asking for work hear it is finished, late results are refused. */
  removeJob(id: string): void {
    const job = this.jobs.get(id);
    if (this.jobs.delete(id)) this.#cancelled.add(id);
    this.#asks.forget(id);
    job?.close?.(); // it stops listening to the owner's shared trust
  }

  /** Serves one contributor's stream until it closes. */
  async handle(stream: Stream, conn: Connection): Promise<void> {
    const peer = conn.remotePeer.toString();
    const framed = new FramedStream(stream, {
      maxFrameBytes: this.#o.maxFrameBytes ?? MAX_RESULT_FRAME_BYTES,
    });
    if (this.#o.reputation?.isQuarantined(peer)) {
      await this.#turnAway(peer, framed);
      return;
    }
    const mine = new Map<string, OwnerJob>(); // leases issued on this stream
    const pace = { notBefore: 0, early: 0 };
    const idleMs = this.#o.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
    this.#outbox.attach(peer, framed);
    try {
      for (;;) {
        let msg: ShardMsg;
        try {
          msg = await framed.read(AbortSignal.timeout(idleMs));
        } catch (e) {
          if (e instanceof WireError) {
            // An old or new version is a mismatch, not an offence.
            if (e.code !== 'bad-version')
              this.#o.reputation?.record(peer, 'malformed', `a malformed frame: ${e.message}`);
            throw e;
          }
          if ((e as Error)?.name === 'TimeoutError') {
            throw new WireError('idle', `nothing received for ${idleMs} ms`);
          }
          return; // the contributor closed the stream or went away
        }
        if (msg.type === 'work-request') this.#pace(peer, pace);
        await this.#dispatch(msg, peer, conn, framed, mine, pace);
      }
    } catch (e) {
      const error = asStreamError(e);
      notice(`shard stream from ${peer} ended: ${describeStreamError(e)}`);
      this.safeDispatchEvent('misbehaved', { detail: { peer, error } });
      framed.abort(error);
    } finally {
      this.#outbox.detach(peer, framed);
      // A contributor that left (tab closed) gives its shards back now, not at the deadline.
      for (const [leaseId, job] of mine) job.fail(leaseId, peer);
      await framed.close().catch(() => {});
    }
  }

  /**
   * A quarantined peer hears why, once per stream, and nothing more: its first frame is read
   * (small: a work request) and answered "finished" with the reason, then the stream closes.
   */
  async #turnAway(peer: string, framed: FramedStream) {
    try {
      const msg = await framed.read(AbortSignal.timeout(TURN_AWAY_MS));
      if (msg.type === 'work-request') {
        this.#asks.note(msg.jobId, peer, 'quarantined');
        await framed.write({
          type: 'no-work',
          jobId: msg.jobId,
          retryAfterMs: 0,
          finished: true,
          reason: this.#quarantineReason(peer),
        });
      }
      await framed.close();
    } catch (e) {
      trace('turning away %s: %s', peer, describeStreamError(e));
      framed.abort(asStreamError(e));
    }
  }

  #quarantineReason(peer: string): string {
    const why = this.#o.reputation?.get(peer).reason;
    // One line of at most MAX_REASON_CHARS: anything else fails the frame, and the peer would
    // hear nothing.
    return clipReason(`quarantined by this owner${why ? `: ${why}` : ''}`);
  }

  /** What contributors asking for work on `jobId` in the last ASK_FRESH_MS were answered. */
  asks(jobId: string, now = Date.now()): Ask[] {
    return this.#asks.fresh(jobId, now);
  }

  /** Counts a work request that came sooner than the retry time this peer was given. */
  #pace(peer: string, pace: { notBefore: number; early: number }) {
    if (Date.now() >= pace.notBefore) return;
    if (++pace.early > (this.#o.maxEarlyRequests ?? MAX_EARLY_REQUESTS)) {
      this.#o.reputation?.record(peer, 'malformed', 'flooded this owner with work requests');
      throw new WireError('flood', `${pace.early} work requests sooner than told to ask again`);
    }
  }

  async #dispatch(
    msg: ShardMsg,
    peer: string,
    conn: Connection,
    framed: FramedStream,
    mine: Map<string, OwnerJob>,
    pace: { notBefore: number },
  ): Promise<void> {
    const now = Date.now();
    switch (msg.type) {
      case 'work-request': {
        const job = this.jobs.get(msg.jobId);
        this.contributors.delete(peer);
        this.contributors.set(peer, {
          adapter: msg.adapter,
          gflops: msg.gflops,
          maxBufferBytes: msg.maxBufferBytes,
        });
        if (this.contributors.size > MAX_KNOWN) {
          this.contributors.delete(this.contributors.keys().next().value as string);
        }
        const { offer, quarantined } = answerWorkRequest(
          job,
          peer,
          msg,
          this.#o,
          this.links.bytesPerSec(peer),
          now,
        );
        if (job) this.#asks.note(job.id, peer, offer.answer);
        if (offer.kind === 'none') {
          // Half the retry time is allowed for clocks and queues before a request counts early.
          pace.notBefore = now + offer.retryAfterMs / 2;
          // Verdicts still being made durable go out before "finished".
          if (offer.finished) await Promise.all(this.#inflight.get(msg.jobId) ?? []);
          await framed.write({
            type: 'no-work',
            jobId: msg.jobId,
            retryAfterMs: offer.retryAfterMs,
            finished: offer.finished,
            ...(quarantined ? { reason: this.#quarantineReason(peer) } : {}),
            ...(!quarantined && job && offer.finished && !job.done
              ? { reason: 'this owner caught a wrong result of yours and stopped using you' }
              : {}),
          });
          return;
        }
        mine.set(offer.lease.leaseId, job!);
        const heartbeatMs = Math.min(this.#o.heartbeatMs ?? HEARTBEAT_MS, offer.lease.windowMs);
        this.links.sent(offer.lease.leaseId, peer, workBytes(offer.work), Date.now());
        await framed.write({
          type: 'lease',
          jobId: msg.jobId,
          shardId: offer.lease.shardId,
          leaseId: offer.lease.leaseId,
          deadlineMs: offer.lease.windowMs,
          heartbeatMs,
          lifetimeMs: offer.lease.expiresBy - offer.lease.issuedAt,
          work: offer.work,
        });
        return;
      }
      case 'heartbeat':
        this.links.heard(msg.leaseId, peer, now);
        mine.get(msg.leaseId)?.heartbeat(msg.leaseId, peer, now);
        return;
      case 'failure':
        this.links.forget(msg.leaseId);
        if (mine.get(msg.leaseId)?.fail(msg.leaseId, peer)) {
          this.#o.reputation?.record(peer, 'failure');
        }
        mine.delete(msg.leaseId);
        return;
      case 'result': {
        this.links.heard(msg.leaseId, peer, now);
        const leased = mine.get(msg.leaseId);
        mine.delete(msg.leaseId);
        if (leased?.id !== msg.jobId) {
          // A result for a lease this stream was never given (another peer's, an old one, an
          // invented one, another job's): nothing to verify, and no honest contributor sends one.
          this.#o.reputation?.record(
            peer,
            'malformed',
            'sent a result for a lease it was not given',
          );
          this.#refuse(peer, msg, 'no such lease on this stream');
          return;
        }
        this.#o.submitted?.(msg.jobId, msg.leaseId, peer);
        await this.#result(msg, peer, conn);
        return;
      }
      default:
        this.#o.reputation?.record(peer, 'malformed', `sent a '${msg.type}' frame to an owner`);
        throw new WireError('invalid-field', `a contributor may not send '${msg.type}'`);
    }
  }

  /** A "rejected" verdict for a result nothing was verified for (no receipt, no shard). */
  #refuse(peer: string, msg: ResultMsg, reason: string) {
    this.#outbox.deliver(peer, {
      type: 'verdict',
      leaseId: msg.leaseId,
      jobId: msg.jobId,
      shardId: 0,
      accepted: false,
      reason,
      receipt: new Uint8Array(0),
    });
  }

  async #result(msg: ResultMsg, peer: string, conn: Connection) {
    const job = this.jobs.get(msg.jobId);
    if (!job) {
      const why = this.#cancelled.has(msg.jobId)
        ? 'the job was cancelled by its owner'
        : 'unknown job';
      this.#refuse(peer, msg, why);
      return;
    }
    this.#origin.set(msg.leaseId, {
      remoteAddr: conn.remoteAddr.toString(),
      limited: conn.limits != null,
    });
    // An owner check (a recomputation, a teacher-forced pass) finishes in the background, so
    // the contributor's next work request is not held up by it; its verdict comes when ready.
    job
      .submit(msg.leaseId, peer, msg.output, msg.computeMs, Date.now())
      .catch((e) => notice(`result for ${msg.leaseId} of ${job.id}: ${e}`));
    // A verdict decided at once is delivered before this stream's next frame is read.
    await Promise.all(this.#inflight.get(job.id) ?? []);
  }

  /**
   * One settlement: announced at once, before any await (results from several contributors are
   * handled concurrently, and every settlement must be known before the job reports done); then
   * the shard's output is made durable, receipts are issued, and only then are verdicts sent.
   */
  #settle(job: OwnerJob, s: Settlement): void {
    for (const v of s.verdicts) {
      const origin = this.#origin.get(v.leaseId) ?? { remoteAddr: '', limited: false };
      this.#origin.delete(v.leaseId);
      const { flops: _, ...verdict } = v;
      this.safeDispatchEvent('settled', { detail: { ...verdict, ...origin } });
      if (v.settlement === 'accepted') this.#o.reputation?.record(v.contributor, 'accepted');
      else if (v.settlement === 'rejected')
        this.#o.reputation?.record(
          v.contributor,
          'rejected',
          `result for shard ${v.shardId} of job ${v.jobId} rejected: ${v.reason}`,
        );
    }
    for (const r of s.revoke ?? []) {
      trace(
        '%s caught in job %s (%s): its receipts for the job are voided',
        r.contributor,
        r.jobId,
        r.reason,
      );
      // A rejection is a proof: the contributor is quarantined with it as the reason.
      this.#o.reputation?.quarantine(r.contributor, `caught in job ${r.jobId}: ${r.reason}`);
    }
    // What each accepted result pays, from its lease's reservation, now, synchronously; the
    // others' reservations go back.
    const credits = s.verdicts.map((v) => this.#o.payFor?.(v) ?? 0);
    const completed = s.shard !== undefined && job.done; // this shard was the last
    const inflight = this.#inflight.get(job.id) ?? new Set();
    this.#inflight.set(job.id, inflight);
    // A revocation voids only receipts before it in the log: it waits for those in flight.
    const earlier = s.revoke?.length ? [...inflight] : [];
    const p = this.#finish(job, s, credits, completed, earlier).finally(() => {
      inflight.delete(p);
      if (inflight.size === 0 && this.#inflight.get(job.id) === inflight) {
        this.#inflight.delete(job.id);
      }
    });
    inflight.add(p);
  }

  async #finish(
    job: OwnerJob,
    s: Settlement,
    credits: number[],
    completed: boolean,
    earlier: Promise<void>[] = [],
  ) {
    const verdicts: DurableSettlement['verdicts'] = [];
    for (const [i, v] of s.verdicts.entries()) {
      let receipt: Uint8Array = new Uint8Array(0);
      if (v.settlement === 'accepted' && this.#o.issueReceipt) {
        try {
          receipt = await this.#o.issueReceipt({
            jobId: v.jobId,
            shardId: v.shardId,
            owner: this.#node.peerId.toString(),
            contributor: v.contributor,
            flops: v.flops,
            method: v.method,
            issuedAt: Date.now(),
            credit: credits[i] ?? 0,
          });
        } catch (e) {
          notice(`receipt for shard ${v.shardId} of ${job.id} not issued: ${e}`);
        }
      }
      const msg: VerdictMsg = {
        type: 'verdict',
        leaseId: v.leaseId,
        jobId: v.jobId,
        shardId: Math.max(0, v.shardId),
        accepted: v.settlement === 'accepted',
        reason: v.reason,
        receipt,
        ...(v.settlement === 'stale' ? { stale: true } : {}),
      };
      verdicts.push({ peer: v.contributor, msg });
    }
    const reopened = (s.revoke ?? []).flatMap((r) => r.reopened);
    try {
      await this.#o.persist?.(job, {
        ...(s.shard ? { shard: s.shard } : {}),
        verdicts,
        ...(reopened.length ? { reopened } : {}),
      });
    } catch (e) {
      // The output is in the job; only a reload before it ends would cost a recomputation.
      notice(`settlement of ${job.id} not kept durably: ${e}`);
    }
    if (earlier.length) await Promise.allSettled(earlier);
    for (const r of s.revoke ?? []) {
      try {
        await this.#o.revoke?.(r);
      } catch (e) {
        notice(`receipts of ${r.contributor} for ${r.jobId} not voided: ${e}`);
      }
    }
    // The settlement stands whether or not the contributor is still there to hear it.
    for (const { peer, msg } of verdicts) this.#outbox.deliver(peer, msg);
    // The shard that completed the job reports it, once, when its own output is durable.
    if (completed) this.safeDispatchEvent('done', { detail: { jobId: job.id } });
  }

  /** Verdicts owed from an earlier session (read from the outbox): sent when each peer is back. */
  redeliver(owed: Iterable<[string, VerdictMsg]>): void {
    for (const [peer, msg] of owed) this.#outbox.deliver(peer, msg);
  }
}
