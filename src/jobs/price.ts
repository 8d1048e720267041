// The market's price rule, pure so that every peer computes the same price from the same inputs.
//
// Time is cut into epochs aligned to wall-clock time (epoch x is [x·E, (x+1)·E) ms since the
// Unix epoch, E = PRICE_EPOCH_MS), so every tab's boundaries agree. An epoch's inputs are the
// market reports peers sign (src/ledger/price-book.ts sums them canonically); the price is a
// pure function of the last PRICE_WINDOW complete epochs, so neither a tab's history before
// the window nor when it joined can change it.

/** Credits per GFLOP at the target utilisation (and the neutral price of a mesh with no supply). */
export const START_PRICE = 1;
/** Prices stay in [FLOOR, CEILING] credits per GFLOP. */
export const PRICE_FLOOR = 0.01;
export const PRICE_CEILING = 1_000;
/** Length of an epoch, aligned to wall-clock time. */
export const PRICE_EPOCH_MS = 10_000; // ms
/** Complete epochs the price is computed from. */
export const PRICE_WINDOW = 3;
/** One epoch's utilisation counts at most this much (demand with almost no supply would
 * otherwise price at the ceiling, and a liar could put it there). */
export const MAX_UTILISATION = 16;
/** The `step` at which the price is proportional to utilisation (exponent 1). */
export const PRICE_STEP_UNIT = 0.125;

export interface PriceParams {
  /** Utilisation at which the price is START_PRICE (votable: priceTarget). */
  target: number; // default 0.5
  /** How strongly the price follows utilisation: its exponent is step ÷ PRICE_STEP_UNIT
   * (votable: priceStep). */
  step: number; // default 0.125
  /** Length of an epoch. */
  epochMs: number; // default PRICE_EPOCH_MS
}

export const DEFAULT_PRICE_PARAMS: PriceParams = {
  target: 0.5,
  step: PRICE_STEP_UNIT,
  epochMs: PRICE_EPOCH_MS,
};

/** The epoch that `at` falls in. */
export function epochOf(at: number, epochMs = PRICE_EPOCH_MS): number {
  return Math.floor(at / epochMs);
}

/** What the mesh reported in one epoch, summed over peers. */
export interface MarketSample {
  /** Work queued in owners' jobs (shards left × GFLOP per shard), as the owners report it. */
  queuedGflop: number;
  /** Sum of the speeds of contributing peers, busy or idle (GFLOP/s, as they report them). */
  supplyGflops: number;
  /** The part of `supplyGflops` waiting for work. */
  idleGflops: number;
}

/** Demand ÷ supply over one epoch: 1 means all contributors would be busy the whole epoch.
 * Infinity for demand with no supply; 0 without demand. */
export function utilisation(s: MarketSample, epochMs = PRICE_EPOCH_MS): number {
  const capacity = Math.max(0, s.supplyGflops) * (epochMs / 1000);
  const demand = Math.max(0, s.queuedGflop);
  if (demand === 0) return 0;
  return capacity > 0 ? demand / capacity : Number.POSITIVE_INFINITY;
}

/**
 * The price from the epochs of a window (oldest first; PRICE_WINDOW of them):
 * clamp(START_PRICE × (ū ÷ target)^(step ÷ PRICE_STEP_UNIT), PRICE_FLOOR, PRICE_CEILING), where ū
 * is the mean over the window of each epoch's utilisation capped at MAX_UTILISATION, and an
 * epoch without supply counts as the target (it says nothing about price). START_PRICE at the
 * target, never lower for more demand in any epoch, and the same for the same window wherever
 * it is computed (the arithmetic runs in the window's order; the exponent 1 of the default
 * step needs no Math.pow, which engines may round differently).
 */
export function windowPrice(window: readonly MarketSample[], p = DEFAULT_PRICE_PARAMS): number {
  if (window.length === 0) return START_PRICE;
  let sum = 0;
  for (const s of window) {
    sum += s.supplyGflops > 0 ? Math.min(MAX_UTILISATION, utilisation(s, p.epochMs)) : p.target;
  }
  const ratio = sum / window.length / p.target;
  const k = p.step / PRICE_STEP_UNIT;
  const price = START_PRICE * (k === 1 ? ratio : ratio ** k);
  return Math.min(PRICE_CEILING, Math.max(PRICE_FLOOR, price));
}

/** µcredits a verified shard of `flops` pays at `price` credits per GFLOP. */
export function creditFor(flops: number, price: number): number {
  return Math.round((flops / 1e9) * price * 1e6);
}

/** µcredits → credits, for display. */
export function credits(micro: number): number {
  return micro / 1e6;
}

/** FLOPs of a matmul C = A·B with A m×k and B k×n: 2·m·k·n. */
export function matmulFlops(m: number, k: number, n: number): number {
  return 2 * m * k * n;
}

/** What a job would cost and take, before it is submitted. */
export interface JobEstimate {
  /** µcredits it pays if every shard is verified at the price. */
  total: number;
  /** Whether its budget (µcredits; Infinity: none) covers `total`. */
  budgetCovers: boolean;
  /** Whether the owner's balance (µcredits) covers `total`; undefined when not known. */
  balanceCovers: boolean | undefined;
  /** Seconds until done, about, from the supply reported; undefined without contributors. */
  seconds: number | undefined;
  /** Whether `seconds` counts the work queued ahead (no contributor was idle). */
  queuedAhead: boolean;
}

/**
 * A job's cost (its FLOPs × the price, in µcredits, as its receipts would add up) and time:
 * on the idle contributors' speed when some are idle, else after the work queued ahead on
 * all contributors' speed; none without contributors.
 */
export function estimateJob(o: {
  flops: number;
  price: number; // credits per GFLOP
  budget: number; // µcredits, Infinity: none
  balance?: number; // µcredits
  sample?: MarketSample;
}): JobEstimate {
  const total = creditFor(o.flops, o.price);
  const gflop = o.flops / 1e9;
  const s = o.sample;
  let seconds: number | undefined;
  let queuedAhead = false;
  if (s && s.idleGflops > 0) seconds = gflop / s.idleGflops;
  else if (s && s.supplyGflops > 0) {
    seconds = (Math.max(0, s.queuedGflop) + gflop) / s.supplyGflops;
    queuedAhead = true;
  }
  return {
    total,
    budgetCovers: total <= o.budget,
    balanceCovers: o.balance === undefined ? undefined : total <= o.balance,
    seconds,
    queuedAhead,
  };
}
