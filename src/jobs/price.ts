// The market's price rule, pure so that every peer computes the same price from the same view.
// Modelled on EIP-1559's base fee: each epoch the price moves toward the level at which the
// mesh's idle supply would be used at a target share, by at most `step` of itself.

/** Credits per GFLOP of verified work when a mesh starts. */
export const START_PRICE = 1;
/** Prices stay in [FLOOR, CEILING] credits per GFLOP. */
export const PRICE_FLOOR = 0.01;
export const PRICE_CEILING = 1_000;

export interface PriceParams {
  /** Share of the idle supply that the queued work should use in one epoch. */
  target: number; // default 0.5
  /** Largest relative move per epoch (EIP-1559: 1/8). */
  step: number; // default 0.125
  /** Length of an epoch. */
  epochMs: number; // default 10_000 ms
}

export const DEFAULT_PRICE_PARAMS: PriceParams = { target: 0.5, step: 0.125, epochMs: 10_000 };

/** What a peer sees of the market in one epoch. */
export interface MarketSample {
  /** Work queued in announced jobs: shards left × GFLOP per shard. */
  queuedGflop: number;
  /** Sum of the speeds of contributors waiting for work (GFLOP/s, as they report them). */
  idleGflops: number;
}

/** Demand ÷ supply over one epoch: 1 means the idle supply would be fully used. */
export function utilisation(s: MarketSample, epochMs: number): number {
  const capacity = Math.max(0, s.idleGflops) * (epochMs / 1000);
  const demand = Math.max(0, s.queuedGflop);
  if (demand === 0) return 0;
  return capacity > 0 ? demand / capacity : Number.POSITIVE_INFINITY;
}

/**
 * The next epoch's price: p × (1 + step × clamp((u − target) ÷ target, −1, 1)), clamped to
 * [PRICE_FLOOR, PRICE_CEILING]. Unchanged at the target utilisation, never moving by more than
 * `step` of itself, and never lower for more demand.
 */
export function nextPrice(
  price: number,
  s: MarketSample,
  p: PriceParams = DEFAULT_PRICE_PARAMS,
): number {
  const u = utilisation(s, p.epochMs);
  const pressure = Math.max(-1, Math.min(1, (u - p.target) / p.target));
  const next = price * (1 + p.step * pressure);
  return Math.min(PRICE_CEILING, Math.max(PRICE_FLOOR, next));
}

/** µcredits a verified shard of `flops` pays at `price` credits per GFLOP. */
export function creditFor(flops: number, price: number): number {
  return Math.round((flops / 1e9) * price * 1e6);
}

/** µcredits → credits, for display. */
export function credits(micro: number): number {
  return micro / 1e6;
}
