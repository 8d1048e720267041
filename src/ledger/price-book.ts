// The market's inputs, bucketed by epoch the same way in every tab (docs/market.md, "How
// prices move"). A report is one peer's signed gossip: its speed, whether it waits for work,
// the work queued in its own jobs, and the time its signer put on it. Pure: no clock, no I/O.

import {
  DEFAULT_PRICE_PARAMS,
  epochOf,
  type MarketSample,
  PRICE_WINDOW,
  type PriceParams,
  windowPrice,
} from '../jobs/price';
import { byCodeUnits } from './audit';

/** One peer's market report, as its signer stated it. */
export interface MarketReport {
  /** The signer (the pubsub message's verified `from`). */
  peer: string;
  /** When its signer says it sent it (ms since the Unix epoch). */
  at: number;
  /** The signer's measured speed while it contributes, else 0 (GFLOP/s). */
  gflops: number;
  /** Contributing and waiting for work. */
  idle: boolean;
  /** Work left in the signer's own announced jobs (GFLOP). */
  queuedGflop: number;
}

/** A report's signer time may differ from its receipt by at most this much. */
export const PRICE_SKEW_MS = 5_000; // ms
/** An epoch closes this long after its end: reports for it arriving later are refused. */
export const PRICE_SETTLE_MS = 1_000; // ms
/** Peers counted in one epoch: ids are free, so a flood of them is bounded, canonically (the
 * smallest ids in code-unit order are kept, whatever order they arrive in). */
export const MAX_MARKET_PEERS = 1_024;
/** Largest queue one report may state (GFLOP); a larger one is refused. */
export const MAX_QUEUED_GFLOP = 1e9;
/** Largest speed one report may state (GFLOP/s), as the gossip decoder allows. */
export const MAX_REPORT_GFLOPS = 1e6;

/** Why a report was not counted. */
export type Refusal = 'skew' | 'late' | 'crowded' | 'invalid';

/** The price as a tab can state it now. */
export type PriceQuote =
  | { state: 'measuring'; seen: number; of: number }
  | {
      state: 'price';
      price: number; // credits per GFLOP
      /** The epoch whose price this is (computed from the PRICE_WINDOW epochs before it). */
      epoch: number;
      /** Mean utilisation of the window, uncapped per epoch (for charts). */
      utilisation: number;
      /** The newest epoch of the window, summed. */
      last: MarketSample;
    };

/** Integer units (milli-GFLOP and milli-GFLOP/s): sums that no addition order can change. */
interface Units {
  at: number;
  supply: number;
  idle: boolean;
  queued: number;
}

export interface PriceBookOptions {
  /** When this book began listening (ms): epochs that began earlier were not seen whole. */
  startedAt: number;
  params?: PriceParams;
  window?: number; // default PRICE_WINDOW
}

/**
 * Reports bucketed by the epoch of their signer's time: per epoch, per peer, the latest one
 * (ties: the larger figures), summed in integer units. An epoch counts once this book has
 * listened to all of it and it has closed; until PRICE_WINDOW such epochs precede now the
 * book says 'measuring'.
 */
export class PriceBook {
  readonly #epochs = new Map<number, Map<string, Units>>();
  readonly #startedAt: number;
  readonly #window: number;
  params: PriceParams;

  constructor(o: PriceBookOptions) {
    this.#startedAt = o.startedAt;
    this.params = o.params ?? DEFAULT_PRICE_PARAMS;
    this.#window = o.window ?? PRICE_WINDOW;
  }

  get epochMs(): number {
    return this.params.epochMs;
  }

  /** Counts a report received at `receivedAt` (ms, this tab's clock), or says why not. */
  add(r: MarketReport, receivedAt: number): Refusal | undefined {
    if (
      !(Number.isFinite(r.at) && Number.isFinite(r.gflops) && Number.isFinite(r.queuedGflop)) ||
      r.gflops < 0 ||
      r.gflops > MAX_REPORT_GFLOPS ||
      r.queuedGflop < 0 ||
      r.queuedGflop > MAX_QUEUED_GFLOP
    ) {
      return 'invalid';
    }
    // A lying clock cannot place a report in an epoch far from when it arrived.
    if (Math.abs(r.at - receivedAt) > PRICE_SKEW_MS) return 'skew';
    const e = epochOf(r.at, this.epochMs);
    if (receivedAt >= this.#closesAt(e)) return 'late';
    const peers = this.#epochs.get(e) ?? new Map<string, Units>();
    const u: Units = {
      at: r.at,
      supply: Math.round(r.gflops * 1000),
      idle: r.idle && r.gflops > 0,
      queued: Math.round(r.queuedGflop * 1000),
    };
    const before = peers.get(r.peer);
    if (before) {
      if (!later(u, before)) return undefined;
    } else if (peers.size >= MAX_MARKET_PEERS) {
      // One pass, no sort: a flood costs each report at most one scan of the epoch's peers.
      let largest = '';
      for (const k of peers.keys()) if (byCodeUnits(k, largest) > 0) largest = k;
      if (byCodeUnits(r.peer, largest) > 0) return 'crowded';
      peers.delete(largest);
    }
    peers.set(r.peer, u);
    this.#epochs.set(e, peers);
    this.#forget(e);
    return undefined;
  }

  /** An epoch's reports summed, whether or not it is complete. */
  sample(epoch: number): MarketSample {
    let supply = 0;
    let idle = 0;
    let queued = 0;
    for (const u of this.#epochs.get(epoch)?.values() ?? []) {
      supply += u.supply;
      if (u.idle) idle += u.supply;
      queued += u.queued;
    }
    return { supplyGflops: supply / 1000, idleGflops: idle / 1000, queuedGflop: queued / 1000 };
  }

  /** The price at `now` (ms, this tab's clock): from the PRICE_WINDOW epochs closed last. */
  quote(now: number): PriceQuote {
    const E = this.epochMs;
    const newest = epochOf(now - this.#settle(), E) - 1;
    const oldest = newest - this.#window + 1;
    const seen = Math.max(0, newest - Math.max(oldest, Math.ceil(this.#startedAt / E)) + 1);
    if (seen < this.#window) return { state: 'measuring', seen, of: this.#window };
    const window: MarketSample[] = [];
    for (let x = oldest; x <= newest; x++) window.push(this.sample(x));
    let u = 0;
    for (const s of window) {
      u += s.supplyGflops > 0 ? Math.min(1e9, s.queuedGflop / (s.supplyGflops * (E / 1000))) : 0;
    }
    return {
      state: 'price',
      price: windowPrice(window, this.params),
      epoch: newest + 1,
      utilisation: u / window.length,
      last: window.at(-1) as MarketSample,
    };
  }

  /** When the price next changes (ms): the close of the current epoch. */
  nextChange(now: number): number {
    return this.#closesAt(epochOf(now - this.#settle(), this.epochMs));
  }

  #settle(): number {
    return Math.min(PRICE_SETTLE_MS, this.epochMs / 2);
  }

  #closesAt(epoch: number): number {
    return (epoch + 1) * this.epochMs + this.#settle();
  }

  /** Keeps the window's epochs and those still open (a skewed clock may report one ahead). */
  #forget(newest: number) {
    for (const e of this.#epochs.keys()) {
      if (e < newest - this.#window - 2) this.#epochs.delete(e);
    }
  }
}

/** Whether `a` replaces `b` as a peer's report of an epoch: later, or at the same time larger. */
function later(a: Units, b: Units): boolean {
  if (a.at !== b.at) return a.at > b.at;
  if (a.queued !== b.queued) return a.queued > b.queued;
  if (a.supply !== b.supply) return a.supply > b.supply;
  return a.idle && !b.idle;
}
