import 'fake-indexeddb/auto';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../../src/jobs/job';
import { LocalLedger } from '../../../src/ledger/local';
import { DEFAULT_PARAMS } from '../../../src/ledger/params';
import { BooksPort } from '../../../src/peer/books-port';

// The mesh's one port onto a peer's books, over real LocalLedgers (fake IndexedDB): what an
// owner's port issues, a contributor's port accepts; spending and the balance follow the log and
// the grant in force, as the owner desk's payment checks read them.

async function books(name: string): Promise<{ port: BooksPort; peer: string }> {
  const key = await generateKeyPair('Ed25519');
  const peer = peerIdFromPrivateKey(key).toString();
  return { port: new BooksPort(await LocalLedger.open(key, peer, `${name}-${peer}`)), peer };
}

function receipt(owner: string, contributor: string, shardId: number, credit: number): Receipt {
  return {
    jobId: 'job-1',
    shardId,
    owner,
    contributor,
    flops: 2 * 64 ** 3,
    method: 'freivalds',
    issuedAt: Date.now(),
    credit,
  };
}

describe('BooksPort', () => {
  it('issues what the contributor accepts, and counts it spent for its job only', async () => {
    const owner = await books('owner');
    const contributor = await books('contributor');
    const bundle = await owner.port.issue(receipt(owner.peer, contributor.peer, 0, 420));
    const held = await contributor.port.accept(bundle, {
      owner: owner.peer,
      contributor: contributor.peer,
      jobId: 'job-1',
      shardId: 0,
    });
    expect(held.credit).toBe(420);
    expect(contributor.port.ledger.earned).toBe(420);
    expect(owner.port.spent('job-1')).toBe(420);
    expect(owner.port.spent('job-2')).toBe(0);
    // A receipt for another shard than the one expected does not check out.
    await expect(
      contributor.port.accept(bundle, {
        owner: owner.peer,
        contributor: contributor.peer,
        jobId: 'job-1',
        shardId: 1,
      }),
    ).rejects.toThrow();
  });

  it('can spend the grant in force plus earnings minus spending, to the µcredit', async () => {
    const owner = await books('spender');
    const someone = (await books('someone')).peer;
    const grant = DEFAULT_PARAMS.grant * 1e6; // µcredits
    expect(owner.port.canSpend(grant)).toBe(true);
    expect(owner.port.canSpend(grant + 1)).toBe(false);
    await owner.port.issue(receipt(owner.peer, someone, 0, 1_000));
    expect(owner.port.canSpend(grant - 1_000)).toBe(true);
    expect(owner.port.canSpend(grant - 999)).toBe(false);
    // Governance decides another grant: the next check reads it.
    owner.port.grant = () => 0;
    expect(owner.port.canSpend(1)).toBe(false);
    expect(owner.port.canSpend(0)).toBe(false);
  });

  it('revokes a caught contributor’s receipts: burned, not refunded', async () => {
    const owner = await books('revoker');
    const cheat = (await books('cheat')).peer;
    await owner.port.issue(receipt(owner.peer, cheat, 0, 500));
    await owner.port.revoke('job-1', cheat, 'wrong product');
    expect(owner.port.spent('job-1')).toBe(500);
    expect(owner.port.ledger.log.size).toBe(2); // the receipt, then the revocation
  });
});
