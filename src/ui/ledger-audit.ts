import { css, html, LitElement, nothing } from 'lit';
import type { AuditReport, LedgerService } from '../ledger/service';
import { describeError, short } from './format';
import { fmt } from './ledger-parts';
import { base } from './styles';

/**
 * `<tessel-ledger-audit>`: audits any peer by id over the ledger protocol (its log, the logs of
 * the owners who paid it) and shows the books found and each log consulted. Needs the market.
 */
export class TesselLedgerAudit extends LitElement {
  static override properties = {
    market: { attribute: false },
    knownPeers: { attribute: false },
    _audit: { state: true },
    _busy: { state: true },
  };
  static override styles = [
    base,
    css`
      input#audit-peer {
        width: min(28rem, 100%);
      }
      label,
      input {
        max-width: 100%;
      }
    `,
  ];
  /** This tab's market service; undefined off the mesh. */
  declare market: Pick<LedgerService, 'audit'> | undefined;
  /** Peers to suggest (those that gossiped an address). */
  declare knownPeers: readonly string[];
  declare _audit: AuditReport | { peer: string; error: string } | undefined;
  declare _busy: boolean;

  constructor() {
    super();
    this.market = undefined;
    this.knownPeers = [];
    this._busy = false;
  }

  override render() {
    const market = this.market;
    return html`<h3>Audit a peer</h3>
      <form id="audit-form" @submit=${this.#onAudit}>
        <label
          >Peer id
          <input
            id="audit-peer"
            name="peer"
            list="known-peers"
            autocomplete="off"
            ?disabled=${!market}
            required
        /></label>
        <datalist id="known-peers">
          ${this.knownPeers.map((p) => html`<option value=${p}></option>`)}
        </datalist>
        <button id="audit-button" ?disabled=${!market || this._busy}>Audit</button>
      </form>
      ${market ? nothing : html`<p class="muted">Audits ask peers for their logs: join the mesh first.</p>`}
      ${this.#result()}`;
  }

  #result() {
    const a = this._audit;
    if (!a) return nothing;
    if ('error' in a) {
      return html`<p id="audit-result" class="error" role="alert">${a.peer}: ${a.error}</p>`;
    }
    return html`<dl
      id="audit-result"
      data-peer=${a.peer}
      data-earned=${a.account.earned}
      data-spent=${a.account.spent}
      data-balance=${a.account.balance}
    >
      <dt>Peer</dt>
      <dd><code>${a.peer}</code></dd>
      <dt>Earned (audited)</dt>
      <dd>${fmt(a.account.earned)} credits for ${a.account.workGflop.toFixed(2)} GFLOP of verified work</dd>
      <dt>Spent</dt>
      <dd>${fmt(a.account.spent)} credits on ${a.account.receiptsIssued} receipt(s)</dd>
      <dt>Balance</dt>
      <dd>${fmt(a.account.balance)} credits</dd>
      ${
        a.proven.count
          ? html`<dt>Not yet audited</dt>
            <dd>${a.proven.count} receipt(s), ${fmt(a.proven.credit)} credits, whose owner is offline (their proofs check)</dd>`
          : nothing
      }
      ${
        a.account.voided.length
          ? html`<dt>Void receipts</dt>
            <dd>${a.account.voided.map((v) => `#${v.index} (${v.why})`).join(', ')}</dd>`
          : nothing
      }
      <dt>Logs checked</dt>
      <dd>
        <ul>
          ${a.logs.map(
            (l) => html`<li data-problem=${l.problem ?? ''}>
              <code>${short(l.peer)}</code>: ${l.problem ? html`<span class="error">${l.problem}</span>` : `${l.size} entries, consistent`}
            </li>`,
          )}
        </ul>
      </dd>
    </dl>`;
  }

  async #onAudit(e: SubmitEvent) {
    e.preventDefault();
    const market = this.market;
    const form = e.target instanceof HTMLFormElement ? e.target : undefined;
    const peer = (form && new FormData(form).get('peer')?.toString().trim()) ?? '';
    if (!market || !peer) return;
    this._busy = true;
    try {
      this._audit = await market.audit(peer);
    } catch (err) {
      this._audit = { peer, error: describeError(err) };
    } finally {
      this._busy = false;
    }
  }
}

customElements.get('tessel-ledger-audit') ??
  customElements.define('tessel-ledger-audit', TesselLedgerAudit);
