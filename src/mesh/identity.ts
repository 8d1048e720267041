import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { openDB } from 'idb';

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
    const stored: unknown = await db.get('identity', name);
    if (stored instanceof Uint8Array) {
      try {
        return privateKeyFromProtobuf(stored);
      } catch (e) {
        // A corrupt record would otherwise lock the tab out of the mesh for good.
        console.warn('tessel: stored peer key is unreadable; creating a new identity', e);
      }
    }
    const key = await generateKeyPair('Ed25519');
    await db.put('identity', privateKeyToProtobuf(key), name);
    return key;
  } finally {
    db.close();
  }
}
