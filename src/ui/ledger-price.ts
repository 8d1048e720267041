import { html, LitElement, nothing, type PropertyValues } from 'lit';
import './chart';
import { PRICE_EPOCH_MS, PRICE_STEP_UNIT, PRICE_WINDOW } from '../jobs/price';
import type { LedgerSnapshot } from '../ledger/service';
import { base } from './styles';

/**
 * `<tessel-ledger-price>`: the mesh's price as this tab computes it (or how much of the window
 * it has heard), the price rule in words with the parameters in force, and the price's history.
 */
export class TesselLedgerPrice extends LitElement {
  static override properties = {
    snapshot: { attribute: false },
    _points: { state: true },
  };
  static override styles = [base];
  /** The market as this tab sees it; undefined off the mesh. */
  declare snapshot: Pick<LedgerSnapshot, 'quote' | 'params' | 'prices'> | undefined;
  declare _points: [number, number][];

  constructor() {
    super();
    this.snapshot = undefined;
    this._points = [];
  }

  override willUpdate(changed: PropertyValues<this>) {
    if (!changed.has('snapshot')) return;
    // A new array only when a price was added: the chart redraws when `points` changes.
    const prices = this.snapshot?.prices ?? [];
    const last = this._points.at(-1);
    const newest = prices.at(-1);
    if (prices.length !== this._points.length || (newest && last?.[0] !== newest.at / 1000)) {
      this._points = prices.map((p) => [p.at / 1000, p.price] as [number, number]);
    }
  }

  override render() {
    const s = this.snapshot;
    const q = s?.quote;
    return html`<h3>Price</h3>
      <p id="price" data-price=${q?.state === 'price' ? q.price : ''} data-state=${q?.state ?? ''}>
        ${
          !q
            ? 'Prices follow the mesh: join it to see them.'
            : q.state === 'measuring'
              ? `Measuring: the price is computed from the last ${q.of} whole epochs of ${PRICE_EPOCH_MS / 1000} s this tab has heard (${q.seen} of ${q.of} so far).`
              : `${q.price.toFixed(3)} credits per GFLOP of verified work`
        }
      </p>
      ${s ? html`<p class="muted">${priceRule(s.params)}</p>` : nothing}
      <tessel-chart label="Price" unit="credits/GFLOP" .points=${this._points}></tessel-chart>`;
  }
}

/** The price rule in words, with the parameters in force. */
export function priceRule(p: { priceTarget: number; priceStep: number }): string {
  const k = p.priceStep / PRICE_STEP_UNIT;
  const follows = k === 1 ? 'in proportion to' : `as the ${+k.toFixed(2)} power of`;
  return `Every tab computes the same price from the market reports peers signed in the last ${PRICE_WINDOW} epochs of ${PRICE_EPOCH_MS / 1000} s (clock-aligned): it follows utilisation (queued work ÷ what contributors can do in an epoch) ${follows} its ratio to the target of ${(p.priceTarget * 100).toFixed(0)}%.`;
}

customElements.get('tessel-ledger-price') ??
  customElements.define('tessel-ledger-price', TesselLedgerPrice);
