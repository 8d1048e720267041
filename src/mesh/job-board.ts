import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub';
import { TypedEventEmitter } from 'main-event';
import { log, notice } from '../log/log';
import { type AnnouncementMsg, decodeAnnouncement, encodeAnnouncement, WireError } from './codec';
import { JOBS_ASK_TOPIC, JOBS_TOPIC } from './topics';

const trace = log('mesh:board');

/** What a board uses of gossipsub (a full GossipSub service satisfies it). */
export type BoardPubSub = Pick<
  GossipSub,
  | 'subscribe'
  | 'unsubscribe'
  | 'publish'
  | 'getSubscribers'
  | 'addEventListener'
  | 'removeEventListener'
>;

/** Jobs that left the board: their owner announced their end, or fell silent. */
export interface GoneJobs {
  jobs: AnnouncementMsg[];
  why: 'ended' | 'silent';
}

export interface JobBoardEvents {
  /** A new job was heard of (or an old one re-announced with changes). */
  job: CustomEvent<AnnouncementMsg>;
  /** Jobs dropped from the board: ended by their owner, or not re-announced for
   * SILENT_JOB_TTL_MS (the owner's tab closed, or it forgot to say). */
  gone: CustomEvent<GoneJobs>;
  /** A peer sent an announcement that failed validation. */
  invalid: CustomEvent<{ peer: string; error: WireError }>;
}

/** Least time between two answers to peers asking for the board: a flood of asks costs one
 * announcement round a second at most. */
export const ANSWER_INTERVAL_MS = 1_000; // ms

export interface JobBoardOptions {
  /** How often an owner re-announces its active jobs. */
  announceIntervalMs?: number; // default ANNOUNCE_INTERVAL_MS
  /** A job not re-announced for this long leaves the board. */
  silentTtlMs?: number; // default SILENT_JOB_TTL_MS
  /** Least time between two answers to peers asking for the board (JOBS_ASK_TOPIC). */
  answerIntervalMs?: number; // default ANSWER_INTERVAL_MS
  /** Clock, for tests. */
  now?: () => number;
  /** Announcements from these peers are dropped (quarantined owners). */
  ignore?: (peer: string) => boolean;
}

/** Live jobs one owner may have on a board. */
export const MAX_JOBS_PER_OWNER = 16;
/** Live jobs a board keeps in all. */
export const MAX_JOBS = 1_024;
/** How often an owner re-announces each of its running jobs. */
export const ANNOUNCE_INTERVAL_MS = 2_000; // ms
/** A job not heard of for this long leaves the board (five announce intervals: gossip may lose
 * one or two, an owner whose tab closed sends no end). */
export const SILENT_JOB_TTL_MS = 5 * ANNOUNCE_INTERVAL_MS; // ms
/** An ended job's end is published this many times in all (now, then on the next ticks), as
 * gossip may lose one. */
export const END_ANNOUNCEMENTS = 3;
/** How long a board remembers a job its owner ended, so a late or replayed announcement of it
 * (gossip does not keep order) does not bring it back. */
export const ENDED_MEMORY_MS = 10 * 60_000; // ms

/**
 * Job announcements on the pubsub topic JOBS_TOPIC: owners publish theirs every
 * ANNOUNCE_INTERVAL_MS, everyone keeps a board of the live ones, as their owners state them
 * (progress included). A job leaves a board when its owner announces its end (finished or
 * cancelled), or when it has not been heard of for SILENT_JOB_TTL_MS (its owner's tab closed).
 * An announcement whose `owner` is not the peer that signed it is refused, so nobody can
 * advertise work, or end it, in someone else's name.
 */
export class JobBoard extends TypedEventEmitter<JobBoardEvents> {
  readonly #pubsub: BoardPubSub;
  /** Live announcements by owner and job id (a job id is the owner's to name: another peer
   * announcing the same id does not replace it), with when each was last heard (ms). */
  readonly #jobs = new Map<string, { a: AnnouncementMsg; heardAt: number }>();
  /** Jobs their owners ended, by owner and job id: when the end was heard (ms). */
  readonly #ended = new Map<string, number>();
  readonly #mine = new Map<string, () => AnnouncementMsg>();
  /** This node's ended jobs, with how many more times their end is published. */
  readonly #ending = new Map<string, { a: AnnouncementMsg; left: number }>();
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #silentTtlMs: number;
  readonly #ignore: (peer: string) => boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  readonly #answerIntervalMs: number;
  #answer: ReturnType<typeof setTimeout> | undefined;
  #answeredAt = Number.NEGATIVE_INFINITY;
  #askedAt = Number.NEGATIVE_INFINITY;
  readonly #onMessage = (evt: CustomEvent<Message>) => this.#handle(evt.detail);
  /** A relay that carries the ask topic just heard of us (we joined, or it came back): ask. */
  readonly #onSubscriptions = (evt: CustomEvent<SubscriptionChangeData>) => {
    if (evt.detail.subscriptions.some((s) => s.topic === JOBS_ASK_TOPIC && s.subscribe)) this.ask();
  };

  constructor(pubsub: BoardPubSub, options: JobBoardOptions = {}) {
    super();
    this.#pubsub = pubsub;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.announceIntervalMs ?? ANNOUNCE_INTERVAL_MS;
    this.#silentTtlMs = options.silentTtlMs ?? SILENT_JOB_TTL_MS;
    this.#answerIntervalMs = options.answerIntervalMs ?? ANSWER_INTERVAL_MS;
    this.#ignore = options.ignore ?? (() => false);
  }

  start(): void {
    this.#pubsub.subscribe(JOBS_TOPIC);
    this.#pubsub.subscribe(JOBS_ASK_TOPIC);
    this.#pubsub.addEventListener('message', this.#onMessage);
    this.#pubsub.addEventListener('subscription-change', this.#onSubscriptions);
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    // A relay's subscriptions usually arrive while the node starts, before this listens.
    if (this.#pubsub.getSubscribers(JOBS_ASK_TOPIC).length > 0) this.ask();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#answer);
    this.#pubsub.removeEventListener('message', this.#onMessage);
    this.#pubsub.removeEventListener('subscription-change', this.#onSubscriptions);
    this.#pubsub.unsubscribe(JOBS_TOPIC);
    this.#pubsub.unsubscribe(JOBS_ASK_TOPIC);
  }

  /**
   * Asks owners to announce their jobs now (a tab that just joined hears of work in a round
   * trip, not after up to an announcement interval). At most once a second.
   */
  ask(): void {
    const now = this.#now();
    if (now - this.#askedAt < this.#answerIntervalMs) return;
    this.#askedAt = now;
    this.#pubsub.publish(JOBS_ASK_TOPIC, Uint8Array.of(1)).catch((e) => {
      trace('board request not published: %s', e);
    });
  }

  /** Re-announces this node's jobs soon, at most once an answer interval however often asked:
   * a peer flooding the ask topic costs each owner one announcement a second. */
  #answerAsk() {
    if (this.#mine.size === 0 || this.#answer) return;
    const wait = Math.max(0, this.#answeredAt + this.#answerIntervalMs - this.#now());
    this.#answer = setTimeout(() => {
      this.#answer = undefined;
      this.#answeredAt = this.#now();
      for (const current of this.#mine.values()) void this.#publish(current());
    }, wait);
  }

  /** Live jobs heard of, most recently heard last: none ended, expired or silent (those still
   * held are dropped, with a 'gone' event, on the next tick). */
  jobs(): AnnouncementMsg[] {
    const now = this.#now();
    return [...this.#jobs.values()].filter((j) => this.#live(j, now)).map((j) => j.a);
  }

  #live({ a, heardAt }: { a: AnnouncementMsg; heardAt: number }, now: number): boolean {
    return a.expiresAt > now && now - heardAt < this.#silentTtlMs;
  }

  /** Announces a job now and every interval until withdrawn; `current` gives its latest state. */
  announce(current: () => AnnouncementMsg): void {
    const a = current();
    this.#mine.set(a.jobId, current);
    this.#ending.delete(a.jobId);
    void this.#publish(a);
  }

  /**
   * Stops announcing a job. With `ended` (the job finished or was cancelled) its end is
   * published, END_ANNOUNCEMENTS times over the next ticks, carrying its last state: boards
   * drop it at once and contributors stop asking. Without, boards drop it once it has been
   * silent for SILENT_JOB_TTL_MS.
   */
  withdraw(jobId: string, { ended = false }: { ended?: boolean } = {}): void {
    const current = this.#mine.get(jobId);
    this.#mine.delete(jobId);
    if (!ended || !current) return;
    const a: AnnouncementMsg = { ...current(), ended: true };
    delete a.paused;
    this.#ending.set(jobId, { a, left: END_ANNOUNCEMENTS - 1 });
    void this.#publish(a);
  }

  #tick() {
    for (const current of this.#mine.values()) void this.#publish(current());
    for (const [jobId, end] of this.#ending) {
      void this.#publish(end.a);
      if (--end.left <= 0) this.#ending.delete(jobId);
    }
    this.#dropExpired();
  }

  async #publish(a: AnnouncementMsg) {
    try {
      await this.#pubsub.publish(JOBS_TOPIC, encodeAnnouncement(a));
    } catch (e) {
      // No peers yet (e.g. the relay is down): the next tick tries again.
      trace('announcement not published: %s', e);
    }
  }

  #handle(msg: Message) {
    if (msg.topic !== JOBS_TOPIC && msg.topic !== JOBS_ASK_TOPIC) return;
    const peer = msg.type === 'signed' ? msg.from.toString() : 'unsigned';
    if (this.#ignore(peer)) return;
    if (msg.topic === JOBS_ASK_TOPIC) return this.#answerAsk();
    try {
      const a = decodeAnnouncement(msg.data, this.#now());
      if (a.owner !== peer) {
        throw new WireError('invalid-field', `announced by ${peer} in ${a.owner}'s name`, 'owner');
      }
      const key = `${a.owner}/${a.jobId}`;
      if (a.ended) return this.#end(key, a);
      if (this.#ended.has(key)) return; // a late copy from before its end
      this.#keep(a);
      this.safeDispatchEvent('job', { detail: a });
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      notice(`bad job announcement from ${peer}: ${e.message}`);
      this.safeDispatchEvent('invalid', { detail: { peer, error: e } });
    }
  }

  /** An owner ended one of its jobs (only its owner can: the announcement is signed by it):
   * off the board at once, and remembered so a late copy does not bring it back. */
  #end(key: string, a: AnnouncementMsg) {
    this.#ended.delete(key);
    this.#ended.set(key, this.#now());
    // Ids are free: the memory is bounded like the board (the oldest ends are forgotten).
    if (this.#ended.size > MAX_JOBS) this.#ended.delete(this.#ended.keys().next().value!);
    if (!this.#jobs.delete(key)) return; // never heard of, or already gone: nothing to tell
    this.safeDispatchEvent('gone', { detail: { jobs: [a], why: 'ended' } });
  }

  /** Keeps an announcement within the board's bounds: ids are free, so one peer may hold at
   * most MAX_JOBS_PER_OWNER live jobs, and the board MAX_JOBS (the soonest to expire go). */
  #keep(a: AnnouncementMsg) {
    const key = `${a.owner}/${a.jobId}`;
    this.#jobs.delete(key);
    this.#jobs.set(key, { a, heardAt: this.#now() });
    const theirs = [...this.#jobs].filter(([, j]) => j.a.owner === a.owner);
    if (theirs.length > MAX_JOBS_PER_OWNER) {
      theirs.sort(([, x], [, y]) => x.a.expiresAt - y.a.expiresAt);
      for (const [k] of theirs.slice(0, theirs.length - MAX_JOBS_PER_OWNER)) this.#jobs.delete(k);
    }
    if (this.#jobs.size > MAX_JOBS) {
      const all = [...this.#jobs].sort(([, x], [, y]) => x.a.expiresAt - y.a.expiresAt);
      for (const [k] of all.slice(0, all.length - MAX_JOBS)) this.#jobs.delete(k);
    }
  }

  /** Drops jobs past their expiry or silent for the TTL (and says so), and forgets old ends. */
  #dropExpired() {
    const now = this.#now();
    const gone: AnnouncementMsg[] = [];
    for (const [key, j] of this.#jobs) {
      if (this.#live(j, now)) continue;
      this.#jobs.delete(key);
      gone.push(j.a);
    }
    for (const [key, at] of this.#ended) {
      if (now - at < ENDED_MEMORY_MS) break; // in the order heard: the rest are younger
      this.#ended.delete(key);
    }
    if (gone.length > 0) {
      this.safeDispatchEvent('gone', { detail: { jobs: gone, why: 'silent' } });
    }
  }
}
