import { html, nothing } from 'lit';
import {
  credits,
  estimateJob,
  type MarketSample,
  PRICE_CEILING,
  PRICE_EPOCH_MS,
  PRICE_FLOOR,
  START_PRICE,
} from '../jobs/price';
import type { JobTerms } from '../jobs/terms';
import type { PriceQuote } from '../ledger/price-book';
import type { LedgerService } from '../ledger/service';
import { fieldValue, InputError } from './form-input';
import { formatDuration } from './format';

// The payment part of the researcher's forms (`<tessel-researcher>`): the price field, which
// shows the mesh's price live until the researcher types their own, the budget, and what the
// job would cost and take. The element keeps the state; these render it and read the fields.

/** The researcher's two forms, by the prefix of their payment fields' ids. */
export type Form = 'mm' | 'infer' | 'rows';

/** What a form's estimate is computed from. */
export interface EstimateInputs {
  /** FLOPs the job would be paid for; undefined while they cannot be known (see `note`). */
  flops?: number;
  note?: string;
  price: number; // credits per GFLOP
  budget: number; // µcredits, Infinity: none
}

/** What one form's payment fields show, and what they do. */
export interface PaymentState {
  /** The mesh's price as this tab's market computes it; undefined off the mesh. */
  quote: PriceQuote | undefined;
  /** This tab's market, once its ledger is open (its sample times the job while measuring). */
  market: LedgerService | undefined;
  /** This tab's balance (µcredits), once its ledger is open. */
  balance: number | undefined;
  /** The form's work and payment fields, as last read. */
  inputs: EstimateInputs | undefined;
  /** The price the researcher typed; undefined while the field follows the mesh's. */
  typed: string | undefined;
  /** Called with the price field's value as the researcher types. */
  type(value: string): void;
  /** Goes back to following the mesh's price. */
  useMeshPrice(): void;
  /** Joins the mesh, to hear its price; undefined on a page without a session. */
  join: (() => void) | undefined;
}

/** Price and budget fields, the mesh's price, and what the job would cost and take. */
export function paymentFields(prefix: Form, s: PaymentState) {
  const q = s.quote;
  const mesh = q?.state === 'price' ? q.price : undefined;
  const typed = s.typed;
  return html`<fieldset>
      <legend>Payment (credits are paid only for verified shards)</legend>
      <label
        >Price, credits per GFLOP
        <input
          id="${prefix}-price"
          name="price"
          type="number"
          min=${PRICE_FLOOR}
          max=${PRICE_CEILING}
          step="any"
          .value=${typed ?? String(+(mesh ?? START_PRICE).toFixed(3))}
          @input=${(e: Event) => s.type((e.target as HTMLInputElement).value)}
      /></label>
      <label
        >Budget, credits (empty: no ceiling)
        <input id="${prefix}-budget" name="budget" type="number" min="0.000001" step="any" />
      </label>
      <p id="${prefix}-mesh-price" class="muted" data-price=${mesh ?? ''}>
        ${priceLine(q, mesh, typed !== undefined)}
        ${
          typed !== undefined && mesh !== undefined
            ? html`<button type="button" @click=${() => s.useMeshPrice()}>
                Use the mesh's price
              </button>`
            : nothing
        }
        ${
          s.join && !s.market
            ? html`<button type="button" @click=${() => s.join?.()}>
                Join the mesh to see its price
              </button>`
            : nothing
        }
      </p>
      <p id="${prefix}-estimate" role="status" aria-live="polite">${estimate(s)}</p>
    </fieldset>`;
}

function priceLine(q: PriceQuote | undefined, mesh: number | undefined, typed: boolean): string {
  const fallback = `until then the field holds the default, ${START_PRICE.toFixed(3)}`;
  if (!q) return `The mesh's price is shown once this tab is in the mesh; ${fallback}.`;
  if (q.state === 'measuring') {
    return `The mesh's price: measuring (${q.seen} of ${q.of} epochs of ${PRICE_EPOCH_MS / 1000} s heard); ${fallback}${typed ? '' : ', then follows the price'}.`;
  }
  return `The mesh's price now: ${mesh?.toFixed(3)} credits per GFLOP, the same in every tab this epoch${typed ? ' (you typed your own)' : ''}.`;
}

/** The estimated total, checked against the budget and balance, and the estimated time. */
function estimate(s: PaymentState) {
  const i = s.inputs;
  if (!i) return '';
  if (i.flops === undefined) return i.note ?? '';
  if (!(i.price >= PRICE_FLOOR && i.price <= PRICE_CEILING)) {
    return `Type a price from ${PRICE_FLOOR} to ${PRICE_CEILING} to see the total.`;
  }
  const q = s.quote;
  const sample: MarketSample | undefined = q?.state === 'price' ? q.last : s.market?.sample();
  const e = estimateJob({
    flops: i.flops,
    price: i.price,
    budget: i.budget,
    balance: s.balance,
    sample,
  });
  const total = `Estimated total: ${fmtCredits(e.total)} credits (${fmtGflop(i.flops / 1e9)} GFLOP × ${i.price} credits per GFLOP${i.note ? `; ${i.note}` : ''}).`;
  const budget = !Number.isFinite(i.budget)
    ? ''
    : e.budgetCovers
      ? ` Within your budget of ${fmtCredits(i.budget)} credits.`
      : ` Your budget of ${fmtCredits(i.budget)} credits would not cover it: the job stops leasing once it is spent (after about ${Math.floor((i.budget / e.total) * 100)}% of the work), until you add credits.`;
  const held = fmtCredits(s.balance ?? 0);
  const balance =
    e.balanceCovers === undefined
      ? ''
      : e.balanceCovers
        ? ` Your balance: ${held} credits.`
        : ` Your balance of ${held} credits would not cover it: the job stops leasing once it is spent, until you earn or add credits.`;
  const time = !sample
    ? ' Estimated time: shown once this tab is in the mesh.'
    : e.seconds === undefined
      ? ' Estimated time: waiting for contributors (none in the mesh now).'
      : ` Estimated time: about ${formatDuration(Math.max(1_000, e.seconds * 1_000))} ${
          e.queuedAhead
            ? `after the work queued ahead (${fmtGflop(sample.supplyGflops)} GFLOP/s of contributors, none idle)`
            : `on the ${fmtGflop(sample.idleGflops)} GFLOP/s of idle contributors`
        }.`;
  const short = !e.budgetCovers || e.balanceCovers === false;
  return html`<span class=${short ? 'error' : ''}>${total}${budget}${balance}</span>${time}`;
}

const fmtCredits = (micro: number) =>
  credits(micro).toLocaleString('en', { maximumFractionDigits: micro < 1e6 ? 6 : 3 });
const fmtGflop = (g: number) => g.toLocaleString('en', { maximumSignificantDigits: 4 });

/** The payment fields as typed so far, for the estimate: NaN price while empty, budget in
 * µcredits (Infinity while empty or not positive). */
export function readPayment(
  field: (name: string) => string,
): Pick<EstimateInputs, 'price' | 'budget'> {
  const raw = field('budget');
  const budget = raw === '' ? Number.NaN : Number(raw);
  return {
    price: field('price') === '' ? Number.NaN : Number(field('price')),
    budget: budget > 0 ? Math.round(budget * 1e6) : Number.POSITIVE_INFINITY,
  };
}

/** The job's price and budget from a form's payment fields, for submitting; an InputError
 * says which is wrong. */
export function readTerms(form: HTMLFormElement): JobTerms {
  const price = Number(fieldValue(form, 'price'));
  if (!(Number.isFinite(price) && price >= PRICE_FLOOR && price <= PRICE_CEILING)) {
    throw new InputError(
      `Price must be a number from ${PRICE_FLOOR} to ${PRICE_CEILING.toLocaleString('en')} credits per GFLOP.`,
    );
  }
  const raw = fieldValue(form, 'budget');
  const budget = raw === '' ? Number.POSITIVE_INFINITY : Number(raw);
  if (!(budget > 0) || Number.isNaN(budget)) {
    throw new InputError('Budget must be a positive number of credits, or empty for no ceiling.');
  }
  return { price, budget: Number.isFinite(budget) ? Math.round(budget * 1e6) : budget };
}
