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
  /** At or below this score a peer is quarantined. */
  quarantineBelow?: number; // default -15
  /** Good behaviour stops counting above this: a long honest record is no licence to cheat. */
  cap?: number; // default 20
  /** Records kept; beyond it the longest unseen go (peer ids are free to make). */
  maxPeers?: number; // default 10_000
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
  /** Once quarantined, always quarantined (until the owner clears it by hand). */
  quarantined: boolean;
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

/**
 * Per-peer reputation as seen by one owner. Two rejected or malformed results from a newcomer
 * quarantine it; a peer with a long honest record survives one honest mistake, not two in a
 * row. Pure: persistence is the caller's (see src/mesh/store.ts).
 */
export class Reputation {
  readonly #peers = new Map<string, PeerRecord>();
  readonly #weights: Record<ReputationEvent, number>;
  /** At or below this score a peer is quarantined (a votable mesh parameter). */
  quarantineBelow: number;
  readonly #cap: number;
  readonly #maxPeers: number;
  readonly #now: () => number;
  /** Called after every change, e.g. to persist the record. */
  onChange?: (peer: string, record: PeerRecord) => void;

  constructor(options: ReputationOptions = {}) {
    this.#weights = { ...DEFAULT_WEIGHTS, ...options.weights };
    this.quarantineBelow = options.quarantineBelow ?? -15;
    this.#cap = options.cap ?? 20;
    this.#maxPeers = options.maxPeers ?? 10_000;
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

  record(peer: string, event: ReputationEvent): PeerRecord {
    const r = { ...this.get(peer) };
    r.score = Math.min(this.#cap, r.score + this.#weights[event]);
    if (event === 'accepted') r.accepted++;
    else if (event === 'rejected') r.rejected++;
    else if (event === 'missed-deadline') r.missedDeadlines++;
    else if (event === 'malformed') r.malformed++;
    else r.failures++;
    if (r.score <= this.quarantineBelow) r.quarantined = true;
    this.#set(peer, r);
    return r;
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

  /** Quarantines a peer outright (e.g. on a proof that it equivocated). */
  quarantine(peer: string): PeerRecord {
    const r = { ...this.get(peer), quarantined: true };
    this.#set(peer, r);
    return r;
  }

  /** Loads records kept from an earlier session, skipping any that are not well formed. */
  restore(records: Iterable<[string, PeerRecord]>): void {
    const sorted = [...records].sort(([, x], [, y]) => (x?.seenAt ?? 0) - (y?.seenAt ?? 0));
    for (const [peer, r] of sorted) {
      const counts = [r?.accepted, r?.rejected, r?.missedDeadlines, r?.malformed, r?.failures];
      const sound =
        typeof peer === 'string' &&
        Number.isFinite(r?.score) &&
        typeof r?.quarantined === 'boolean' &&
        counts.every((c) => Number.isSafeInteger(c) && (c as number) >= 0);
      if (sound) this.#peers.set(peer, { ...r, seenAt: Number(r.seenAt) || 0 });
    }
    while (this.#peers.size > this.#maxPeers) this.#peers.delete(this.#peers.keys().next().value!);
  }

  entries(): [string, PeerRecord][] {
    return [...this.#peers.entries()];
  }
}
