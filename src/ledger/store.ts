import type { PrivateKey } from '@libp2p/interface';
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { Receipt } from '../jobs/job';
import { signReceipt, verifyReceipt } from './receipts';

export interface StoredReceipt extends Receipt {
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

  put(role: StoredReceipt['role'], signed: Uint8Array, r: Receipt): Promise<string> {
    return this.db.put('receipts', {
      ...r,
      key: `${r.owner}/${r.jobId}/${r.shardId}`,
      role,
      signed: signed.slice().buffer,
    });
  }

  /** Signs a receipt with the owner's key and keeps it; resolves once it is durable. */
  async issue(owner: PrivateKey, r: Receipt): Promise<Uint8Array> {
    const signed = await signReceipt(owner, r);
    await this.put('issued', signed, r);
    return signed;
  }

  /** Checks a receipt this tab earned and keeps it; throws WireError if it does not check out. */
  async accept(
    signed: Uint8Array,
    expect: Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>,
  ): Promise<Receipt> {
    const r = await verifyReceipt(signed, expect);
    await this.put('earned', signed, r);
    return r;
  }

  list(role: StoredReceipt['role']): Promise<StoredReceipt[]> {
    return this.db.getAllFromIndex('receipts', 'role', role);
  }
}
