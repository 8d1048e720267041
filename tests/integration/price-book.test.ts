import '../../src/relay/polyfills';
import 'fake-indexeddb/auto';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_PRICE_PARAMS,
  estimateJob,
  MAX_UTILISATION,
  matmulFlops,
  PRICE_CEILING,
  PRICE_EPOCH_MS,
  PRICE_FLOOR,
  PRICE_WINDOW,
  START_PRICE,
  windowPrice,
} from '../../src/jobs/price';
import { LocalLedger } from '../../src/ledger/local';
import {
  MAX_MARKET_PEERS,
  type MarketReport,
  PRICE_SETTLE_MS,
  PRICE_SKEW_MS,
  PriceBook,
} from '../../src/ledger/price-book';
import { LedgerService } from '../../src/ledger/service';
import type { MeshNode } from '../../src/mesh/node';
import { rng, shuffle } from '../support/ledger-fixture';
import { tcpNode } from '../support/tcp-node';

// One price from the same inputs: epochs aligned to wall-clock time, each peer's latest signed
// report of an epoch, sums in integer units, the price a pure function of the last
// PRICE_WINDOW complete epochs. docs/market.md, "How prices move".

const E = PRICE_EPOCH_MS;
/** Epoch 0 of these tests: a wall-clock epoch boundary in 2026. */
const T0 = Math.ceil(Date.UTC(2026, 11, 7) / E) * E;
const at = (epoch: number, ms = 0) => T0 + epoch * E + ms;
const ids = Array.from({ length: 6 }, (_, i) => `12D3KooPeer${i}`);

/** Every peer reports every 2 s; demand and supply move from epoch to epoch. */
function reports(seed: number, epochs: number): MarketReport[] {
  const r = rng(seed);
  const out: MarketReport[] = [];
  for (let e = 0; e < epochs; e++) {
    for (const peer of ids) {
      const gflops = r() < 0.3 ? 0 : Math.round(r() * 50_000) / 1000;
      const queuedGflop = r() < 0.5 ? 0 : r() * 2_000;
      for (let ms = Math.floor(r() * 2_000); ms < E; ms += 2_000) {
        out.push({ peer, at: at(e, ms), gflops, idle: r() < 0.5, queuedGflop: queuedGflop * r() });
      }
    }
  }
  return out;
}

/** Feeds reports epoch by epoch, shuffled within each, each received 0–900 ms after it was
 * signed; only those sent after `joined` (a tab hears nothing from before it joined). */
function feed(
  book: (r: MarketReport, receivedAt: number) => unknown,
  rs: MarketReport[],
  seed: number,
  joined: number,
) {
  const r = rng(seed);
  const byEpoch = new Map<number, MarketReport[]>();
  for (const x of rs) {
    if (x.at < joined) continue;
    const e = Math.floor((x.at - T0) / E);
    byEpoch.set(e, [...(byEpoch.get(e) ?? []), x]);
  }
  for (const [, xs] of [...byEpoch].sort(([a], [b]) => a - b)) {
    for (const x of shuffle(r, xs)) book(x, x.at + Math.floor(r() * 900));
  }
}

describe('the price rule', () => {
  const p = DEFAULT_PRICE_PARAMS;
  const epoch = (queuedGflop: number, supplyGflops: number) => ({
    queuedGflop,
    supplyGflops,
    idleGflops: supplyGflops,
  });

  it('is START_PRICE at the target, never lower for more demand, and within its bounds', () => {
    const atTarget = epoch(p.target * 100 * (E / 1000), 100);
    expect(windowPrice([atTarget, atTarget, atTarget])).toBeCloseTo(START_PRICE, 12);
    const r = rng(3);
    for (let t = 0; t < 2_000; t++) {
      const w = Array.from({ length: PRICE_WINDOW }, () =>
        epoch(r() < 0.2 ? 0 : r() * 20_000, r() < 0.2 ? 0 : r() * 500),
      );
      const price = windowPrice(w);
      expect(price).toBeGreaterThanOrEqual(PRICE_FLOOR);
      expect(price).toBeLessThanOrEqual(PRICE_CEILING);
      const i = Math.floor(r() * w.length);
      const more = w.map((s, j) => (j === i ? { ...s, queuedGflop: s.queuedGflop * 2 + 1 } : s));
      expect(windowPrice(more)).toBeGreaterThanOrEqual(price);
    }
  });

  it('an idle mesh is at the floor, one without supply neutral, demand without supply bounded', () => {
    expect(windowPrice([epoch(0, 100), epoch(0, 100), epoch(0, 100)])).toBe(PRICE_FLOOR);
    expect(windowPrice([epoch(500, 0), epoch(0, 0), epoch(1e9, 0)])).toBe(START_PRICE);
    const flooded = windowPrice([epoch(1e9, 1e-3), epoch(1e9, 1e-3), epoch(1e9, 1e-3)]);
    expect(flooded).toBeCloseTo((START_PRICE * MAX_UTILISATION) / p.target, 9);
  });

  it('priceStep sets how strongly it follows utilisation; priceTarget where it is START_PRICE', () => {
    const busy = [epoch(4_000, 100), epoch(4_000, 100), epoch(4_000, 100)]; // u = 4
    expect(windowPrice(busy)).toBeCloseTo(8, 12);
    expect(windowPrice(busy, { ...p, step: 0.25 })).toBeCloseTo(64, 9);
    expect(windowPrice(busy, { ...p, target: 0.8 })).toBeCloseTo(5, 12);
  });
});

describe('the estimate before submitting', () => {
  it('is the job’s FLOPs × the price in µcredits, checked against budget and balance', () => {
    // The job: 2048³ at the stale 1.000 was 17.2 credits; at 0.010, 0.17.
    const flops = matmulFlops(2048, 2048, 2048);
    expect(flops).toBe(2 * 2048 ** 3);
    const sample = { queuedGflop: 0, supplyGflops: 27, idleGflops: 27 };
    const e = estimateJob({ flops, price: 0.01, budget: 1e6, balance: 10e6, sample });
    expect(e.total).toBe(171_799);
    expect(e).toMatchObject({ budgetCovers: true, balanceCovers: true, queuedAhead: false });
    expect(e.seconds).toBeCloseTo(flops / 1e9 / 27, 9);
    const dear = estimateJob({ flops, price: 1, budget: 8e6, balance: 5e6 });
    expect(dear).toMatchObject({ total: 17_179_869, budgetCovers: false, balanceCovers: false });
    expect(dear.seconds).toBeUndefined(); // no market seen: no time
    expect(estimateJob({ flops, price: 1, budget: Number.POSITIVE_INFINITY }).balanceCovers).toBe(
      undefined,
    );
  });

  it('waits for contributors when there are none, and counts the queue when none is idle', () => {
    const flops = 100e9;
    const none = estimateJob({
      flops,
      price: 1,
      budget: Infinity,
      sample: { queuedGflop: 50, supplyGflops: 0, idleGflops: 0 },
    });
    expect(none.seconds).toBeUndefined();
    const busy = estimateJob({
      flops,
      price: 1,
      budget: Infinity,
      sample: { queuedGflop: 300, supplyGflops: 20, idleGflops: 0 },
    });
    expect(busy).toMatchObject({ seconds: 20, queuedAhead: true });
  });
});

describe('the price book', () => {
  it('two tabs joining at different times, hearing the same reports in other orders, quote the same price', () => {
    const rs = reports(11, 12);
    for (let trial = 0; trial < 20; trial++) {
      const early = new PriceBook({ startedAt: at(0) - 3_000 });
      const late = new PriceBook({ startedAt: at(8, 4_321) });
      feed((r, t) => early.add(r, t), rs, 100 + trial, 0);
      feed((r, t) => late.add(r, t), rs, 200 + trial, at(8, 4_321));
      const now = at(12, PRICE_SETTLE_MS + 5);
      const a = early.quote(now);
      const b = late.quote(now);
      expect(a.state).toBe('price');
      expect(b).toEqual(a);
      // Its figure is the rule over exactly epochs 9..11, whatever came before.
      const w = [9, 10, 11].map((x) => early.sample(T0 / E + x));
      expect(a.state === 'price' && a.price).toBe(windowPrice(w));
    }
  });

  it('says "measuring" until it has heard the whole window, then quotes', () => {
    const book = new PriceBook({ startedAt: at(3, 1) });
    feed((r, t) => book.add(r, t), reports(5, 9), 1, at(3, 1));
    expect(book.quote(at(6, PRICE_SETTLE_MS + 1))).toEqual({
      state: 'measuring',
      seen: 2,
      of: PRICE_WINDOW,
    });
    // Epoch 3 began before the book listened: it never counts; epochs 4..6 do.
    expect(book.quote(at(7, PRICE_SETTLE_MS - 1)).state).toBe('measuring');
    const q = book.quote(at(7, PRICE_SETTLE_MS));
    expect(q.state === 'price' && q.epoch).toBe(T0 / E + 7);
    expect(book.nextChange(at(7, PRICE_SETTLE_MS))).toBe(at(8, PRICE_SETTLE_MS));
  });

  it('a far-off timestamp is refused, and cannot move another epoch', () => {
    const book = new PriceBook({ startedAt: at(0) - 1 });
    const honest = { peer: ids[0] as string, gflops: 10, idle: true, queuedGflop: 0 };
    for (const e of [0, 1, 2]) book.add({ ...honest, at: at(e, 500) }, at(e, 600));
    const before = book.quote(at(3, PRICE_SETTLE_MS));
    const liar = { peer: ids[1] as string, gflops: 0.001, idle: false, queuedGflop: 1e9 };
    // Sent "in epoch 1" but received in epoch 2; "in epoch 5" received now.
    expect(book.add({ ...liar, at: at(1, 500) }, at(2, 600))).toBe('skew');
    expect(book.add({ ...liar, at: at(5, 0) }, at(2, 700))).toBe('skew');
    expect(book.add({ ...liar, at: at(2, 0) - PRICE_SKEW_MS - 1 }, at(2, 0))).toBe('skew');
    // Within the skew but for an epoch already closed: too late.
    expect(book.add({ ...liar, at: at(1, 9_999) }, at(2, PRICE_SETTLE_MS))).toBe('late');
    expect(book.quote(at(3, PRICE_SETTLE_MS))).toEqual(before);
    expect(before.state === 'price' && before.price).toBe(PRICE_FLOOR);
    // The same figures on time do move it: the refusals above were about time alone.
    book.add({ ...liar, at: at(2, 9_000) }, at(2, 9_500));
    const after = book.quote(at(3, PRICE_SETTLE_MS));
    expect(after.state === 'price' && after.price).toBeGreaterThan(PRICE_FLOOR);
  });

  it('one id counts once an epoch (its latest report), and a flood of ids is bounded the same way in every order', () => {
    const book = new PriceBook({ startedAt: at(0) - 1 });
    const me = { peer: ids[0] as string, idle: true, queuedGflop: 0 };
    for (let ms = 0; ms < E; ms += 1_000)
      book.add({ ...me, gflops: ms / 1000, at: at(0, ms) }, at(0, ms));
    expect(book.sample(T0 / E).supplyGflops).toBe(9);
    const flood: MarketReport[] = Array.from({ length: MAX_MARKET_PEERS + 300 }, (_, i) => ({
      peer: `12D3KooSybil${String(i).padStart(5, '0')}`,
      at: at(1, 100),
      gflops: 1,
      idle: true,
      queuedGflop: 1,
    }));
    const samples = [1, 2].map((seed) => {
      const b = new PriceBook({ startedAt: at(0) - 1 });
      for (const r of shuffle(rng(seed), flood)) b.add(r, at(1, 200));
      return b.sample(T0 / E + 1);
    });
    expect(samples[0]).toEqual(samples[1]);
    expect(samples[0]?.supplyGflops).toBe(MAX_MARKET_PEERS);
  });

  it('refuses figures out of range', () => {
    const book = new PriceBook({ startedAt: 0 });
    const r = { peer: 'x', at: at(0), gflops: 1, idle: true, queuedGflop: 1 };
    expect(book.add({ ...r, gflops: Number.NaN }, at(0))).toBe('invalid');
    expect(book.add({ ...r, gflops: -1 }, at(0))).toBe('invalid');
    expect(book.add({ ...r, queuedGflop: 1e12 }, at(0))).toBe('invalid');
    expect(book.add(r, at(0))).toBeUndefined();
  });
});

describe('two ledger services', () => {
  const nodes: MeshNode[] = [];
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  async function service(clock: { now: number }) {
    const { node, key } = await tcpNode();
    nodes.push(node);
    const id = peerIdFromPrivateKey(key).toString();
    const ledger = await LocalLedger.open(key, id, `price-book-${id}`);
    return new LedgerService({
      node,
      ledger,
      address: '',
      quarantine: () => {},
      supply: () => ({ gflops: 0, idle: false }),
      now: () => clock.now,
    });
  }

  it('fed the same reports in other orders, after joining at different times, give the same prices', async () => {
    const c1 = { now: at(0) - 10 };
    const c2 = { now: at(6, 7_000) };
    const s1 = await service(c1);
    const rs = reports(21, 12);
    feed(
      (r, t) => {
        c1.now = t;
        s1.report(r);
      },
      rs,
      1,
      0,
    );
    const s2 = await service(c2);
    feed(
      (r, t) => {
        c2.now = t;
        s2.report(r);
      },
      rs,
      2,
      at(6, 7_000),
    );
    const points: number[][] = [[], []];
    for (const [i, s] of [s1, s2].entries()) {
      s.addEventListener('price', (e) => points[i]?.push(e.detail.at, e.detail.price));
    }
    c1.now = c2.now = at(12, PRICE_SETTLE_MS);
    expect(s1.reprice()).toEqual(s2.reprice());
    expect(s1.price).toBeDefined();
    expect(s1.price).toBe(s2.price);
    expect(points[0]).toEqual(points[1]);
    // A service that has not yet heard a whole window says so instead of a number.
    const c3 = { now: at(11, 5_000) };
    const s3 = await service(c3);
    c3.now = at(12, PRICE_SETTLE_MS);
    expect(s3.reprice()).toEqual({ state: 'measuring', seen: 0, of: PRICE_WINDOW });
    expect(s3.price).toBeUndefined();
  });
});
