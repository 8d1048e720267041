import { generateKeyPair } from '@libp2p/crypto/keys';
import { afterEach, expect, test } from 'vitest';
import { JobBoard } from '../../src/mesh/job-board';
import {
  type MeshNode,
  relayOf,
  startMeshNode,
  waitForWebRtcAddress,
  webRtcAddresses,
} from '../../src/mesh/node';
import { JOBS_ASK_TOPIC, JOBS_TOPIC } from '../../src/mesh/topics';
import type { Relay } from '../../src/relay/relay';
import { startPeeredRelays } from '../support/relays';

const stops: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.allSettled(stops.splice(0).map(async (s) => s()));
});

async function relays(n: number): Promise<Relay[]> {
  const out = await startPeeredRelays(n);
  for (const r of out) stops.push(() => r.stop());
  return out;
}

async function tab(addrs: string[]): Promise<MeshNode> {
  const node = await startMeshNode({
    privateKey: await generateKeyPair('Ed25519'),
    relays: addrs,
    iceServers: [],
  });
  stops.push(() => node.stop());
  return node;
}

const until = async (ok: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('a node reserves on two of three relays, and on the third when one of them stops', async () => {
  const [a, b, c] = await relays(3);
  const all = [a!, b!, c!];
  const node = await tab(all.map((r) => r.multiaddrs[0]!));
  const held = () => new Set(webRtcAddresses(node).map(relayOf));
  expect((await waitForWebRtcAddress(node, 2)).length).toBeGreaterThanOrEqual(2);
  expect(held().size).toBe(2);
  const gone = all.find((r) => held().has(r.node.peerId.toString()))!;
  await gone.stop();
  await until(() => held().size === 2 && !held().has(gone.node.peerId.toString()));
});

test('relays peer with each other: a job announced by a tab on one relay reaches a tab on another', async () => {
  const [a, b] = await relays(2);
  const owner = await tab([a!.multiaddrs[0]!]);
  const contributor = await tab([b!.multiaddrs[0]!]);
  await waitForWebRtcAddress(owner);
  await waitForWebRtcAddress(contributor);
  await until(() => a!.node.getConnections(b!.node.peerId).length > 0);
  const heard: string[] = [];
  contributor.services.pubsub.subscribe(JOBS_TOPIC);
  contributor.services.pubsub.addEventListener('message', (e) => {
    heard.push(new TextDecoder().decode(e.detail.data));
  });
  owner.services.pubsub.subscribe(JOBS_TOPIC);
  // Gossipsub needs a heartbeat or two to graft the relays into each other's mesh.
  await until(() => {
    void owner.services.pubsub.publish(JOBS_TOPIC, new TextEncoder().encode('job'));
    return heard.length > 0;
  });
  expect(heard[0]).toBe('job');
});

test('a tab that joins asks for the board: it hears a job in a round trip, not an announcement interval', async () => {
  const [a] = await relays(1);
  const owner = await tab([a!.multiaddrs[0]!]);
  await waitForWebRtcAddress(owner);
  // Owners re-announce once a minute here: only an answer to the newcomer's ask can be heard.
  const ownerBoard = new JobBoard(owner.services.pubsub, { announceIntervalMs: 60_000 });
  ownerBoard.start();
  stops.push(() => ownerBoard.stop());
  ownerBoard.announce(() => ({
    jobId: 'job-1',
    owner: owner.peerId.toString(),
    kind: 'matmul',
    shardCount: 4,
    shardsLeft: 4,
    kernelDigest: 'ab'.repeat(32),
    expiresAt: Date.now() + 60_000,
    addrs: webRtcAddresses(owner).map(String),
    modelDigest: '',
    modelBytes: 0,
    price: 1,
    shardGflop: 0.1,
  }));
  await new Promise((r) => setTimeout(r, 1_500)); // the first announcement reached nobody
  // The newcomer's node knows the relay's subscriptions before its board starts, as a tab's does.
  const contributor = await tab([a!.multiaddrs[0]!]);
  await until(() => contributor.services.pubsub.getPeers().length > 0);
  await new Promise((r) => setTimeout(r, 200));
  const board = new JobBoard(contributor.services.pubsub, { announceIntervalMs: 60_000 });
  const joined = Date.now();
  board.start();
  stops.push(() => board.stop());
  await until(() => board.jobs().length > 0, 10_000);
  expect(board.jobs()[0]).toMatchObject({ jobId: 'job-1', owner: owner.peerId.toString() });
  console.log(`job heard ${Date.now() - joined} ms after the board started`);

  // A peer flooding the ask topic gets the owner to announce at most once a second.
  let heard = 0;
  board.addEventListener('job', () => heard++);
  const started = Date.now();
  for (let i = 0; i < 200; i++) {
    await contributor.services.pubsub.publish(JOBS_ASK_TOPIC, Uint8Array.of(i & 255));
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 1_200));
  const seconds = (Date.now() - started) / 1000;
  console.log(`${heard} announcements heard in ${seconds.toFixed(1)} s of 200 asks`);
  expect(heard).toBeGreaterThan(0);
  expect(heard).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
});
