/**
 * Which contributors have passed *this owner's own* checks, owner-wide (across its jobs). Pure;
 * the mesh persists it (`toJSON` / `OwnerTrust.from`).
 *
 * Agreement between copies is evidence only when one of the agreeing contributors is proven
 * here: standing earned with other owners can be farmed by an attacker's own owner ids, and two
 * ids of one attacker running one cheaper model agree with each other. So a contributor is
 * proven only by this owner's own computation — a canary it got right, or an owner
 * recomputation its copy matched — over at least `provenAfter` sequences (PROVEN_AFTER). A
 * contributor that fakes a share f of its sequences (a cheaper model is wrong where it is wrong,
 * sequence by sequence) passes n checked sequences with probability (1 − f)ⁿ: 0.9¹²⁸ ≈ 1.4·10⁻⁶.
 *
 * A contributor caught once (a wrong canary, a copy the owner's check rejected) is never proven
 * again, whatever it does later; jobs hear of it (`onCaught`) and redo what it returned.
 */

/** Sequences (work units) a contributor must pass the owner's own checks on to be proven. */
export const PROVEN_AFTER = 128;
/** Records kept; beyond it the longest unchanged go (ids are free to make). */
export const MAX_TRUST_RECORDS = 10_000;

export interface TrustRecord {
  /** Work units (sequences) that passed this owner's own checks. */
  passed: number;
  /** Why it was caught, or '' while it never was. */
  caught: string;
}

/** The persisted form: [peer id, record] in order of last change, oldest first. */
export type OwnerTrustState = [string, TrustRecord][];

export interface OwnerTrustOptions {
  provenAfter?: number; // work units; default PROVEN_AFTER
  maxRecords?: number; // default MAX_TRUST_RECORDS
}

export type CaughtListener = (contributor: string, reason: string) => void;

export class OwnerTrust {
  readonly #records = new Map<string, TrustRecord>();
  readonly #listeners = new Set<CaughtListener>();
  readonly provenAfter: number;
  readonly #max: number;
  /** Called after every change, e.g. to persist the records. */
  onChange?: (peer: string, record: TrustRecord) => void;

  constructor(options: OwnerTrustOptions = {}) {
    this.provenAfter = options.provenAfter ?? PROVEN_AFTER;
    this.#max = options.maxRecords ?? MAX_TRUST_RECORDS;
    if (!(Number.isSafeInteger(this.provenAfter) && this.provenAfter >= 1)) {
      throw new RangeError('provenAfter must be a whole number of work units ≥ 1');
    }
    if (!(Number.isSafeInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError('maxRecords must be ≥ 1');
    }
  }

  /** True when the contributor passed this owner's checks on enough work and was never caught. */
  isProven(peer: string): boolean {
    const r = this.#records.get(peer);
    return r !== undefined && r.caught === '' && r.passed >= this.provenAfter;
  }

  isCaught(peer: string): boolean {
    return (this.#records.get(peer)?.caught ?? '') !== '';
  }

  get(peer: string): TrustRecord {
    return { ...(this.#records.get(peer) ?? { passed: 0, caught: '' }) };
  }

  /** The contributor's copy passed the owner's own check on `units` sequences. */
  passed(peer: string, units: number): void {
    if (!(Number.isSafeInteger(units) && units > 0)) return;
    const r = this.get(peer);
    if (r.caught) return;
    r.passed = Math.min(Number.MAX_SAFE_INTEGER, r.passed + units);
    this.#set(peer, r);
  }

  /**
   * The owner's own check found the contributor wrong: it is never proven again, and every job
   * listening is told (once) so it can redo what the contributor returned.
   */
  caught(peer: string, reason: string): void {
    if (this.isCaught(peer)) return;
    this.#set(peer, { passed: 0, caught: reason || 'caught' });
    for (const f of [...this.#listeners]) f(peer, reason);
  }

  /**
   * The owner lifts what its checks held against `peer` (by hand, from the mesh view): it is no
   * longer caught, and starts unproven. Jobs that already barred it keep it barred (their
   * revocations stand); new jobs lease to it again.
   */
  forgive(peer: string): void {
    if (!this.isCaught(peer)) return;
    this.#set(peer, { passed: 0, caught: '' });
  }

  /** Hears every contributor caught from now on; returns the way to stop listening. */
  onCaught(f: CaughtListener): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  get size(): number {
    return this.#records.size;
  }

  toJSON(): OwnerTrustState {
    return [...this.#records.entries()].map(([p, r]) => [p, { ...r }]);
  }

  /** Records kept from an earlier session; entries that are not well formed are skipped. */
  static from(state: unknown, options: OwnerTrustOptions = {}): OwnerTrust {
    const t = new OwnerTrust(options);
    t.load(state);
    return t;
  }

  /** Adds records kept from an earlier session (oldest change first), skipping any that are not
   * well formed; a record this session already changed is kept as it is now. */
  load(state: unknown): void {
    if (!Array.isArray(state)) return;
    for (const e of state) {
      if (!Array.isArray(e) || e.length !== 2) continue;
      const [peer, r] = e as [unknown, Partial<TrustRecord> | null];
      const sound =
        typeof peer === 'string' &&
        peer.length > 0 &&
        Number.isSafeInteger(r?.passed) &&
        (r?.passed as number) >= 0 &&
        typeof r?.caught === 'string';
      if (sound && !this.#records.has(peer))
        this.#put(peer, { passed: r!.passed!, caught: r!.caught! });
    }
  }

  #set(peer: string, r: TrustRecord) {
    this.#put(peer, r);
    this.onChange?.(peer, { ...r });
  }

  /** Keeps a changed record last in line; the longest unchanged go beyond the cap. */
  #put(peer: string, r: TrustRecord) {
    this.#records.delete(peer);
    this.#records.set(peer, r);
    while (this.#records.size > this.#max) {
      this.#records.delete(this.#records.keys().next().value!);
    }
  }
}
