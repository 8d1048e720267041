import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryLogPersistence, OwnerLog } from '../../../src/ledger/log';
import { openCheckpoint, signCheckpoint } from '../../../src/ledger/note';
import { LedgerStore } from '../../../src/ledger/store';
import { type Equivocation, Witness } from '../../../src/ledger/witness';

// The witness alone: a real owner's log (in memory), a real note store (IndexedDB in memory),
// and the two seams it talks through (asking the owner for a consistency proof, gossiping) as
// plain functions that record what they were given.

async function peer() {
  const key = await generateKeyPair('Ed25519');
  return { key, id: peerIdFromPrivateKey(key).toString() };
}

async function setup(o: { store?: LedgerStore } = {}) {
  const owner = await peer();
  const me = await peer();
  const log = await OwnerLog.open(owner.key, owner.id, new MemoryLogPersistence());
  const store = o.store ?? (await LedgerStore.open(`witness-${me.id}`));
  const published: { note: string; conflicting?: string }[] = [];
  const quarantined: string[] = [];
  const asked: [number, number][] = [];
  const witness = new Witness({
    me: me.id,
    key: me.key,
    store,
    consistency: async (_log, from, to) => {
      asked.push([from, to]);
      return log.consistencyProof(from, to);
    },
    publish: async (note, conflicting) => void published.push({ note, conflicting }),
    quarantine: (p) => quarantined.push(p),
    quorum: 1,
    cosignEveryMs: 0,
  });
  const observeHead = async () => {
    const note = log.checkpoint();
    await witness.observe(await openCheckpoint(note), note);
  };
  return { owner, me, log, store, witness, published, quarantined, asked, observeHead };
}

const leaf = (i: number) => new Uint8Array([1, i]);

afterEach(() => vi.restoreAllMocks());

describe('the witness', () => {
  it('cosigns a first head, and a later one only after the owner proves it extends it', async () => {
    const t = await setup();
    await t.log.append(leaf(0));
    await t.log.append(leaf(1));
    await t.observeHead();
    expect(t.asked).toEqual([]); // nothing cosigned before: nothing to be consistent with
    const first = await openCheckpoint(t.published[0]!.note, t.owner.id);
    expect(first.size).toBe(2);
    expect(first.cosignatures.map((c) => c.witness)).toEqual([t.me.id]);
    await t.log.append(leaf(2));
    await t.observeHead();
    expect(t.asked).toEqual([[2, 3]]);
    expect((await openCheckpoint(t.published[1]!.note, t.owner.id)).size).toBe(3);
    // Its own cosigned head, gossiped back, has the quorum of 1: trusted.
    await t.witness.observe(first, t.published[0]!.note);
    expect(t.witness.trusted(t.owner.id)?.size).toBe(2);
  });

  it('refuses to cosign a head the owner cannot show extends the one it cosigned', async () => {
    const t = await setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await t.log.append(leaf(0));
    await t.observeHead();
    await t.log.append(leaf(1));
    await t.log.append(leaf(2));
    // A rewritten log at size 3: signed by the owner, but its root is not the log's.
    const forged = await signCheckpoint(t.log.key, t.owner.id, 3, new Uint8Array(32).fill(7));
    await t.witness.observe(await openCheckpoint(forged), forged);
    expect(t.published).toHaveLength(1); // the first head's cosignature only
    expect(warn.mock.calls.join('\n')).toMatch(`the log of ${t.owner.id} failed a check`);
  });

  it('turns two heads of one size into a proof, quarantines the owner and spreads the proof', async () => {
    const t = await setup();
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const seen: Equivocation[] = [];
    t.witness.addEventListener('equivocation', (e) => seen.push(e.detail));
    await t.log.append(leaf(0));
    await t.observeHead();
    const other = await signCheckpoint(t.log.key, t.owner.id, 1, new Uint8Array(32).fill(9));
    await t.witness.observe(await openCheckpoint(other), other);
    expect(t.quarantined).toEqual([t.owner.id]);
    expect(seen).toMatchObject([{ log: t.owner.id, size: 1 }]);
    expect(t.witness.equivocations.get(t.owner.id)).toEqual(seen[0]);
    const spread = t.published.at(-1)!;
    expect(spread.conflicting).toBe(seen[0]!.b);
    const [x, y] = await Promise.all([
      openCheckpoint(spread.note, t.owner.id),
      openCheckpoint(spread.conflicting!, t.owner.id),
    ]);
    expect(x.size).toBe(y.size);
    expect(x.root).not.toEqual(y.root);
    // Its later heads are not heeded: no checkpoint event, no cosignature.
    const heard: unknown[] = [];
    t.witness.addEventListener('checkpoint', (e) => heard.push(e.detail));
    const published = t.published.length;
    await t.log.append(leaf(1));
    await t.observeHead();
    expect(heard).toEqual([]);
    expect(t.published).toHaveLength(published);
    // A witness reloaded over the same store holds the proof again, without gossiping it.
    const again = await setup({ store: t.store });
    await again.witness.load();
    expect(again.witness.equivocations.get(t.owner.id)).toMatchObject({ size: 1, a: seen[0]!.a });
    expect(again.quarantined).toEqual([t.owner.id]);
    expect(again.published).toEqual([]);
  });

  it('names a claimed proof that is not one, and never quarantines its own tab', async () => {
    const t = await setup();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    await t.log.append(leaf(0));
    const a = t.log.checkpoint();
    await t.log.append(leaf(1));
    const b = t.log.checkpoint();
    await expect(t.witness.checkEquivocation(a, a, true)).rejects.toMatchObject({
      name: 'LedgerError',
      code: 'equivocation',
    });
    await expect(t.witness.checkEquivocation(a, b, true)).rejects.toMatchObject({
      code: 'equivocation',
    });
    // Two heads of the witness's own log: a warning that its key is copied, nothing else.
    const mine = await setup();
    const own = async (fill: number) =>
      signCheckpoint(mine.me.key, mine.me.id, 4, new Uint8Array(32).fill(fill));
    await mine.witness.checkEquivocation(await own(1), await own(2), true);
    expect(mine.quarantined).toEqual([]);
    expect(mine.witness.equivocations.size).toBe(0);
    expect(warn.mock.calls.join('\n')).toMatch(/own log are signed with its key/);
  });
});
