/** What an owner saw a peer do. */
export type ReputationEvent =
  | 'accepted' // a result passed verification
  | 'rejected' // a result failed verification
  | 'missed-deadline' // a lease lapsed without a result or a heartbeat
  | 'malformed' // a frame failed the codec
  | 'failure'; // the peer reported a GPU failure itself (honest, but unreliable)

export interface ReputationOptions {
  /** Score change per event. */
  weights?: Partial<Record<ReputationEvent, number>>;
  /** At or below this score, a peer whose result was rejected or whose frame was malformed
   * is quarantined (default: REPUTATION_DEFAULTS). */
  quarantineBelow?: number;
  /** Lapses and failures lower the score to this floor and no further: slowness alone never
   * brings a peer within one rejection of quarantine (default: REPUTATION_DEFAULTS). */
  slowFloor?: number;
  /** Good behaviour stops counting above this: a long honest record is no licence to cheat. */
  cap?: number;
  /** Records kept; beyond it the longest unseen go (peer ids are free to make). */
  maxPeers?: number;
  /** Clock for `seenAt`, for tests. */
  now?: () => number;
}

export interface PeerRecord {
  score: number;
  accepted: number;
  rejected: number;
  missedDeadlines: number;
  malformed: number;
  failures: number;
  /** Once quarantined, always quarantined (until the owner lifts it by hand: `lift`). */
  quarantined: boolean;
  /** Why it was quarantined, for the owner and the contributor (e.g. "result for shard 3 of
   * job X rejected: residual"); absent while it is not, and on records kept before reasons. */
  reason?: string;
  /** When it was quarantined (ms since the epoch); absent while it is not. */
  quarantinedAt?: number;
  /** When this record last changed (ms since the epoch; 0 for records kept before it was). */
  seenAt: number;
}

const DEFAULT_WEIGHTS: Record<ReputationEvent, number> = {
  accepted: 1,
  rejected: -10,
  'missed-deadline': -2,
  malformed: -10,
  failure: -0.5,
};

/** Defaults of ReputationOptions. */
export const REPUTATION_DEFAULTS = {
  quarantineBelow: -15,
  /** Above quarantineBelow by more than one rejection: a peer that sits here after many lapses
   * still needs two rejected results to be quarantined, like a newcomer. */
  slowFloor: -4,
  cap: 20,
  maxPeers: 10_000,
} as const;

/** Events that are evidence of a wrong result or a broken protocol: only these quarantine. */
const EVIDENCE: ReadonlySet<ReputationEvent> = new Set(['rejected', 'malformed']);

/**
 * Per-peer reputation as seen by one owner. Slow is not dishonest: a lapsed lease or a failure
 * the peer reported lowers its standing (down to `slowFloor`), never quarantines it. Quarantine
 * needs evidence: two rejected or malformed results from a newcomer, or an explicit
 * `quarantine` (a caught canary, an equivocation, a protocol violation); a peer with a long
 * honest record survives one honest mistake, not two in a row. Each quarantine keeps its
 * reason, and the owner can lift it (`lift`). Pure: persistence is the caller's (see
 * src/mesh/store.ts).
 */
export class Reputation {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #weights: Record<ReputationEvent, number>;
  /** At or below this score a peer is quarantined (a votable mesh parameter). */
  quarantineBelow: number;
  readonly #cap: number;
  readonly #slowFloor: number;
  readonly #maxPeers: number;
  readonly #now: () => number;
  /** Called after every change, e.g. to persist the record. */
  onChange?: (peer: string, record: PeerRecord) => void;

  constructor(options: ReputationOptions = {}) {
    this.#weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    this.quarantineBelow = options.quarantineBelow ?? REPUTATION_DEFAULTS.quarantineBelow;
    this.#slowFloor = options.slowFloor ?? REPUTATION_DEFAULTS.slowFloor;
    this.#cap = options.cap ?? REPUTATION_DEFAULTS.cap;
    this.#maxPeers = options.maxPeers ?? REPUTATION_DEFAULTS.maxPeers;
    this.#now = options.now ?? Date.now;
  }

  get(peer: string): PeerRecord {
    return (
      this.#peers.get(peer) ?? {
        score: 0,
        accepted: 0,
        rejected: 0,
        missedDeadlines: 0,
        malformed: 0,
        failures: 0,
        quarantined: false,
        seenAt: 0,
      }
    );
  }

  isQuarantined(peer: string): boolean {
    return this.#peers.get(peer)?.quarantined ?? false;
  }

  /**
   * Records what `peer` did. `detail` says where (e.g. "result for shard 3 of job X rejected:
   * residual"): kept as the reason when this event quarantines it.
   */
  record(peer: string, event: ReputationEvent, detail?: string): PeerRecord {
    const r = { ...this.get(peer) };
    const w = this.#weights[event];
    const evidence = EVIDENCE.has(event);
    // Slowness lowers the score to the floor at most; a score already below stays where it is.
    const floor = evidence || w >= 0 ? -Infinity : Math.min(r.score, this.#slowFloor);
    r.score = Math.max(floor, Math.min(this.#cap, r.score + w));
    if (event === 'accepted') r.accepted++;
    else if (event === 'rejected') r.rejected++;
    else if (event === 'missed-deadline') r.missedDeadlines++;
    else if (event === 'malformed') r.malformed++;
    else r.failures++;
    if (evidence && !r.quarantined && r.score <= this.quarantineBelow) {
      this.#mark(
        r,
        detail ??
          `${event === 'rejected' ? 'results rejected' : 'malformed frames'} (score ${r.score})`,
      );
    }
    this.#set(peer, r);
    return r;
  }

  #mark(r: PeerRecord, reason: string) {
    r.quarantined = true;
    r.reason = reason;
    r.quarantinedAt = this.#now();
  }

  /** Keeps a changed record last in line; the longest unseen go beyond maxPeers. */
  #set(peer: string, r: PeerRecord) {
    r.seenAt = this.#now();
    this.#peers.delete(peer);
    this.#peers.set(peer, r);
    while (this.#peers.size > this.#maxPeers) this.#peers.delete(this.#peers.keys().next().value!);
    this.onChange?.(peer, r);
  }

  /** Records kept now. */
  get size(): number {
    return this.#peers.size;
  }

  /**
   * Quarantines a peer outright on evidence (a caught canary, a proof that it equivocated, a
   * protocol violation); `reason` says which, for the owner and the peer. A peer quarantined
   * already keeps its first reason.
   */
  quarantine(peer: string, reason = 'quarantined by the owner'): PeerRecord {
    const r = { ...this.get(peer) };
    if (!r.quarantined) this.#mark(r, reason);
    this.#set(peer, r);
    return r;
  }

  /** The owner lifts a quarantine by hand: the peer starts over at score 0, its counts kept. */
  lift(peer: string): PeerRecord {
    const { reason: _r, quarantinedAt: _t, ...rest } = this.get(peer);
    const r: PeerRecord = { ...rest, score: 0, quarantined: false };
    this.#set(peer, r);
    return r;
  }

  /** Loads records kept from an earlier session, skipping any that are not well formed
   * (records kept before `reason` and `quarantinedAt` existed are well formed). */
  restore(records: Iterable<[string, PeerRecord]>): void {
    const sorted = [...records].sort(([, x], [, y]) => (x?.seenAt ?? 0) - (y?.seenAt ?? 0));
    for (const [peer, r] of sorted) {
      const counts = [r?.accepted, r?.rejected, r?.missedDeadlines, r?.malformed, r?.failures];
      const sound =
        typeof peer === 'string' &&
        Number.isFinite(r?.score) &&
        typeof r?.quarantined === 'boolean' &&
        counts.every((c) => Number.isSafeInteger(c) && (c as number) >= 0) &&
        (r.reason === undefined || typeof r.reason === 'string') &&
        (r.quarantinedAt === undefined || Number.isFinite(r.quarantinedAt));
      if (sound) this.#peers.set(peer, { ...r, seenAt: Number(r.seenAt) || 0 });
    }
    while (this.#peers.size > this.#maxPeers) this.#peers.delete(this.#peers.keys().next().value!);
  }

  entries(): [string, PeerRecord][] {
    return [...this.#peers.entries()];
  }
}
