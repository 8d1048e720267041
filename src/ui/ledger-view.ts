import { css, html, LitElement, nothing } from 'lit';
import './chart';
import { credits, PRICE_EPOCH_MS, PRICE_STEP_UNIT, PRICE_WINDOW } from '../jobs/price';
import type { HeldReceipt } from '../ledger/entries';
import type { Tally } from '../ledger/governance';
import type { LocalLedger } from '../ledger/local';
import { DEFAULT_PARAMS, PARAMS, type Param } from '../ledger/params';
import type { PriceQuote } from '../ledger/price-book';
import type { AuditReport, Equivocation, LedgerService, PricePoint } from '../ledger/service';
import { describeError, short } from './format';
import type { TabSession } from './session';
import { SessionWatcher } from './session-watcher';
import { base } from './styles';

/** This tab's books as the view shows them (µcredits). */
interface Books {
  peer: string;
  earned: number;
  spent: number;
  grant: number;
  receipts: (HeldReceipt & { trusted: boolean })[];
  unproven: number;
}

/**
 * `<tessel-ledger>`: the market as this tab sees it. Its books (earned, spent, balance) and the
 * latest receipts with a "verified" mark when a checkpoint with enough witness cosignatures
 * covers them; an audit of any peer by id; the price and its history; proposals and their
 * tallies, with voting; proofs of equivocation; export and import of the ledger as a file.
 * Fed by the session's local ledger (IndexedDB) and, while in the mesh, its LedgerService.
 */
export class TesselLedger extends LitElement {
  static override properties = {
    session: { attribute: false },
    _books: { state: true },
    _market: { state: true },
    _prices: { state: true },
    _quote: { state: true },
    _audit: { state: true },
    _tallies: { state: true },
    _equivocations: { state: true },
    _message: { state: true },
    _busy: { state: true },
  };
  static override styles = [
    base,
    css`
      .mark {
        font-weight: 600;
      }
      .mark[data-trusted='true'] {
        color: #11663f;
      }
      pre {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        font-size: 0.8rem;
      }
      input#audit-peer {
        width: min(28rem, 100%);
      }
      select,
      label,
      input {
        max-width: 100%;
      }
    `,
  ];
  declare session: TabSession | undefined;
  declare _books: Books | undefined;
  declare _market: LedgerService | undefined;
  declare _prices: [number, number][];
  declare _quote: PriceQuote | undefined;
  declare _audit: AuditReport | { peer: string; error: string } | undefined;
  declare _tallies: Tally[];
  declare _equivocations: Equivocation[];
  declare _message: string | undefined;
  declare _busy: boolean;
  #ledger: LocalLedger | undefined;
  #forMarket: AbortController | undefined;

  constructor() {
    super();
    this.session = undefined;
    this._prices = [];
    this._tallies = [];
    this._equivocations = [];
    this._busy = false;
    new SessionWatcher(this, {
      session: (session, signal) => {
        void session.ledger().then((ledger) => {
          if (signal.aborted) return;
          this.#ledger = ledger;
          ledger.addEventListener('books', () => void this.#refresh(), { signal });
          void this.#refresh();
        });
        this.#watchMarket(session.market, signal);
        session.addEventListener('ledger', (e) => this.#watchMarket(e.detail, signal), { signal });
      },
      mesh: () => {},
    });
  }

  #watchMarket(market: LedgerService | undefined, signal: AbortSignal) {
    this.#forMarket?.abort();
    this._market = market;
    if (!market) return;
    const ctl = new AbortController();
    this.#forMarket = ctl;
    const forMarket = AbortSignal.any([signal, ctl.signal]);
    const prices = () =>
      (this._prices = market.prices.map(
        (p: PricePoint) => [p.at / 1000, p.price] as [number, number],
      ));
    prices();
    this._quote = market.quote;
    this._equivocations = [...market.equivocations.values()];
    market.addEventListener('price', prices, { signal: forMarket });
    market.addEventListener('quote', (e) => (this._quote = e.detail), { signal: forMarket });
    market.addEventListener('checkpoint', () => void this.#refresh(), { signal: forMarket });
    market.addEventListener(
      'equivocation',
      () => (this._equivocations = [...market.equivocations.values()]),
      { signal: forMarket },
    );
    void this.#refresh();
  }

  async #refresh() {
    const ledger = this.#ledger;
    if (!ledger) return;
    const market = this.session?.market;
    const grant = (market?.params.grant ?? DEFAULT_PARAMS.grant) * 1e6;
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
    return html`<section aria-labelledby="ledger-title">
      <h2 id="ledger-title">Ledger</h2>
      ${this.#summary()} ${this.#receipts()} ${this.#auditPart()} ${this.#pricePart()}
      ${this.#governance()} ${this.#equivocationPart()} ${this.#files()}
      ${this._message ? html`<p id="ledger-message" role="status">${this._message}</p>` : nothing}
    </section>`;
  }

  #summary() {
    const b = this._books;
    if (!b) return html`<p class="muted">Reading this tab’s ledger…</p>`;
    const balance = b.grant + b.earned - b.spent;
    return html`<dl id="ledger-summary">
      <dt>Balance</dt>
      <dd id="balance" data-micro=${balance}>${fmt(balance)} credits</dd>
      <dt>Earned (receipts with proofs)</dt>
      <dd id="earned" data-micro=${b.earned}>${fmt(b.earned)} credits</dd>
      <dt>Spent on your jobs</dt>
      <dd id="spent" data-micro=${b.spent}>${fmt(b.spent)} credits</dd>
      <dt>Starter grant</dt>
      <dd>${fmt(b.grant)} credits</dd>
      <dt>Your peer id</dt>
      <dd><code>${b.peer}</code></dd>
    </dl>`;
  }

  #receipts() {
    const b = this._books;
    if (!b) return nothing;
    const latest = b.receipts.slice(0, 12);
    return html`<h3>Latest receipts earned</h3>
      ${
        latest.length
          ? html`<div class="scroll" tabindex="0" role="region" aria-label="Latest receipts">
            <table id="receipts">
              <thead>
                <tr>
                  <th scope="col">Job · shard</th>
                  <th scope="col">Owner</th>
                  <th scope="col">Credits</th>
                  <th scope="col">Verified by</th>
                  <th scope="col">Proof</th>
                </tr>
              </thead>
              <tbody>
                ${latest.map(
                  (h) => html`<tr data-trusted=${h.trusted}>
                    <td><code>${h.receipt.jobId}</code> · ${h.receipt.shardId}</td>
                    <td><code title=${h.receipt.owner}>${short(h.receipt.owner)}</code></td>
                    <td>${fmt(h.receipt.credit)}</td>
                    <td>${h.receipt.method}</td>
                    <td>
                      <span class="mark" data-trusted=${h.trusted}>
                        ${
                          h.trusted
                            ? '✓ verified (witnessed checkpoint)'
                            : `proof checked (entry ${h.index} of ${h.checkpoint.size}), awaiting witnesses`
                        }
                      </span>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
          : html`<p class="muted">No receipts yet: verified shards you compute earn them.</p>`
      }
      ${b.unproven ? html`<p class="muted">${b.unproven} older receipt(s) carry no log proof.</p>` : nothing}`;
  }

  #auditPart() {
    const market = this._market;
    const a = this._audit;
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
          ${market?.knownPeers().map((p) => html`<option value=${p}></option>`)}
        </datalist>
        <button id="audit-button" ?disabled=${!market || this._busy}>Audit</button>
      </form>
      ${market ? nothing : html`<p class="muted">Audits ask peers for their logs: join the mesh first.</p>`}
      ${
        a
          ? 'error' in a
            ? html`<p id="audit-result" class="error" role="alert">${a.peer}: ${a.error}</p>`
            : html`<dl
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
            </dl>`
          : nothing
      }`;
  }

  async #onAudit(e: SubmitEvent) {
    e.preventDefault();
    const market = this._market;
    const peer = new FormData(e.target as HTMLFormElement).get('peer')?.toString().trim() ?? '';
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

  #pricePart() {
    const m = this._market;
    const q = this._quote;
    return html`<h3>Price</h3>
      <p id="price" data-price=${q?.state === 'price' ? q.price : ''} data-state=${q?.state ?? ''}>
        ${
          !m || !q
            ? 'Prices follow the mesh: join it to see them.'
            : q.state === 'measuring'
              ? `Measuring: the price is computed from the last ${q.of} whole epochs of ${PRICE_EPOCH_MS / 1000} s this tab has heard (${q.seen} of ${q.of} so far).`
              : `${q.price.toFixed(3)} credits per GFLOP of verified work`
        }
      </p>
      ${m ? html`<p class="muted">${priceRule(m.params)}</p>` : nothing}
      <tessel-chart label="Price" unit="credits/GFLOP" .points=${this._prices}></tessel-chart>`;
  }

  #governance() {
    const m = this._market;
    return html`<h3>Proposals</h3>
      <form id="propose-form" @submit=${this.#onPropose}>
        <label
          >Parameter
          <select id="proposal-param" name="param" ?disabled=${!this.#ledger}>
            ${Object.entries(PARAMS).map(
              ([k, v]) =>
                html`<option value=${k} title=${v.about}>${k} (${v.min} to ${v.max})</option>`,
            )}
          </select></label
        >
        <label>Value <input id="proposal-value" name="value" type="number" step="any" required /></label>
        <label>Why <input id="proposal-reason" name="reason" maxlength="280" /></label>
        <button id="propose-button" ?disabled=${!this.#ledger}>Propose</button>
        <button id="tally-button" type="button" ?disabled=${!m || this._busy} @click=${this.#onTally}>
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
    const form = new FormData(e.target as HTMLFormElement);
    const param = String(form.get('param')) as Param;
    const value = Number(form.get('value'));
    const { checkProposal } = await import('../ledger/governance');
    try {
      checkProposal({ param, value });
      const a = await this.#ledger?.log.propose({
        param,
        value,
        reason: String(form.get('reason') ?? '').slice(0, 280),
        createdAt: Date.now(),
      });
      this._message = a
        ? `Proposed: ${param} → ${value} (entry ${a.index} of your log).`
        : undefined;
      await this.#onTally();
    } catch (err) {
      this._message = describeError(err);
    }
  }

  async #vote(proposal: string, yes: boolean) {
    await this.#ledger?.log.vote({ proposal, yes, castAt: Date.now() });
    this._message = `Voted ${yes ? 'yes' : 'no'} on ${proposal}.`;
    await this.#onTally();
  }

  async #onTally() {
    const m = this._market;
    if (!m) return;
    this._busy = true;
    try {
      this._tallies = await m.governance(m.knownPeers());
    } finally {
      this._busy = false;
    }
  }

  #equivocationPart() {
    if (!this._equivocations.length) return nothing;
    return html`<h3>Equivocating owners (quarantined)</h3>
      <ul id="equivocations">
        ${this._equivocations.map(
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

  #files() {
    return html`<h3>Ledger file</h3>
      <div class="actions">
        <button id="export-ledger" type="button" ?disabled=${!this.#ledger} @click=${this.#onExport}>
          Export ledger
        </button>
        <label
          >Import or check a ledger file
          <input id="import-ledger" type="file" accept=".json,application/json" @change=${this.#onImport}
        /></label>
      </div>`;
  }

  async #onExport() {
    const ledger = this.#ledger;
    if (!ledger) return;
    const { exportLedger } = await import('../ledger/file');
    const blob = new Blob([await exportLedger(ledger)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `tessel-ledger-${ledger.peer.slice(-8)}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  async #onImport(e: Event) {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    const ledger = this.#ledger;
    if (!file || !ledger) return;
    const { openLedgerFile, restoreLedger, leavesOf } = await import('../ledger/file');
    try {
      const text = await file.text();
      const opened = await openLedgerFile(text);
      const { accounts } = await import('../ledger/audit');
      const books = accounts([opened.log], { grant: DEFAULT_PARAMS.grant * 1e6 }).get(opened.peer);
      const earned = opened.held.reduce((s, h) => s + h.receipt.credit, 0);
      const restored = await restoreLedger(ledger, opened, leavesOf(text));
      this._message =
        `${file.name}: the ledger of ${short(opened.peer)} checks out — ${opened.log.size} log entries, ` +
        `${opened.held.length} receipts earned (${fmt(earned)} credits, proofs checked), ` +
        `${fmt(books?.spent ?? 0)} credits spent.` +
        (opened.peer === ledger.peer
          ? ` Restored ${restored.receipts} receipt(s) and ${restored.entries} log entries.`
          : '');
      await this.#refresh();
    } catch (err) {
      this._message = `${file.name} was not imported: ${describeError(err)}`;
    } finally {
      input.value = '';
    }
  }
}

function fmt(micro: number | bigint): string {
  return credits(Number(micro)).toLocaleString('en', { maximumFractionDigits: 3 });
}

customElements.get('tessel-ledger') ?? customElements.define('tessel-ledger', TesselLedger);

/** The price rule in words, with the parameters in force. */
function priceRule(p: { priceTarget: number; priceStep: number }): string {
  const k = p.priceStep / PRICE_STEP_UNIT;
  const follows = k === 1 ? 'in proportion to' : `as the ${+k.toFixed(2)} power of`;
  return `Every tab computes the same price from the market reports peers signed in the last ${PRICE_WINDOW} epochs of ${PRICE_EPOCH_MS / 1000} s (clock-aligned): it follows utilisation (queued work ÷ what contributors can do in an epoch) ${follows} its ratio to the target of ${(p.priceTarget * 100).toFixed(0)}%.`;
}
