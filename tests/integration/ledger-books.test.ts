import 'fake-indexeddb/auto';
import '../../src/relay/polyfills';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/jobs/job';
import { type Account, accounts, type CheckedLog, checkLog } from '../../src/ledger/audit';
import { type Entry, openEntry, proposalLeaf, revocationLeaf } from '../../src/ledger/entries';
import { LedgerError } from '../../src/ledger/errors';
import { PARAMS, tally } from '../../src/ledger/governance';
import { LocalLedger } from '../../src/ledger/local';
import { MemoryLogPersistence, OwnerLog } from '../../src/ledger/log';
import { openCheckpoint } from '../../src/ledger/note';
import { LogEntry } from '../../src/ledger/pb/ledger';
import { WireError } from '../../src/wire/wire-error';
import {
  logOf,
  pick,
  type Rand,
  receiptEntry,
  rng,
  shuffle,
  upTo,
} from '../support/ledger-fixture';

// Books any two peers agree on (docs/market.md, "How credit comes into existence"): accounts()
// and tally() are functions of the *set* of logs, whatever order or repetitions they are given
// in, computed in exact integer µcredits; the honoured receipts are the greatest consistent set.

const GRANTS = [0, 1_000_000, 10_000_000, 1_000_000_000];
const CREDITS = (r: Rand) =>
  pick(r, [
    () => 0,
    () => upTo(r, 5_000_000),
    () => upTo(r, 12_000_000),
    () => upTo(r, 700_000_000),
    () => 2 ** 52 + upTo(r, 2 ** 40), // a ring can honour any volume among itself
    () => Number.MAX_SAFE_INTEGER - upTo(r, 5),
  ])();

/** A random network: 2–12 logs with payments, proposals, votes and revocations. */
function network(r: Rand, maxLogs = 12, maxEntries = 14) {
  const n = 2 + upTo(r, maxLogs - 2);
  const peers = Array.from(
    { length: n + upTo(r, 3) },
    () => `p${Math.floor(r() * 1e9).toString(36)}`,
  );
  const owners = peers.slice(0, n);
  // First the shape (so votes can name proposals anywhere), then the entries.
  const kinds = owners.map(() =>
    Array.from({ length: upTo(r, maxEntries) }, () => {
      const x = r();
      return x < 0.66 ? 'receipt' : x < 0.74 ? 'proposal' : x < 0.9 ? 'vote' : 'revocation';
    }),
  );
  const proposals = owners.flatMap((p, i) =>
    (kinds[i] as string[]).flatMap((k, index) => (k === 'proposal' ? [`${p}:${index}`] : [])),
  );
  const params = Object.keys(PARAMS);
  const logs = owners.map((owner, i) => {
    const paid: string[] = [];
    return logOf(
      owner,
      (kinds[i] as string[]).map((k): Entry => {
        const contributor = r() < 0.05 ? owner : pick(r, peers);
        paid.push(contributor);
        switch (k) {
          case 'receipt':
            return receiptEntry(
              owner,
              contributor,
              CREDITS(r),
              pick(r, ['a', 'b', 'c']),
              upTo(r, 3),
            );
          case 'proposal': {
            const param = r() < 0.9 ? pick(r, params) : 'relay';
            const spec = PARAMS[param as keyof typeof PARAMS] ?? { min: 0, max: 1 };
            const value = spec.min + (spec.max - spec.min) * (r() < 0.9 ? r() : 2);
            return {
              type: 'proposal',
              proposal: { param, value, reason: '', createdAt: upTo(r, 3) },
            };
          }
          case 'vote': {
            const proposal = proposals.length && r() < 0.95 ? pick(r, proposals) : 'nobody:0';
            return { type: 'vote', vote: { proposal, yes: r() < 0.6, castAt: 1 } };
          }
          default:
            return {
              type: 'revocation',
              revocation: {
                jobId: pick(r, ['a', 'b']),
                contributor: pick(r, paid),
                reason: 'caught',
                revokedAt: 1,
              },
            };
        }
      }),
    );
  });
  return { logs, peers, grant: pick(r, GRANTS) };
}

/** The same logs, given otherwise: shuffled, some twice, some also as a shorter copy. */
function variant(r: Rand, logs: readonly CheckedLog[]): CheckedLog[] {
  const extra = logs.flatMap((l) => {
    const x = r();
    if (x < 0.2) return [l];
    if (x < 0.4) return [logOf(l.peer, l.entries.slice(0, upTo(r, l.entries.length)))];
    return [];
  });
  return shuffle(r, [...logs, ...extra]);
}

describe('books any two peers agree on', () => {
  it('1,000 random networks: every sampled order, duplication and prefix copy gives the same books and tallies', () => {
    const r = rng(21);
    let overdrawn = 0;
    let revoked = 0;
    let passed = 0;
    for (let t = 0; t < 1_000; t++) {
      const { logs, grant } = network(r);
      const rules = { grant };
      const books = [...accounts(logs, rules).values()];
      const tallies = tally(logs, rules);
      for (let v = 0; v < 5; v++) {
        const given = variant(r, logs);
        expect([...accounts(given, rules).values()], `network ${t}`).toEqual(books);
        expect(tally(given, rules), `network ${t}`).toEqual(tallies);
      }
      // Conserved or burned, never made: every balance ≥ 0, and they sum to the grants less
      // what revocations burned.
      let balances = 0n;
      let burned = 0n;
      for (const a of books) {
        expect(a.balance).toBeGreaterThanOrEqual(0n);
        balances += a.balance;
        burned += a.burned;
        overdrawn += a.voided.filter((x) => x.why === 'overdrawn').length;
        revoked += a.voided.filter((x) => x.why === 'revoked').length;
      }
      expect(balances + burned).toBe(BigInt(books.length) * BigInt(grant));
      passed += tallies.filter((x) => x.passed).length;
    }
    // The networks exercise every rule (not only the easy cases).
    expect(overdrawn).toBeGreaterThan(1_000);
    expect(revoked).toBeGreaterThan(100);
    expect(passed).toBeGreaterThan(10);
  });

  it('the honoured receipts are the greatest consistent set (checked by brute force)', () => {
    const r = rng(5);
    for (let t = 0; t < 300; t++) {
      const { logs, grant } = network(r, 4, 5);
      const books = accounts(logs, { grant });
      // Each owner's paying receipts (not to itself, not repeats), as accounts() sees them.
      const rows = logs.map((l) => {
        const seen = new Set<string>();
        const revokedAt = new Map<string, number>();
        l.entries.forEach((e, i) => {
          if (e.type === 'revocation')
            revokedAt.set(`${e.revocation.jobId}/${e.revocation.contributor}`, i);
        });
        return l.entries.flatMap((e, i) => {
          if (e.type !== 'receipt') return [];
          const c = e.receipt;
          const key = `${c.jobId}/${c.shardId}/${c.contributor}`;
          const pays = c.contributor !== l.peer && !seen.has(key);
          seen.add(key);
          const revoked = (revokedAt.get(`${c.jobId}/${c.contributor}`) ?? -1) > i;
          return pays ? [{ to: c.contributor, credit: BigInt(c.credit), revoked }] : [];
        });
      });
      // Every choice of honoured prefixes; keep those where each owner's prefix fits its means.
      let best: number[] | undefined;
      const h = rows.map(() => 0);
      const consistent = () =>
        logs.every((l, i) => {
          let means = BigInt(grant);
          rows.forEach((rs, j) => {
            for (const x of rs.slice(0, h[j])) if (x.to === l.peer && !x.revoked) means += x.credit;
          });
          const spent = (rows[i] ?? []).slice(0, h[i]).reduce((s, x) => s + x.credit, 0n);
          return spent <= means;
        });
      const visit = (i: number) => {
        if (i === rows.length) {
          if (consistent()) best = best ? best.map((b, j) => Math.max(b, h[j] as number)) : [...h];
          return;
        }
        for (let k = 0; k <= (rows[i] as unknown[]).length; k++) {
          h[i] = k;
          visit(i + 1);
        }
      };
      visit(0);
      // The union of consistent sets is consistent: the greatest one exists…
      h.splice(0, h.length, ...(best as number[]));
      expect(consistent()).toBe(true);
      // …and it is what accounts() honoured.
      const honoured = logs.map(
        (l, i) =>
          (rows[i] as unknown[]).length -
          (books.get(l.peer)?.voided.filter((v) => v.why === 'overdrawn').length ?? 0),
      );
      expect(honoured, `network ${t}`).toEqual(best);
    }
  });

  it('receipts are spent in log order: the first that does not fit voids the rest of the log', () => {
    const [o, a, b] = ['o', 'a', 'b'];
    // With means 10: 8 fits, 5 does not; 2 would fit on its own but comes after an overdraft.
    // (Skipping to it would make the result depend on when each void was discovered.)
    const log = logOf(o, [
      receiptEntry(o, a, 8_000_000, 'j', 0),
      receiptEntry(o, b, 5_000_000, 'j', 1),
      receiptEntry(o, a, 2_000_000, 'j', 2),
    ]);
    const books = accounts([log], { grant: 10_000_000 });
    expect(books.get(o)?.voided).toEqual([
      { index: 1, why: 'overdrawn' },
      { index: 2, why: 'overdrawn' },
    ]);
    expect(books.get(o)?.balance).toBe(2_000_000n);
  });

  it('a log given twice counts once; a shorter copy is the same log; two histories are equivocation', () => {
    const [o, a] = ['o', 'a'];
    const full = logOf(o, [
      receiptEntry(o, a, 3_000_000, 'j', 0),
      { type: 'proposal', proposal: { param: 'priceStep', value: 0.2, reason: '', createdAt: 1 } },
      receiptEntry(o, a, 4_000_000, 'j', 1),
    ]);
    const voter = logOf(a, [{ type: 'vote', vote: { proposal: `${o}:1`, yes: true, castAt: 2 } }]);
    const rules = { grant: 10_000_000 };
    const once = accounts([full, voter], rules);
    expect(once.get(a)?.earned).toBe(7_000_000n);
    const short = logOf(o, full.entries.slice(0, 1));
    for (const given of [
      [full, voter, full],
      [voter, full, voter],
      [short, voter, full],
      [full, short, voter, short],
    ]) {
      expect(accounts(given, rules)).toEqual(once);
      expect(tally(given, rules)).toEqual(tally([full, voter], rules));
    }
    expect(tally([full, voter, voter], rules)[0]).toMatchObject({ voters: 1, yes: 7 });
    const forked = logOf(o, [full.entries[0] as Entry, receiptEntry(o, a, 9_000_000, 'j', 1)]);
    for (const given of [
      [full, forked],
      [forked, voter, short, full],
    ]) {
      expect(() => accounts(given, rules)).toThrow(
        expect.objectContaining({ name: 'LedgerError', code: 'equivocation' }),
      );
      expect(() => tally(given, rules)).toThrow(LedgerError);
    }
  });

  it('credit is summed exactly, far past 2⁵³ µcredits; a credit that is not a safe integer is refused', () => {
    // b is paid the largest safe credit by three peers, and pays each of them as much back
    // (a ring honours any volume among itself): 3 × (2⁵³ − 1) is not a float.
    const x = Number.MAX_SAFE_INTEGER;
    const [b, ...others] = ['b', 'c1', 'c2', 'c3'];
    const logs = [
      logOf(
        b as string,
        others.map((o, i) => receiptEntry(b as string, o, x, 'back', i)),
      ),
      ...others.map((o) => logOf(o, [receiptEntry(o, b as string, x)])),
    ];
    const books = accounts(logs, { grant: 10_000_000 });
    expect(books.get(b as string)?.earned).toBe(3n * BigInt(x));
    expect(books.get(b as string)?.spent).toBe(3n * BigInt(x));
    for (const a of books.values()) expect(a.balance).toBe(10_000_000n);
    for (const credit of [1.5, -1, 2 ** 53, Number.NaN]) {
      expect(() => accounts([logOf('o', [receiptEntry('o', 'a', credit)])], { grant: 0 })).toThrow(
        expect.objectContaining({ code: 'forged' }),
      );
    }
    expect(() => accounts([], { grant: 0.5 })).toThrow(RangeError);
  });
});

const peer = async () => {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key).toString() };
};
const [owner, alice, bob] = await Promise.all([peer(), peer(), peer()]);

describe('revocations', () => {
  const receipt = (contributor: string, shardId: number, jobId = 'job-1'): Receipt => ({
    jobId,
    shardId,
    owner: owner.id,
    contributor,
    flops: 1e9,
    method: 'redundancy',
    issuedAt: 1_800_000_000_000,
    credit: 1_000_000,
  });
  const checked = async (log: OwnerLog) =>
    checkLog({
      peer: log.peer,
      checkpoint: await openCheckpoint(log.checkpoint()),
      leaves: log.entries(0, log.size),
    });

  it('void the contributor’s earlier receipts for that job; the credit is burned, not refunded', async () => {
    const log = await OwnerLog.open(owner.key, owner.id, new MemoryLogPersistence());
    for (const s of [0, 1, 2]) await log.issue(receipt(alice.id, s));
    await log.issue(receipt(alice.id, 0, 'job-2')); // another job: stays paid
    await log.issue(receipt(bob.id, 3)); // another contributor: stays paid
    const spent = log.spent();
    const at = await log.revoke({
      jobId: 'job-1',
      contributor: alice.id,
      reason: 'failed a canary',
      revokedAt: 1_800_000_000_001,
    });
    expect(at.index).toBe(5);
    expect(log.spent()).toBe(spent); // burned: the owner gains nothing by revoking
    await log.issue(receipt(alice.id, 4)); // after the revocation: stays paid
    const books = accounts([await checked(log)], { grant: 10_000_000 });
    const o = books.get(owner.id) as Account;
    expect(o.voided).toEqual([0, 1, 2].map((index) => ({ index, why: 'revoked' })));
    expect(o.spent).toBe(6_000_000n);
    expect(o.burned).toBe(3_000_000n);
    expect(o.balance).toBe(4_000_000n);
    expect(books.get(alice.id)).toMatchObject({ earned: 2_000_000n, receiptsEarned: 2 });
    expect(books.get(bob.id)?.earned).toBe(1_000_000n);
    const entry = (await checked(log)).entries[5];
    expect(entry).toEqual({
      type: 'revocation',
      revocation: {
        jobId: 'job-1',
        contributor: alice.id,
        reason: 'failed a canary',
        revokedAt: 1_800_000_000_001,
      },
    });
  });

  it('a malformed revocation is refused before anything is written; a forged one fails the audit', async () => {
    const log = await OwnerLog.open(owner.key, owner.id, new MemoryLogPersistence());
    const ok = { jobId: 'job-1', contributor: alice.id, reason: 'x', revokedAt: 1 };
    for (const bad of [
      { ...ok, jobId: 'no spaces' },
      { ...ok, contributor: 'not-a-peer' },
      { ...ok, reason: 'x'.repeat(281) },
      { ...ok, revokedAt: -1 },
    ]) {
      await expect(log.revoke(bad)).rejects.toThrow(WireError);
    }
    expect(log.size).toBe(0);
    // Signed by someone else, or two records in one leaf: 'forged'.
    const leaf = await revocationLeaf(alice.key, ok);
    await expect(openEntry(owner.id, leaf)).rejects.toMatchObject({ code: 'forged' });
    const both = LogEntry.encode({
      ...LogEntry.decode(await revocationLeaf(owner.key, ok)),
      proposal: LogEntry.decode(
        await proposalLeaf(owner.key, { param: 'grant', value: 1, reason: '', createdAt: 1 }),
      ).proposal,
    });
    await expect(openEntry(owner.id, both)).rejects.toMatchObject({ code: 'forged' });
    expect(await openEntry(owner.id, await revocationLeaf(owner.key, ok))).toMatchObject({
      type: 'revocation',
    });
  });

  it('a tab’s revocation is durable: it is in the log after a reload', async () => {
    const db = `books-revoke-${owner.id}`;
    const ledger = await LocalLedger.open(owner.key, owner.id, db);
    await ledger.issue(receipt(alice.id, 0));
    let told = 0;
    ledger.addEventListener('books', () => told++);
    await ledger.revoke('job-1', alice.id, 'disagreed with the owner’s recomputation');
    expect(told).toBe(1);
    const again = await LocalLedger.open(owner.key, owner.id, db);
    const books = accounts([await checked(again.log)], { grant: 10_000_000 });
    expect(books.get(alice.id)?.earned).toBe(0n);
    expect(books.get(owner.id)?.voided).toEqual([{ index: 0, why: 'revoked' }]);
  });
});
