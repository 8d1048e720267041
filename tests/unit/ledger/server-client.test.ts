import '../../../src/relay/polyfills';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Stream } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { streamPair } from '@libp2p/utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ASK_ATTEMPTS, LedgerClient } from '../../../src/ledger/client';
import { LEDGER_PROTOCOL, MAX_PAGE } from '../../../src/ledger/codec';
import type { LedgerDialer, LedgerRegistrar } from '../../../src/ledger/components';
import { MemoryLogPersistence, OwnerLog } from '../../../src/ledger/log';
import { verifyConsistency } from '../../../src/ledger/merkle';
import { openCheckpoint } from '../../../src/ledger/note';
import { LogServer, REQUEST_BURST, REQUEST_RATE, RequestLimiter } from '../../../src/ledger/server';

// The log server and the client alone, over libp2p's in-memory stream pairs: the node parts
// each takes (registrar, dialer) are stubs that hand the server the far end of each dial.

const LEAVES = MAX_PAGE + 6; // two pages of entries

let owner: { id: string; log: OwnerLog };
let asker: string;

beforeAll(async () => {
  const key = await generateKeyPair('Ed25519');
  const id = peerIdFromPrivateKey(key).toString();
  const log = await OwnerLog.open(key, id, new MemoryLogPersistence());
  for (let i = 0; i < LEAVES; i++) await log.append(new Uint8Array([i & 0xff, i >> 8]));
  owner = { id, log };
  asker = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
});

/** A client whose dials reach `server` (after `failures` dials that fail), counting both. */
function wired(server: LogServer, failures = 0) {
  const counts = { dials: 0, hangUps: 0 };
  const dialer: LedgerDialer = {
    dialProtocol: async (_peer, protocol) => {
      counts.dials++;
      if (counts.dials <= failures) throw new Error('the dial timed out');
      expect(protocol).toBe(LEDGER_PROTOCOL);
      const [outbound, inbound]: [Stream, Stream] = await streamPair();
      void server.serve(inbound, asker);
      return outbound;
    },
    getConnections: () => [],
    hangUp: async () => {
      counts.hangUps++;
    },
  };
  return { client: new LedgerClient({ dialer }), counts };
}

const serverOf = () =>
  new LogServer({ registrar: stubRegistrar() }, { log: owner.log, held: () => [] });

function stubRegistrar(handled: string[] = []): LedgerRegistrar {
  return {
    handle: async (protocol) => void handled.push(String(protocol)),
    unhandle: async (protocol) => {
      handled.splice(handled.indexOf(String(protocol)), 1);
    },
  };
}

describe('the log server and the client', () => {
  it('a whole log travels page by page and matches its checkpoint', async () => {
    const { client, counts } = wired(serverOf());
    const fetched = await client.log(owner.id);
    expect(fetched.leaves).toEqual(owner.log.entries(0, LEAVES));
    expect((await openCheckpoint(fetched.note, owner.id)).size).toBe(LEAVES);
    expect(counts.dials).toBe(3); // the checkpoint, then two pages
  });

  it('a consistency proof from the server proves the later head extends the earlier', async () => {
    const { client } = wired(serverOf());
    const proof = await client.consistency(owner.id, 5, LEAVES);
    const head = await openCheckpoint(owner.log.checkpoint(), owner.id);
    // The root at size 5: the same owner's log holding only the first 5 leaves.
    const first5 = new MemoryLogPersistence();
    for (const [i, l] of owner.log.entries(0, 5).entries()) await first5.putLeaf(i, l);
    const small = await OwnerLog.open(owner.log.key, owner.id, first5);
    const smallHead = await openCheckpoint(small.checkpoint(), owner.id);
    expect(() => verifyConsistency(5, LEAVES, proof, smallHead.root, head.root)).not.toThrow();
  });

  it('what the log does not have is a LedgerError, answered once and not asked again', async () => {
    const { client, counts } = wired(serverOf());
    await expect(
      client.ask(owner.id, { type: 'inclusion', index: LEAVES + 5, size: LEAVES + 9 }),
    ).rejects.toMatchObject({ name: 'LedgerError', code: 'unknown' });
    expect(counts.dials).toBe(1);
  });

  it('a failed dial is retried on a fresh connection, at most ASK_ATTEMPTS times', async () => {
    const twice = wired(serverOf(), 2);
    const res = await twice.client.ask(owner.id, { type: 'checkpoint' });
    expect(res.checkpoint).toBe(owner.log.checkpoint());
    expect(twice.counts).toEqual({ dials: 3, hangUps: 2 });
    const never = wired(serverOf(), Number.POSITIVE_INFINITY);
    await expect(never.client.ask(owner.id, { type: 'checkpoint' })).rejects.toThrow(/timed out/);
    expect(never.counts.dials).toBe(ASK_ATTEMPTS);
  });

  it('registers the ledger protocol while started', async () => {
    const handled: string[] = [];
    const server = new LogServer(
      { registrar: stubRegistrar(handled) },
      { log: owner.log, held: () => [] },
    );
    await server.start();
    expect(handled).toEqual([LEDGER_PROTOCOL]);
    await server.stop();
    expect(handled).toEqual([]);
  });
});

describe('the request limiter', () => {
  it('admits a burst, then the refill rate, per peer', () => {
    const clock = { now: 0 };
    const limiter = new RequestLimiter(() => clock.now);
    let admitted = 0;
    for (let i = 0; i < REQUEST_BURST + 10; i++) if (limiter.admit('a')) admitted++;
    expect(admitted).toBe(REQUEST_BURST);
    expect(limiter.admit('b')).toBe(true); // another peer has its own bucket
    clock.now = 1_000;
    admitted = 0;
    for (let i = 0; i < REQUEST_RATE + 10; i++) if (limiter.admit('a')) admitted++;
    expect(admitted).toBe(REQUEST_RATE);
  });
});
