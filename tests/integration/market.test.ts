import '../../src/relay/polyfills';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { creditFor } from '../../src/jobs/price';
import { type CheckedLog, checkLog } from '../../src/ledger/audit';
import { checkProposal, DEFAULT_PARAMS, paramsFrom, tally } from '../../src/ledger/governance';
import { MemoryLogPersistence, OwnerLog } from '../../src/ledger/log';
import { openCheckpoint } from '../../src/ledger/note';

describe('the price rule', () => {
  // The rule itself and its inputs: tests/integration/price-book.test.ts.
  it('credit is the shard’s FLOPs at the job’s price, in whole µcredits', () => {
    expect(creditFor(2 * 256 ** 3, 1)).toBe(33_554);
    expect(creditFor(1e9, 2.5)).toBe(2_500_000);
  });
});

const peers = await Promise.all(
  Array.from({ length: 5 }, async () => {
    const key = await generateKeyPair('Ed25519');
    const id = peerIdFromPrivateKey(key).toString();
    return { key, id, log: await OwnerLog.open(key, id, new MemoryLogPersistence()) };
  }),
);
const [payer, a, b, c, d] = peers as [
  (typeof peers)[0],
  (typeof peers)[0],
  (typeof peers)[0],
  (typeof peers)[0],
  (typeof peers)[0],
];

describe('governance', () => {
  const rules = { grant: 1_000_000_000 };
  const checked = () =>
    Promise.all(
      peers.map(async (p) =>
        checkLog({
          peer: p.id,
          checkpoint: await openCheckpoint(p.log.checkpoint()),
          leaves: p.log.entries(0, p.log.size),
        }),
      ),
    );

  it('whitelisted parameters only, within bounds', () => {
    expect(checkProposal({ param: 'priceStep', value: 0.1 })).toBe('priceStep');
    expect(() => checkProposal({ param: 'grant', value: 1e6 })).toThrow(/must be in/);
    expect(() => checkProposal({ param: 'relay', value: 1 })).toThrow(/not a votable/);
    expect(() => checkProposal({ param: '__proto__', value: 1 })).toThrow(/not a votable/);
  });

  it('votes weigh the credit held beyond the grant; the tally is the same for any two peers with the same logs', async () => {
    // payer pays a 400 credits, b 100, c 1 for verified work (weights 400, 100, 1; the payer,
    // which holds less than its grant now, weighs nothing).
    for (const [who, amount] of [
      [a, 400],
      [b, 100],
      [c, 1],
    ] as const) {
      await payer.log.issue({
        jobId: 'j',
        shardId: amount,
        owner: payer.id,
        contributor: who.id,
        flops: 1e9 * amount,
        method: 'freivalds',
        issuedAt: 1,
        credit: amount * 1e6,
      });
    }
    const prop = await a.log.propose({
      param: 'priceStep',
      value: 0.05,
      reason: 'calmer prices',
      createdAt: 1,
    });
    await d.log.propose({ param: 'relayList', value: 1, reason: 'not votable', createdAt: 2 });
    const id = `${a.id}:${prop.index}`;
    await a.log.vote({ proposal: id, yes: true, castAt: 3 });
    await b.log.vote({ proposal: id, yes: false, castAt: 3 });
    await c.log.vote({ proposal: id, yes: false, castAt: 3 });
    await c.log.vote({ proposal: id, yes: true, castAt: 4 }); // changed its mind: the latest counts
    await d.log.vote({ proposal: id, yes: false, castAt: 5 }); // no credit, no weight
    const logs = await checked();
    const one = tally(logs, rules);
    const other = tally([...logs].reverse() as CheckedLog[], rules);
    expect(other).toEqual(one);
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      id,
      param: 'priceStep',
      yes: 401,
      no: 100,
      voters: 4,
      passed: true,
    });
    expect(paramsFrom(one)).toEqual({ ...DEFAULT_PARAMS, priceStep: 0.05 });
    // Without the votes (as at the sizes before them), the same logs give no result yet.
    const before = logs.map((l) => ({ ...l, entries: l.entries.filter((e) => e.type !== 'vote') }));
    expect(tally(before, rules)[0]).toMatchObject({ yes: 0, no: 0, passed: false });
  });
});

describe('a job’s purse', () => {
  it('leases only while every shard out could still be paid from the budget', async () => {
    const { Purse } = await import('../../src/jobs/terms');
    const purse = new Purse({ price: 1, budget: 500 }, 131_072); // 131 µcredits a shard
    expect(purse.shardCost).toBe(131);
    expect(purse.mayLease(2)).toBe(true); // 3 × 131 ≤ 500
    expect(purse.mayLease(3)).toBe(false);
    purse.charge(131);
    purse.charge(131);
    purse.charge(131);
    expect(purse.mayLease(0)).toBe(false); // 393 + 131 > 500
    expect(purse.exhausted).toBe(true);
    purse.terms.budget += 1_000;
    expect(purse.mayLease(0)).toBe(true);
    purse.refund(131);
    expect(purse.spent).toBe(262);
  });

  it('refuses terms that cannot be paid', async () => {
    const { checkTerms } = await import('../../src/jobs/terms');
    expect(() => checkTerms({ price: 0, budget: 1 })).toThrow(/price/);
    expect(() => checkTerms({ price: Number.NaN, budget: 1 })).toThrow(/price/);
    expect(() => checkTerms({ price: 1, budget: -1 })).toThrow(/budget/);
    expect(checkTerms({ price: 1, budget: Number.POSITIVE_INFINITY }).budget).toBe(Infinity);
  });
});

describe('ledger frames', () => {
  it('a garbage, oversized or lying request or gossip is a WireError naming the field', async () => {
    const w = await import('../../src/ledger/codec');
    const { LedgerRequest } = await import('../../src/ledger/pb/ledger');
    expect(() => w.decodeRequest(new Uint8Array([0xff, 0xff, 0xff]))).toThrow(
      /not a LedgerRequest/,
    );
    expect(() => w.decodeRequest(new Uint8Array(300))).toThrow(/ledger request/);
    const big = LedgerRequest.encode({ version: 1, type: 'entries', from: 0, to: 5_000 });
    expect(() => w.decodeRequest(big)).toThrow(/a page is at most 1024/);
    const shrink = LedgerRequest.encode({ version: 1, type: 'consistency', from: 9, to: 3 });
    expect(() => w.decodeRequest(shrink)).toThrow(/does not shrink/);
    const odd = LedgerRequest.encode({ version: 1, type: 'delete-everything', from: 0, to: 0 });
    expect(() => w.decodeRequest(odd)).toThrow(/unknown ledger request/);
    expect(w.decodeRequest(w.encodeRequest({ type: 'inclusion', index: 4, size: 9 }))).toEqual({
      type: 'inclusion',
      index: 4,
      size: 9,
    });
    const gossip = {
      note: 'x',
      conflicting: '',
      addr: 'not-a-multiaddr',
      gflops: 1,
      idle: true,
      at: 1_796_000_000_000,
      queuedGflop: 12.5,
    };
    expect(() => w.decodeGossip(w.encodeGossip(gossip))).toThrow(/multiaddr expected/);
    expect(() => w.decodeGossip(w.encodeGossip({ ...gossip, addr: '', gflops: -3 }))).toThrow(
      /gflops/,
    );
    expect(() =>
      w.decodeGossip(w.encodeGossip({ ...gossip, addr: '', queuedGflop: 1e12 })),
    ).toThrow(/queued/);
    // version 1, at = 2⁶⁰: past what a JavaScript number holds exactly, refused as it is read
    const farOff = Uint8Array.of(0x08, 0x01, 0x38, ...new Array(8).fill(0x80), 0x10);
    expect(() => w.decodeGossip(farOff)).toThrow(/not a CheckpointGossip|time/);
    // The signer's time and queued work survive the wire exactly (the price rule reads them).
    expect(w.decodeGossip(w.encodeGossip({ ...gossip, addr: '' }))).toEqual({
      ...gossip,
      addr: '',
    });
    expect(() => w.decodeGossip(new Uint8Array(30_000))).toThrow(/too-large|checkpoint gossip/);
  });
});
