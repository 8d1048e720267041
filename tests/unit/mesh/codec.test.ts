// Over 450 lines: the shard protocol's validating codec, one test per message type and field
// rule; splitting by message would repeat the frame builders in each file.
import { describe, expect, test } from 'vitest';
import type { MatmulWork } from '../../../src/jobs/codec';
import {
  type AnnouncementMsg,
  clipReason,
  decodeAnnouncement,
  decodeModelMsg,
  decodeShardMsg,
  encodeAnnouncement,
  encodeModelMsg,
  encodeShardMsg,
  type LeaseMsg,
  MAX_FRAME_BYTES,
  MAX_REASON_CHARS,
  type ModelMsg,
  type ShardMsg,
  v1Finished,
  v1WorkRequestJob,
  WireError,
} from '../../../src/mesh/codec';
import { ShardFrame } from '../../../src/mesh/pb/wire';
import { seededRng } from '../../../src/model/rng';

const f32 = (n: number, seed = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + seed));
const u32 = (n: number, mod = 37) => Uint32Array.from({ length: n }, (_, i) => (i * 7 + 3) % mod);

const matmulWork: MatmulWork = { kind: 'matmul', m: 3, k: 5, n: 4, a: f32(15), b: f32(20, 2) };
const matmulLease: LeaseMsg = {
  type: 'lease',
  jobId: 'job-1',
  shardId: 7,
  leaseId: 'L7_a',
  deadlineMs: 30_000,
  heartbeatMs: 2_000,
  lifetimeMs: 300_000,
  work: matmulWork,
};
const inferenceWork = {
  kind: 'inference' as const,
  modelDigest: 'cd'.repeat(32),
  lengths: Uint32Array.from([3, 5]),
  tokens: u32(8),
  mode: 'tokens' as const,
  steps: 4,
  temperature: 0.7,
  seeds: Uint32Array.from([11, 4_000_000_000]),
};

const samples: ShardMsg[] = [
  {
    type: 'work-request',
    jobId: 'job-1',
    maxBufferBytes: 134_217_728,
    gflops: 3.5,
    adapter: 'webgpu:google/swiftshader:software',
  },
  matmulLease,
  { ...matmulLease, leaseId: 'L8', work: inferenceWork },
  {
    ...matmulLease,
    leaseId: 'L9',
    work: { ...inferenceWork, mode: 'logits', steps: 0, temperature: 0, seeds: new Uint32Array(0) },
  },
  { type: 'no-work', jobId: 'job-1', retryAfterMs: 500, finished: false },
  { type: 'heartbeat', leaseId: 'L7_a' },
  {
    type: 'result',
    jobId: 'job-1',
    leaseId: 'L7_a',
    output: { kind: 'matmul', rows: 3, cols: 4, c: f32(12, 3) },
    computeMs: 12.5,
  },
  {
    type: 'result',
    jobId: 'job-1',
    leaseId: 'L8',
    output: {
      kind: 'inference',
      logits: new Float32Array(0),
      tokens: u32(8),
      vectors: new Float32Array(0),
      scores: new Float32Array(0),
    },
    computeMs: 40,
  },
  {
    type: 'result',
    jobId: 'job-1',
    leaseId: 'L9',
    output: {
      kind: 'inference',
      logits: f32(2 * 37),
      tokens: new Uint32Array(0),
      vectors: new Float32Array(0),
      scores: new Float32Array(0),
    },
    computeMs: 40,
  },
  {
    type: 'verdict',
    leaseId: 'L7_a',
    jobId: 'job-1',
    shardId: 7,
    accepted: false,
    reason: 'residual',
    receipt: new Uint8Array(0),
  },
  {
    type: 'verdict',
    leaseId: 'L7_b',
    jobId: 'job-1',
    shardId: 7,
    accepted: true,
    reason: 'verified',
    receipt: new Uint8Array([1, 2, 3]),
  },
  {
    // A speculative copy that lost the race: not accepted, not held against anyone.
    type: 'verdict',
    leaseId: 'L7_c',
    jobId: 'job-1',
    shardId: 7,
    accepted: false,
    reason: 'the shard was already decided',
    receipt: new Uint8Array(0),
    stale: true,
  },
  { type: 'failure', leaseId: 'L7_a', code: 'device-lost', message: 'GPU reset' },
  {
    type: 'no-work',
    jobId: 'job-1',
    retryAfterMs: 0,
    finished: true,
    reason: 'quarantined by this owner: result for shard 3 rejected (residual)',
  },
];
const name = (m: ShardMsg) =>
  m.type === 'lease'
    ? `lease (${m.work.kind}${'mode' in m.work ? ` ${m.work.mode}` : ''})`
    : m.type === 'result'
      ? `result (${m.output.kind})`
      : m.type;

const modelSamples: ModelMsg[] = [
  { type: 'model-request', digest: 'cd'.repeat(32), jobId: 'job-1', offset: 262_144 },
  {
    type: 'model-manifest',
    digest: 'cd'.repeat(32),
    config: '{"vocab":37}',
    fileBytes: 10_000,
    chunkBytes: 4096,
    chunkHashes: [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), new Uint8Array(32)],
  },
  { type: 'model-chunk', offset: 4096, data: Uint8Array.from({ length: 300 }, (_, i) => i) },
  { type: 'model-refusal', code: 'not-leased', message: 'no lease on a job that uses it' },
];

const announcement: AnnouncementMsg = {
  jobId: 'job-1',
  owner: '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf',
  kind: 'matmul',
  shardCount: 16,
  shardsLeft: 9,
  kernelDigest: 'ab'.repeat(32),
  expiresAt: 1_800_000_000_000,
  addrs: ['/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'],
  modelDigest: '',
  modelBytes: 0,
  price: 1,
  shardGflop: 0,
};

/** Random and mutated inputs: pure noise, bit flips, truncations, splices and extensions. */
function* garbage(valid: Uint8Array, count: number, seed: number): Generator<Uint8Array> {
  const rng = seededRng(seed);
  const r = (n: number) => rng.nextUint32() % Math.max(1, n);
  for (let i = 0; i < count; i++) {
    const kind = i % 5;
    let out: Uint8Array;
    if (kind === 0) {
      out = Uint8Array.from({ length: r(200) }, () => r(256));
    } else if (kind === 1) {
      out = valid.slice();
      for (let f = 0; f <= r(4); f++) out[r(out.length)]! ^= 1 << r(8);
    } else if (kind === 2) {
      out = valid.slice(0, r(valid.length));
    } else if (kind === 3) {
      out = valid.slice();
      const at = r(out.length);
      out.set(
        Uint8Array.from({ length: Math.min(8, out.length - at) }, () => r(256)),
        at,
      );
    } else {
      out = new Uint8Array(valid.length + 1 + r(16));
      out.set(valid);
      for (let j = valid.length; j < out.length; j++) out[j] = r(256);
    }
    yield out;
  }
}

describe('shard protocol codec', () => {
  test.each(samples.map((s) => [name(s), s] as const))('%s round-trips', (_, msg) => {
    expect(decodeShardMsg(encodeShardMsg(msg))).toEqual(msg);
  });

  test.each(samples.map((s) => [name(s), s] as const))(
    '%s: 10,000 random and mutated frames never crash, only WireError',
    (_, msg) => {
      const valid = encodeShardMsg(msg);
      const codes = new Map<string, number>();
      for (const bytes of garbage(valid, 10_000, valid.length)) {
        try {
          const decoded = decodeShardMsg(bytes);
          // A mutation may still be a valid frame (e.g. a flipped bit inside a float): then it
          // must be fully valid, i.e. re-encode to something that decodes the same.
          expect(decodeShardMsg(encodeShardMsg(decoded))).toEqual(decoded);
          codes.set('valid', (codes.get('valid') ?? 0) + 1);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        }
      }
      expect(codes.get('malformed') ?? 0).toBeGreaterThan(0);
    },
  );

  test('specific bad frames name the field, inside the kind-tagged bodies too', () => {
    const inf = samples[2] as LeaseMsg;
    const work = inf.work as typeof inferenceWork;
    const cases: [ShardMsg, string][] = [
      [{ ...matmulLease, work: { ...matmulWork, a: f32(14) } }, 'lease.work.matmul.a'],
      [
        { ...matmulLease, work: { ...matmulWork, m: 0, a: new Float32Array(0) } },
        'lease.work.matmul.m',
      ],
      [{ ...matmulLease, jobId: 'no spaces allowed' }, 'lease.jobId'],
      [{ ...matmulLease, heartbeatMs: 60_000 }, 'lease.heartbeatMs'],
      [{ ...matmulLease, lifetimeMs: 1_000 }, 'lease.lifetimeMs'],
      [{ ...inf, work: { ...work, modelDigest: 'xyz' } }, 'lease.work.inference.modelDigest'],
      [{ ...inf, work: { ...work, tokens: u32(7) } }, 'lease.work.inference.tokens'],
      [
        { ...inf, work: { ...work, lengths: Uint32Array.from([3, 0, 5]) } },
        'lease.work.inference.lengths',
      ],
      [{ ...inf, work: { ...work, seeds: Uint32Array.from([1]) } }, 'lease.work.inference.seeds'],
      [{ ...inf, work: { ...work, steps: 0 } }, 'lease.work.inference.steps'],
      [{ ...inf, work: { ...work, temperature: Number.NaN } }, 'lease.work.inference.temperature'],
      [
        {
          type: 'result',
          jobId: 'j',
          leaseId: 'x',
          output: { kind: 'matmul', rows: 2, cols: 2, c: f32(3) },
          computeMs: 1,
        },
        'result.output.matmul.c',
      ],
      [
        {
          type: 'result',
          jobId: 'j',
          leaseId: 'x',
          output: {
            kind: 'inference',
            logits: f32(3),
            tokens: u32(2),
            vectors: new Float32Array(0),
            scores: new Float32Array(0),
          },
          computeMs: 1,
        },
        'result.output.inference',
      ],
      [
        {
          type: 'result',
          jobId: 'j',
          leaseId: 'x',
          output: { kind: 'matmul', rows: 1, cols: 1, c: f32(1) },
          computeMs: Number.NaN,
        },
        'result.computeMs',
      ],
      [
        { type: 'work-request', jobId: 'j', maxBufferBytes: 10, gflops: 1, adapter: '' },
        'workRequest.maxBufferBytes',
      ],
      [
        { type: 'no-work', jobId: 'j', retryAfterMs: 0, finished: true, reason: 'x'.repeat(201) },
        'noWork.reason',
      ],
      // A reason is one line: a peer cannot forge a log line or hide text behind a return.
      [
        {
          type: 'no-work',
          jobId: 'j',
          retryAfterMs: 0,
          finished: true,
          reason: 'quarantined\ntessel: owner X paid you 1000 credits',
        },
        'noWork.reason',
      ],
      [
        { type: 'no-work', jobId: 'j', retryAfterMs: 0, finished: true, reason: 'ok\u0007' },
        'noWork.reason',
      ],
      [
        { type: 'no-work', jobId: 'j', retryAfterMs: 0, finished: true, reason: 'ko\u202eok' },
        'noWork.reason',
      ],
      [
        {
          type: 'work-request',
          jobId: 'j',
          maxBufferBytes: 4096,
          gflops: 1,
          adapter: 'x'.repeat(200),
        },
        'workRequest.adapter',
      ],
    ];
    for (const [msg, field] of cases) {
      expect(() => encodeShardMsg(msg)).toThrowError(
        expect.objectContaining({ name: 'WireError', code: 'invalid-field', field }),
      );
    }
  });

  test('64-bit sizes in [2³¹, 2³²) survive (protons-runtime writes them as 0 on its BigInt path)', () => {
    const wr = { ...(samples[0] as Extract<ShardMsg, { type: 'work-request' }>) };
    for (const maxBufferBytes of [2 ** 31, 2 ** 32 - 4, 2 ** 32, 2 ** 40]) {
      expect(decodeShardMsg(encodeShardMsg({ ...wr, maxBufferBytes }))).toEqual({
        ...wr,
        maxBufferBytes,
      });
    }
  });

  test('clipReason makes any text a reason the codec takes: one line, bounded, well-formed', () => {
    const rng = seededRng(5);
    const noWork = (reason: string): ShardMsg => ({
      type: 'no-work',
      jobId: 'j',
      retryAfterMs: 0,
      finished: true,
      reason,
    });
    expect(clipReason('result for shard 3\nrejected\t(residual)\u202e')).toBe(
      'result for shard 3 rejected (residual)',
    );
    // Cut before a surrogate pair that would straddle the limit, never inside it.
    const emoji = `${'x'.repeat(MAX_REASON_CHARS - 2)}😀😀`;
    expect(clipReason(emoji)).toBe(`${'x'.repeat(MAX_REASON_CHARS - 2)}…`);
    for (let i = 0; i < 2_000; i++) {
      const units = Array.from({ length: rng.nextUint32() % 400 }, () => rng.nextUint32() >>> 16);
      const reason = clipReason(String.fromCharCode(...units));
      expect(reason.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
      const back = decodeShardMsg(encodeShardMsg(noWork(reason)));
      expect(back).toEqual(reason === '' ? { ...noWork(''), reason: undefined } : noWork(reason));
    }
  });

  test('a version-1 work request is recognised, and answered "finished" in version 1', () => {
    const v1 = ShardFrame.encode({
      version: 1,
      workRequest: { jobId: 'old-job', maxBufferBytes: 4096, gflops: 1, adapter: '' },
    });
    expect(() => decodeShardMsg(v1)).toThrowError(expect.objectContaining({ code: 'bad-version' }));
    expect(v1WorkRequestJob(v1)).toBe('old-job');
    expect(v1WorkRequestJob(encodeShardMsg(samples[0]!))).toBeUndefined();
    const answer = ShardFrame.decode(v1Finished('old-job'));
    expect(answer).toMatchObject({ version: 1, noWork: { jobId: 'old-job', finished: true } });
  });

  test('an empty frame, a wrong version, and two bodies at once are refused', () => {
    expect(() => decodeShardMsg(new Uint8Array(0))).toThrowError(
      expect.objectContaining({ code: 'bad-version' }),
    );
    const v3 = encodeShardMsg(samples[5]!).slice();
    v3[1] = 3; // field 1 (version) varint
    expect(() => decodeShardMsg(v3)).toThrowError(expect.objectContaining({ code: 'bad-version' }));
    const two = new Uint8Array([
      ...encodeShardMsg(samples[5]!),
      ...encodeShardMsg(samples[4]!).subarray(2),
    ]);
    expect(() => decodeShardMsg(two)).toThrowError(
      expect.objectContaining({ code: 'invalid-field' }),
    );
  });

  test('a frame over the size limit is refused before decoding', () => {
    const big = { byteLength: MAX_FRAME_BYTES + 1 } as Uint8Array;
    expect(() => decodeShardMsg(big)).toThrowError(expect.objectContaining({ code: 'too-large' }));
  });
});

describe('model transfer codec', () => {
  test.each(modelSamples.map((s) => [s.type, s] as const))('%s round-trips', (_, msg) => {
    expect(decodeModelMsg(encodeModelMsg(msg))).toEqual(msg);
  });

  test.each(modelSamples.map((s) => [s.type, s] as const))(
    '%s: 10,000 random and mutated frames never crash, only WireError',
    (_, msg) => {
      const valid = encodeModelMsg(msg);
      let malformed = 0;
      for (const bytes of garbage(valid, 10_000, valid.length + 7)) {
        try {
          const decoded = decodeModelMsg(bytes);
          expect(decodeModelMsg(encodeModelMsg(decoded))).toEqual(decoded);
        } catch (e) {
          if (!(e instanceof WireError)) throw e;
          if (e.code === 'malformed') malformed++;
        }
      }
      expect(malformed).toBeGreaterThan(0);
    },
  );

  test('a manifest whose hashes do not cover its length, or a chunk too big, is refused', () => {
    const m = modelSamples[1] as Extract<ModelMsg, { type: 'model-manifest' }>;
    for (const [bad, field] of [
      [{ ...m, fileBytes: 20_000 }, 'manifest.chunkHashes'],
      [
        { ...m, chunkHashes: [...m.chunkHashes.slice(0, 2), new Uint8Array(31)] },
        'manifest.chunkHashes[2]',
      ],
      [{ ...m, chunkBytes: 100 }, 'manifest.chunkBytes'],
      [{ ...m, fileBytes: 2 ** 31 }, 'manifest.fileBytes'],
      [{ ...m, digest: 'nope' }, 'manifest.digest'],
      [{ type: 'model-chunk', offset: 0, data: new Uint8Array(2 ** 20 + 1) }, 'chunk.data'],
      [
        { type: 'model-request', digest: 'cd'.repeat(32), jobId: 'j', offset: 2 ** 31 },
        'request.offset',
      ],
    ] as [ModelMsg, string][]) {
      expect(() => encodeModelMsg(bad)).toThrowError(expect.objectContaining({ field }));
    }
  });
});

describe('job announcement codec', () => {
  test('round-trips, and expired ones are refused', () => {
    const bytes = encodeAnnouncement(announcement);
    expect(decodeAnnouncement(bytes, 0)).toEqual(announcement);
    expect(() => decodeAnnouncement(bytes, announcement.expiresAt)).toThrowError(
      expect.objectContaining({ field: 'expiresAt' }),
    );
  });

  test("an end and a pause travel; a pause keeps the shards left (the owner's progress)", () => {
    const ended = { ...announcement, shardsLeft: 10, ended: true };
    expect(decodeAnnouncement(encodeAnnouncement(ended), 0)).toEqual(ended);
    // An end past the job's expiry still counts: it only takes the job off a board.
    expect(decodeAnnouncement(encodeAnnouncement(ended), ended.expiresAt + 1)).toEqual(ended);
    const paused = { ...announcement, shardsLeft: 9, paused: true };
    expect(decodeAnnouncement(encodeAnnouncement(paused), 0)).toEqual(paused);
    // Off is absent, not `false`: an old announcement and a new one read the same.
    const plain = decodeAnnouncement(encodeAnnouncement({ ...announcement, paused: false }), 0);
    expect(plain).toEqual(announcement);
    expect('paused' in plain || 'ended' in plain).toBe(false);
  });

  test('10,000 random and mutated announcements never crash, only WireError', () => {
    const valid = encodeAnnouncement(announcement);
    for (const bytes of garbage(valid, 10_000, 99)) {
      try {
        decodeAnnouncement(bytes);
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
      }
    }
  });

  test('an inference job names its model and its size', () => {
    const a = {
      ...announcement,
      kind: 'inference' as const,
      modelDigest: 'cd'.repeat(32),
      modelBytes: 1_650_000,
    };
    expect(decodeAnnouncement(encodeAnnouncement(a))).toEqual(a);
  });

  test('bad owner, digest, kind, model, and too many addresses are refused', () => {
    for (const bad of [
      { ...announcement, owner: 'not-a-peer-id' },
      { ...announcement, kernelDigest: 'xyz' },
      { ...announcement, kind: 'mine-bitcoin' as 'matmul' },
      { ...announcement, shardsLeft: 17 },
      { ...announcement, addrs: Array(17).fill('/ip4/1.2.3.4') },
      { ...announcement, modelDigest: 'cd'.repeat(32) }, // a model without a size
      { ...announcement, modelBytes: 100 }, // a size without a model
    ]) {
      expect(() => encodeAnnouncement(bad)).toThrow(WireError);
    }
  });
});
