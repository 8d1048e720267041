import { css, html, LitElement, nothing } from 'lit';
import './ledger-audit';
import './ledger-books';
import './ledger-file';
import './ledger-governance';
import './ledger-price';
import type { LocalLedger } from '../ledger/local';
import { DEFAULT_PARAMS } from '../ledger/params';
import type { Equivocation, LedgerService, LedgerSnapshot } from '../ledger/service';
import { short } from './format';
import type { Books } from './ledger-books';
import { LEDGER_MESSAGE, type LedgerMessage } from './ledger-parts';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { base } from './styles';

/** The market's events after which the view reads its snapshot again. */
const MARKET_EVENTS = ['price', 'quote', 'checkpoint', 'equivocation', 'params'] as const;

/**
 * `<tessel-ledger>`: the market as this tab sees it. Its books (earned, spent, balance) and the
 * latest receipts with a "verified" mark when a checkpoint with enough witness cosignatures
 * covers them; an audit of any peer by id; the price and its history; proposals and their
 * tallies, with voting; proofs of equivocation; export and import of the ledger as a file.
 * Fed by the session's local ledger (IndexedDB) and, while in the mesh, its LedgerService's
 * snapshot and events; each part is its own element (ledger-*.ts).
 */
export class TesselLedger extends LitElement {
  static override properties = {
    session: { attribute: false },
    _ledger: { state: true },
    _books: { state: true },
    _market: { state: true },
    _snapshot: { state: true },
    _message: { state: true },
  };
  static override styles = [
    base,
    css`
      pre {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        font-size: 0.8rem;
      }
    `,
  ];
  declare session: TabSession | undefined;
  declare _ledger: LocalLedger | undefined;
  declare _books: Books | undefined;
  declare _market: LedgerService | undefined;
  declare _snapshot: LedgerSnapshot | undefined;
  declare _message: string | undefined;
  #forMarket: AbortController | undefined;

  constructor() {
    super();
    this.session = undefined;
    new SessionWatcher(this, {
      session: (session, signal) => {
        void session.ledger().then((ledger) => {
          if (signal.aborted) return;
          this._ledger = ledger;
          ledger.addEventListener('books', () => void this.#refresh(), { signal });
          void this.#refresh();
        });
        this.#watchMarket(session.market, signal);
        session.addEventListener('ledger', (e) => this.#watchMarket(e.detail, signal), { signal });
      },
      mesh: () => {},
    });
    this.addEventListener(LEDGER_MESSAGE, (e) => {
      if (!(e instanceof CustomEvent)) return;
      e.stopPropagation(); // the parts' messages are this view's own
      const m: LedgerMessage = e.detail;
      this._message = m.text || undefined;
      if (m.booksChanged) void this.#refresh();
    });
  }

  #watchMarket(market: LedgerService | undefined, signal: AbortSignal) {
    this.#forMarket?.abort();
    this._market = market;
    this._snapshot = market?.snapshot();
    if (!market) return;
    const ctl = new AbortController();
    this.#forMarket = ctl;
    const forMarket = AbortSignal.any([signal, ctl.signal]);
    const read = () => {
      this._snapshot = market.snapshot();
    };
    for (const type of MARKET_EVENTS) market.addEventListener(type, read, { signal: forMarket });
    // A new cosigned checkpoint may mark receipts verified.
    market.addEventListener('checkpoint', () => void this.#refresh(), { signal: forMarket });
    void this.#refresh();
  }

  async #refresh() {
    const ledger = this._ledger;
    if (!ledger) return;
    const market = this.session?.market;
    const grant = (market?.snapshot().params.grant ?? DEFAULT_PARAMS.grant) * 1e6;
    const earned = market
      ? await market.earned()
      : (({ held, unproven }) => ({ held: held.map((x) => ({ ...x, trusted: false })), unproven }))(
          ledger.held(),
        );
    this._books = {
      peer: ledger.peer,
      earned: ledger.earned,
      spent: ledger.spent(),
      grant,
      receipts: earned.held.sort((a, b) => b.receipt.issuedAt - a.receipt.issuedAt),
      unproven: earned.unproven,
    };
  }

  override render() {
    const s = this._snapshot;
    return html`<section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      <tessel-ledger-books .books=${this._books}></tessel-ledger-books>
      <tessel-ledger-audit
        .market=${this._market}
        .knownPeers=${s?.knownPeers ?? []}
      ></tessel-ledger-audit>
      <tessel-ledger-price .snapshot=${s}></tessel-ledger-price>
      <tessel-ledger-governance
        .ledger=${this._ledger}
        .market=${this._market}
      ></tessel-ledger-governance>
      ${equivocations(s?.equivocations ?? [])}
      <tessel-ledger-file .ledger=${this._ledger}></tessel-ledger-file>
      ${this._message ? html`<p id="ledger-message" role="status">${this._message}</p>` : nothing}
    </section>`;
  }
}

/** The owners caught equivocating, each with its proof (two checkpoints of one size). */
function equivocations(list: readonly Equivocation[]) {
  if (!list.length) return nothing;
  return html`<h3>Equivocating owners (quarantined)</h3>
    <ul id="equivocations">
      ${list.map(
        (q) => html`<li data-log=${q.log}>
          <code title=${q.log}>${short(q.log)}</code> signed two different logs of size ${q.size}.
          <details>
            <summary>The proof: both checkpoints, each signed by its key</summary>
            <pre>${q.a}</pre>
            <pre>${q.b}</pre>
          </details>
        </li>`,
      )}
    </ul>`;
}

customElements.get('tessel-ledger') ?? customElements.define('tessel-ledger', TesselLedger);
