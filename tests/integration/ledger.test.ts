import '../../src/relay/polyfills';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../src/jobs/job';
import { accounts, type CheckedLog, checkLog } from '../../src/ledger/audit';
import { type HeldReceipt, openBundle, receiptLeaf } from '../../src/ledger/entries';
import { LedgerError } from '../../src/ledger/errors';
import { MemoryLogPersistence, OwnerLog } from '../../src/ledger/log';
import { verifyConsistency } from '../../src/ledger/merkle';
import { cosign, noteOf, openCheckpoint, signCheckpoint } from '../../src/ledger/note';
import { signReceipt } from '../../src/ledger/receipts';

async function peer() {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key).toString() };
}

const [owner, alice, bob, stranger] = await Promise.all([peer(), peer(), peer(), peer()]);

function receipt(o: string, c: string, shardId: number, credit = 1_000_000): Receipt {
  return {
    jobId: 'job-1',
    shardId,
    owner: o,
    contributor: c,
    flops: 2e9,
    method: 'freivalds',
    issuedAt: 1_800_000_000_000 + shardId,
    credit,
  };
}

async function logWith(who: { key: PrivateKey; id: string }, n: number, to = alice.id) {
  const log = await OwnerLog.open(who.key, who.id, new MemoryLogPersistence());
  const held: HeldReceipt[] = [];
  for (let i = 0; i < n; i++) held.push(await openBundle(await log.issue(receipt(who.id, to, i))));
  return { log, held };
}

describe('checkpoints (C2SP signed note)', () => {
  it('signs a three-line body that opens with the log key and carries cosignatures', async () => {
    const note = await signCheckpoint(owner.key, owner.id, 5, new Uint8Array(32).fill(7));
    expect(note).toMatch(
      new RegExp(
        `^tessel/log/${owner.id}\\n5\\nBwcH[A-Za-z0-9+/=]+\\n\\n— tessel/log/${owner.id} \\S+\\n$`,
      ),
    );
    const c = await openCheckpoint(note, owner.id);
    expect(c.size).toBe(5);
    const line = await cosign(alice.key, alice.id, c.body, 1_800_000_000);
    const both = await openCheckpoint(
      noteOf(c, [{ witness: alice.id, time: 1_800_000_000, line }]),
    );
    expect(both.cosignatures.map((s) => [s.witness, s.time])).toEqual([[alice.id, 1_800_000_000]]);
  });

  it('names a checkpoint signed by the wrong key, a forged cosignature and a malformed note', async () => {
    const wrong = await signCheckpoint(stranger.key, stranger.id, 5, new Uint8Array(32));
    const claimed = wrong.replaceAll(stranger.id, owner.id);
    await expect(openCheckpoint(claimed, owner.id)).rejects.toMatchObject({
      code: 'bad-signature',
    });
    await expect(openCheckpoint(wrong, owner.id)).rejects.toMatchObject({ code: 'bad-signature' });
    const c = await openCheckpoint(
      await signCheckpoint(owner.key, owner.id, 5, new Uint8Array(32)),
    );
    // A cosignature line made by bob under alice's name does not count.
    const fake = (await cosign(bob.key, bob.id, c.body, 1)).replace(bob.id, alice.id);
    expect(
      (await openCheckpoint(noteOf(c, [{ witness: alice.id, time: 1, line: fake }]))).cosignatures,
    ).toEqual([]);
    await expect(openCheckpoint('garbage')).rejects.toMatchObject({ code: 'bad-checkpoint' });
    await expect(
      openCheckpoint(`${c.body.replace('\n5\n', '\n-5\n')}\n— x y\n`),
    ).rejects.toBeInstanceOf(LedgerError);
  });
});

describe('an owner log', () => {
  it('hands out receipts with inclusion proofs; consistency proofs link its checkpoints', async () => {
    const { log, held } = await logWith(owner, 9);
    expect(held.map((h) => h.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const first = held[2]!.checkpoint;
    const last = await openCheckpoint(log.checkpoint(), owner.id);
    verifyConsistency(
      first.size,
      last.size,
      log.consistencyProof(first.size),
      first.root,
      last.root,
    );
    const checked = await checkLog(
      { peer: owner.id, checkpoint: last, leaves: log.entries(0, log.size) },
      held,
    );
    expect(checked.entries.every((e) => e.type === 'receipt')).toBe(true);
  });

  it('keeps its leaves through a reopen (a reload)', async () => {
    const p = new MemoryLogPersistence();
    const a = await OwnerLog.open(owner.key, owner.id, p);
    await a.issue(receipt(owner.id, alice.id, 1));
    await a.issue(receipt(owner.id, alice.id, 2));
    const b = await OwnerLog.open(owner.key, owner.id, p);
    expect(b.size).toBe(2);
    expect((await openCheckpoint(b.checkpoint())).root).toEqual(
      (await openCheckpoint(a.checkpoint())).root,
    );
  });

  it('keeps witnesses’ cosignatures and trusts a checkpoint with k of them', async () => {
    const { log } = await logWith(owner, 3);
    const c = await openCheckpoint(log.checkpoint());
    expect(log.trusted(2)).toBeUndefined();
    for (const w of [alice, bob]) {
      const line = await cosign(w.key, w.id, c.body, 1_800_000_000);
      await log.addCosignatures(noteOf(c, [{ witness: w.id, time: 1_800_000_000, line }]));
    }
    expect(log.trusted(2)?.size).toBe(3);
    expect((await openCheckpoint(log.checkpoint())).cosignatures).toHaveLength(2);
  });

  it('a receipt bundle with a proof of the wrong length or for another log is refused', async () => {
    const { log } = await logWith(owner, 5);
    const bundle = await log.issue(receipt(owner.id, alice.id, 99));
    const held = await openBundle(bundle, { contributor: alice.id });
    const { encodeBundle } = await import('../../src/ledger/entries');
    const short = encodeBundle(held.leaf, held.index, noteOf(held.checkpoint), held.proof.slice(1));
    await expect(openBundle(short)).rejects.toMatchObject({ code: 'bad-proof' });
    await expect(openBundle(bundle, { contributor: bob.id })).rejects.toThrow(
      /another contributor/,
    );
  });
});

/** One random way to cheat with a served log; each must be caught and named. */
type Tamper = 'flip' | 'swap' | 'drop' | 'forge' | 'rewrite';

describe('1,000 random tamperings of a log are all detected and named', () => {
  it('flipped bytes, reordered, dropped and forged entries, rewritten history', async () => {
    const { log, held } = await logWith(owner, 24);
    const checkpoint = await openCheckpoint(log.checkpoint(), owner.id);
    const leaves = log.entries(0, log.size);
    const forged = receiptLeaf(
      await signReceipt(stranger.key, receipt(owner.id, stranger.id, 500)),
    );
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const named: Record<string, number> = {};
    for (let t = 0; t < 1000; t++) {
      const kind = (['flip', 'swap', 'drop', 'forge', 'rewrite'] as Tamper[])[t % 5]!;
      const l: Uint8Array[] = leaves.map((x) => x.slice());
      const i = rnd(l.length);
      let j = rnd(l.length);
      if (j === i) j = (i + 1) % l.length;
      let cp = checkpoint;
      if (kind === 'flip')
        (l[i] as Uint8Array)[rnd((l[i] as Uint8Array).byteLength)]! ^= 1 << rnd(8);
      else if (kind === 'swap') [l[i], l[j]] = [l[j]!, l[i]!];
      else if (kind === 'drop') l.splice(i, 1);
      else if (kind === 'forge') l[i] = forged;
      else {
        // The owner signs a new head over a rewritten history: a valid signature, no valid past.
        l[i] = forged;
        const { MerkleTree } = await import('../../src/ledger/merkle');
        const tree = new MerkleTree();
        for (const x of l) tree.append(x);
        cp = await openCheckpoint(await signCheckpoint(owner.key, owner.id, l.length, tree.root()));
      }
      const err = await checkLog({ peer: owner.id, checkpoint: cp, leaves: l }, held).then(
        () => undefined,
        (e) => e,
      );
      expect(err, `${kind} at ${i}`).toBeInstanceOf(LedgerError);
      named[(err as LedgerError).code] = (named[(err as LedgerError).code] ?? 0) + 1;
      const expected = {
        flip: ['tampered'],
        swap: ['reordered'],
        drop: ['dropped'],
        forge: ['tampered'],
        rewrite: ['inconsistent'],
      }[kind];
      expect(expected, `${kind}: ${(err as Error).message}`).toContain((err as LedgerError).code);
    }
    expect(Object.values(named).reduce((a, b) => a + b, 0)).toBe(1000);
  });
});

describe('credit issuance (docs/market.md)', () => {
  const grant = 10_000_000; // 10 credits
  async function checked(who: { key: PrivateKey; id: string }, rs: Receipt[]): Promise<CheckedLog> {
    const log = await OwnerLog.open(who.key, who.id, new MemoryLogPersistence());
    for (const r of rs) await log.issue(r);
    return checkLog({
      peer: who.id,
      checkpoint: await openCheckpoint(log.checkpoint()),
      leaves: log.entries(0, log.size),
    });
  }

  it('a receipt to oneself and a repeated receipt move nothing', async () => {
    const books = accounts(
      [
        await checked(owner, [
          receipt(owner.id, owner.id, 1),
          receipt(owner.id, alice.id, 2),
          receipt(owner.id, alice.id, 2),
        ]),
      ],
      { grant },
    );
    expect(books.get(owner.id)?.voided.map((v) => v.why)).toEqual(['self', 'repeat']);
    expect(books.get(alice.id)?.earned).toBe(1_000_000n);
    expect(books.get(owner.id)?.balance).toBe(BigInt(grant - 1_000_000));
  });

  it('an owner cannot pay beyond its grant and earnings: the excess is void', async () => {
    const rs = Array.from({ length: 15 }, (_, i) => receipt(owner.id, alice.id, i));
    const books = accounts([await checked(owner, rs)], { grant });
    expect(books.get(alice.id)?.earned).toBe(BigInt(grant));
    expect(books.get(owner.id)?.voided.filter((v) => v.why === 'overdrawn')).toHaveLength(5);
    expect(books.get(owner.id)?.balance).toBe(0n);
  });

  it('fresh ids dealing among themselves create nothing beyond their grants (conserved)', async () => {
    const sybils = await Promise.all(Array.from({ length: 8 }, () => peer()));
    const logs: CheckedLog[] = [];
    for (const [k, s] of sybils.entries()) {
      // Each pays the next ones for work nobody did, far beyond what it has.
      const rs = Array.from({ length: 6 }, (_, i) =>
        receipt(s.id, sybils[(k + 1 + (i % 3)) % 8]!.id, i, 7_000_000),
      );
      logs.push(await checked(s, rs));
    }
    const books = accounts(logs, { grant });
    const total = sybils.reduce((sum, s) => sum + (books.get(s.id)?.balance ?? BigInt(grant)), 0n);
    expect(total).toBe(BigInt(sybils.length * grant));
    for (const s of sybils) expect(books.get(s.id)?.balance).toBeGreaterThanOrEqual(0n);
  });

  it('a voided receipt lowers its contributor’s means in turn (applied until stable)', async () => {
    // owner pays alice 15 (5 void); alice pays bob 20 on the strength of it: only grant + 10 count.
    const a = await checked(
      owner,
      Array.from({ length: 15 }, (_, i) => receipt(owner.id, alice.id, i)),
    );
    const b = await checked(
      alice,
      Array.from({ length: 25 }, (_, i) => receipt(alice.id, bob.id, i)),
    );
    const books = accounts([a, b], { grant });
    expect(books.get(bob.id)?.earned).toBe(BigInt(2 * grant));
    expect(books.get(alice.id)?.balance).toBe(0n);
  });
});
