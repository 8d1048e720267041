import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { openDB } from 'idb';
import { notice } from '../log/log';

/**
 * The tab's Ed25519 identity, kept in IndexedDB (database `tessel-mesh`) so a contributor keeps
 * its peer id, and with it its reputation and credits, across reloads. `name` separates
 * identities (tests open several contributors in one browser profile).
 */
export async function loadIdentity(name = 'default'): Promise<PrivateKey> {
  const db = await openDB('tessel-mesh', 1, {
    upgrade(d) {
      d.createObjectStore('identity');
    },
  });
  try {
    const read = (stored: unknown): PrivateKey | undefined => {
      if (!(stored instanceof Uint8Array)) return undefined;
      try {
        return privateKeyFromProtobuf(stored);
      } catch (e) {
        // A corrupt record would otherwise lock the tab out of the mesh for good.
        notice(`stored peer key is unreadable (${e}); creating a new identity`);
        return undefined;
      }
    };
    const known = read(await db.get('identity', name));
    if (known) return known;
    const fresh = await generateKeyPair('Ed25519');
    // Read again and write in one transaction: two callers racing on a fresh profile (another
    // tab, or this one's ledger and mesh starting together) end with the same identity.
    const tx = db.transaction('identity', 'readwrite');
    const winner = read(await tx.store.get(name));
    if (!winner) await tx.store.put(privateKeyToProtobuf(fresh), name);
    await tx.done;
    return winner ?? fresh;
  } finally {
    db.close();
  }
}
