import { describe, expect, test } from 'vitest';
import { seededRng } from '../../src/jobs/rng';
import {
  type AnnouncementMsg,
  decodeAnnouncement,
  decodeShardMsg,
  encodeAnnouncement,
  encodeShardMsg,
  MAX_FRAME_BYTES,
  type ShardMsg,
  WireError,
} from '../../src/mesh/codec';

const f32 = (n: number, seed = 1) => Float32Array.from({ length: n }, (_, i) => Math.sin(i + seed));

const samples: ShardMsg[] = [
  { type: 'work-request', jobId: 'job-1', maxBufferBytes: 134_217_728, gflops: 3.5 },
  {
    type: 'lease',
    jobId: 'job-1',
    shardId: 7,
    leaseId: 'L7_a',
    deadlineMs: 30_000,
    heartbeatMs: 2_000,
    m: 3,
    k: 5,
    n: 4,
    a: f32(15),
    b: f32(20, 2),
  },
  { type: 'no-work', jobId: 'job-1', retryAfterMs: 500, finished: false },
  { type: 'heartbeat', leaseId: 'L7_a' },
  { type: 'result', leaseId: 'L7_a', rows: 3, cols: 4, c: f32(12, 3), computeMs: 12.5 },
  {
    type: 'verdict',
    leaseId: 'L7_a',
    accepted: false,
    reason: 'residual',
    receipt: new Uint8Array(0),
  },
  {
    type: 'verdict',
    leaseId: 'L7_b',
    accepted: true,
    reason: 'verified',
    receipt: new Uint8Array([1, 2, 3]),
  },
  { type: 'failure', leaseId: 'L7_a', code: 'device-lost', message: 'GPU reset' },
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
  test.each(samples.map((s) => [s.type, s] as const))('%s round-trips', (_, msg) => {
    expect(decodeShardMsg(encodeShardMsg(msg))).toEqual(msg);
  });

  test.each(samples.map((s) => [s.type, s] as const))(
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

  test('specific bad frames name the field', () => {
    const lease = samples[1] as Extract<ShardMsg, { type: 'lease' }>;
    const cases: [ShardMsg, string][] = [
      [{ ...lease, a: f32(14) }, 'lease.a'],
      [{ ...lease, m: 0, a: new Float32Array(0) }, 'lease.m'],
      [{ ...lease, jobId: 'no spaces allowed' }, 'lease.jobId'],
      [{ ...lease, heartbeatMs: 60_000 }, 'lease.heartbeatMs'],
      [{ type: 'result', leaseId: 'x', rows: 2, cols: 2, c: f32(3), computeMs: 1 }, 'result.c'],
      [
        { type: 'result', leaseId: 'x', rows: 1, cols: 1, c: f32(1), computeMs: Number.NaN },
        'result.computeMs',
      ],
      [
        { type: 'work-request', jobId: 'j', maxBufferBytes: 10, gflops: 1 },
        'workRequest.maxBufferBytes',
      ],
    ];
    for (const [msg, field] of cases) {
      expect(() => encodeShardMsg(msg)).toThrowError(
        expect.objectContaining({ name: 'WireError', code: 'invalid-field', field }),
      );
    }
  });

  test('an empty frame, a wrong version, and two bodies at once are refused', () => {
    expect(() => decodeShardMsg(new Uint8Array(0))).toThrowError(
      expect.objectContaining({ code: 'bad-version' }),
    );
    const v2 = encodeShardMsg(samples[3]!).slice();
    v2[1] = 2; // field 1 (version) varint
    expect(() => decodeShardMsg(v2)).toThrowError(expect.objectContaining({ code: 'bad-version' }));
    const two = new Uint8Array([
      ...encodeShardMsg(samples[3]!),
      ...encodeShardMsg(samples[2]!).subarray(2),
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

describe('job announcement codec', () => {
  test('round-trips, and expired ones are refused', () => {
    const bytes = encodeAnnouncement(announcement);
    expect(decodeAnnouncement(bytes, 0)).toEqual(announcement);
    expect(() => decodeAnnouncement(bytes, announcement.expiresAt)).toThrowError(
      expect.objectContaining({ field: 'expiresAt' }),
    );
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

  test('bad owner, digest, kind, and too many addresses are refused', () => {
    for (const bad of [
      { ...announcement, owner: 'not-a-peer-id' },
      { ...announcement, kernelDigest: 'xyz' },
      { ...announcement, kind: 'mine-bitcoin' as 'matmul' },
      { ...announcement, shardsLeft: 17 },
      { ...announcement, addrs: Array(17).fill('/ip4/1.2.3.4') },
    ]) {
      expect(() => encodeAnnouncement(bad)).toThrow(WireError);
    }
  });
});
