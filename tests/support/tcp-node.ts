import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import type { MeshNode } from '../../src/mesh/node';

/**
 * A real libp2p peer listening on loopback TCP (a direct connection, as WebRTC is between
 * browsers) with the services tabs run, and its Ed25519 key (to sign as it, e.g. a ledger).
 */
export async function tcpNode(): Promise<{ node: MeshNode; key: PrivateKey }> {
  const key = await generateKeyPair('Ed25519');
  const node = (await createLibp2p({
    privateKey: key,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
  })) as unknown as MeshNode;
  return { node, key };
}
