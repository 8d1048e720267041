import { html, LitElement } from 'lit';
import type { LocalLedger } from '../ledger/local';
import { DEFAULT_PARAMS } from '../ledger/params';
import { describeError, short } from './format';
import { fmt, tell } from './ledger-parts';
import { base } from './styles';

/** How long an exported file's object URL is kept for the download to start. */
const EXPORT_URL_MS = 10_000; // ms

/**
 * `<tessel-ledger-file>`: exports this tab's ledger as a file that proves itself (its log and
 * the receipts it earned, with their proofs), and imports one: any tab's file is checked and
 * summed; this tab's own file restores receipts and log entries its storage lost.
 */
export class TesselLedgerFile extends LitElement {
  static override properties = { ledger: { attribute: false } };
  static override styles = [base];
  declare ledger: LocalLedger | undefined;

  constructor() {
    super();
    this.ledger = undefined;
  }

  override render() {
    return html`<h3>Ledger file</h3>
      <div class="actions">
        <button id="export-ledger" type="button" ?disabled=${!this.ledger} @click=${this.#onExport}>
          Export ledger
        </button>
        <label
          >Import or check a ledger file
          <input id="import-ledger" type="file" accept=".json,application/json" @change=${this.#onImport}
        /></label>
      </div>`;
  }

  async #onExport() {
    const ledger = this.ledger;
    if (!ledger) return;
    const { exportLedger } = await import('../ledger/file');
    const blob = new Blob([await exportLedger(ledger)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `tessel-ledger-${ledger.peer.slice(-8)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), EXPORT_URL_MS);
  }

  async #onImport(e: Event) {
    const input = e.target instanceof HTMLInputElement ? e.target : undefined;
    const file = input?.files?.[0];
    const ledger = this.ledger;
    if (!input || !file || !ledger) return;
    const { openLedgerFile, restoreLedger, leavesOf } = await import('../ledger/file');
    try {
      const text = await file.text();
      const opened = await openLedgerFile(text);
      const { accounts } = await import('../ledger/audit');
      const books = accounts([opened.log], { grant: DEFAULT_PARAMS.grant * 1e6 }).get(opened.peer);
      const earned = opened.held.reduce((s, h) => s + h.receipt.credit, 0);
      const restored = await restoreLedger(ledger, opened, leavesOf(text));
      tell(this, {
        text:
          `${file.name}: the ledger of ${short(opened.peer)} checks out — ${opened.log.size} log entries, ` +
          `${opened.held.length} receipts earned (${fmt(earned)} credits, proofs checked), ` +
          `${fmt(books?.spent ?? 0)} credits spent.` +
          (opened.peer === ledger.peer
            ? ` Restored ${restored.receipts} receipt(s) and ${restored.entries} log entries.`
            : ''),
        booksChanged: true,
      });
    } catch (err) {
      tell(this, { text: `${file.name} was not imported: ${describeError(err)}` });
    } finally {
      input.value = '';
    }
  }
}

customElements.get('tessel-ledger-file') ??
  customElements.define('tessel-ledger-file', TesselLedgerFile);
