import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { type GossipSub, gossipsub } from '@libp2p/gossipsub';
import { type Identify, identify } from '@libp2p/identify';
import { KEEP_ALIVE, type PrivateKey } from '@libp2p/interface';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p, type Libp2p } from 'libp2p';
import { DIAL_TIMEOUT_MS } from '../wire/dial';

export type MeshNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>;

export interface MeshNodeOptions {
  privateKey: PrivateKey;
  /** The relays' multiaddrs (…/ws/p2p/<relay id>), in any order; at least one. */
  relays: string[];
  /**
   * Relays to hold a reservation on at once, so that losing one changes nothing: the node stays
   * reachable through the others and reserves on another relay it knows.
   */
  reservations?: number; // default min(2, relays.length)
  /** ICE servers for WebRTC; [] on a loopback mesh, STUN/TURN across the internet. */
  iceServers?: RTCIceServer[];
}

/** No configured relay could be reached, so nobody could reach this node. */
export class RelayUnreachableError extends Error {
  override readonly name = 'RelayUnreachableError';
}

/**
 * A contributor's or owner's libp2p node (a tab's main thread — RTCPeerConnection does not
 * exist in a dedicated Worker — or a headless contributor in Node). It connects to every
 * configured relay (the bootstrap list; libp2p redials them when they drop), reserves a
 * circuit-relay slot on `reservations` of them so others can reach it, and talks to other peers
 * over direct WebRTC connections whose SDP goes through a relay. Job announcements arrive by
 * gossipsub through the relays, which peer with each other.
 */
export async function startMeshNode(o: MeshNodeOptions): Promise<MeshNode> {
  if (o.relays.length === 0) throw new RelayUnreachableError('no relay is configured');
  const relays = o.relays.map((r) => multiaddr(r)); // throws on a malformed one, before anything starts
  const wanted = Math.max(1, Math.min(o.reservations ?? 2, relays.length));
  const node = await createLibp2p({
    privateKey: o.privateKey,
    // Each bare /p2p-circuit asks the relay discovery for one more reservation, on any relay
    // it is connected to; one that goes away is replaced by another.
    addresses: { listen: [...Array<string>(wanted).fill('/p2p-circuit'), '/webrtc'] },
    transports: [
      webSockets(),
      webRTC({ rtcConfiguration: { iceServers: o.iceServers ?? [] } }),
      circuitRelayTransport({ reservationCompletionTimeout: 10_000 }),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // The browser default refuses /ws and private addresses; a local relay needs both.
    connectionGater: { denyDialMultiaddr: () => false },
    // Relays are tagged keep-alive: a dropped one is redialled, 1 s, 2 s, … for about 4 min.
    // An owner is dialled by every contributor of its job at once, often from one address, and
    // each dial holds a relayed connection (the SDP's) beside the direct one it opens: the
    // browser default of 100 connections turned half of a 50-contributor swarm away.
    connectionManager: {
      addressDialTimeout: DIAL_TIMEOUT_MS,
      dialTimeout: DIAL_TIMEOUT_MS + 5_000,
      maxConnections: 512,
      reconnectRetries: 8,
      reconnectRetryInterval: 1_000,
      inboundConnectionThreshold: 64,
      maxIncomingPendingConnections: 64,
    },
    peerDiscovery: [bootstrap({ list: o.relays, timeout: 0, tagName: KEEP_ALIVE })],
    services: {
      identify: identify(),
      // A tab is a leaf: it keeps one peer (a relay) in its gossip mesh, so it hears each
      // message once and forwards none back to the other relays (with every relay in its mesh
      // each announcement reached the relays again from every tab). Its own messages still go
      // to all its peers (flood publish), and a lost relay is replaced at the next heartbeat.
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        D: 1,
        Dlo: 1,
        Dhi: 1,
        Dscore: 0,
        Dout: 0,
      }),
    },
  });
  // Dial them all now rather than after the bootstrap timer, to fail fast when none answers.
  const dialled = await Promise.allSettled(relays.map((r) => node.dial(r)));
  if (dialled.every((d) => d.status === 'rejected')) {
    await node.stop();
    const why = (dialled[0] as PromiseRejectedResult).reason as Error;
    throw new RelayUnreachableError(
      `none of the ${relays.length} relay(s) answered (${why.message}): is a relay running?`,
    );
  }
  return node;
}

/** The node's relayed WebRTC addresses, one or more per relay it holds a reservation on. */
export function webRtcAddresses(node: MeshNode): string[] {
  return node
    .getMultiaddrs()
    .map((a) => a.toString())
    .filter((a) => a.includes('/p2p-circuit/webrtc'));
}

/**
 * Resolves with the node's relayed WebRTC addresses once it holds reservations on
 * `reservations` relays, or on fewer once the first has waited `extraMs` for the rest (they
 * are added as they come: a relay may be down); rejects when there is none after `ms`.
 */
export async function waitForWebRtcAddress(
  node: MeshNode,
  reservations = 1,
  ms = 15_000, // for the first reservation
  extraMs = 3_000, // for the others, after the first
): Promise<string[]> {
  const relays = () => new Set(webRtcAddresses(node).map(relayOf)).size;
  let deadline = Date.now() + ms;
  let first = false;
  for (;;) {
    const n = relays();
    if (n > 0 && !first) {
      first = true;
      deadline = Math.min(deadline, Date.now() + extraMs);
    }
    if (n >= reservations || (n > 0 && Date.now() > deadline)) return webRtcAddresses(node);
    if (Date.now() > deadline) {
      throw new RelayUnreachableError('no relay reservation: is a relay reachable?');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The relay peer id in a relayed address (…/p2p/<relay>/p2p-circuit/…), or the last /p2p/. */
export function relayOf(addr: string): string {
  const circuit = addr.indexOf('/p2p-circuit');
  const head = circuit < 0 ? addr : addr.slice(0, circuit);
  return head.slice(head.lastIndexOf('/p2p/') + 5);
}
