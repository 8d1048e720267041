import '../../src/relay/polyfills';
import type { Connection, Stream } from '@libp2p/interface';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Output } from '../../src/jobs/codec';
import type { AnnouncementMsg, LeaseMsg } from '../../src/mesh/codec';
import { FramedStream } from '../../src/mesh/framed';
import type { MeshNode } from '../../src/mesh/node';
import { ShardContributor, type StoppedByOwner } from '../../src/mesh/shard-contributor';
import { SHARD_PROTOCOL } from '../../src/mesh/topics';
import {
  asStreamError,
  describeStreamError,
  MAX_STREAM_ERROR_CHARS,
  StreamError,
} from '../../src/wire/stream-errors';
import { tcpNode } from '../support/tcp-node';

describe('describeStreamError: what broke a stream, in words', () => {
  test('errors, timeouts, aggregates, events and odd values read as a reason', () => {
    expect(describeStreamError(new Error('stream reset'))).toBe('stream reset');
    const timeout = new DOMException('signal timed out', 'TimeoutError');
    expect(describeStreamError(timeout)).toBe('TimeoutError: signal timed out');
    // WebRTC's close races FIN_ACK, 'close' and 'error': one timeout three times is one reason.
    expect(describeStreamError(new AggregateError([timeout, timeout, timeout]))).toBe(
      'TimeoutError: signal timed out',
    );
    // p-event rejects with the stream's 'close' event itself; String() of it says nothing.
    const close = new Event('close');
    expect(String(close)).toBe('[object Event]');
    expect(describeStreamError(close)).toBe('the stream closed');
    expect(describeStreamError(new Event('blur'))).toBe("a 'blur' event");
    // An RTCErrorEvent carries the RTCError that ended the data channel.
    const rtc = Object.assign(new Event('error'), {
      error: new DOMException('User-Initiated Abort, reason=Close called', 'OperationError'),
    });
    expect(describeStreamError(rtc)).toBe(
      "OperationError: User-Initiated Abort, reason=Close called (a 'error' event)",
    );
    expect(describeStreamError(undefined)).toBe('no reason given');
    expect(describeStreamError('')).toBe('no reason given');
    expect(describeStreamError({ message: 'plain object' })).toBe('plain object');
    expect(describeStreamError({ code: 7 })).toBe('{"code":7}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(describeStreamError(cyclic)).toBe('[object Object]');
    // One line, bounded: a peer's long or multi-line message cannot flood a log.
    const long = describeStreamError(new Error(`a\nb ${'x'.repeat(1_000)}`));
    expect(long.length).toBe(MAX_STREAM_ERROR_CHARS);
    expect(long).not.toContain('\n');
  });

  test('asStreamError keeps Errors and wraps anything else, keeping it as the cause', () => {
    const e = new Error('x');
    expect(asStreamError(e)).toBe(e);
    const close = new Event('close');
    const wrapped = asStreamError(close);
    expect(wrapped).toBeInstanceOf(StreamError);
    expect(wrapped.message).toBe('the stream closed');
    expect(wrapped.cause).toBe(close);
  });
});

// A contributor whose owner goes away: over real libp2p (TCP between two Node peers), with an
// owner written for this test that leases one shard and then vanishes. Every error must reach
// the caller of work(), readable; none may escape as an unhandled rejection (the browser's
// "Uncaught (in promise) TimeoutError" when a tab closed).
describe('a peer that goes away mid-lease', () => {
  let ownerNode: MeshNode;
  let workerNode: MeshNode;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    [ownerNode, workerNode] = (await Promise.all([tcpNode(), tcpNode()])).map((n) => n.node) as [
      MeshNode,
      MeshNode,
    ];
    process.on('unhandledRejection', onUnhandled);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await ownerNode.unhandle(SHARD_PROTOCOL);
    await Promise.all([ownerNode.stop(), workerNode.stop()]);
  });

  const job = (): AnnouncementMsg => ({
    jobId: 'job-gone',
    owner: ownerNode.peerId.toString(),
    kind: 'matmul',
    shardCount: 4,
    shardsLeft: 4,
    kernelDigest: 'ab'.repeat(32),
    expiresAt: Date.now() + 60_000,
    addrs: ownerNode.getMultiaddrs().map(String),
    modelDigest: '',
    modelBytes: 0,
    price: 0.01,
    shardGflop: 0,
  });
  const lease = (shardId: number): LeaseMsg => ({
    type: 'lease',
    jobId: 'job-gone',
    shardId,
    leaseId: `L${shardId}`,
    deadlineMs: 5_000,
    heartbeatMs: 100,
    lifetimeMs: 10_000,
    work: {
      kind: 'matmul',
      m: 1,
      k: 1,
      n: 1,
      a: Float32Array.of(2),
      b: Float32Array.of(3),
    },
  });
  const compute = async (): Promise<Output> => {
    await new Promise((r) => setTimeout(r, 150));
    return { kind: 'matmul', rows: 1, cols: 1, c: Float32Array.of(6) };
  };

  /** Serves one stream: leases shard 0, takes its result, then `vanish`es. */
  async function serve(vanish: (stream: Stream, conn: Connection) => void) {
    await ownerNode.unhandle(SHARD_PROTOCOL);
    await ownerNode.handle(SHARD_PROTOCOL, async (stream, conn) => {
      const framed = new FramedStream(stream);
      try {
        expect((await framed.read()).type).toBe('work-request');
        await framed.write(lease(0));
        for (;;) {
          const msg = await framed.read();
          if (msg.type === 'result') break;
        }
        vanish(stream, conn);
      } catch {
        // The contributor's side is under test, not this one.
      }
    });
  }

  test.each([
    ['the stream is reset while the contributor rests', (s: Stream) => s.abort(new Error('x'))],
    [
      'the connection drops while the contributor rests',
      (_: Stream, c: Connection) => c.abort(new Error('x')),
    ],
    [
      // What a browser tab saw: libp2p's connection monitor, its ping to the vanished peer
      // timed out, aborts the connection with that TimeoutError, on the contributor's side.
      'the contributor’s ping to the owner times out',
      () => {
        const timeout = new DOMException('signal timed out', 'TimeoutError');
        for (const c of workerNode.getConnections(ownerNode.peerId)) c.abort(timeout);
      },
    ],
  ] as const)('%s: work() rejects, readable; nothing is unhandled', async (_, vanish) => {
    await serve(vanish);
    // Budget 0.5: a 150 ms shard is followed by a 150 ms rest, when the owner goes; the next
    // request is then written on a broken stream whose reader has already failed.
    const c = new ShardContributor(workerNode, {
      compute,
      maxBufferBytes: 2 ** 20,
      adapter: 'test',
      budget: 0.5,
      prefetch: false,
    });
    const error = await c.work(job()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(describeStreamError(error)).not.toMatch(/\[object/);
    // Unhandled rejections are reported after a turn of the event loop, or two.
    await new Promise((r) => setTimeout(r, 300));
    expect(unhandled.map(describeStreamError)).toEqual([]);
  });

  test('a compute that fails with an Event is reported to the owner in words', async () => {
    let reported: unknown;
    await ownerNode.unhandle(SHARD_PROTOCOL);
    await ownerNode.handle(SHARD_PROTOCOL, async (stream) => {
      const framed = new FramedStream(stream);
      await framed.read();
      await framed.write(lease(1));
      for (;;) {
        const msg = await framed.read();
        if (msg.type === 'failure') {
          reported = msg;
          break;
        }
      }
      await framed.write({ type: 'no-work', jobId: 'job-gone', retryAfterMs: 0, finished: true });
      await framed.close();
    });
    const c = new ShardContributor(workerNode, {
      // e.g. the model's transfer stream closed under it: p-event rejects with the event.
      compute: () => Promise.reject(new Event('close')),
      maxBufferBytes: 2 ** 20,
      adapter: 't',
    });
    await c.work(job());
    expect(reported).toMatchObject({ leaseId: 'L1', code: 'error', message: 'the stream closed' });
  });

  test('an owner that is done with us says why: a "stopped" event names owner, job and reason', async () => {
    const reason = 'quarantined by this owner: result for shard 3 rejected (residual)';
    await ownerNode.unhandle(SHARD_PROTOCOL);
    await ownerNode.handle(SHARD_PROTOCOL, async (stream) => {
      const framed = new FramedStream(stream);
      await framed.read();
      await framed.write({
        type: 'no-work',
        jobId: 'job-gone',
        retryAfterMs: 0,
        finished: true,
        reason,
      });
      await framed.close();
    });
    const c = new ShardContributor(workerNode, { compute, maxBufferBytes: 2 ** 20, adapter: 't' });
    const stopped: StoppedByOwner[] = [];
    c.addEventListener('stopped', (e) => stopped.push(e.detail));
    await c.work(job()); // resolves: finished
    expect(stopped).toEqual([{ owner: ownerNode.peerId.toString(), jobId: 'job-gone', reason }]);
  });
});
