import '../../src/relay/polyfills';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { createLibp2p } from 'libp2p';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { matmulF64 } from '../../src/gpu/reference';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../src/jobs/matmul-job';
import { seededRng } from '../../src/jobs/rng';
import type { AnnouncementMsg, LeaseMsg } from '../../src/mesh/codec';
import type { MeshNode } from '../../src/mesh/node';
import { ShardContributor, type ShardOutcome } from '../../src/mesh/shard-contributor';
import { ShardOwnerService } from '../../src/mesh/shard-owner';
import { SHARD_PROTOCOL } from '../../src/mesh/topics';

// The shard protocol over real libp2p streams (TCP between two Node peers: a direct, unlimited
// connection, as WebRTC is between browsers). The browser path is covered by tests/e2e/mesh.spec.ts.

async function peer(listen: boolean): Promise<MeshNode> {
  return (await createLibp2p({
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub() },
  })) as unknown as MeshNode;
}

const honest = async (l: LeaseMsg) =>
  Float32Array.from(matmulF64(l.a, l.b, { m: l.m, k: l.k, n: l.n }));

describe('/tessel/shard/1.0.0 between two real libp2p peers', () => {
  let ownerNode: MeshNode;
  let workerNode: MeshNode;
  let owner: ShardOwnerService;
  const misbehaved: { peer: string; error: Error }[] = [];

  beforeAll(async () => {
    ownerNode = await peer(true);
    workerNode = await peer(false);
    owner = new ShardOwnerService(ownerNode);
    owner.addEventListener('misbehaved', (e) => misbehaved.push((e as CustomEvent).detail));
    await owner.start();
  });
  afterAll(async () => {
    await owner.stop();
    await workerNode.stop();
    await ownerNode.stop();
  });

  function announce(job: MatmulOwnerJob): AnnouncementMsg {
    return {
      jobId: job.id,
      owner: ownerNode.peerId.toString(),
      kind: 'matmul',
      shardCount: job.blocks.length,
      shardsLeft: job.blocks.length,
      kernelDigest: '0'.repeat(64),
      expiresAt: Date.now() + 60_000,
      // Over TCP the owner's address is direct already; browsers announce a WebRTC one.
      addrs: ownerNode.getMultiaddrs().map((a) => a.toString()),
    };
  }

  function contributor(
    compute: (l: LeaseMsg) => Promise<Float32Array>,
    options: Partial<ConstructorParameters<typeof ShardContributor>[1]> = {},
  ) {
    const c = new ShardContributor(workerNode, { compute, maxBufferBytes: 2 ** 28, ...options });
    const outcomes: ShardOutcome[] = [];
    c.addEventListener('outcome', (e) => outcomes.push((e as CustomEvent<ShardOutcome>).detail));
    return { c, outcomes };
  }

  test('an honest contributor computes every shard; the owner verifies and assembles C', async () => {
    const p = randomProblem(48, 20, 40, seededRng(3));
    const job = new MatmulOwnerJob('honest-job', p, planBlocks(48, 40, 16, 16));
    owner.addJob(job);
    const { c, outcomes } = contributor(honest);
    await c.work(announce(job));
    expect(job.done).toBe(true);
    expect(outcomes).toHaveLength(9);
    expect(outcomes.every((o) => o.accepted)).toBe(true);
    const exact = matmulF64(p.a, p.b, p);
    for (let i = 0; i < exact.length; i++)
      expect(Math.abs(job.c[i]! - exact[i]!)).toBeLessThan(1e-5);
  });

  test('a cheating contributor is rejected on every shard and nothing it sent counts', async () => {
    const p = randomProblem(32, 16, 32, seededRng(4));
    const job = new MatmulOwnerJob('cheat-job', p, planBlocks(32, 32, 16, 16));
    owner.addJob(job);
    const ctl = new AbortController();
    const { c, outcomes } = contributor(async (l) => {
      if (outcomes.length >= 6) ctl.abort();
      return new Float32Array(l.m * l.n).fill(1); // no work done
    });
    await c.work(announce(job), ctl.signal).catch(() => {});
    expect(outcomes.length).toBeGreaterThanOrEqual(6);
    expect(outcomes.every((o) => !o.accepted && o.reason === 'residual')).toBe(true);
    expect(job.report()).toMatchObject({ accepted: 0 });
    expect(job.c.every((v) => v === 0)).toBe(true);
  });

  test('garbage frames: the owner names the peer, resets the stream, and keeps serving', async () => {
    const before = misbehaved.length;
    const stream = await workerNode.dialProtocol(ownerNode.getMultiaddrs()[0]!, SHARD_PROTOCOL);
    const lp = lpStream(stream);
    await lp.write(Uint8Array.from([8, 1, 18, 200, 1, 1, 2, 3])); // version 1, truncated body
    await expect(lp.read()).rejects.toThrow();
    expect(misbehaved.length).toBe(before + 1);
    expect(misbehaved.at(-1)!.peer).toBe(workerNode.peerId.toString());
    expect(misbehaved.at(-1)!.error).toMatchObject({ name: 'WireError', code: 'malformed' });

    // A frame longer than the limit is refused from its length prefix alone.
    const s2 = await workerNode.dialProtocol(ownerNode.getMultiaddrs()[0]!, SHARD_PROTOCOL);
    s2.send(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f])); // varint length ≈ 34 GB
    await expect(lpStream(s2).read()).rejects.toThrow();
    expect(misbehaved.at(-1)!.error).toMatchObject({ name: 'WireError', code: 'too-large' });

    // The owner still serves well-behaved peers.
    const p = randomProblem(8, 8, 8, seededRng(5));
    const job = new MatmulOwnerJob('after-garbage', p, planBlocks(8, 8, 8, 8));
    owner.addJob(job);
    await contributor(honest).c.work(announce(job));
    expect(job.done).toBe(true);
  });

  test('the dial timeout bounds the dial only, not the work that follows', async () => {
    const p = randomProblem(32, 8, 32, seededRng(8));
    const job = new MatmulOwnerJob('long', p, planBlocks(32, 32, 16, 16)); // 4 shards
    owner.addJob(job);
    const slow = async (l: LeaseMsg) => {
      await new Promise((r) => setTimeout(r, 150));
      return honest(l);
    };
    // A 200 ms dial timeout, far shorter than the ~600 ms session.
    await contributor(slow, { budget: 1, dialTimeoutMs: 200 }).c.work(announce(job));
    expect(job.done).toBe(true);
  });

  test('a lease over 4 MiB (libp2p’s default stream buffer) travels whole', async () => {
    const p = randomProblem(1100, 1024, 2, seededRng(6)); // A alone is 4.5 MB
    const job = new MatmulOwnerJob('big', p, planBlocks(1100, 2, 1100, 2));
    owner.addJob(job);
    await contributor(honest).c.work(announce(job));
    expect(job.done).toBe(true);
  });
});
