import './polyfills';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { circuitRelayServer } from '@libp2p/circuit-relay-v2';
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { KEEP_ALIVE, type PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p, type Libp2p } from 'libp2p';
import { CHECKPOINTS_TOPIC } from '../ledger/codec';
import { JOBS_ASK_TOPIC, JOBS_TOPIC } from '../mesh/topics';

/** Circuit reservations a relay grants at once: one per browser tab reachable through it. */
export const MAX_RESERVATIONS = 4_096;
/** Connections a relay keeps at once (tabs, headless contributors, other relays). */
export const RELAY_MAX_CONNECTIONS = 10_000;
/** New connections a second from one address (libp2p's default is 5). */
export const RELAY_INBOUND_PER_HOST = 100;
/** Connections still upgrading at once. */
export const RELAY_PENDING_CONNECTIONS = 256;

export interface RelayOptions {
  /** TCP port for websockets; 0 picks a free one. */
  port?: number; // default 9090
  host?: string; // default 127.0.0.1
  /** File holding the relay's Ed25519 key, so its multiaddr survives restarts. */
  keyFile?: string; // default .relay/key
  /** Reservations this relay grants at once (one per browser tab). */
  maxReservations?: number; // default MAX_RESERVATIONS
  /**
   * Other relays of the same mesh (…/ws/p2p/<id>): this one stays connected to them (redialling
   * when one drops) so that gossip crosses between tabs on different relays.
   */
  peers?: string[];
}

export interface Relay {
  node: Libp2p;
  /** Dialable addresses, each ending in /p2p/<relay peer id>. */
  multiaddrs: string[];
  stop(): Promise<void>;
}

/**
 * The signalling node: browsers reserve circuit-relay slots here, exchange WebRTC SDP through it,
 * and hear job announcements via its gossipsub. Shard data never flows through it.
 */
export async function startRelay(options: RelayOptions = {}): Promise<Relay> {
  const port = options.port ?? 9090;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`relay port must be 0..65535, got ${port}`);
  }
  const host = options.host ?? '127.0.0.1';
  const privateKey = await loadOrCreateKey(options.keyFile ?? '.relay/key');
  const self = peerIdFromPrivateKey(privateKey).toString();
  // A relay started with the whole list (its own address included) skips itself.
  const peers = (options.peers ?? []).filter((p) => !p.endsWith(`/p2p/${self}`));
  const node = await createLibp2p({
    privateKey,
    addresses: { listen: [`/ip4/${host}/tcp/${port}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    // Peer relays are tagged keep-alive: one that drops is redialled, 1 s, 2 s, … for ~4 min,
    // and again whenever it dials back.
    connectionManager: {
      maxConnections: RELAY_MAX_CONNECTIONS,
      // Many tabs share one address (a NAT, a campus, this machine in tests): libp2p's default
      // of 5 new connections a second per host would turn most of them away.
      inboundConnectionThreshold: RELAY_INBOUND_PER_HOST,
      maxIncomingPendingConnections: RELAY_PENDING_CONNECTIONS,
      reconnectRetries: 8,
      reconnectRetryInterval: 1_000,
    },
    ...(peers.length > 0
      ? { peerDiscovery: [bootstrap({ list: peers, timeout: 0, tagName: KEEP_ALIVE })] }
      : {}),
    services: {
      identify: identify(),
      relay: circuitRelayServer({
        reservations: { maxReservations: options.maxReservations ?? MAX_RESERVATIONS },
      }),
      // The relay joins the jobs and checkpoints topics so announcements, checkpoints and
      // equivocation proofs travel between tabs through it (small messages: signalling only).
      // A tab's only pubsub peers are its relays, so a relay keeps every tab that grafts it in
      // its mesh (Dhi far above D): otherwise tabs past the 12th would hear a job only through
      // lazy gossip, seconds later.
      // Nor does it score tabs down for sharing an address (gossipsub's IP colocation factor):
      // many volunteers sit behind one NAT, and past 10 from one address every one of them
      // would be greylisted and hear nothing. Abuse is bounded per peer, not per address.
      pubsub: gossipsub({
        allowPublishToZeroTopicPeers: true,
        D: 8,
        Dlo: 4,
        Dhi: 16_384,
        Dout: 2,
        scoreParams: { IPColocationFactorWeight: 0 },
      }),
    },
  });
  node.services.pubsub.subscribe(JOBS_TOPIC);
  node.services.pubsub.subscribe(JOBS_ASK_TOPIC);
  node.services.pubsub.subscribe(CHECKPOINTS_TOPIC);
  return {
    node,
    multiaddrs: node.getMultiaddrs().map((a) => a.toString()),
    stop: async () => {
      await node.stop();
    },
  };
}

/** Reads the relay's key from `file`, or creates and saves one (mode 0600). */
export async function loadOrCreateKey(file: string): Promise<PrivateKey> {
  try {
    return privateKeyFromProtobuf(await readFile(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(
        `relay key file ${file} is unreadable or corrupt; delete it to make a new one`,
        {
          cause: e,
        },
      );
    }
  }
  const key = await generateKeyPair('Ed25519');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, privateKeyToProtobuf(key), { mode: 0o600 });
  return key;
}
