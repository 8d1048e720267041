// Over 450 lines: the shard protocol end to end on real TCP libp2p nodes, started once for the
// whole suite (starting them per file would cost more than the tests).
import '../../src/relay/polyfills';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { lpStream } from '@libp2p/utils';
import { createLibp2p } from 'libp2p';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_TILE } from '../../src/gpu/matmul';
import type { InferenceOutput, InferenceWork, Output } from '../../src/jobs/codec';
import { computeInference } from '../../src/jobs/inference-compute';
import { InferenceOwnerJob } from '../../src/jobs/inference-job';
import { defaultPolicy, sequenceSeeds } from '../../src/jobs/inference-spec';
import type { OwnerJob } from '../../src/jobs/job';
import { buildJobSpec, computeShard, createJob, requiredModel } from '../../src/jobs/kinds';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../src/jobs/matmul-job';
import { Reputation } from '../../src/jobs/reputation';
import { rowShards } from '../../src/jobs/rows';
import {
  type AnnouncementMsg,
  decodeModelMsg,
  encodeModelMsg,
  encodeShardMsg,
  type LeaseMsg,
  v1Finished,
} from '../../src/mesh/codec';
import { checkpointDigest, encodeFileMap } from '../../src/mesh/file-map';
import { MemoryModelCache } from '../../src/mesh/model-store';
import { corruptModelChunks, ModelFetcher, ModelServer } from '../../src/mesh/model-transfer';
import { ModelLibrary } from '../../src/mesh/models';
import type { MeshNode } from '../../src/mesh/node';
import { ShardFrame } from '../../src/mesh/pb/wire';
import {
  ShardContributor,
  type ShardOutcome,
  type StoppedByOwner,
} from '../../src/mesh/shard-contributor';
import { type SettledEvent, ShardOwnerService } from '../../src/mesh/shard-owner';
import { MODEL_PROTOCOL, SHARD_PROTOCOL, SHARD_PROTOCOL_V1 } from '../../src/mesh/topics';
import { cryptoRng, seededRng } from '../../src/model/rng';
import { matmulF64 } from '../../src/reference/matmul';
import { createComputeApi } from '../../src/worker/api';
import { tinyModelFiles, tinySummary } from '../support/model-fixture';

// The shard and model protocols over real libp2p streams (TCP between Node peers: a direct,
// unlimited connection, as WebRTC is between browsers), with real kernels on Dawn + SwiftShader
// for inference. The browser path is covered by tests/e2e/.

async function peer(listen: boolean): Promise<MeshNode> {
  return (await createLibp2p({
    addresses: { listen: listen ? ['/ip4/127.0.0.1/tcp/0'] : [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), pubsub: gossipsub() },
  })) as unknown as MeshNode;
}

const honestMatmul = async (l: LeaseMsg): Promise<Output> => {
  if (l.work.kind !== 'matmul') throw new Error('not a matmul');
  const { a, b, m, k, n } = l.work;
  return { kind: 'matmul', rows: m, cols: n, c: Float32Array.from(matmulF64(a, b, { m, k, n })) };
};

describe('/tessel/shard/2.0.0 between two real libp2p peers', () => {
  let ownerNode: MeshNode;
  let workerNode: MeshNode;
  let owner: ShardOwnerService;
  const misbehaved: { peer: string; error: Error }[] = [];
  const settled: SettledEvent[] = [];

  beforeAll(async () => {
    ownerNode = await peer(true);
    workerNode = await peer(false);
    owner = new ShardOwnerService(ownerNode);
    owner.addEventListener('misbehaved', (e) => misbehaved.push(e.detail));
    owner.addEventListener('settled', (e) => settled.push(e.detail));
    await owner.start();
  });
  afterAll(async () => {
    await owner.stop();
    await workerNode.stop();
    await ownerNode.stop();
  });

  function announce(job: OwnerJob): AnnouncementMsg {
    return {
      jobId: job.id,
      owner: ownerNode.peerId.toString(),
      kind: job.kind,
      shardCount: job.shardCount,
      shardsLeft: job.shardCount,
      kernelDigest: '0'.repeat(64),
      expiresAt: Date.now() + 60_000,
      // Over TCP the owner's address is direct already; browsers announce a WebRTC one.
      addrs: ownerNode.getMultiaddrs().map((a) => a.toString()),
      modelDigest: job.modelDigest ?? '',
      modelBytes: job.modelDigest ? 1 : 0,
      price: 1,
      shardGflop: 0,
    };
  }

  function contributor(
    compute: (l: LeaseMsg) => Promise<Output>,
    options: Partial<ConstructorParameters<typeof ShardContributor>[1]> = {},
    node = workerNode,
  ) {
    const c = new ShardContributor(node, {
      compute,
      maxBufferBytes: 2 ** 28,
      adapter: 'test',
      ...options,
    });
    const outcomes: ShardOutcome[] = [];
    c.addEventListener('outcome', (e) => outcomes.push(e.detail));
    return { c, outcomes };
  }

  test('a job with nothing to lease is left for other work, once its verdicts are in; alone it is waited on', async () => {
    const p = randomProblem(16, 8, 16, seededRng(5));
    const job = new MatmulOwnerJob('all-leased', p, planBlocks(16, 16, 16, 16), { maxCopies: 1 });
    owner.addJob(job);
    // Someone else holds the only shard: this contributor hears "nothing now, ask again".
    const held = job.offer(
      { id: 'someone-else', gflops: 0, maxBufferBytes: 2 ** 28, adapter: 'x', bytesPerSec: 0 },
      Date.now(),
    );
    expect(held.kind).toBe('lease');
    const { c } = contributor(honestMatmul, { elsewhere: () => true });
    expect(await c.work(announce(job))).toEqual({ finished: false, retryAfterMs: 1_000 });
    // With nothing else to do it waits on the job, and finishes it once the shard is free.
    const { c: alone } = contributor(honestMatmul, { elsewhere: () => false });
    const done = alone.work(announce(job));
    await new Promise((r) => setTimeout(r, 1_500));
    if (held.kind === 'lease') job.fail(held.lease.leaseId, 'someone-else');
    expect(await done).toEqual({ finished: true });
    expect(job.done).toBe(true);
  });

  test('an honest contributor computes every shard; the owner verifies and assembles C', async () => {
    const p = randomProblem(48, 20, 40, seededRng(3));
    const job = new MatmulOwnerJob('honest-job', p, planBlocks(48, 40, 16, 16));
    owner.addJob(job);
    const { c, outcomes } = contributor(honestMatmul);
    await c.work(announce(job));
    expect(job.done).toBe(true);
    expect(outcomes).toHaveLength(9);
    expect(outcomes.every((o) => o.accepted)).toBe(true);
    const exact = matmulF64(p.a, p.b, p);
    for (let i = 0; i < exact.length; i++)
      expect(Math.abs(job.c[i]! - exact[i]!)).toBeLessThan(1e-5);
  });

  test('double-buffering: the next lease is in hand while one computes; off, one at a time', async () => {
    for (const prefetch of [true, false]) {
      const p = randomProblem(32, 16, 32, seededRng(5));
      const job = new MatmulOwnerJob(`prefetch-${prefetch}`, p, planBlocks(32, 32, 16, 16));
      owner.addJob(job);
      const heldWhileComputing: number[] = [];
      const me = workerNode.peerId.toString();
      const { c, outcomes } = contributor(
        async (l) => {
          // long enough for the next lease's request and reply to cross
          await new Promise((r) => setTimeout(r, 100));
          heldWhileComputing.push(job.outstanding().filter((o) => o.contributor === me).length);
          return honestMatmul(l);
        },
        { prefetch, budget: 1 },
      );
      await c.work(announce(job));
      expect(job.done).toBe(true);
      expect(outcomes.every((o) => o.accepted)).toBe(true);
      // By the end of each compute the next lease is already held, but for the last shard.
      expect(heldWhileComputing).toEqual(
        prefetch ? [...Array(job.shardCount - 1).fill(2), 1] : Array(job.shardCount).fill(1),
      );
    }
  });

  test('a cheating contributor is rejected, barred from the job, and nothing it sent counts', async () => {
    const p = randomProblem(32, 16, 32, seededRng(4));
    const job = new MatmulOwnerJob('cheat-job', p, planBlocks(32, 32, 16, 16));
    owner.addJob(job);
    const ctl = new AbortController();
    const { c, outcomes } = contributor(async (l) => {
      if (outcomes.length >= 6) ctl.abort();
      const out = (await honestMatmul(l)) as Extract<Output, { kind: 'matmul' }>;
      return { ...out, c: out.c.map(() => 1) }; // no work done
    });
    const stopped: StoppedByOwner[] = [];
    c.addEventListener('stopped', (e) => stopped.push(e.detail));
    // Caught on its first result, it is told the job is finished for it, and why (what it held
    // when caught comes back rejected too): its loop ends by itself.
    await c.work(announce(job), ctl.signal);
    expect(stopped).toEqual([
      {
        owner: ownerNode.peerId.toString(),
        jobId: 'cheat-job',
        reason: expect.stringMatching(/caught a wrong result/),
      },
    ]);
    expect(ctl.signal.aborted).toBe(false);
    expect(outcomes.length).toBeGreaterThanOrEqual(1);
    expect(outcomes.length).toBeLessThanOrEqual(2);
    expect(outcomes.every((o) => !o.accepted)).toBe(true);
    expect(outcomes[0]!.reason).toBe('residual');
    expect(job.report()).toMatchObject({ accepted: 0 });
    expect(job.c.every((v) => v === 0)).toBe(true);
  });

  test('a quarantined contributor is told why, and by whom, and stops asking', async () => {
    const strictNode = await peer(true);
    const reputation = new Reputation();
    const strict = new ShardOwnerService(strictNode, { reputation });
    await strict.start();
    try {
      const p = randomProblem(8, 8, 8, seededRng(6));
      const job = new MatmulOwnerJob('strict-job', p, planBlocks(8, 8, 8, 8));
      strict.addJob(job);
      const why = 'result for shard 3 of job strict-job rejected: residual';
      reputation.quarantine(workerNode.peerId.toString(), why);
      const { c, outcomes } = contributor(honestMatmul);
      const stopped: StoppedByOwner[] = [];
      c.addEventListener('stopped', (e) => stopped.push(e.detail));
      await c.work({
        ...announce(job),
        owner: strictNode.peerId.toString(),
        addrs: strictNode.getMultiaddrs().map(String),
      });
      expect(outcomes).toEqual([]);
      expect(stopped).toHaveLength(1);
      expect(stopped[0]).toMatchObject({
        owner: strictNode.peerId.toString(),
        jobId: 'strict-job',
      });
      expect(stopped[0]!.reason).toBe(`quarantined by this owner: ${why}`);
    } finally {
      await strict.stop();
      await strictNode.stop();
    }
  });

  test('garbage frames: the owner names the peer, resets the stream, and keeps serving', async () => {
    const before = misbehaved.length;
    const stream = await workerNode.dialProtocol(ownerNode.getMultiaddrs()[0]!, SHARD_PROTOCOL);
    const lp = lpStream(stream);
    await lp.write(Uint8Array.from([8, 2, 18, 200, 1, 1, 2, 3])); // version 2, truncated body
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
    await contributor(honestMatmul).c.work(announce(job));
    expect(job.done).toBe(true);
  });

  test('an old version: a v1 contributor is told "finished" in v1; v1 frames on v2 are refused', async () => {
    const refused: { peer: string; protocol: string }[] = [];
    owner.addEventListener('refused', (e) => refused.push(e.detail));
    const old = await workerNode.dialProtocol(ownerNode.getMultiaddrs()[0]!, SHARD_PROTOCOL_V1);
    const lp = lpStream(old);
    await lp.write(
      ShardFrame.encode({
        version: 1,
        workRequest: { jobId: 'some-job', maxBufferBytes: 2 ** 28, gflops: 1, adapter: '' },
      }),
    );
    expect(ShardFrame.decode(await lp.read())).toEqual(ShardFrame.decode(v1Finished('some-job')));
    expect(refused).toEqual([{ peer: workerNode.peerId.toString(), protocol: SHARD_PROTOCOL_V1 }]);
    // A v1 frame sent on the v2 protocol is a typed error, not a crash, and costs no reputation.
    const before = misbehaved.length;
    const s = await workerNode.dialProtocol(ownerNode.getMultiaddrs()[0]!, SHARD_PROTOCOL);
    const lp2 = lpStream(s);
    const v1 = encodeShardMsg({ type: 'heartbeat', leaseId: 'x' }).slice();
    v1[1] = 1;
    await lp2.write(v1);
    await expect(lp2.read()).rejects.toThrow();
    expect(misbehaved.at(-1)!.error).toMatchObject({ name: 'WireError', code: 'bad-version' });
    expect(misbehaved.length).toBe(before + 1);
  });

  test('the dial timeout bounds the dial only, not the work that follows', async () => {
    const p = randomProblem(32, 8, 32, seededRng(8));
    const job = new MatmulOwnerJob('long', p, planBlocks(32, 32, 16, 16)); // 4 shards
    owner.addJob(job);
    const slow = async (l: LeaseMsg) => {
      await new Promise((r) => setTimeout(r, 150));
      return honestMatmul(l);
    };
    // A 200 ms dial timeout, far shorter than the ~600 ms session.
    await contributor(slow, { budget: 1, dialTimeoutMs: 200 }).c.work(announce(job));
    expect(job.done).toBe(true);
  });

  test('a lease over 4 MiB (libp2p’s default stream buffer) travels whole', async () => {
    const p = randomProblem(1100, 1024, 2, seededRng(6)); // A alone is 4.5 MB
    const job = new MatmulOwnerJob('big', p, planBlocks(1100, 2, 1100, 2));
    owner.addJob(job);
    await contributor(honestMatmul).c.work(announce(job));
    expect(job.done).toBe(true);
  });

  describe('inference, with the model fetched from the owner', () => {
    const files = tinyModelFiles(400);
    const ownerApi = createComputeApi({ tile: DEFAULT_TILE });
    const workerApi = createComputeApi({ tile: DEFAULT_TILE });
    let ownerModels: ModelLibrary;
    let workerModels: ModelLibrary;
    let digest: string;
    const bad: { peer: string; code: string }[] = [];
    afterAll(async () => {
      await ownerModels.server.stop();
      await ownerApi.dispose();
      await workerApi.dispose();
    });

    beforeAll(async () => {
      // The CPU engine: what every machine has, and quick to start (a GPU is no part of this).
      await Promise.all([ownerApi.setEngine('cpu'), workerApi.setEngine('cpu')]);
      ownerModels = new ModelLibrary(
        ownerApi,
        new MemoryModelCache(),
        new ModelServer(ownerNode, {
          chunkBytes: 16 * 1024,
          mayFetch: (p, d, jobId) => {
            const job = owner.jobs.get(jobId);
            return job?.modelDigest === d && job.outstanding().some((l) => l.contributor === p);
          },
        }),
        new ModelFetcher(ownerNode),
      );
      await ownerModels.server.start();
      workerModels = new ModelLibrary(
        workerApi,
        new MemoryModelCache(),
        new ModelServer(workerNode, { mayFetch: () => false }),
        new ModelFetcher(workerNode, { onBadPeer: (p, e) => bad.push({ peer: p, code: e.code }) }),
      );
      digest = await ownerModels.add(files, 'tiny');
    });

    function inferenceJob(id: string, mode: 'logits' | 'tokens') {
      const sequences = Array.from({ length: 8 }, (_, i) =>
        Uint32Array.from({ length: 5 + (i % 3) }, (_, j) => (i * 11 + j) % tinySummary.vocab),
      );
      return new InferenceOwnerJob(
        id,
        {
          modelDigest: digest,
          model: tinySummary,
          sequences,
          mode,
          steps: mode === 'tokens' ? 5 : 0,
          temperature: mode === 'tokens' ? 0.9 : 0,
          seed: 7,
          perShard: 3,
          // One copy and every shard checked: a lone contributor can finish it.
          policy: { ...defaultPolicy(mode), copies: 1, spotCheckRate: 1 },
        },
        { engine: ownerApi, rng: cryptoRng() },
      );
    }

    const computeWithModels =
      (job: AnnouncementMsg) =>
      async (l: LeaseMsg): Promise<Output> => {
        const d = requiredModel(l.work);
        if (d) {
          await workerModels.ensure(
            d,
            { owner: job.owner, addr: job.addrs[0]!, jobId: job.jobId },
            AbortSignal.timeout(30_000),
          );
        }
        return computeShard(l.work, workerApi);
      };

    test.each(['logits', 'tokens'] as const)(
      'a %s job runs on a contributor that fetched the model, every shard checked by the owner',
      async (mode) => {
        const job = inferenceJob(`inf-${mode}`, mode);
        owner.addJob(job);
        const a = announce(job);
        expect(await workerApi.hasModel(digest)).toBe(mode === 'tokens'); // fetched by the first
        const { c, outcomes } = contributor(computeWithModels(a));
        await c.work(a);
        expect(job.done).toBe(true);
        expect(outcomes.length).toBe(job.shardCount);
        expect(outcomes.every((o) => o.accepted)).toBe(true);
        expect(await workerApi.hasModel(digest)).toBe(true);
        // The assembled answer is what the owner's own engine computes for the same sequences
        // (sampled tokens too: every sequence has its own seed, so runs agree).
        const all = job.spec.sequences;
        const mine = await computeInference(
          {
            ...(job.work(0) as InferenceWork),
            lengths: Uint32Array.from(all, (q) => q.length),
            tokens: Uint32Array.from(all.flatMap((q) => Array.from(q))),
            seeds: mode === 'tokens' ? sequenceSeeds(7, all.length) : new Uint32Array(0),
          },
          ownerApi,
        );
        if (mode === 'logits') {
          const scale = Math.max(...Array.from(mine.logits, Math.abs));
          for (let i = 0; i < mine.logits.length; i++) {
            expect(Math.abs(job.logits[i]! - mine.logits[i]!)).toBeLessThan(1e-4 * scale);
          }
        } else {
          expect(job.tokens).toEqual(mine.tokens);
        }
        const r = job.report();
        expect(r.spotChecks + r.canaries).toBe(job.shardCount);
        expect(r).toMatchObject({ spotChecksFailed: 0, canariesFailed: 0, rejected: 0 });
      },
    );

    test.each(['embed', 'score'] as const)(
      'a data-set %s job crosses the wire on CPU engines; the owner checks sampled rows',
      async (kind) => {
        const files = kind === 'embed' ? tinyModelFiles(401, 'bert') : undefined;
        const d = files ? await ownerModels.add(files, 'tiny-bert') : digest;
        const model = (await ownerApi.hasModel(d)) ? ownerModels.summary(d)! : tinySummary;
        const rows = Array.from({ length: 120 }, (_, i) =>
          Uint32Array.from({ length: 4 + (i % 5) }, (_, j) => (i * 7 + j) % 30),
        );
        const js = buildJobSpec(kind, { modelDigest: d, model, rows, perShard: 8 }, cryptoRng());
        const job = createJob(`rows-${kind}`, js, {
          engine: ownerApi,
          rng: cryptoRng(),
        }) as InferenceOwnerJob;
        const stored = new Map<number, Output>();
        owner.addJob(job);
        const service = job.onSettled;
        job.onSettled = (st) => {
          service?.(st);
          if (st.shard) stored.set(st.shard.shardId, st.shard.output);
        };
        const a = announce(job);
        expect(a.kind).toBe(kind);
        const { c, outcomes } = contributor(computeWithModels(a));
        await c.work(a);
        expect(job.done).toBe(true);
        expect(outcomes.every((o) => o.accepted)).toBe(true);
        // A job of 15 shards checks ⌈44 / 15⌉ = 3 of the 8 rows of each.
        const r = job.report();
        expect(job.spec.policy.checkRows).toBe(3);
        expect(r.rowsChecked).toBe(45);
        expect(r.checkFlops / r.computeFlops).toBeLessThan(0.5);
        // The stored outputs are the owner's own engine's answer for each row.
        const mine = await computeInference(
          {
            ...(job.work(0) as InferenceWork),
            lengths: Uint32Array.from(rows, (q) => q.length),
            tokens: Uint32Array.from(rows.flatMap((q) => Array.from(q))),
          },
          ownerApi,
        );
        const width = kind === 'embed' ? model.hidden : 1;
        for (const { shardId, start, count } of rowShards(job.spec)) {
          const o = stored.get(shardId) as InferenceOutput;
          const got = kind === 'embed' ? o.vectors : o.scores;
          const want = (kind === 'embed' ? mine.vectors : mine.scores).subarray(
            start * width,
            (start + count) * width,
          );
          for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 4);
        }
      },
    );

    test('the owner serves a model only to a peer holding a lease on a job that uses it', async () => {
      const stranger = await peer(false);
      try {
        const fetcher = new ModelFetcher(stranger);
        const job = inferenceJob('unleased', 'logits');
        owner.addJob(job);
        const src = {
          owner: ownerNode.peerId.toString(),
          addr: ownerNode.getMultiaddrs()[0]!.toString(),
          jobId: job.id,
        };
        await expect(fetcher.fetch(digest, src, AbortSignal.timeout(10_000))).rejects.toMatchObject(
          {
            name: 'ModelTransferError',
            code: 'refused',
          },
        );
        await expect(
          fetcher.fetch('ab'.repeat(32), src, AbortSignal.timeout(10_000)),
        ).rejects.toMatchObject({ code: 'refused' });
      } finally {
        await stranger.stop();
      }
    });

    test('a corrupted chunk is refused and fetched again; the owner loses reputation', async () => {
      const fetchingNode = await peer(false);
      const badBefore = bad.length;
      const job = inferenceJob('corrupt', 'logits');
      owner.addJob(job);
      const lease = job.offer(
        {
          id: fetchingNode.peerId.toString(),
          gflops: 1,
          bytesPerSec: 0,
          maxBufferBytes: 2 ** 28,
          adapter: 'x',
        },
        Date.now(),
      );
      expect(lease.kind).toBe('lease');
      const fetcher = new ModelFetcher(fetchingNode, {
        onBadPeer: (p, e) => bad.push({ peer: p, code: e.code }),
      });
      corruptModelChunks(ownerModels.server, 1);
      try {
        const got = await fetcher.fetch(
          digest,
          {
            owner: ownerNode.peerId.toString(),
            addr: ownerNode.getMultiaddrs()[0]!.toString(),
            jobId: job.id,
          },
          AbortSignal.timeout(10_000),
        );
        expect(got).toEqual(files);
        expect(bad.slice(badBefore)).toEqual([
          { peer: ownerNode.peerId.toString(), code: 'chunk-mismatch' },
        ]);
      } finally {
        corruptModelChunks(ownerModels.server, 0);
        await fetchingNode.stop();
      }
    });
  });
});

describe('/tessel/model/1.0.0 against a lying owner', () => {
  let liarNode: MeshNode;
  let fetchNode: MeshNode;
  const files = tinyModelFiles(500);
  const file = encodeFileMap(files);
  const config = '';
  const chunk = 8192;
  let digest: string;
  let hashes: Uint8Array[];
  /** The frames the liar sends for a request from `offset`. */
  let serve: (offset: number) => Uint8Array[];

  const sha = async (b: Uint8Array) =>
    new Uint8Array(await crypto.subtle.digest('SHA-256', b.slice()));
  const manifest = (over = {}) =>
    encodeModelMsg({
      type: 'model-manifest',
      digest,
      config,
      fileBytes: file.length,
      chunkBytes: chunk,
      chunkHashes: hashes,
      ...over,
    });
  const chunks = (bytes: Uint8Array, from = 0, to = bytes.length) => {
    const out: Uint8Array[] = [];
    for (let at = from; at < to; at += chunk) {
      out.push(
        encodeModelMsg({ type: 'model-chunk', offset: at, data: bytes.subarray(at, at + chunk) }),
      );
    }
    return out;
  };

  beforeAll(async () => {
    digest = await checkpointDigest(files);
    hashes = [];
    for (let at = 0; at < file.length; at += chunk)
      hashes.push(await sha(file.subarray(at, at + chunk)));
    liarNode = await peer(true);
    fetchNode = await peer(false);
    await liarNode.handle(MODEL_PROTOCOL, async (stream) => {
      const lp = lpStream(stream);
      const req = decodeModelMsg(await lp.read());
      if (req.type !== 'model-request') return stream.abort(new Error('not a request'));
      for (const frame of serve(req.offset)) await lp.write(frame);
      await stream.close();
    });
  });
  afterAll(async () => {
    await fetchNode.stop();
    await liarNode.stop();
  });

  async function fetchFromLiar(max?: number) {
    const bad: string[] = [];
    const fetcher = new ModelFetcher(fetchNode, {
      attempts: 3,
      ...(max ? { maxModelBytes: max } : {}),
      onBadPeer: (_, e) => bad.push(e.code),
    });
    const src = {
      owner: liarNode.peerId.toString(),
      addr: liarNode.getMultiaddrs()[0]!.toString(),
      jobId: 'j',
    };
    const result = await fetcher.fetch(digest, src, AbortSignal.timeout(10_000)).catch((e) => e);
    return { result, bad, fetcher };
  }

  test('a dropped connection resumes after the last good chunk', async () => {
    const offsets: number[] = [];
    serve = (offset) => {
      offsets.push(offset);
      // The first stream ends after three chunks; the next one serves the rest.
      return offsets.length === 1
        ? [manifest(), ...chunks(file, 0, 3 * chunk)]
        : [manifest(), ...chunks(file, offset)];
    };
    const { result, bad } = await fetchFromLiar();
    expect(result).toEqual(files);
    expect(offsets).toEqual([0, 3 * chunk]);
    expect(bad).toEqual([]); // an early end is not a lie
  });

  test('a lying length is a typed error, the bad bytes are dropped, and the fetch goes on', async () => {
    // The first chunk is cut short (its frame says 10 bytes where the slot holds 8,192).
    let lied = false;
    serve = (offset) => {
      const all = chunks(file, offset);
      if (!lied) {
        lied = true;
        const short = encodeModelMsg({ type: 'model-chunk', offset, data: file.subarray(0, 10) });
        return [manifest(), short, ...all.slice(1)];
      }
      return [manifest(), ...all];
    };
    const r = await fetchFromLiar();
    expect(r.bad).toEqual(['bad-chunk']);
    expect(r.result).toEqual(files);
  });

  test('a model too large is refused from its manifest; nothing is fetched', async () => {
    serve = () => [manifest(), ...chunks(file)];
    const r = await fetchFromLiar(1024);
    expect(r.result).toMatchObject({ name: 'ModelTransferError', code: 'too-large' });
    expect(r.fetcher.received(digest)).toBe(0);
  });

  /** Serves `other` whole, with a manifest whose chunk hashes match it. */
  async function serveWhole(other: Uint8Array) {
    const otherHashes: Uint8Array[] = [];
    for (let at = 0; at < other.length; at += chunk)
      otherHashes.push(await sha(other.subarray(at, at + chunk)));
    serve = () => [
      manifest({ chunkHashes: otherHashes, fileBytes: other.length }),
      ...chunks(other),
    ];
  }

  test('chunks that match their hashes but not the digest: refused whole, bytes discarded', async () => {
    await serveWhole(encodeFileMap(tinyModelFiles(501)));
    const r = await fetchFromLiar();
    expect(r.result).toMatchObject({ name: 'ModelTransferError', code: 'digest-mismatch' });
    expect(r.bad).toEqual(['digest-mismatch']);
    expect(r.fetcher.received(digest)).toBe(0);
  });

  test('bytes that are no checkpoint folder are refused whole as a lie', async () => {
    const notAFolder = file.slice();
    notAFolder[0]! ^= 1; // the magic
    const broken = { ...files, 'config.json': new TextEncoder().encode('{"model_type": "gpt9"}') };
    for (const other of [notAFolder, encodeFileMap(broken)]) {
      await serveWhole(other);
      const r = await fetchFromLiar();
      expect(r.result).toMatchObject({ name: 'ModelTransferError', code: 'digest-mismatch' });
      expect(r.result.message).toMatch(/not a checkpoint folder/);
      expect(r.bad).toEqual(['digest-mismatch']);
      expect(r.fetcher.received(digest)).toBe(0);
    }
  });

  test('garbage frames from the owner are typed errors and cost it reputation', async () => {
    serve = () => [manifest(), Uint8Array.from([8, 2, 34, 200, 1, 1])];
    const r = await fetchFromLiar();
    expect(r.result).toMatchObject({ name: 'ModelTransferError', code: 'unavailable' });
    expect(r.bad).toEqual(['malformed', 'malformed', 'malformed']);
  });
});
