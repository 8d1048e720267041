import type { Receipt } from '../jobs/job';
import type { LocalLedger } from '../ledger/local';
import { DEFAULT_PARAMS } from '../ledger/params';
import type { LedgerPort } from '../mesh/ledger-port';

/**
 * A peer's books (its LocalLedger) as the mesh's LedgerPort: receipts it issues as an owner and
 * accepts as a contributor, what it spent, and whether it can still pay. Its balance counts the
 * grant the market's governance decided, once the market runs (DEFAULT_PARAMS.grant before).
 */
export class BooksPort implements LedgerPort {
  readonly ledger: LocalLedger;
  /** The grant in force (credits), read at each spending check; the market sets it. */
  grant: () => number = () => DEFAULT_PARAMS.grant;

  constructor(ledger: LocalLedger) {
    this.ledger = ledger;
  }

  /** Settlement is the verdict: the receipt's leaf is durable before "accepted" is sent. */
  issue(r: Receipt): Promise<Uint8Array> {
    return this.ledger.issue(r);
  }

  async revoke(jobId: string, contributor: string, reason: string): Promise<void> {
    await this.ledger.revoke(jobId, contributor, reason);
  }

  accept: LedgerPort['accept'] = (bundle, expect) => this.ledger.accept(bundle, expect);

  spent(jobId: string): number {
    return this.ledger.spent(jobId);
  }

  canSpend(credit: number): boolean {
    return this.ledger.balance(this.grant() * 1e6) >= credit; // µcredits
  }
}
