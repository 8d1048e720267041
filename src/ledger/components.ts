import type { GossipSub } from '@libp2p/gossipsub';
import type { Libp2p } from '@libp2p/interface';

// The parts of a libp2p node the market's services use, each service taking only its own (as
// js-libp2p's services take their components): a test can hand one a stub, and none of them
// needs the mesh's node type.

/** What the log server needs: to register and unregister the ledger protocol. */
export type LedgerRegistrar = Pick<Libp2p, 'handle' | 'unhandle'>;

/** What the client needs: to dial a peer's ledger protocol, see its connections, hang up. */
export type LedgerDialer = Pick<Libp2p, 'dialProtocol' | 'getConnections' | 'hangUp'>;

/** What checkpoint gossip needs of the pubsub service. */
export type CheckpointPubSub = Pick<
  GossipSub,
  'subscribe' | 'unsubscribe' | 'publish' | 'addEventListener' | 'removeEventListener'
>;

/** The node the whole market runs on (a MeshNode is one). */
export interface LedgerNode extends LedgerRegistrar, LedgerDialer {
  peerId: Libp2p['peerId'];
  services: { pubsub: CheckpointPubSub };
}
