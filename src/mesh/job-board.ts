import type { GossipSub, Message, SubscriptionChangeData } from '@libp2p/gossipsub';
import { type AnnouncementMsg, decodeAnnouncement, encodeAnnouncement, WireError } from './codec';
import { JOBS_ASK_TOPIC, JOBS_TOPIC } from './topics';

export interface JobBoardEvents {
  /** A new job was heard of (or an old one re-announced with changes). */
  job: CustomEvent<AnnouncementMsg>;
  /** A peer sent an announcement that failed validation. */
  invalid: CustomEvent<{ peer: string; error: WireError }>;
}

export interface JobBoardOptions {
  /** How often an owner re-announces its active jobs. */
  announceIntervalMs?: number; // default 2_000
  /** Least time between two answers to peers asking for the board (JOBS_ASK_TOPIC). */
  answerIntervalMs?: number; // default 1_000
  /** Clock, for tests. */
  now?: () => number;
  /** Announcements from these peers are dropped (quarantined owners). */
  ignore?: (peer: string) => boolean;
}

/**
 * Job announcements on the pubsub topic `tessel/jobs/1`: owners publish theirs periodically,
 * everyone keeps a board of the live ones. An announcement whose `owner` is not the peer that
 * signed it is refused, so nobody can advertise work in someone else's name.
 */
/** Live jobs one owner may have on a board. */
export const MAX_JOBS_PER_OWNER = 16;
/** Live jobs a board keeps in all. */
export const MAX_JOBS = 1_024;

export class JobBoard extends EventTarget {
  readonly #pubsub: GossipSub;
  /** Live announcements by owner and job id (a job id is the owner's to name: another peer
   * announcing the same id does not replace it). */
  readonly #jobs = new Map<string, AnnouncementMsg>();
  readonly #mine = new Map<string, () => AnnouncementMsg>();
  readonly #now: () => number;
  readonly #intervalMs: number;
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

  constructor(pubsub: GossipSub, options: JobBoardOptions = {}) {
    super();
    this.#pubsub = pubsub;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.announceIntervalMs ?? 2_000;
    this.#answerIntervalMs = options.answerIntervalMs ?? 1_000;
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
      console.debug('tessel: board request not published', e);
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

  /** Live jobs heard of, soonest-expiring last. */
  jobs(): AnnouncementMsg[] {
    this.#dropExpired();
    return [...this.#jobs.values()];
  }

  /** Announces a job now and every interval until withdrawn; `current` gives its latest state. */
  announce(current: () => AnnouncementMsg): void {
    const a = current();
    this.#mine.set(a.jobId, current);
    void this.#publish(a);
  }

  withdraw(jobId: string): void {
    this.#mine.delete(jobId);
  }

  #tick() {
    for (const current of this.#mine.values()) void this.#publish(current());
    this.#dropExpired();
  }

  async #publish(a: AnnouncementMsg) {
    try {
      await this.#pubsub.publish(JOBS_TOPIC, encodeAnnouncement(a));
    } catch (e) {
      // No peers yet (e.g. the relay is down): the next tick tries again.
      console.debug('tessel: announcement not published', e);
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
      this.#keep(a);
      this.dispatchEvent(new CustomEvent('job', { detail: a }));
    } catch (e) {
      if (!(e instanceof WireError)) throw e;
      console.warn(`tessel: bad job announcement from ${peer}: ${e.message}`);
      this.dispatchEvent(new CustomEvent('invalid', { detail: { peer, error: e } }));
    }
  }

  /** Keeps an announcement within the board's bounds: ids are free, so one peer may hold at
   * most MAX_JOBS_PER_OWNER live jobs, and the board MAX_JOBS (the soonest to expire go). */
  #keep(a: AnnouncementMsg) {
    const key = `${a.owner}/${a.jobId}`;
    this.#jobs.delete(key);
    this.#jobs.set(key, a);
    const theirs = [...this.#jobs].filter(([, j]) => j.owner === a.owner);
    if (theirs.length > MAX_JOBS_PER_OWNER) {
      theirs.sort(([, x], [, y]) => x.expiresAt - y.expiresAt);
      for (const [k] of theirs.slice(0, theirs.length - MAX_JOBS_PER_OWNER)) this.#jobs.delete(k);
    }
    if (this.#jobs.size > MAX_JOBS) {
      const all = [...this.#jobs].sort(([, x], [, y]) => x.expiresAt - y.expiresAt);
      for (const [k] of all.slice(0, all.length - MAX_JOBS)) this.#jobs.delete(k);
    }
  }

  #dropExpired() {
    const now = this.#now();
    for (const [id, a] of this.#jobs) if (a.expiresAt <= now) this.#jobs.delete(id);
  }
}
