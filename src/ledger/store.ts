import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { ReceiptMsg } from '../mesh/codec';

export interface StoredReceipt extends ReceiptMsg {
  /** `${owner}/${jobId}/${shardId}`: one receipt per verified shard. */
  key: string;
  /** Whether this tab issued the receipt (as owner) or earned it (as contributor). */
  role: 'issued' | 'earned';
  /** The encoded SignedReceipt, verifiable by anyone with the owner's peer id. */
  signed: ArrayBuffer;
}

interface LedgerDB extends DBSchema {
  receipts: { key: string; value: StoredReceipt; indexes: { role: string } };
}

/** Receipts this tab issued or earned (database `tessel-ledger`). */
export class ReceiptStore {
  private constructor(readonly db: IDBPDatabase<LedgerDB>) {}

  static async open(name = 'tessel-ledger'): Promise<ReceiptStore> {
    const db = await openDB<LedgerDB>(name, 1, {
      upgrade(d) {
        d.createObjectStore('receipts', { keyPath: 'key' }).createIndex('role', 'role');
      },
    });
    return new ReceiptStore(db);
  }

  put(role: StoredReceipt['role'], signed: Uint8Array, r: ReceiptMsg): Promise<string> {
    return this.db.put('receipts', {
      ...r,
      key: `${r.owner}/${r.jobId}/${r.shardId}`,
      role,
      signed: signed.slice().buffer,
    });
  }

  list(role: StoredReceipt['role']): Promise<StoredReceipt[]> {
    return this.db.getAllFromIndex('receipts', 'role', role);
  }
}
