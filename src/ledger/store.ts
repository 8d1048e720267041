import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Receipt } from '../jobs/job';
import { notice } from '../log/log';
import { errorText } from '../wire/fields';
import { type HeldReceipt, openBundle } from './entries';
import { LedgerError } from './errors';
import type { LogPersistence } from './log';

export interface StoredReceipt extends Receipt {
  /** `${owner}/${jobId}/${shardId}`: one receipt per verified shard. */
  key: string;
  /** Whether this tab issued the receipt (as owner, before logs) or earned it (as contributor). */
  role: 'issued' | 'earned';
  /** The encoded SignedReceipt, verifiable by anyone with the owner's peer id. */
  signed: ArrayBuffer;
  /** The ReceiptBundle (leaf, index, checkpoint, proof) it came in; absent before version 2. */
  bundle?: ArrayBuffer;
}

interface LedgerDB extends DBSchema {
  receipts: { key: string; value: StoredReceipt; indexes: { role: string } };
  /** This tab's own transparency log, one leaf per row (version 2). */
  log: { key: number; value: { index: number; leaf: ArrayBuffer } };
  /** Checkpoints kept: this tab's witness state per log, proofs of equivocation (version 2). */
  notes: { key: string; value: { key: string; note: string; conflicting?: string } };
}

/** Schema version of the `tessel-ledger` database. */
export const LEDGER_DB_VERSION = 2;

/**
 * The tab's ledger in IndexedDB (database `tessel-ledger`): receipts earned, with their proofs,
 * and its own log. Version 1 held receipts only; the upgrade to 2 adds the log and the notes and
 * keeps every receipt.
 */
export class LedgerStore implements LogPersistence {
  private constructor(readonly db: IDBPDatabase<LedgerDB>) {}

  static async open(name = 'tessel-ledger'): Promise<LedgerStore> {
    const db = await openDB<LedgerDB>(name, LEDGER_DB_VERSION, {
      upgrade(d, oldVersion) {
        if (oldVersion < 1) {
          d.createObjectStore('receipts', { keyPath: 'key' }).createIndex('role', 'role');
        }
        if (oldVersion < 2) {
          d.createObjectStore('log', { keyPath: 'index' });
          d.createObjectStore('notes', { keyPath: 'key' });
        }
      },
      // A newer tab wants to upgrade: step aside rather than block it.
      blocking() {
        db.close();
      },
    });
    return new LedgerStore(db);
  }

  async leaves(): Promise<Uint8Array[]> {
    return (await this.db.getAll('log')).map((r) => new Uint8Array(r.leaf));
  }

  /** Resolves once the leaf's transaction has committed, flushed to disk (`strict`): a receipt
   * handed out after this survives the tab being killed. */
  async putLeaf(index: number, leaf: Uint8Array): Promise<void> {
    const tx = this.db.transaction('log', 'readwrite', { durability: 'strict' });
    try {
      // `add`, not `put`: a leaf is never overwritten, so two tabs of one browser (one identity)
      // appending at once cannot fork the log; the second is refused and told to reload.
      await Promise.all([tx.store.add({ index, leaf: leaf.slice().buffer }), tx.done]);
    } catch (cause) {
      if ((cause as DOMException)?.name !== 'ConstraintError') throw cause;
      throw new LedgerError(
        'inconsistent',
        `entry ${index} of this log was written by another tab of this browser: reload this one`,
        { cause },
      );
    }
  }

  /** Checks a receipt bundle this tab earned and keeps it; throws if it does not check out. */
  async accept(
    bundle: Uint8Array,
    expect: Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>,
  ): Promise<HeldReceipt> {
    const held = await openBundle(bundle, expect);
    const r = held.receipt;
    const tx = this.db.transaction('receipts', 'readwrite', { durability: 'strict' });
    await tx.store.put({
      ...r,
      key: `${r.owner}/${r.jobId}/${r.shardId}`,
      role: 'earned',
      signed: held.signed.slice().buffer,
      bundle: bundle.slice().buffer,
    });
    await tx.done;
    return held;
  }

  list(role: StoredReceipt['role']): Promise<StoredReceipt[]> {
    return this.db.getAllFromIndex('receipts', 'role', role);
  }

  count(role: StoredReceipt['role']): Promise<number> {
    return this.db.countFromIndex('receipts', 'role', role);
  }

  /** Receipts earned with their proofs, checked again (a tampered row is skipped and named). */
  async held(): Promise<{ held: HeldReceipt[]; unproven: StoredReceipt[] }> {
    const held: HeldReceipt[] = [];
    const unproven: StoredReceipt[] = [];
    for (const r of await this.list('earned')) {
      if (!r.bundle) {
        unproven.push(r);
        continue;
      }
      try {
        held.push(await openBundle(new Uint8Array(r.bundle)));
      } catch (e) {
        notice(`stored receipt ${r.key} no longer checks: ${errorText(e)}`);
        unproven.push(r);
      }
    }
    return { held, unproven };
  }

  putNote(key: string, note: string, conflicting?: string) {
    return this.db.put('notes', { key, note, ...(conflicting ? { conflicting } : {}) });
  }

  allNotes() {
    return this.db.getAll('notes');
  }
}
