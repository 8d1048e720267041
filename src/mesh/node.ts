import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { type GossipSub, gossipsub } from '@libp2p/gossipsub';
import { type Identify, identify } from '@libp2p/identify';
import type { PrivateKey } from '@libp2p/interface';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';

export type MeshNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

export interface MeshNodeOptions {
  privateKey: PrivateKey;
  /** The relay's multiaddr (…/ws/p2p/<relay id>). */
  relay: string;
  /** ICE servers for WebRTC; [] on a loopback mesh, STUN/TURN across the internet. */
  iceServers?: RTCIceServer[];
}

/**
 * The tab's libp2p node (main thread: RTCPeerConnection does not exist in a dedicated Worker).
 * It reserves a slot on the relay so others can reach it, and talks to other tabs over direct
 * WebRTC connections whose SDP goes through the relay.
 */
export async function startMeshNode(o: MeshNodeOptions): Promise<MeshNode> {
  const relayAddr = multiaddr(o.relay); // throws on a malformed address, before anything starts
  const node = await createLibp2p({
    privateKey: o.privateKey,
    addresses: { listen: ['/p2p-circuit', '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: o.iceServers ?? [] } }),
      circuitRelayTransport(),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser default refuses /ws and private addresses; a local relay needs both.
    connectionGater: { denyDialMultiaddr: () => false },
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }),
    },
  });
  await node.dial(relayAddr);
  return node;
}

/** Resolves once the node has a relayed WebRTC address others can dial, or rejects after `ms`. */
export async function waitForWebRtcAddress(node: MeshNode, ms = 15_000): Promise<string> {
  const find = () => node.getMultiaddrs().find((a) => a.toString().includes('/webrtc'));
  const deadline = Date.now() + ms;
  for (;;) {
    const a = find();
    if (a) return a.toString();
    if (Date.now() > deadline) throw new Error('no relay reservation: is the relay reachable?');
    await new Promise((r) => setTimeout(r, 100));
  }
}
