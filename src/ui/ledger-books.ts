import { css, html, LitElement, nothing } from 'lit';
import type { HeldReceipt } from '../ledger/entries';
import { short } from './format';
import { fmt } from './ledger-parts';
import { base } from './styles';

/** This tab's books as the ledger view shows them (µcredits). */
export interface Books {
  peer: string;
  earned: number;
  spent: number;
  grant: number;
  /** Newest first. */
  receipts: (HeldReceipt & { trusted: boolean })[];
  unproven: number;
}

/** Receipts listed (the newest). */
const RECEIPTS_SHOWN = 12;

/**
 * `<tessel-ledger-books>`: this tab's balance, earned, spent and grant, and its latest receipts
 * earned, each marked "verified" once a checkpoint with enough witness cosignatures covers it.
 */
export class TesselLedgerBooks extends LitElement {
  static override properties = { books: { attribute: false } };
  static override styles = [
    base,
    css`
      .mark {
        font-weight: 600;
      }
      .mark[data-trusted='true'] {
        color: #11663f;
      }
    `,
  ];
  declare books: Books | undefined;

  constructor() {
    super();
    this.books = undefined;
  }

  override render() {
    const b = this.books;
    if (!b) return html`<p class="muted">Reading this tab’s ledger…</p>`;
    return html`${this.#summary(b)} ${this.#receipts(b)}`;
  }

  #summary(b: Books) {
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

  #receipts(b: Books) {
    const latest = b.receipts.slice(0, RECEIPTS_SHOWN);
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
}

customElements.get('tessel-ledger-books') ??
  customElements.define('tessel-ledger-books', TesselLedgerBooks);
