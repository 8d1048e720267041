import type { PrivateKey } from '@libp2p/interface';
import { TypedEventEmitter } from 'main-event';
import type { Receipt } from '../jobs/job';
import type { HeldReceipt } from './entries';
import { OwnerLog } from './log';
import { LedgerStore } from './store';

export interface LocalLedgerEvents {
  /** A receipt was issued or earned: this tab's books changed. */
  books: CustomEvent<void>;
}

/**
 * This tab's own books, without the network: its log (receipts it issued as an owner, its
 * proposals and votes) and the receipts it earned with their proofs. What a page shows before
 * it joins the mesh, and what the mesh's owner and contributor sides write to.
 */
export class LocalLedger extends TypedEventEmitter<LocalLedgerEvents> {
  /** µcredits, exact (receipts' credits are safe integers; their sum need not be). */
  #earned = 0n;
  /** Receipts earned with their proofs, checked once when read or received, by key. */
  readonly #held = new Map<string, HeldReceipt>();
  #unproven = 0;

  private constructor(
    readonly peer: string,
    readonly log: OwnerLog,
    readonly store: LedgerStore,
  ) {
    super();
  }

  static async open(key: PrivateKey, peer: string, dbName?: string): Promise<LocalLedger> {
    const store = await LedgerStore.open(dbName);
    const ledger = new LocalLedger(peer, await OwnerLog.open(key, peer, store), store);
    const { held, unproven } = await store.held();
    for (const h of held) ledger.#held.set(keyOf(h.receipt), h);
    ledger.#earned = held.reduce((s, h) => s + BigInt(h.receipt.credit), 0n);
    ledger.#unproven = unproven.length;
    return ledger;
  }

  /** Receipts earned with their proofs (checked when they were read or received). */
  held(): { held: HeldReceipt[]; unproven: number } {
    return { held: [...this.#held.values()], unproven: this.#unproven };
  }

  /** µcredits earned: receipts held with proofs (their owners' solvency is the audit's job). */
  get earned(): number {
    return Number(this.#earned);
  }

  /** µcredits this tab's receipts paid, in all or for one job. */
  spent(jobId?: string): number {
    return this.log.spent(jobId);
  }

  /** grant + earned − spent, in µcredits. */
  balance(grant: number): number {
    return grant + Number(this.#earned) - this.log.spent();
  }

  /** Appends a receipt to this tab's log; resolves with the bundle, once it is durable. */
  async issue(r: Receipt): Promise<Uint8Array> {
    const bundle = await this.log.issue(r);
    this.dispatchEvent(new CustomEvent('books'));
    return bundle;
  }

  /** Checks and keeps a receipt this tab earned; throws if it does not check out. */
  async accept(
    bundle: Uint8Array,
    expect: Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>,
  ): Promise<Receipt> {
    const held = await this.store.accept(bundle, expect);
    const key = keyOf(held.receipt);
    // A receipt received again (a redelivered verdict) replaces the one held, not adds to it.
    this.#earned += BigInt(held.receipt.credit - (this.#held.get(key)?.receipt.credit ?? 0));
    this.#held.set(key, held);
    this.dispatchEvent(new CustomEvent('books'));
    return held.receipt;
  }

  /**
   * Voids `contributor`'s receipts for `jobId` issued so far, by an entry in this tab's log that
   * says why (the owner caught it cheating). Resolves once the entry is durable. Their credit is
   * burned, not refunded: spent() is unchanged (docs/market.md).
   */
  async revoke(jobId: string, contributor: string, reason: string) {
    const appended = await this.log.revoke({ jobId, contributor, reason, revokedAt: Date.now() });
    this.dispatchEvent(new CustomEvent('books'));
    return appended;
  }
}

function keyOf(r: Receipt): string {
  return `${r.owner}/${r.jobId}/${r.shardId}`;
}
