import { describe, expect, it } from 'vitest';
import { PRICE_EPOCH_MS, PRICE_WINDOW } from '../../../src/jobs/price';
import { DEFAULT_PARAMS } from '../../../src/ledger/governance';
import {
  MAX_QUEUED_GFLOP,
  MAX_REPORT_GFLOPS,
  PRICE_SETTLE_MS,
  PriceBook,
} from '../../../src/ledger/price-book';
import {
  PriceOracle,
  type PricePoint,
  type SupplyAndDemand,
} from '../../../src/ledger/price-oracle';

// The price oracle alone: given this tab's supply and demand as a function (no job board, no
// node), it counts its own report as sent and peers' as heard, and prices each closed epoch as
// a price book fed the same reports does.

const E = PRICE_EPOCH_MS;
const T0 = Math.ceil(Date.UTC(2026, 11, 7) / E) * E;
const at = (epoch: number, ms = 0) => T0 + epoch * E + ms;
const ME = '12D3KooMe';
const PEER = '12D3KooPeer';

function oracle(demand: () => SupplyAndDemand, params = () => DEFAULT_PARAMS) {
  const clock = { now: at(0) - 10 };
  const o = new PriceOracle({ me: ME, demand, params, now: () => clock.now });
  o.start();
  return { o, clock };
}

/** PRICE_WINDOW epochs of rounds every 2 s: this tab's own report and one peer's. */
function rounds(t: ReturnType<typeof oracle>, book?: PriceBook, queued = () => 0) {
  for (let ms = at(0, 500); ms < at(PRICE_WINDOW); ms += 2_000) {
    t.clock.now = ms;
    const figures = t.o.own(ms);
    book?.add({ peer: ME, at: ms, ...figures }, ms);
    const peer = { peer: PEER, at: ms, gflops: 4, idle: true, queuedGflop: queued() };
    expect(t.o.report(peer)).toBe(true);
    book?.add(peer, ms);
  }
  t.clock.now = at(PRICE_WINDOW, PRICE_SETTLE_MS);
}

describe('the price oracle', () => {
  it('prices the window from its own demand function and peers’ reports, as a price book would', () => {
    let queued = 0;
    const t = oracle(() => {
      queued += 3; // demand grows each round
      return { gflops: 2, idle: false, queuedGflop: queued };
    });
    const book = new PriceBook({ startedAt: at(0) - 10 });
    const points: PricePoint[] = [];
    t.o.addEventListener('price', (e) => points.push(e.detail));
    expect(t.o.quote).toEqual({ state: 'measuring', seen: 0, of: PRICE_WINDOW });
    rounds(t, book);
    const q = t.o.reprice();
    expect(q.state).toBe('price');
    expect(q).toEqual(book.quote(t.clock.now));
    expect(points).toEqual([...t.o.prices]);
    expect(points).toHaveLength(1);
    // The demand function was read once per round: the last round's figure is in the book.
    expect(queued).toBe(3 * Math.ceil((PRICE_WINDOW * E - 500) / 2_000));
  });

  it('more demand never prices lower; the votable target moves the price', () => {
    const price = (queuedGflop: number, priceTarget = DEFAULT_PARAMS.priceTarget) => {
      const t = oracle(
        () => ({ gflops: 1, idle: false, queuedGflop }),
        () => ({ ...DEFAULT_PARAMS, priceTarget }),
      );
      rounds(t);
      const q = t.o.reprice();
      t.o.stop();
      if (q.state !== 'price') throw new Error('still measuring');
      return q.price;
    };
    expect(price(500)).toBeGreaterThan(price(5));
    expect(price(500)).toBeGreaterThanOrEqual(price(50));
    expect(price(50, 0.9)).toBeLessThan(price(50, 0.2));
  });

  it('reports its own figures within the bounds every peer accepts; its own id is not heard', () => {
    const t = oracle(() => ({ gflops: Number.NaN, idle: true, queuedGflop: 1e12 }));
    t.clock.now = at(0, 100);
    expect(t.o.own(at(0, 100))).toEqual({ gflops: 0, idle: true, queuedGflop: MAX_QUEUED_GFLOP });
    const big = oracle(() => ({ gflops: 1e9, idle: false, queuedGflop: -5 }));
    expect(big.o.own(at(0, 100))).toEqual({
      gflops: MAX_REPORT_GFLOPS,
      idle: false,
      queuedGflop: 0,
    });
    expect(t.o.report({ peer: ME, at: at(0, 100), gflops: 1, idle: true, queuedGflop: 0 })).toBe(
      false,
    );
    // A peer's report from far in the future is refused, not counted.
    expect(t.o.report({ peer: PEER, at: at(5), gflops: 1, idle: true, queuedGflop: 0 })).toBe(
      false,
    );
    t.o.stop();
    big.o.stop();
  });
});
