import type { PrivateKey } from '@libp2p/interface';
import { TypedEventEmitter } from 'main-event';
import { log, notice } from '../log/log';
import { LedgerError } from './errors';
import { sameHash, verifyConsistency } from './merkle';
import { cosign, noteOf, openCheckpoint, type SignedCheckpoint } from './note';
import type { LedgerStore } from './store';

const trace = log('ledger:witness');

/** Two checkpoints of one log at one size with different roots, both signed by the log. */
export interface Equivocation {
  log: string;
  size: number;
  a: string;
  b: string;
  /** When this tab first held the proof (ms since the epoch). */
  at: number;
}

/** A checkpoint of another log, as this tab saw it. */
export interface CheckpointSeen {
  log: string;
  size: number;
  cosignatures: number;
}

export interface WitnessEvents {
  /** A checkpoint of another log was seen, consistent with every head seen before. */
  checkpoint: CustomEvent<CheckpointSeen>;
  /** A log equivocated: its owner is quarantined and the proof kept. */
  equivocation: CustomEvent<Equivocation>;
}

/** Logs whose heads are tracked: log ids are free to make, so the tables are bounded. */
export const LOGS_KEPT = 1_024;
/** Heads kept per log (by size) to catch a second head at one size. */
export const SIZES_KEPT = 32;

export interface WitnessOptions {
  /** This tab's peer id: its own log is not witnessed here. */
  me: string;
  /** This tab's key, which signs its cosignatures. */
  key: PrivateKey;
  /** Where the last head cosigned per log and proofs of equivocation are kept across reloads. */
  store: Pick<LedgerStore, 'putNote' | 'allNotes'>;
  /** A consistency proof of `log` from size `from` to `to`, asked of its owner. */
  consistency: (log: string, from: number, to: number) => Promise<Uint8Array[]>;
  /** Gossips a note (a cosigned checkpoint), or a proof of equivocation (`conflicting`). */
  publish: (note: string, conflicting?: string) => Promise<void>;
  /** Quarantines an equivocating log's owner. */
  quarantine: (peer: string, why: string) => void;
  /** Cosignatures a checkpoint needs to be trusted. */
  quorum: number;
  /** At most one cosignature per log per this many ms (a gossip round). */
  cosignEveryMs: number; // ms
}

/**
 * A witness of other peers' logs (tessera's witness, with the equivocation check a log
 * monitor makes): it tracks each log's heads, cosigns a newer head only once the owner proves
 * it extends the last one cosigned, trusts heads with `quorum` cosignatures, and turns two
 * heads of one size into a portable proof of equivocation that quarantines the owner.
 */
export class Witness extends TypedEventEmitter<WitnessEvents> {
  readonly #o: WitnessOptions;
  /** Per log: the checkpoints seen by size (bounded), for equivocation checks. */
  readonly #heads = new Map<string, Map<number, SignedCheckpoint>>();
  /** Per log: the checkpoint this tab last cosigned. */
  readonly #witnessed = new Map<string, SignedCheckpoint>();
  /** Per log: the newest checkpoint seen with at least `quorum` cosignatures. */
  readonly #trusted = new Map<string, SignedCheckpoint>();
  readonly #cosigning = new Set<string>();
  readonly #cosignedAt = new Map<string, number>();
  readonly #equivocations = new Map<string, Equivocation>();

  constructor(o: WitnessOptions) {
    super();
    this.#o = o;
  }

  /** Proofs of equivocation held, by log. */
  get equivocations(): ReadonlyMap<string, Equivocation> {
    return this.#equivocations;
  }

  /** Reads back the heads cosigned and the proofs held before a reload. */
  async load(): Promise<void> {
    for (const n of await this.#o.store.allNotes()) {
      if (n.key.startsWith('witnessed/')) {
        const c = await openCheckpoint(n.note).catch(() => undefined);
        if (c) this.#witnessed.set(c.log, c);
      } else if (n.key.startsWith('equivocation/') && n.conflicting) {
        await this.checkEquivocation(n.note, n.conflicting, false).catch(() => {});
      }
    }
  }

  /** The newest checkpoint of `log` seen with at least `quorum` cosignatures. */
  trusted(log: string): SignedCheckpoint | undefined {
    return this.#trusted.get(log);
  }

  /** The heads of `log` seen so far (at most SIZES_KEPT), for checking its entries against. */
  heads(log: string): SignedCheckpoint[] {
    return [...(this.#heads.get(log)?.values() ?? [])];
  }

  /** A checkpoint of another log: equivocation check, trust, then witnessing. */
  async observe(c: SignedCheckpoint, note: string): Promise<void> {
    if (!(await this.see(c, note))) return;
    if (c.cosignatures.length >= this.#o.quorum) {
      const t = this.#trusted.get(c.log);
      if (!t || c.size >= t.size) this.#trusted.set(c.log, c);
    }
    this.safeDispatchEvent('checkpoint', {
      detail: { log: c.log, size: c.size, cosignatures: c.cosignatures.length },
    });
    await this.#cosign(c);
  }

  /** Records a checkpoint; false (and an equivocation) when it conflicts with one seen. The
   * head is recorded before the first await, so a caller that does not wait sees it. */
  async see(c: SignedCheckpoint, note: string): Promise<boolean> {
    if (this.#equivocations.has(c.log)) return false;
    const sizes = this.#heads.get(c.log) ?? new Map<number, SignedCheckpoint>();
    const before = sizes.get(c.size);
    if (before && !sameHash(before.root, c.root)) {
      await this.checkEquivocation(noteOf(before), note, true);
      return false;
    }
    sizes.set(c.size, before && before.cosignatures.length > c.cosignatures.length ? before : c);
    if (sizes.size > SIZES_KEPT) sizes.delete(Math.min(...sizes.keys()));
    remember(this.#heads, c.log, sizes);
    return true;
  }

  /** Checks a claimed proof of equivocation (two notes); if it holds, quarantines the log's
   * owner, keeps the proof and, when `spread`, gossips it. Throws LedgerError when it is not a
   * proof. */
  async checkEquivocation(a: string, b: string, spread: boolean): Promise<void> {
    const x = await openCheckpoint(a);
    const y = await openCheckpoint(b, x.log);
    if (x.size !== y.size || sameHash(x.root, y.root)) {
      throw new LedgerError('equivocation', 'not a proof: different sizes or the same root');
    }
    if (this.#equivocations.has(x.log)) return;
    if (x.log === this.#o.me) {
      notice('two heads of this tab’s own log are signed with its key: is the key copied?');
      return;
    }
    const proof: Equivocation = {
      log: x.log,
      size: x.size,
      a: noteOf(x),
      b: noteOf(y),
      at: Date.now(),
    };
    this.#equivocations.set(x.log, proof);
    notice(`log of ${x.log} equivocated at size ${x.size}: quarantined`);
    this.#o.quarantine(x.log, `equivocated at size ${x.size}`);
    // Told at once, with the quarantine: whoever sees one sees the other.
    this.safeDispatchEvent('equivocation', { detail: proof });
    await this.#o.store.putNote(`equivocation/${x.log}`, proof.a, proof.b);
    if (spread) await this.#o.publish(proof.a, proof.b);
  }

  /** Cosigns a checkpoint newer than the last one cosigned, once consistency is proven. */
  async #cosign(c: SignedCheckpoint) {
    const me = this.#o.me;
    const last = this.#witnessed.get(c.log);
    if (c.size === 0 || c.cosignatures.some((s) => s.witness === me)) return;
    if (last && c.size <= last.size) return;
    if (this.#cosigning.has(c.log)) return;
    // At most one cosignature per log per gossip round: a busy owner's head moves many times a
    // second, and the owner gossips its latest head every round anyway.
    const now = Date.now();
    if (now - (this.#cosignedAt.get(c.log) ?? 0) < this.#o.cosignEveryMs) return;
    remember(this.#cosignedAt, c.log, now);
    this.#cosigning.add(c.log);
    try {
      if (last && last.size > 0) {
        const proof = await this.#o.consistency(c.log, last.size, c.size);
        try {
          verifyConsistency(last.size, c.size, proof, last.root, c.root);
        } catch (e) {
          // The log cannot show its new head extends the one this tab vouched for.
          noticeBadLog(c.log, e);
          return;
        }
      }
      const time = Math.floor(Date.now() / 1000);
      const line = await cosign(this.#o.key, me, c.body, time);
      const mine = noteOf(c, [{ witness: me, time, line }]);
      this.#witnessed.set(c.log, c);
      await this.#o.store.putNote(`witnessed/${c.log}`, noteOf(c));
      await this.#o.publish(mine);
    } catch (e) {
      trace('did not cosign %s at %d: %s', c.log, c.size, e);
    } finally {
      this.#cosigning.delete(c.log);
    }
  }
}

/** Tells the person at this tab that a peer's log failed a check (a proof, an entry). */
export function noticeBadLog(peer: string, e: unknown): void {
  notice(`the log of ${peer} failed a check: ${e instanceof Error ? e.message : String(e)}`);
}

/** Bounded maps: log ids are free to make. */
function remember<V>(map: Map<string, V>, key: string, value: V) {
  map.delete(key);
  map.set(key, value);
  if (map.size > LOGS_KEPT) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}
