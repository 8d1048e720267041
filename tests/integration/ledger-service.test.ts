import '../../src/relay/polyfills';
import 'fake-indexeddb/auto';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerFaults } from '../../src/ledger/faults';
import { LocalLedger } from '../../src/ledger/local';
import { openCheckpoint } from '../../src/ledger/note';
import { type Equivocation, LedgerService } from '../../src/ledger/service';
import type { MeshNode } from '../../src/mesh/node';
import { tcpNode } from '../support/tcp-node';

// The market's service between three real libp2p peers (TCP in Node; WebRTC between pages is
// covered by tests/e2e/market.spec.ts): receipts with proofs, witnesses cosigning after a
// consistency proof, audits over the ledger protocol, and an equivocating owner caught.

interface Peer {
  id: string;
  node: MeshNode;
  ledger: LocalLedger;
  service: LedgerService;
  quarantined: string[];
  equivocations: Equivocation[];
}

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(name: string): Promise<Peer> {
  const { node, key } = await tcpNode();
  const id = peerIdFromPrivateKey(key).toString();
  const ledger = await LocalLedger.open(key, id, `ledger-service-${name}-${id}`);
  const quarantined: string[] = [];
  const equivocations: Equivocation[] = [];
  const service = new LedgerService({
    node,
    ledger,
    address: node.getMultiaddrs()[0]!.toString(),
    quarantine: (peer) => quarantined.push(peer),
    supply: () => ({ gflops: 10, idle: true }),
    quorum: 2,
    gossipMs: 300,
  });
  service.addEventListener('equivocation', (e) => equivocations.push(e.detail));
  await service.start();
  return { id, node, ledger, service, quarantined, equivocations };
}

describe('the ledger service between three real peers', () => {
  let owner: Peer;
  let alice: Peer;
  let bob: Peer;

  beforeAll(async () => {
    [owner, alice, bob] = await Promise.all([start('owner'), start('alice'), start('bob')]);
    for (const [a, b] of [
      [owner, alice],
      [owner, bob],
      [alice, bob],
    ] as const) {
      await a.node.dial(b.node.getMultiaddrs()[0]!);
    }
  });
  afterAll(async () => {
    for (const p of [owner, alice, bob]) {
      await p.service.stop();
      await p.node.stop();
    }
  });

  it('receipts travel with proofs; witnesses cosign; audits agree from every peer', async () => {
    for (let shard = 0; shard < 3; shard++) {
      const bundle = await owner.ledger.issue({
        jobId: 'job-a',
        shardId: shard,
        owner: owner.id,
        contributor: alice.id,
        flops: 2e9,
        method: 'freivalds',
        issuedAt: Date.now(),
        credit: 2_000_000,
      });
      await alice.ledger.accept(bundle, {
        owner: owner.id,
        contributor: alice.id,
        jobId: 'job-a',
        shardId: shard,
      });
    }
    expect(alice.ledger.earned).toBe(6_000_000);
    // Alice and Bob witness the owner's log: 2 cosignatures make it trusted (quorum 2).
    await until('two cosignatures', () => owner.ledger.log.trusted(2)?.size === 3);
    const note = await openCheckpoint(owner.ledger.log.checkpoint());
    expect(note.cosignatures.map((c) => c.witness).sort()).toEqual([alice.id, bob.id].sort());
    await until('alice trusts the owner', () => alice.service.trusted(owner.id)?.size === 3);
    expect((await alice.service.earned()).held.every((h) => h.trusted)).toBe(true);
    const fromBob = await bob.service.audit(alice.id);
    const fromOwner = await owner.service.audit(alice.id);
    const fromAlice = await alice.service.audit(alice.id);
    for (const r of [fromBob, fromOwner, fromAlice]) {
      expect(r.account.earned).toBe(6_000_000n);
      expect(r.logs.every((l) => !l.problem)).toBe(true);
    }
    expect(fromBob.account).toEqual(fromOwner.account);
    const ownerBooks = await bob.service.audit(owner.id);
    expect(ownerBooks.account.spent).toBe(6_000_000n);
  });

  it('a witness cosigns a later head only after a consistency proof from the last', async () => {
    await owner.ledger.issue({
      jobId: 'job-a',
      shardId: 9,
      owner: owner.id,
      contributor: bob.id,
      flops: 1e9,
      method: 'canary',
      issuedAt: Date.now(),
      credit: 1_000_000,
    });
    await until('cosignatures at size 4', () => owner.ledger.log.trusted(2)?.size === 4);
  });

  it('an audit follows the money: the payers of the peer’s payers are audited too', async () => {
    // Bob pays the owner, who paid Alice: the owner's means include what Bob paid it.
    const bundle = await bob.ledger.issue({
      jobId: 'job-b',
      shardId: 0,
      owner: bob.id,
      contributor: owner.id,
      flops: 5e9,
      method: 'freivalds',
      issuedAt: Date.now(),
      credit: 5_000_000,
    });
    await owner.ledger.accept(bundle, {
      owner: bob.id,
      contributor: owner.id,
      jobId: 'job-b',
      shardId: 0,
    });
    const r = await alice.service.audit(alice.id);
    expect(r.logs.map((l) => l.peer)).toEqual([alice.id, owner.id, bob.id]);
    expect(r.logs.every((l) => !l.problem)).toBe(true);
    expect(r.account.earned).toBe(6_000_000n);
    const ownerBooks = await alice.service.audit(owner.id);
    expect(ownerBooks.account).toMatchObject({ earned: 5_000_000n, spent: 7_000_000n });
  });

  it('a ledger file proves itself: checked on import, tampering named, lost receipts restored', async () => {
    const { exportLedger, leavesOf, openLedgerFile, restoreLedger } = await import(
      '../../src/ledger/file'
    );
    const text = await exportLedger(alice.ledger);
    const opened = await openLedgerFile(text);
    expect(opened.peer).toBe(alice.id);
    expect(opened.held).toHaveLength(3);
    // A receipt's credit raised in the file: its signature no longer checks.
    const json = JSON.parse(text);
    const { fromBase64, toBase64 } = await import('../../src/ledger/note');
    const b = fromBase64(json.earned[0], 'b');
    b[40] = (b[40] as number) ^ 1;
    json.earned[0] = toBase64(b);
    await expect(openLedgerFile(JSON.stringify(json))).rejects.toMatchObject({
      name: 'LedgerError',
    });
    await expect(openLedgerFile('{"format":"zip"}')).rejects.toThrow(/not a tessel-ledger file/);
    // Alice's tab loses a receipt from storage; her export gives it back.
    await alice.ledger.store.db.delete('receipts', `${owner.id}/job-a/1`);
    const reopened = await LocalLedger.open(
      alice.ledger.log.key,
      alice.id,
      alice.ledger.store.db.name,
    );
    expect(reopened.held().held).toHaveLength(2);
    expect(await restoreLedger(reopened, opened, leavesOf(text))).toEqual({
      receipts: 1,
      entries: 0,
    });
    expect(reopened.earned).toBe(6_000_000);
    // Someone else's file restores nothing.
    expect(await restoreLedger(owner.ledger, opened, [])).toEqual({ receipts: 0, entries: 0 });
  });

  it('a garbage ledger request is refused and named; the next good one is answered', async () => {
    const { lpStream } = await import('@libp2p/utils');
    const { LEDGER_PROTOCOL, decodeResponse, encodeRequest } = await import(
      '../../src/ledger/codec'
    );
    const warned: string[] = [];
    const warn = console.warn;
    console.warn = (...a: unknown[]) => void warned.push(a.join(' '));
    try {
      const bad = await bob.node.dialProtocol(owner.node.getMultiaddrs()[0]!, LEDGER_PROTOCOL);
      const lp = lpStream(bad);
      await lp.write(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3]));
      await expect(lp.read({ signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    } finally {
      console.warn = warn;
    }
    expect(warned.join('\n')).toMatch(new RegExp(`bad ledger request from ${bob.id}`));
    const good = await bob.node.dialProtocol(owner.node.getMultiaddrs()[0]!, LEDGER_PROTOCOL);
    const lp = lpStream(good);
    await lp.write(encodeRequest({ type: 'checkpoint' }));
    const res = decodeResponse((await lp.read()).subarray());
    expect((await openCheckpoint(res.checkpoint, owner.id)).size).toBeGreaterThan(0);
  });

  it('every tab tallies the same with its own log first; a revocation voids receipts in every audit', async () => {
    const proposal = await alice.ledger.log.propose({
      param: 'priceStep',
      value: 0.2,
      reason: 'calmer',
      createdAt: Date.now(),
    });
    const id = `${alice.id}:${proposal.index}`;
    await alice.ledger.log.vote({ proposal: id, yes: true, castAt: Date.now() });
    await bob.ledger.log.vote({ proposal: id, yes: false, castAt: Date.now() });
    const everyone = [owner, alice, bob];
    const tallies = [];
    const told: unknown[] = [];
    owner.service.addEventListener('params', (e) => told.push(e.detail));
    for (const p of everyone) {
      tallies.push(await p.service.governance(everyone.filter((q) => q !== p).map((q) => q.id)));
    }
    expect(tallies[1]).toEqual(tallies[0]);
    expect(tallies[2]).toEqual(tallies[0]);
    // Alice holds 6 credits she earned; Bob spent more than he earned: he weighs nothing.
    expect(tallies[0]).toMatchObject([{ id, yes: 6, no: 0, voters: 2, passed: false }]);
    // The facade tells its views the parameters in force after a tally, as its snapshot has them.
    expect(told).toEqual([owner.service.snapshot().params]);

    await owner.ledger.revoke('job-a', alice.id, 'failed a canary');
    for (const p of everyone) expect((await p.service.audit(alice.id)).account.earned).toBe(0n);
    const ownerBooks = await bob.service.audit(owner.id);
    expect(ownerBooks.account).toMatchObject({ spent: 7_000_000n, burned: 6_000_000n });
    expect(ownerBooks.account.voided.map((v) => v.why)).toEqual(['revoked', 'revoked', 'revoked']);
  });

  it('an owner that equivocates is caught by every peer within one gossip round, with the proof', async () => {
    await new Promise((r) => setTimeout(r, 700)); // everyone has seen the true head at size 5
    await ledgerFaults(owner.service).equivocate();
    await until(
      'both witnesses hold the proof',
      () => alice.quarantined.length > 0 && bob.quarantined.length > 0,
      5_000,
    );
    expect(alice.quarantined).toEqual([owner.id]);
    expect(bob.equivocations[0]).toMatchObject({ log: owner.id, size: 5 });
    const { a, b } = bob.equivocations[0]!;
    const [x, y] = await Promise.all([openCheckpoint(a, owner.id), openCheckpoint(b, owner.id)]);
    expect(x.size).toBe(y.size);
    expect(x.root).not.toEqual(y.root);
    // The view's read model holds the same proof, and the peers heard on the topic.
    const seen = bob.service.snapshot();
    expect(seen.equivocations).toEqual(bob.equivocations);
    expect([...seen.knownPeers].sort()).toEqual([owner.id, alice.id].sort());
  });
});

describe('the tab identity', () => {
  it('two loads racing on a fresh profile end with one key', async () => {
    const { loadIdentity } = await import('../../src/mesh/identity');
    const name = `race-${Date.now()}`;
    const [a, b] = await Promise.all([loadIdentity(name), loadIdentity(name)]);
    expect(peerIdFromPrivateKey(a).toString()).toBe(peerIdFromPrivateKey(b).toString());
    expect(peerIdFromPrivateKey(await loadIdentity(name)).toString()).toBe(
      peerIdFromPrivateKey(a).toString(),
    );
  });
});

describe('the ledger database', () => {
  it('upgrades a version 1 store (receipts only) to version 2 without losing a receipt', async () => {
    const { openDB } = await import('idb');
    const { LedgerStore, LEDGER_DB_VERSION } = await import('../../src/ledger/store');
    const name = `ledger-v1-${Date.now()}`;
    const v1 = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore('receipts', { keyPath: 'key' }).createIndex('role', 'role');
      },
    });
    const old = {
      key: 'owner/job/1',
      role: 'earned',
      jobId: 'job',
      shardId: 1,
      owner: 'owner',
      contributor: 'me',
      flops: 1e9,
      method: 'freivalds',
      issuedAt: 1,
      signed: new ArrayBuffer(8),
    };
    await v1.put('receipts', old);
    v1.close();
    const store = await LedgerStore.open(name);
    expect(store.db.version).toBe(LEDGER_DB_VERSION);
    expect(await store.list('earned')).toEqual([old]);
    // Kept, and named as carrying no log proof (it predates logs).
    expect((await store.held()).unproven).toHaveLength(1);
    await store.putLeaf(0, new Uint8Array([1, 2, 3]));
    expect(await store.leaves()).toEqual([new Uint8Array([1, 2, 3])]);
    store.db.close();
  });
});
