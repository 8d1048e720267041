import { describe, expect, it } from 'vitest';
import { accounts, type CheckedLog } from '../../../src/ledger/audit';
import type { Entry } from '../../../src/ledger/entries';
import { tally, weight } from '../../../src/ledger/governance';
import {
  logOf,
  pick,
  type Rand,
  receiptEntry,
  rng,
  shuffle,
  upTo,
} from '../../support/ledger-fixture';

// Vote weight that loops cannot mint (docs/market.md, "Votes"): a voter weighs the credit it
// holds beyond its grant. Colluding ids that pass credit around a loop, at any volume, weigh
// exactly what they weighed without the loop; any other payments among them can add at most
// the grants they hold.

const G = 10_000_000; // the grant, µcredits
const rules = { grant: G };

function weights(logs: readonly CheckedLog[], ids: readonly string[]) {
  const books = accounts(logs, rules);
  return ids.map((id) => weight(books.get(id)));
}
const total = (ws: readonly bigint[]) => ws.reduce((s, w) => s + w, 0n);

/** A ring of k colluders and honest outsiders who pay each other within their grants, so that
 * every receipt is honoured before any colluder pays another. Each colluder's log opens with
 * what it pays outsiders. */
function context(r: Rand) {
  const k = 2 + upTo(r, 6);
  const ring = Array.from({ length: k }, (_, i) => `ring${i}`);
  const outside = Array.from({ length: 1 + upTo(r, 3) }, (_, i) => `out${i}`);
  const entries = new Map<string, Entry[]>([...ring, ...outside].map((p) => [p, []]));
  for (const [payers, payees] of [
    [outside, ring],
    [ring, outside],
  ] as const) {
    for (const from of payers) {
      let left = upTo(r, G);
      for (let s = 0; left > 0 && s < 4; s++) {
        const credit = s === 3 ? left : upTo(r, left);
        entries.get(from)?.push(receiptEntry(from, pick(r, payees), credit, 'work', s));
        left -= credit;
      }
    }
  }
  return { ring, outside, entries };
}

const logsOf = (entries: Map<string, Entry[]>) => [...entries].map(([peer, es]) => logOf(peer, es));

/** Inserts `e` at a random place in `list` after its first `after` entries. */
function insert(r: Rand, list: Entry[], e: Entry, after = 0) {
  list.splice(after + upTo(r, list.length - after), 0, e);
}

const VOLUMES = (r: Rand) =>
  pick(r, [
    () => 1 + upTo(r, G),
    () => upTo(r, 10 ** 12),
    () => 2 ** 50 + upTo(r, 2 ** 30),
    () => Number.MAX_SAFE_INTEGER - upTo(r, 1_000),
  ])();

describe('vote weight that loops cannot mint', () => {
  it('loops of 2–8 ids, any volume, anywhere in their logs: the same weight as without them', () => {
    const r = rng(55);
    let minted = 0; // cases where √(credits earned), the former rule, would have risen
    for (let t = 0; t < 500; t++) {
      const { ring, outside, entries } = context(r);
      const ids = [...ring, ...outside];
      const before = weights(logsOf(entries), ids);
      const oldBefore = oldWeights(logsOf(entries), ring);
      for (let l = 0, loops = 1 + upTo(r, 4); l < loops; l++) {
        const members = shuffle(r, ring).slice(0, 2 + upTo(r, ring.length - 2));
        const x = VOLUMES(r);
        for (let pass = 0, passes = 1 + upTo(r, 3); pass < passes; pass++) {
          members.forEach((from, i) => {
            const to = members[(i + 1) % members.length] as string;
            insert(r, entries.get(from) as Entry[], receiptEntry(from, to, x, `loop${l}`, pass));
          });
        }
      }
      const logs = logsOf(entries);
      const books = accounts(logs, rules);
      for (const id of ring) expect(books.get(id)?.voided, `case ${t}`).toEqual([]);
      const after = weights(logs, ids);
      expect(after, `case ${t}`).toEqual(before);
      expect(total(after.slice(0, ring.length))).toBeLessThanOrEqual(
        total(before.slice(0, ring.length)),
      );
      if (total(oldWeights(logs, ring)) > total(oldBefore)) minted++;
    }
    // The test tells the rules apart: the former one would have minted weight in most cases.
    expect(minted).toBeGreaterThan(400);
  });

  it('any other payments among colluders add at most the grants they hold; splitting adds nothing', () => {
    const r = rng(89);
    for (let t = 0; t < 500; t++) {
      const { ring, outside, entries } = context(r);
      const ids = [...ring, ...outside];
      const before = total(weights(logsOf(entries), ids).slice(0, ring.length));
      const opening = new Map(ring.map((id) => [id, entries.get(id)?.length ?? 0]));
      for (let n = 0, payments = upTo(r, 30); n < payments; n++) {
        const [from, to] = shuffle(r, ring) as [string, string];
        const e = receiptEntry(from, to, VOLUMES(r), 'deal', n);
        insert(r, entries.get(from) as Entry[], e, opening.get(from));
      }
      const books = accounts(logsOf(entries), rules);
      const after = total(ring.map((id) => weight(books.get(id))));
      expect(after, `case ${t}`).toBeLessThanOrEqual(before + BigInt(ring.length * G));
      // Weight is never more than credit held, and credit held only moves.
      const held = ring.reduce((s, id) => s + (books.get(id)?.balance ?? 0n), 0n);
      expect(after).toBeLessThanOrEqual(held);
    }
    // Credit earned from outsiders, split among any number of ids, weighs what it weighed whole.
    const earner = ['c', 's1', 's2', 's3', 's4', 's5'];
    const pay = logOf('payer', [receiptEntry('payer', 'c', 8_000_000)]);
    const whole = total(weights([pay], earner));
    const split = logOf(
      'c',
      earner.slice(1).map((s, i) => receiptEntry('c', s, 1_000_000 + i, 'split', i)),
    );
    expect(whole).toBe(8_000_000n);
    expect(total(weights([pay, split], earner))).toBe(whole);
  });

  it('fresh ids paying each other any amount weigh at most their grants, and cannot pass a proposal', () => {
    const [a, b] = ['a', 'b'];
    const prop: Entry = {
      type: 'proposal',
      proposal: { param: 'priceStep', value: 0.25, reason: '', createdAt: 1 },
    };
    const vote: Entry = { type: 'vote', vote: { proposal: `${a}:0`, yes: true, castAt: 2 } };
    const x = 2 ** 50;
    const logs = [
      logOf(a, [
        prop,
        ...Array.from({ length: 100 }, (_, i) => receiptEntry(a, b, x, 'j', i)),
        vote,
      ]),
      logOf(b, [...Array.from({ length: 100 }, (_, i) => receiptEntry(b, a, x, 'j', i)), vote]),
    ];
    expect(accounts(logs, rules).get(a)?.earned).toBe(100n * BigInt(x));
    expect(weights(logs, [a, b])).toEqual([0n, 0n]);
    expect(tally(logs, rules)[0]).toMatchObject({ yes: 0, passed: false });
    // b hands a its whole grant: a weighs one grant, below the quorum.
    const gift = [logs[0] as CheckedLog, logOf(b, [receiptEntry(b, a, G), vote])];
    expect(weights(gift, [a, b])).toEqual([BigInt(G), 0n]);
    expect(tally(gift, rules)[0]).toMatchObject({ yes: G / 1e6, passed: false });
  });
});

/** The former rule, √(credits earned) at most 100 per voter, to show the loops above mint under it. */
function oldWeights(logs: readonly CheckedLog[], ids: readonly string[]) {
  const books = accounts(logs, rules);
  return ids.map((id) =>
    BigInt(Math.floor(1e6 * Math.min(100, Math.sqrt(Number(books.get(id)?.earned ?? 0n) / 1e6)))),
  );
}
