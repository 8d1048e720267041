// State machines of the shard protocol's two sides, owner (ShardOwnerService) and contributor
// (ShardContributor), built from stub components: the "node" is a table of protocol handlers,
// and a dial is one of libp2p's in-memory stream pairs handed to the owner's handler. Fast and
// without sockets; the TCP suites (tests/integration/shard-protocol, hostile-peers) run the
// same services over real libp2p connections.
import '../../../src/relay/polyfills';
import type { Connection, StreamHandler } from '@libp2p/interface';
import { streamPair } from '@libp2p/utils';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { Output } from '../../../src/jobs/codec';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../../src/jobs/matmul-job';
import type { AnnouncementMsg, LeaseMsg } from '../../../src/mesh/codec';
import { FramedStream } from '../../../src/mesh/framed';
import {
  type ContributorComponents,
  ShardContributor,
  type ShardOutcome,
} from '../../../src/mesh/shard-contributor';
import {
  type SettledEvent,
  type ShardOwnerComponents,
  ShardOwnerService,
} from '../../../src/mesh/shard-owner';
import { SHARD_PROTOCOL } from '../../../src/mesh/topics';
import { seededRng } from '../../../src/model/rng';
import { matmulF64 } from '../../../src/reference/matmul';
import { WireError } from '../../../src/wire/wire-error';

const OWNER = 'owner-peer';

/** A stub of what the services use of a node; a connection names only its remote peer. */
function stubMesh() {
  const handlers = new Map<string, StreamHandler>();
  const owner: ShardOwnerComponents = {
    peerId: { toString: () => OWNER } as ShardOwnerComponents['peerId'],
    handle: async (protocol: string | string[], handler: StreamHandler) => {
      for (const p of [protocol].flat()) handlers.set(p, handler);
    },
    unhandle: async (protocol: string | string[]) => {
      for (const p of [protocol].flat()) handlers.delete(p);
    },
  } as unknown as ShardOwnerComponents;
  const conn = (peer: string) =>
    ({
      remotePeer: { toString: () => peer },
      remoteAddr: { toString: () => `/memory/${peer}` },
      limits: undefined,
    }) as unknown as Connection;
  /** Opens a stream from `peer` to the owner, as a dial would. */
  const open = async (peer: string, protocol = SHARD_PROTOCOL) => {
    const handler = handlers.get(protocol);
    if (!handler) throw new Error(`no handler for ${protocol}`);
    const [outbound, inbound] = await streamPair();
    void handler(inbound, conn(peer));
    return outbound;
  };
  const contributor = (peer: string): ContributorComponents =>
    ({
      peerId: { toString: () => peer },
      dialProtocol: (_addrs: unknown, protocol: string) => open(peer, protocol),
    }) as unknown as ContributorComponents;
  return { owner, open, contributor };
}

const honest = async (l: LeaseMsg): Promise<Output> => {
  if (l.work.kind !== 'matmul') throw new Error('not a matmul');
  const { a, b, m, k, n } = l.work;
  return { kind: 'matmul', rows: m, cols: n, c: Float32Array.from(matmulF64(a, b, { m, k, n })) };
};

function announce(job: MatmulOwnerJob): AnnouncementMsg {
  return {
    jobId: job.id,
    owner: OWNER,
    kind: job.kind,
    shardCount: job.shardCount,
    shardsLeft: job.shardCount,
    kernelDigest: '0'.repeat(64),
    expiresAt: Date.now() + 60_000,
    addrs: ['/ip4/127.0.0.1/tcp/1'],
    modelDigest: '',
    modelBytes: 0,
    price: 1,
    shardGflop: 0,
  };
}

async function until(what: string, ok: () => boolean, ms = 4_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('shard protocol state machines over in-memory streams', () => {
  const services: ShardOwnerService[] = [];
  afterEach(async () => {
    for (const s of services.splice(0)) await s.stop();
    vi.restoreAllMocks();
  });

  async function setup(options: ConstructorParameters<typeof ShardOwnerService>[1] = {}) {
    const mesh = stubMesh();
    const owner = new ShardOwnerService(mesh.owner, options);
    const settled: SettledEvent[] = [];
    const done: string[] = [];
    const misbehaved: { peer: string; error: Error }[] = [];
    owner.addEventListener('settled', (e) => settled.push(e.detail));
    owner.addEventListener('done', (e) => done.push(e.detail.jobId));
    owner.addEventListener('misbehaved', (e) => misbehaved.push(e.detail));
    await owner.start();
    services.push(owner);
    return { mesh, owner, settled, done, misbehaved };
  }

  function matmulJob(id: string, seed: number, options = {}) {
    const p = randomProblem(32, 8, 32, seededRng(seed));
    const job = new MatmulOwnerJob(id, p, planBlocks(32, 32, 16, 16), options);
    return { job, exact: matmulF64(p.a, p.b, p) };
  }

  test('lease → result → verdict: every shard is leased, computed, accepted and assembled', async () => {
    const { mesh, owner, settled, done } = await setup();
    const { job, exact } = matmulJob('honest', 1);
    owner.addJob(job);
    const c = new ShardContributor(mesh.contributor('worker-a'), {
      compute: honest,
      maxBufferBytes: 2 ** 24,
      adapter: 'stub',
      budget: 1,
    });
    const outcomes: ShardOutcome[] = [];
    c.addEventListener('outcome', (e) => outcomes.push(e.detail));
    expect(await c.work(announce(job))).toEqual({ finished: true });
    expect(job.done).toBe(true);
    expect(done).toEqual(['honest']);
    expect(settled.map((s) => [s.contributor, s.settlement])).toEqual(
      Array(job.shardCount).fill(['worker-a', 'accepted']),
    );
    expect(settled.every((s) => s.remoteAddr === '/memory/worker-a')).toBe(true);
    // Every verdict reached the contributor, for the shard it computed.
    expect(outcomes.map((o) => o.shardId).sort()).toEqual([0, 1, 2, 3]);
    expect(outcomes.every((o) => o.accepted && o.jobId === 'honest')).toBe(true);
    for (let i = 0; i < exact.length; i++) expect(job.c[i]).toBeCloseTo(exact[i]!, 4);
  });

  test('a stalled contributor: its lease expires, the shard is leased again and finished', async () => {
    const { mesh, owner, settled } = await setup();
    const { job } = matmulJob('stall', 2, {
      // The shortest deadline the protocol carries (1 s): the lease lapses a second or two in.
      defaultWindowMs: 1_000,
      minWindowMs: 1_000,
      defaultLifetimeMs: 1_500,
      minLifetimeMs: 1_000,
      maxCopies: 1,
    });
    owner.addJob(job);
    // The staller takes a lease, then says nothing (no heartbeat, no result), stream left open.
    const staller = new FramedStream(await mesh.open('staller'));
    await staller.write({
      type: 'work-request',
      jobId: job.id,
      maxBufferBytes: 2 ** 24,
      gflops: 0,
      adapter: 'x',
    });
    const lease = await staller.read();
    if (lease.type !== 'lease') throw new Error(`expected a lease, got ${lease.type}`);
    await until('the stalled lease to lapse', () =>
      job.outstanding().every((l) => l.leaseId !== lease.leaseId),
    );
    // An honest contributor gets the stalled shard too, and the job completes without the staller.
    const c = new ShardContributor(mesh.contributor('worker-b'), {
      compute: honest,
      maxBufferBytes: 2 ** 24,
      adapter: 'stub',
      budget: 1,
    });
    const shards: number[] = [];
    c.addEventListener('outcome', (e) => shards.push(e.detail.shardId));
    expect(await c.work(announce(job))).toEqual({ finished: true });
    expect(job.done).toBe(true);
    expect(shards).toContain(lease.shardId);
    expect(settled.filter((s) => s.contributor === 'staller')).toEqual([]);
    await staller.close();
  });

  test('a garbage frame is a typed WireError naming the peer, and ends its stream', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { mesh, misbehaved } = await setup();
    const stream = await mesh.open('garbler');
    // A length prefix of 5, then five bytes that are no ShardFrame.
    stream.send(Uint8Array.of(5, 0xff, 0xff, 0xff, 0xff, 0xff));
    await until('the owner to report the peer', () => misbehaved.length > 0);
    expect(misbehaved).toHaveLength(1);
    expect(misbehaved[0]!.peer).toBe('garbler');
    expect(misbehaved[0]!.error).toBeInstanceOf(WireError);
    // The person at the owner's tab sees which peer sent it.
    expect(warn.mock.calls.flat().join('\n')).toMatch(
      /shard stream from garbler ended: .*WireError/,
    );
    await until('the stream to end', () => stream.status !== 'open');
  });

  test('a contributor stops cleanly: its stream closes and the owner takes its lease back at once', async () => {
    const { mesh, owner } = await setup();
    // Leases that would otherwise stay out for minutes: only the closed stream gives them back.
    const { job } = matmulJob('stop', 3, { defaultWindowMs: 60_000, maxCopies: 1 });
    owner.addJob(job);
    const ctl = new AbortController();
    let started = 0;
    const c = new ShardContributor(mesh.contributor('worker-c'), {
      compute: (_l, _j, signal) =>
        new Promise<Output>((_resolve, reject) => {
          started++;
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      maxBufferBytes: 2 ** 24,
      adapter: 'stub',
      budget: 1,
    });
    const working = c.work(announce(job), ctl.signal);
    await until('a lease to be computing', () => started > 0);
    expect(job.outstanding().some((l) => l.contributor === 'worker-c')).toBe(true);
    const reason = new Error('stopped by the volunteer');
    ctl.abort(reason);
    await expect(working).rejects.toBe(reason);
    await until('the owner to take the leases back', () =>
      job.outstanding().every((l) => l.contributor !== 'worker-c'),
    );
    expect(job.done).toBe(false);
    expect(started).toBe(1); // nothing computed after the stop
  });
});
