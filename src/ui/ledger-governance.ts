import { css, html, LitElement } from 'lit';
import type { Tally } from '../ledger/governance';
import type { LocalLedger } from '../ledger/local';
import { PARAMS } from '../ledger/params';
import type { LedgerService } from '../ledger/service';
import { describeError } from './format';
import { tell } from './ledger-parts';
import { base } from './styles';

/** Longest reason a proposal may carry (characters). */
const MAX_REASON_CHARS = 280;

/**
 * `<tessel-ledger-governance>`: proposes a change of a votable parameter (an entry in this
 * tab's log), votes on proposals, and tallies them from the logs of the peers this tab knows.
 * Proposing and voting need only the ledger; tallying needs the market.
 */
export class TesselLedgerGovernance extends LitElement {
  static override properties = {
    ledger: { attribute: false },
    market: { attribute: false },
    _tallies: { state: true },
    _busy: { state: true },
  };
  static override styles = [
    base,
    css`
      select,
      label,
      input {
        max-width: 100%;
      }
    `,
  ];
  declare ledger: Pick<LocalLedger, 'log'> | undefined;
  declare market: Pick<LedgerService, 'governance' | 'knownPeers'> | undefined;
  declare _tallies: Tally[];
  declare _busy: boolean;

  constructor() {
    super();
    this.ledger = undefined;
    this.market = undefined;
    this._tallies = [];
    this._busy = false;
  }

  override render() {
    const ready = !!this.ledger;
    return html`<h3>Proposals</h3>
      <form id="propose-form" @submit=${this.#onPropose}>
        <label
          >Parameter
          <select id="proposal-param" name="param" ?disabled=${!ready}>
            ${Object.entries(PARAMS).map(
              ([k, v]) =>
                html`<option value=${k} title=${v.about}>${k} (${v.min} to ${v.max})</option>`,
            )}
          </select></label
        >
        <label>Value <input id="proposal-value" name="value" type="number" step="any" required /></label>
        <label>Why <input id="proposal-reason" name="reason" maxlength=${MAX_REASON_CHARS} /></label>
        <button id="propose-button" ?disabled=${!ready}>Propose</button>
        <button
          id="tally-button"
          type="button"
          ?disabled=${!this.market || this._busy}
          @click=${this.#onTally}
        >
          Tally from known logs
        </button>
      </form>
      ${
        this._tallies.length
          ? html`<ul id="proposals">
            ${this._tallies.map(
              (t) => html`<li data-proposal=${t.id} data-passed=${t.passed}>
                <strong>${t.param} → ${t.value}</strong> ${t.reason ? `(${t.reason})` : ''} — yes
                ${t.yes.toFixed(2)}, no ${t.no.toFixed(2)} from ${t.voters} voter(s):
                ${t.passed ? 'passed' : 'open'}
                <button type="button" @click=${() => this.#vote(t.id, true)}>Vote yes</button>
                <button type="button" @click=${() => this.#vote(t.id, false)}>Vote no</button>
              </li>`,
            )}
          </ul>`
          : html`<p class="muted">No proposals tallied yet. A vote weighs the credit its voter holds beyond the grant.</p>`
      }`;
  }

  async #onPropose(e: SubmitEvent) {
    e.preventDefault();
    if (!(e.target instanceof HTMLFormElement)) return;
    const form = new FormData(e.target);
    const param = String(form.get('param'));
    const value = Number(form.get('value'));
    const { checkProposal } = await import('../ledger/governance');
    try {
      checkProposal({ param, value });
      const a = await this.ledger?.log.propose({
        param,
        value,
        reason: String(form.get('reason') ?? '').slice(0, MAX_REASON_CHARS),
        createdAt: Date.now(),
      });
      tell(this, {
        text: a ? `Proposed: ${param} → ${value} (entry ${a.index} of your log).` : '',
      });
      await this.#onTally();
    } catch (err) {
      tell(this, { text: describeError(err) });
    }
  }

  async #vote(proposal: string, yes: boolean) {
    await this.ledger?.log.vote({ proposal, yes, castAt: Date.now() });
    tell(this, { text: `Voted ${yes ? 'yes' : 'no'} on ${proposal}.` });
    await this.#onTally();
  }

  async #onTally() {
    const m = this.market;
    if (!m) return;
    this._busy = true;
    try {
      this._tallies = await m.governance(m.knownPeers());
    } finally {
      this._busy = false;
    }
  }
}

customElements.get('tessel-ledger-governance') ??
  customElements.define('tessel-ledger-governance', TesselLedgerGovernance);
