import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { describe, expect, test } from 'vitest';
import { idbTuneStore } from '../../../src/gpu/tune-store-idb';
import { encodeOutput } from '../../../src/jobs/codec';
import { defaultPolicy } from '../../../src/jobs/inference-spec';
import { OwnerTrust } from '../../../src/jobs/owner-trust';
import { encodeShardMsg } from '../../../src/mesh/codec';
import { checkStoredJob, OWNER_DB_VERSION, OwnerStore } from '../../../src/mesh/store';
import { tinySummary } from '../../support/model-fixture';

const matmul = {
  id: 'job_1',
  kind: 'matmul',
  spec: {
    m: 2,
    k: 3,
    n: 4,
    a: new Float32Array(2 * 3),
    b: new Float32Array(3 * 4),
    blockRows: 2,
    blockCols: 4,
  },
  createdAt: 1_800_000_000_000,
  finished: false,
};

const inference = {
  id: 'job_2',
  kind: 'inference',
  spec: {
    modelDigest: 'ab'.repeat(32),
    model: tinySummary,
    sequences: [Uint32Array.from([1, 2, 3])],
    mode: 'tokens',
    steps: 4,
    temperature: 0,
    seed: 1,
    perShard: 1,
    policy: defaultPolicy('tokens'),
  },
  createdAt: 1_800_000_000_000,
  finished: false,
};

test('sound stored jobs of each kind pass; damaged records say what is wrong', () => {
  expect(checkStoredJob(matmul)).toMatchObject({ kind: 'matmul' });
  expect(checkStoredJob(inference)).toMatchObject({ kind: 'inference' });
  const cases: [unknown, RegExp][] = [
    [null, /object/],
    ['job', /object/],
    [{ ...matmul, id: '../../etc' }, /id/],
    [{ ...matmul, kind: 'mine-bitcoin' }, /kind/],
    [{ ...matmul, spec: { ...matmul.spec, m: 0 } }, /m/],
    [{ ...matmul, spec: { ...matmul.spec, k: 2.5 } }, /k/],
    [{ ...matmul, spec: { ...matmul.spec, a: new Float32Array(5) } }, /A/],
    [{ ...matmul, spec: { ...matmul.spec, b: [1, 2, 3] } }, /B/],
    [{ ...matmul, finished: 'no' }, /flags/],
    [{ ...inference, spec: { ...inference.spec, model: { ...tinySummary, vocab: 0 } } }, /model/],
    // A job stored before issue 23 named its model by tessel's own config format: refused.
    [
      { ...inference, spec: { ...inference.spec, model: undefined, config: { vocab: 1 } } },
      /model/,
    ],
    [{ ...inference, spec: { ...inference.spec, sequences: [[1, 2]] } }, /sequences/],
    [
      { ...inference, spec: { ...inference.spec, sequences: [Uint32Array.from([99])] } },
      /vocabulary/,
    ],
    [{ ...inference, spec: { ...inference.spec, policy: { copies: 9 } } }, /copies/],
  ];
  for (const [record, why] of cases) expect(checkStoredJob(record)).toMatch(why);
});

describe('the owner store (IndexedDB)', () => {
  test('a store written by schema version 1 upgrades with no job, block or peer lost', async () => {
    const name = 'upgrade-from-v1';
    // Exactly what version 1 wrote: a matmul job as flat fields, blocks of C as raw f32 bytes.
    const v1 = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore('jobs', { keyPath: 'id' });
        d.createObjectStore('results', { keyPath: ['jobId', 'shardId'] });
        d.createObjectStore('reputation');
      },
    });
    const a = Float32Array.from({ length: 4 * 3 }, (_, i) => i);
    const b = Float32Array.from({ length: 3 * 6 }, (_, i) => -i);
    await v1.put('jobs', {
      id: 'old_job',
      m: 4,
      k: 3,
      n: 6,
      a: a.buffer,
      b: b.buffer,
      blockRows: 2,
      blockCols: 4,
      createdAt: 1_800_000_000_000,
      finished: false,
    });
    // Blocks of a 4×6 C in 2×4 blocks: shard 1 is rows 0–1, columns 4–5 (2×2).
    const block0 = Float32Array.from({ length: 8 }, (_, i) => i + 0.5);
    const block1 = Float32Array.from({ length: 4 }, (_, i) => i + 100);
    await v1.put('results', { jobId: 'old_job', shardId: 0, c: block0.buffer });
    await v1.put('results', { jobId: 'old_job', shardId: 1, c: block1.buffer });
    await v1.put('results', { jobId: 'old_job', shardId: 2, c: new ArrayBuffer(3) }); // damaged
    const record = {
      score: 3,
      accepted: 3,
      rejected: 0,
      missedDeadlines: 0,
      malformed: 0,
      failures: 0,
      quarantined: false,
    };
    await v1.put('reputation', record, 'peer-1');
    v1.close();

    const store = await OwnerStore.open(name);
    const jobs = await store.unfinishedJobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ id: 'old_job', kind: 'matmul', finished: false });
    expect(jobs[0]!.spec).toMatchObject({ m: 4, k: 3, n: 6, blockRows: 2, blockCols: 4 });
    expect((jobs[0]!.spec as { a: Float32Array }).a).toEqual(a);
    const results = await store.results('old_job');
    expect(results).toEqual([
      { shardId: 0, output: { kind: 'matmul', rows: 2, cols: 4, c: block0 } },
      { shardId: 1, output: { kind: 'matmul', rows: 2, cols: 2, c: block1 } },
    ]);
    expect(await store.peers()).toEqual([['peer-1', { ...record, seenAt: 0 }]]);
    store.close();
  });

  test('a store written by schema version 2 upgrades to the current one with no job, block, receipt or peer lost', async () => {
    const name = 'upgrade-from-v2';
    // Exactly what version 2 wrote (the schema before this one): four stores, no indexes.
    const v2 = await openDB(name, 2, {
      upgrade(d) {
        d.createObjectStore('jobs', { keyPath: 'id' });
        d.createObjectStore('results', { keyPath: ['jobId', 'shardId'] });
        d.createObjectStore('reputation');
        d.createObjectStore('outbox');
      },
    });
    const terms = { price: 2, budget: 5_000_000 };
    await v2.put('jobs', { ...matmul, createdAt: 1_800_000_000_000, finished: false, terms });
    const block = Float32Array.from({ length: 8 }, (_, i) => i / 3);
    const output = { kind: 'matmul' as const, rows: 2, cols: 4, c: block };
    await v2.put('results', {
      jobId: 'job_1',
      shardId: 0,
      output: encodeOutput(output).slice().buffer,
    });
    const receipt = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255); // a bundle's bytes
    const verdict = {
      type: 'verdict' as const,
      leaseId: 's0-l1',
      jobId: 'job_1',
      shardId: 0,
      accepted: true,
      reason: 'verified',
      receipt,
    };
    await v2.put(
      'outbox',
      { peer: 'peer-1', frame: encodeShardMsg(verdict).slice().buffer },
      's0-l1',
    );
    const peer = {
      score: 1,
      accepted: 1,
      rejected: 0,
      missedDeadlines: 0,
      malformed: 0,
      failures: 0,
      quarantined: false,
    };
    await v2.put('reputation', peer, 'peer-1');
    await v2.put('reputation', { ...peer, score: -20, quarantined: true }, 'cheat');
    v2.close();

    const store = await OwnerStore.open(name);
    expect(store.db.version).toBe(OWNER_DB_VERSION);
    const [job] = await store.unfinishedJobs();
    expect(job).toMatchObject({ id: 'job_1', kind: 'matmul', terms });
    expect(await store.trust()).toEqual([]); // version 4's store, empty
    expect(await store.results('job_1')).toEqual([{ shardId: 0, output }]);
    expect(await store.verdicts()).toEqual([['peer-1', verdict]]);
    expect(new Map(await store.peers())).toEqual(
      new Map([
        ['peer-1', { ...peer, seenAt: 0 }],
        ['cheat', { ...peer, score: -20, quarantined: true, seenAt: 0 }],
      ]),
    );
    // Version 3's bound: beyond maxKept, the longest unseen records go (the undated first).
    await store.putPeer('new-1', { ...peer, seenAt: 10 }, 3);
    await store.putPeer('new-2', { ...peer, seenAt: 20 }, 3);
    expect((await store.peers()).map(([p]) => p).sort()).toEqual(['new-1', 'new-2', 'peer-1']);
    store.close();
  });

  test('version 4 keeps the owner’s trust: a reload forgets neither a caught cheat nor a proven peer', async () => {
    const store = await OwnerStore.open('trust');
    const before = new OwnerTrust({ provenAfter: 4 });
    before.onChange = (peer, r) => void store.putTrust(peer, r);
    const settle = () => new Promise((r) => setTimeout(r, 20)); // the trust does not await writes
    before.passed('honest', 5);
    await settle();
    before.caught('cheat', 'job_1: shard 3: residual');
    await settle();
    const after = new OwnerTrust({ provenAfter: 4 });
    after.load(await store.trust());
    expect(after.isProven('honest')).toBe(true);
    expect(after.isCaught('cheat')).toBe(true);
    expect(after.isProven('cheat')).toBe(false);
    // Damaged records are skipped; beyond the cap the longest unchanged go.
    after.load([['x', { passed: -1, caught: '' }], ['y', null], 'z']);
    expect(after.size).toBe(2);
    await store.putTrust('new-1', { passed: 1, caught: '' }, 2);
    expect((await store.trust()).map(([p]) => p)).toEqual(['cheat', 'new-1']);
    store.close();
  });

  test('jobs of any kind and their outputs round-trip; finished jobs are not resumed', async () => {
    const store = await OwnerStore.open('kinds');
    await store.putJob(matmul as never);
    await store.putJob(inference as never);
    await store.settle('job_2', {
      shard: {
        shardId: 0,
        output: {
          kind: 'inference',
          logits: new Float32Array(0),
          tokens: Uint32Array.from([1, 2, 3, 4]),
          vectors: new Float32Array(0),
          scores: new Float32Array(0),
        },
      },
      verdicts: [],
    });
    expect((await store.unfinishedJobs()).map((j) => j.kind).sort()).toEqual([
      'inference',
      'matmul',
    ]);
    expect(await store.results('job_2')).toEqual([
      {
        shardId: 0,
        output: {
          kind: 'inference',
          logits: new Float32Array(0),
          tokens: Uint32Array.from([1, 2, 3, 4]),
          vectors: new Float32Array(0),
          scores: new Float32Array(0),
        },
      },
    ]);
    // Read back one at a time, and by id alone (a data-set job's outputs stay on disk).
    expect(await store.resultIds('job_2')).toEqual([0]);
    expect((await store.result('job_2', 0))?.kind).toBe('inference');
    expect(await store.result('job_2', 1)).toBeUndefined();
    await store.finishJob('job_1');
    expect((await store.unfinishedJobs()).map((j) => j.id)).toEqual(['job_2']);
    store.close();
  });

  test('a settlement keeps the shard and its verdicts together, or neither', async () => {
    const store = await OwnerStore.open('settle');
    const output = { kind: 'matmul' as const, rows: 1, cols: 2, c: Float32Array.from([1, 2]) };
    const msg = {
      type: 'verdict' as const,
      leaseId: 's0-l1',
      jobId: 'job_1',
      shardId: 0,
      accepted: true,
      reason: 'verified',
      receipt: Uint8Array.from([9]),
    };
    // A verdict that cannot be encoded (an id the codec refuses) fails the whole settlement.
    await expect(
      store.settle('job_1', {
        shard: { shardId: 0, output },
        verdicts: [{ peer: 'p', msg: { ...msg, leaseId: 'no spaces' } }],
      }),
    ).rejects.toThrow();
    expect(await store.results('job_1')).toEqual([]);
    expect(await store.verdicts()).toEqual([]);
    await store.settle('job_1', { shard: { shardId: 0, output }, verdicts: [{ peer: 'p', msg }] });
    expect(await store.results('job_1')).toEqual([{ shardId: 0, output }]);
    expect(await store.verdicts()).toEqual([['p', msg]]);
    // A caught contributor had a part in shard 0: its output goes in the same write as shard 1's.
    await store.settle('job_1', {
      shard: { shardId: 1, output },
      verdicts: [],
      reopened: [0],
    });
    expect(await store.results('job_1')).toEqual([{ shardId: 1, output }]);
    store.close();
  });

  test('verdicts owed to contributors survive a reload until delivered; damaged ones are dropped', async () => {
    const store = await OwnerStore.open('outbox');
    const v = {
      type: 'verdict' as const,
      leaseId: 's3-l7',
      jobId: 'job_1',
      shardId: 3,
      accepted: true,
      reason: 'verified',
      receipt: Uint8Array.from([1, 2, 3]),
    };
    await store.settle('job_1', { verdicts: [{ peer: 'peer-1', msg: v }] });
    await store.settle('job_1', {
      verdicts: [{ peer: 'peer-2', msg: { ...v, leaseId: 's4-l8', shardId: 4 } }],
    });
    await store.db.put('outbox', { peer: 'peer-3', frame: new ArrayBuffer(7) }, 'junk');
    store.close();
    const reopened = await OwnerStore.open('outbox');
    expect(await reopened.verdicts()).toEqual([
      ['peer-1', v],
      ['peer-2', { ...v, leaseId: 's4-l8', shardId: 4 }],
    ]);
    await reopened.deleteVerdict('s3-l7');
    expect((await reopened.verdicts()).map(([p]) => p)).toEqual(['peer-2']);
    reopened.close();
  });

  test('an open store does not block a newer tab’s upgrade', async () => {
    const store = await OwnerStore.open('blocking');
    const newer = await openDB('blocking', 99, { blocked: () => expect.fail('blocked') });
    expect(newer.version).toBe(99);
    newer.close();
    void store;
  });

  test('neither does the tuning cache (the model cache: tests/unit/mesh/model-cache.test.ts)', async () => {
    const tune = idbTuneStore('tune-blocking');
    await tune.set('adapter', { wgX: 8, wgY: 8, tk: 16 });
    const newer = await openDB('tune-blocking', 99, { blocked: () => expect.fail('blocked') });
    expect(newer.version).toBe(99);
    newer.close();
  });
});
