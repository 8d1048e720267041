import { credits } from '../jobs/price';

// What the ledger view's elements (ledger-*.ts) share: how credits read, and the event a part
// sends up for the view's status line.

/** µcredits as credits, at most three decimals ("1,234.5"). */
export function fmt(micro: number | bigint): string {
  return credits(Number(micro)).toLocaleString('en', { maximumFractionDigits: 3 });
}

/** What a part of the ledger view tells the person (shown in the view's status line). */
export interface LedgerMessage {
  text: string;
  /** Whether this tab's books changed (a file restored receipts): the view reads them again. */
  booksChanged?: boolean;
}

/** The event a part dispatches (it bubbles out of the part's shadow root). */
export const LEDGER_MESSAGE = 'ledger-message';

/** Tells the ledger view `m`, from the part `el`. */
export function tell(el: HTMLElement, m: LedgerMessage): void {
  el.dispatchEvent(new CustomEvent(LEDGER_MESSAGE, { detail: m, bubbles: true, composed: true }));
}
