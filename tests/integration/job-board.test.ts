import '../../src/relay/polyfills';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type AnnouncementMsg, encodeAnnouncement } from '../../src/mesh/codec';
import { type GoneJobs, JobBoard } from '../../src/mesh/job-board';
import type { MeshNode } from '../../src/mesh/node';
import { JOBS_TOPIC } from '../../src/mesh/topics';
import { tcpNode } from '../support/tcp-node';

// Job boards over real gossipsub between three libp2p peers on loopback TCP: an owner, a
// volunteer and a third peer that tries to end the owner's job. What volunteers see must be
// the owner's truth: ended jobs leave at once and stay gone, silent ones leave after the TTL,
// and a paused job shows the shards it really has left.

async function until(what: string, ok: () => boolean, ms = 10_000) {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Fast boards: announcements every 100 ms, silence for 600 ms drops a job. */
const FAST = { announceIntervalMs: 100, silentTtlMs: 600 };

describe('job board: volunteers see the owner’s truth', () => {
  let owner: MeshNode;
  let volunteer: MeshNode;
  let other: MeshNode;
  let ownerBoard: JobBoard;
  let board: JobBoard;
  const gone: GoneJobs[] = [];

  beforeAll(async () => {
    [owner, volunteer, other] = (await Promise.all([tcpNode(), tcpNode(), tcpNode()])).map(
      (n) => n.node,
    ) as [MeshNode, MeshNode, MeshNode];
    ownerBoard = new JobBoard(owner.services.pubsub, FAST);
    board = new JobBoard(volunteer.services.pubsub, FAST);
    ownerBoard.start();
    board.start();
    board.addEventListener('gone', (e) => gone.push(e.detail));
    other.services.pubsub.subscribe(JOBS_TOPIC);
    await owner.dial(volunteer.getMultiaddrs()[0]!);
    await other.dial(volunteer.getMultiaddrs()[0]!);
    const subscribed = (n: MeshNode) =>
      n.services.pubsub.getSubscribers(JOBS_TOPIC).some((p) => p.equals(volunteer.peerId));
    await until('the topic to join', () => subscribed(owner) && subscribed(other));
  });
  afterAll(async () => {
    ownerBoard.stop();
    board.stop();
    await Promise.all([owner.stop(), volunteer.stop(), other.stop()]);
  });

  const job = (jobId: string, over: Partial<AnnouncementMsg> = {}): AnnouncementMsg => ({
    jobId,
    owner: owner.peerId.toString(),
    kind: 'matmul',
    shardCount: 64,
    shardsLeft: 34,
    kernelDigest: 'ab'.repeat(32),
    expiresAt: Date.now() + 3_600_000,
    addrs: owner.getMultiaddrs().map(String),
    modelDigest: '',
    modelBytes: 0,
    price: 0.01,
    shardGflop: 1,
    ...over,
  });
  const seen = (jobId: string) => board.jobs().find((a) => a.jobId === jobId);

  test('a cancelled job leaves at once, and a late copy of it does not bring it back', async () => {
    // Cancelled at 30 of 64 while its budget was spent: paused, 34 left (never "64/64").
    let state = job('cancelled', { shardsLeft: 34, paused: true });
    ownerBoard.announce(() => state);
    await until('the announcement', () => seen('cancelled') !== undefined);
    expect(seen('cancelled')).toMatchObject({ shardCount: 64, shardsLeft: 34, paused: true });
    const last = state;
    state = { ...state, shardsLeft: 33 };
    ownerBoard.withdraw('cancelled', { ended: true });
    const t0 = Date.now();
    await until('the end', () => seen('cancelled') === undefined, 2_000);
    // Far sooner than the TTL: the end was announced, not inferred from silence.
    expect(Date.now() - t0).toBeLessThan(FAST.silentTtlMs);
    expect(gone.find((g) => g.why === 'ended')?.jobs).toEqual([
      expect.objectContaining({ jobId: 'cancelled', ended: true, shardsLeft: 33 }),
    ]);
    // Gossip keeps no order: an announcement from before the end, replayed by its owner (after
    // its end was repeated: END_ANNOUNCEMENTS ticks), is not the job coming back.
    await sleep(4 * FAST.announceIntervalMs);
    await owner.services.pubsub.publish(JOBS_TOPIC, encodeAnnouncement(last));
    await sleep(300);
    expect(seen('cancelled')).toBeUndefined();
  });

  test('a job whose owner falls silent leaves after the TTL, with a "silent" event', async () => {
    ownerBoard.announce(() => job('silent'));
    await until('the announcement', () => seen('silent') !== undefined);
    ownerBoard.withdraw('silent'); // no end said, as when the owner's tab is closed
    await until('the silence', () => seen('silent') === undefined, 3_000);
    await until('the event', () =>
      gone.some((g) => g.why === 'silent' && g.jobs.some((a) => a.jobId === 'silent')),
    );
  });

  test('only its owner can end a job: an end in its name from another peer is refused', async () => {
    ownerBoard.announce(() => job('kept'));
    await until('the announcement', () => seen('kept') !== undefined);
    const invalid: string[] = [];
    board.addEventListener('invalid', (e) => invalid.push(e.detail.peer));
    await other.services.pubsub.publish(
      JOBS_TOPIC,
      encodeAnnouncement({ ...job('kept'), ended: true }),
    );
    await until('the refusal', () => invalid.includes(other.peerId.toString()));
    await sleep(300);
    expect(seen('kept')).toMatchObject({ jobId: 'kept', shardsLeft: 34 });
    ownerBoard.withdraw('kept', { ended: true });
    await until('the end', () => seen('kept') === undefined, 2_000);
  });
});
