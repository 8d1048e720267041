import type { Receipt } from '../jobs/job';
import type { ContributorOptions } from './shard-contributor';

/**
 * What the mesh needs from this tab's books (src/ledger supplies it; absent = no market): one
 * port in place of five callbacks, so the mesh's side of the market is one narrow interface.
 */
export interface LedgerPort {
  /** Signs and keeps the receipt of an accepted result; returns its bytes. */
  issue(r: Receipt): Promise<Uint8Array>;
  /** Voids a caught contributor's receipts for a job. */
  revoke(jobId: string, contributor: string, reason: string): Promise<void>;
  /** Checks and keeps a receipt this tab earned (throws when it does not check out). */
  accept: NonNullable<ContributorOptions['acceptReceipt']>;
  /** µcredits this tab's receipts already paid for a job. */
  spent(jobId: string): number;
  /** Whether this tab's books can still pay `credit` µcredits. */
  canSpend(credit: number): boolean;
}
