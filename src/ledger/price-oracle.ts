import { TypedEventEmitter } from 'main-event';
import { DEFAULT_PRICE_PARAMS, epochOf, type MarketSample, type PriceParams } from '../jobs/price';
import { log } from '../log/log';
import type { Params } from './governance';
import {
  MAX_QUEUED_GFLOP,
  MAX_REPORT_GFLOPS,
  type MarketReport,
  PriceBook,
  type PriceQuote,
} from './price-book';

const trace = log('ledger:price');

/** Price points kept for the chart: an hour of epochs. */
export const PRICES_KEPT = 360;
/** The soonest the next repricing is scheduled, however close the epoch's end. */
const MIN_REPRICE_DELAY_MS = 10; // ms

/** The price of one epoch, as every tab that saw its window computes it. */
export interface PricePoint {
  /** When the epoch began (ms since the Unix epoch): every tab's points share these times. */
  at: number;
  price: number; // credits per GFLOP
  /** Mean utilisation of the window it was computed from. */
  utilisation: number;
}

/** This tab's side of the market, as it reports it each gossip round. */
export interface SupplyAndDemand {
  /** Its speed while it contributes, else 0 (GFLOP/s). */
  gflops: number;
  /** Whether it waits for work. */
  idle: boolean;
  /** Work left in its own announced jobs (GFLOP): its demand. */
  queuedGflop?: number;
}

export interface PriceOracleEvents {
  /** The price of a new epoch (one each PRICE_EPOCH_MS once the window has been seen). */
  price: CustomEvent<PricePoint>;
  /** The quote changed: a new epoch's price, or one more epoch of the window seen. */
  quote: CustomEvent<PriceQuote>;
}

export interface PriceOracleOptions {
  /** This tab's peer id: its own report is counted as sent, never as heard. */
  me: string;
  /** This tab's supply and demand now (read once per gossip round). */
  demand: () => SupplyAndDemand;
  /** The votable parameters in force (the price's target and step). */
  params: () => Pick<Params, 'priceTarget' | 'priceStep'>;
  /** Clock (ms since the Unix epoch). */
  now: () => number;
}

/**
 * The price oracle: it counts the market reports peers signed (and this tab's own) into the
 * price book, and at each epoch's close computes the price every tab that heard the same
 * window computes, keeping the last PRICES_KEPT points.
 */
export class PriceOracle extends TypedEventEmitter<PriceOracleEvents> {
  readonly #o: PriceOracleOptions;
  #book: PriceBook;
  #quote: PriceQuote;
  readonly #prices: PricePoint[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(o: PriceOracleOptions) {
    super();
    this.#o = o;
    this.#book = new PriceBook({ startedAt: o.now(), params: this.#priceParams() });
    this.#quote = this.#book.quote(o.now());
  }

  /** The price with what it was computed from, or how much of the window has been seen. */
  get quote(): PriceQuote {
    return this.#quote;
  }

  /** The price of each epoch since this tab's window was complete (the last PRICES_KEPT). */
  get prices(): readonly PricePoint[] {
    return this.#prices;
  }

  /** Starts counting epochs from now, when this tab starts hearing reports, and reprices
   * each time one closes. */
  start(): void {
    const now = this.#o.now();
    this.#book = new PriceBook({ startedAt: now, params: this.#priceParams() });
    this.#quote = this.#book.quote(now);
    this.#schedule();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** This tab's own report at `at`, within the bounds every peer accepts; counted here as
   * sent (pubsub does not deliver a tab's own messages). */
  own(at: number): Omit<MarketReport, 'peer' | 'at'> & { queuedGflop: number } {
    const d = this.#o.demand();
    const figures = {
      gflops: Math.min(MAX_REPORT_GFLOPS, Math.max(0, d.gflops || 0)),
      idle: d.idle,
      queuedGflop: Math.min(MAX_QUEUED_GFLOP, Math.max(0, d.queuedGflop || 0)),
    };
    this.#book.add({ peer: this.#o.me, at, ...figures }, at);
    return figures;
  }

  /** Counts a peer's signed market report, bucketed by its signer's time; false when refused
   * (a time too far from now, an epoch already closed, a full epoch, this tab's own id). */
  report(r: MarketReport): boolean {
    if (r.peer === this.#o.me) return false; // only what this tab itself sent counts as its own
    const why = this.#book.add(r, this.#o.now());
    if (why) trace('market report of %s at %d refused: %s', r.peer, r.at, why);
    return why === undefined;
  }

  /** What the mesh reported in the current epoch so far (for estimates; the price uses whole
   * epochs only). */
  sample(): MarketSample {
    return this.#book.sample(epochOf(this.#o.now(), this.#book.epochMs));
  }

  /** Recomputes the price now: a new epoch's, or the same one with new parameters. */
  reprice(): PriceQuote {
    this.#book.params = this.#priceParams();
    const before = this.#quote;
    const q = this.#book.quote(this.#o.now());
    this.#quote = q;
    if (q.state === 'price' && (before.state !== 'price' || before.epoch !== q.epoch)) {
      const point = {
        at: q.epoch * this.#book.epochMs,
        price: q.price,
        utilisation: q.utilisation,
      };
      this.#prices.push(point);
      if (this.#prices.length > PRICES_KEPT) this.#prices.shift();
      this.safeDispatchEvent('price', { detail: point });
    }
    if (JSON.stringify(q) !== JSON.stringify(before)) {
      this.safeDispatchEvent('quote', { detail: q });
    }
    return q;
  }

  /** Reprices when each epoch closes: at the same wall-clock moment in every tab. */
  #schedule() {
    const now = this.#o.now();
    this.#timer = setTimeout(
      () => {
        this.reprice();
        this.#schedule();
      },
      Math.max(MIN_REPRICE_DELAY_MS, this.#book.nextChange(now) - now),
    );
  }

  #priceParams(): PriceParams {
    const p = this.#o.params();
    return { ...DEFAULT_PRICE_PARAMS, target: p.priceTarget, step: p.priceStep };
  }
}
