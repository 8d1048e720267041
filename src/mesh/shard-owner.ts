// Over 450 lines: the owner service still reads frames, leases, meters links and settles in one
// class; its split by role comes with issue 24 (libp2p-shaped services).
import type { Connection, Stream } from '@libp2p/interface';
import { logger } from '@libp2p/logger';
import { lpStream } from '@libp2p/utils';
import type { Output, Work } from '../jobs/codec';
import type { LeaseOffer, OwnerJob, Receipt, Revocation, Settlement, Verdict } from '../jobs/job';
import type { Reputation } from '../jobs/reputation';
import type { Lease } from '../jobs/scheduler';
import { asStreamError, describeStreamError } from '../wire/stream-errors';
import {
  clipReason,
  type ResultMsg,
  type ShardMsg,
  type VerdictMsg,
  v1Finished,
  v1WorkRequestJob,
  WireError,
} from './codec';
import { FramedStream } from './framed';
import { LinkMeter, workBytes } from './link-meter';
import type { MeshNode } from './node';
import { SHARD_PROTOCOL, SHARD_PROTOCOL_V1 } from './topics';

const log = logger('tessel:shard-owner');

export interface ShardOwnerOptions {
  /** How often contributors must heartbeat while computing. */
  heartbeatMs?: number; // default 2_000
  /** Per-peer record; quarantined peers get no shards. */
  reputation?: Reputation;
  /**
   * Signs and keeps a receipt for an accepted result (src/ledger supplies it); returns the
   * encoded ReceiptBundle the contributor is sent. Without it, verdicts carry no receipt.
   */
  issueReceipt?: (r: Receipt) => Promise<Uint8Array>;
  /** Settles one verdict's money, synchronously as it is decided: an accepted one is paid from
   * what its lease reserved (never more); any other gives that back. Returns the µcredits the
   * receipt pays. Nothing is paid without it. */
  payFor?: (v: Verdict) => number;
  /** Whether the job may lease one more shard (its budget, its owner's balance); always
   * without it. */
  mayLease?: (job: OwnerJob) => boolean;
  /** Whether the job's budget and its owner's balance pay for a lease of `shardId` now (every
   * copy its shard still needs); the job then leases only such shards. All without it. */
  mayTake?: (job: OwnerJob, shardId: number) => boolean;
  /** Reserves what a lease just made pays if verified, in the same tick as the lease; false
   * when nothing can pay it (the lease is then given back). Always true without it. */
  reserve?: (job: OwnerJob, lease: Lease, work: Work) => boolean;
  /** A result for lease `leaseId` of `contributor` reached job `jobId`: what the lease reserved
   * stays until its verdict, even if the lease ends first (a copy waiting for its twin). */
  submitted?: (jobId: string, leaseId: string, contributor: string) => void;
  /** Voids a caught contributor's receipts for one job (an entry in this owner's log stating
   * why; src/ledger). Without it, nothing is voided. */
  revoke?: (r: Revocation) => Promise<void>;
  /** Verdicts kept for a contributor that is not connected when they are decided. */
  maxUndelivered?: number; // default 256 per peer
  /**
   * Makes a settlement durable before anyone is told (IndexedDB in the app): the shard's verified
   * output, if it became final, and every verdict with its receipt, in one write. A reload of this
   * tab then either forgets the shard and its verdicts together (the shard is leased again) or
   * keeps both (the shard is done and its contributors hear their verdicts when they are back).
   */
  persist?: (job: OwnerJob, s: DurableSettlement) => Promise<void>;
  /** Told when a verdict was written to its contributor (it may leave the outbox). */
  delivered?: (leaseId: string) => Promise<void>;
  /** A stream that sends nothing for this long is closed (contributors heartbeat while they
   * compute; one resting between shards for longer dials again). */
  idleTimeoutMs?: number; // default 300_000
  /** Largest frame a contributor may send: a result (outputs of the largest shards allowed,
   * 16 MiB) and its header. */
  maxFrameBytes?: number; // default 16 MiB + 4 KiB
  /** Shard streams one connection may hold open at once. */
  maxStreamsPerConnection?: number; // default 8
  /** Work requests sent sooner than the retry time this owner gave, before the peer is cut
   * off and marked: asking again and again is a flood, not a contributor. */
  maxEarlyRequests?: number; // default 10
}

/** A settlement as it is kept: the verdicts, receipts signed, addressed to their contributors. */
export interface DurableSettlement {
  shard?: { shardId: number; output: Output };
  verdicts: { peer: string; msg: VerdictMsg }[];
  /** Shards whose kept output must go: a caught contributor had a part in it (it is redone). */
  reopened?: number[];
}

/** What the owner saw of one settled result (for the UI, reports and tests). */
export interface SettledEvent extends Omit<Verdict, 'flops'> {
  /** Multiaddr of the connection the result came over, and whether it was a limited (relayed) one. */
  remoteAddr: string;
  limited: boolean;
}

export interface ShardOwnerEvents {
  settled: CustomEvent<SettledEvent>;
  done: CustomEvent<{ jobId: string }>;
  misbehaved: CustomEvent<{ peer: string; error: Error }>;
  /** A contributor spoke an older version of the protocol and was told to stop. */
  refused: CustomEvent<{ peer: string; protocol: string }>;
}

const MAX_KNOWN = 512;

/** What a contributor asking for work on a job was answered, and when. */
export interface Ask {
  at: number; // ms since the epoch
  /** 'lease': it got one; otherwise why it got none (see LeaseOffer's reason). */
  answer: 'lease' | 'quarantined' | 'barred' | 'too-big' | 'unpaid' | 'all-leased' | 'finished';
}

/** How long a quarantined peer's stream waits for the work request it is answered on (ms): a
 * contributor asks as soon as its stream opens. */
export const TURN_AWAY_MS = 2_000;

/** How long an answer counts as a contributor's current state (contributors ask again every few
 * seconds while they wait). */
export const ASK_FRESH_MS = 30_000;
/** The largest frame an owner reads: a result of the largest shard allowed (16 MiB), plus room
 * for its header. Leases (owner to contributor) may be larger: see MAX_FRAME_BYTES. */
export const MAX_RESULT_FRAME_BYTES = 16 * 2 ** 20 + 4096;

/**
 * The owner's side of /tessel/shard/2.0.0, for jobs of any kind: answers work requests with
 * leases, extends leases on heartbeats, hands results to their job, and delivers the verdicts
 * the job decides (with a signed receipt when accepted), on whatever stream the contributor
 * has open then. Registered without `runOnLimitedConnection`, so shard data only ever flows
 * over direct (WebRTC) connections, never through the relay.
 */
export class ShardOwnerService extends EventTarget {
  readonly jobs = new Map<string, OwnerJob>();
  /** What contributors said of themselves in their latest work request (shown, never trusted),
   * newest last, at most MAX_KNOWN: peer ids are free to make. */
  readonly contributors = new Map<
    string,
    { adapter: string; gflops: number; maxBufferBytes: number }
  >();
  /** Jobs cancelled by their owner: late results hear so instead of "unknown job". */
  readonly #cancelled = new Set<string>();
  readonly #node: MeshNode;
  readonly #o: ShardOwnerOptions;
  /** Each contributor's open streams, newest last: where its verdicts go. */
  readonly #streams = new Map<string, FramedStream[]>();
  readonly #undelivered = new Map<string, VerdictMsg[]>();
  /** Where each result came from, for the settled event. */
  readonly #origin = new Map<string, { remoteAddr: string; limited: boolean }>();
  /** Settlements still being made durable, per job: "finished" waits for them. */
  readonly #inflight = new Map<string, Set<Promise<void>>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The owner's measure of each contributor's link (lease bytes ÷ time to its first word). */
  readonly links = new LinkMeter();
  /** Per job, what each contributor that asked lately was answered (for a stalled job's why). */
  readonly #asks = new Map<string, Map<string, Ask>>();

  constructor(node: MeshNode, options: ShardOwnerOptions = {}) {
    super();
    this.#node = node;
    this.#o = options;
  }

  async start(): Promise<void> {
    await this.#node.handle(SHARD_PROTOCOL, (stream, conn) => this.handle(stream, conn), {
      maxInboundStreams: this.#o.maxStreamsPerConnection ?? 8,
    });
    await this.#node.handle(SHARD_PROTOCOL_V1, (stream, conn) => this.#refuseV1(stream, conn));
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
    this.#asks.delete(id);
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
    const idleMs = this.#o.idleTimeoutMs ?? 300_000;
    this.#attach(peer, framed);
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
      console.warn(`tessel: shard stream from ${peer} ended: ${describeStreamError(e)}`);
      this.dispatchEvent(new CustomEvent('misbehaved', { detail: { peer, error } }));
      framed.abort(error);
    } finally {
      this.#detach(peer, framed);
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
        this.#noteAsk(msg.jobId, peer, 'quarantined');
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
      log('turning away %s: %s', peer, describeStreamError(e));
      framed.abort(asStreamError(e));
    }
  }

  #quarantineReason(peer: string): string {
    const why = this.#o.reputation?.get(peer).reason;
    // One line of at most MAX_REASON_CHARS: anything else fails the frame, and the peer would
    // hear nothing.
    return clipReason(`quarantined by this owner${why ? `: ${why}` : ''}`);
  }

  #noteAsk(jobId: string, peer: string, answer: Ask['answer']) {
    const asks = this.#asks.get(jobId) ?? new Map<string, Ask>();
    asks.delete(peer);
    asks.set(peer, { at: Date.now(), answer });
    if (asks.size > MAX_KNOWN) asks.delete(asks.keys().next().value as string);
    this.#asks.set(jobId, asks);
  }

  /** What contributors asking for work on `jobId` in the last ASK_FRESH_MS were answered. */
  asks(jobId: string, now = Date.now()): Ask[] {
    return [...(this.#asks.get(jobId)?.values() ?? [])].filter((a) => now - a.at <= ASK_FRESH_MS);
  }

  /** Counts a work request that came sooner than the retry time this peer was given. */
  #pace(peer: string, pace: { notBefore: number; early: number }) {
    if (Date.now() >= pace.notBefore) return;
    if (++pace.early > (this.#o.maxEarlyRequests ?? 10)) {
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
        // A quarantined peer is told the job is finished: it gets nothing more from this owner.
        // A job whose budget is spent leases nothing until its owner adds to it: ask later.
        // Shards nobody can pay for now are skipped, not leased and given back.
        let unpaid = false;
        const mayTake = this.#o.mayTake;
        const take =
          mayTake && job
            ? (s: number) => {
                const ok = mayTake(job, s);
                unpaid ||= !ok;
                return ok;
              }
            : undefined;
        const quarantined = this.#o.reputation?.isQuarantined(peer) ?? false;
        const budgetSpent = job !== undefined && !(this.#o.mayLease?.(job) ?? true);
        let offer: LeaseOffer =
          !job || quarantined
            ? { kind: 'none', finished: true, retryAfterMs: 0 }
            : budgetSpent
              ? { kind: 'none', finished: false, retryAfterMs: 30_000 }
              : job.offer(
                  {
                    id: peer,
                    gflops: msg.gflops,
                    maxBufferBytes: msg.maxBufferBytes,
                    adapter: msg.adapter,
                    bytesPerSec: this.links.bytesPerSec(peer),
                  },
                  now,
                  take,
                );
        if (offer.kind === 'none' && !offer.finished && unpaid) offer.retryAfterMs = 30_000;
        if (job) {
          this.#noteAsk(
            job.id,
            peer,
            offer.kind === 'lease'
              ? 'lease'
              : quarantined
                ? 'quarantined'
                : budgetSpent || unpaid
                  ? 'unpaid'
                  : offer.finished
                    ? job.done
                      ? 'finished'
                      : 'barred'
                    : offer.reason === 'too-big'
                      ? 'too-big'
                      : 'all-leased',
          );
        }
        // The lease and its reservation in one tick: no other lease can count on that credit.
        if (offer.kind === 'lease' && !(this.#o.reserve?.(job!, offer.lease, offer.work) ?? true)) {
          job!.fail(offer.lease.leaseId, peer);
          offer = { kind: 'none', finished: false, retryAfterMs: 30_000 };
        }
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
        const heartbeatMs = Math.min(this.#o.heartbeatMs ?? 2_000, offer.lease.windowMs);
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
    this.#deliver(peer, {
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
      .catch((e) => console.warn(`tessel: result for ${msg.leaseId} of ${job.id}: ${e}`));
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
      this.dispatchEvent(
        new CustomEvent<SettledEvent>('settled', { detail: { ...verdict, ...origin } }),
      );
      if (v.settlement === 'accepted') this.#o.reputation?.record(v.contributor, 'accepted');
      else if (v.settlement === 'rejected')
        this.#o.reputation?.record(
          v.contributor,
          'rejected',
          `result for shard ${v.shardId} of job ${v.jobId} rejected: ${v.reason}`,
        );
    }
    for (const r of s.revoke ?? []) {
      log(
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
          console.warn(`tessel: receipt for shard ${v.shardId} of ${job.id} not issued: ${e}`);
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
      console.warn(`tessel: settlement of ${job.id} not kept durably: ${e}`);
    }
    if (earlier.length) await Promise.allSettled(earlier);
    for (const r of s.revoke ?? []) {
      try {
        await this.#o.revoke?.(r);
      } catch (e) {
        console.warn(`tessel: receipts of ${r.contributor} for ${r.jobId} not voided: ${e}`);
      }
    }
    // The settlement stands whether or not the contributor is still there to hear it.
    for (const { peer, msg } of verdicts) this.#deliver(peer, msg);
    // The shard that completed the job reports it, once, when its own output is durable.
    if (completed) this.dispatchEvent(new CustomEvent('done', { detail: { jobId: job.id } }));
  }

  /** Verdicts owed from an earlier session (read from the outbox): sent when each peer is back. */
  redeliver(owed: Iterable<[string, VerdictMsg]>): void {
    for (const [peer, msg] of owed) this.#deliver(peer, msg);
  }

  /** Sends a verdict on the contributor's newest open stream, or keeps it for its next one. */
  #deliver(peer: string, msg: VerdictMsg) {
    const stream = this.#streams.get(peer)?.at(-1);
    if (stream) {
      stream.write(msg).then(
        () => this.#o.delivered?.(msg.leaseId).catch(() => {}),
        () => this.#keep(peer, msg),
      );
    } else {
      this.#keep(peer, msg);
    }
  }

  #keep(peer: string, msg: VerdictMsg) {
    const kept = this.#undelivered.get(peer) ?? [];
    kept.push(msg);
    // Bounded: a contributor that never comes back costs a few hundred small frames at most.
    if (kept.length > (this.#o.maxUndelivered ?? 256)) kept.shift();
    this.#undelivered.set(peer, kept);
  }

  #attach(peer: string, framed: FramedStream) {
    this.#streams.set(peer, [...(this.#streams.get(peer) ?? []), framed]);
    const kept = this.#undelivered.get(peer);
    this.#undelivered.delete(peer);
    for (const msg of kept ?? []) this.#deliver(peer, msg);
  }

  #detach(peer: string, framed: FramedStream) {
    const left = (this.#streams.get(peer) ?? []).filter((f) => f !== framed);
    if (left.length) this.#streams.set(peer, left);
    else this.#streams.delete(peer);
  }

  /**
   * A version-1 contributor (matmul-only frames) is answered in its own format that the job is
   * finished, so it stops asking instead of retrying, and the refusal is logged with its id.
   */
  async #refuseV1(stream: Stream, conn: Connection) {
    const peer = conn.remotePeer.toString();
    const lp = lpStream(stream, { maxDataLength: 64 * 1024 });
    try {
      const first = await lp.read({ signal: AbortSignal.timeout(10_000) });
      const jobId = v1WorkRequestJob(first);
      if (jobId) await lp.write(v1Finished(jobId));
      console.warn(
        `tessel: ${peer} speaks ${SHARD_PROTOCOL_V1}; refused (this tab speaks ${SHARD_PROTOCOL}: the other tab should reload)`,
      );
      this.dispatchEvent(
        new CustomEvent('refused', { detail: { peer, protocol: SHARD_PROTOCOL_V1 } }),
      );
      await stream.close();
    } catch (e) {
      log('v1 stream from %s ended: %s', peer, describeStreamError(e));
      stream.abort(asStreamError(e));
    }
  }
}
