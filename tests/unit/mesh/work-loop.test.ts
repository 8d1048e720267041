import '../../../src/relay/polyfills';
import { afterEach, describe, expect, it } from 'vitest';
import { Reputation } from '../../../src/jobs/reputation';
import type { AnnouncementMsg } from '../../../src/mesh/codec';
import { MemoryModelCache } from '../../../src/mesh/model-store';
import { ModelFetcher, ModelServer } from '../../../src/mesh/model-transfer';
import { ModelLibrary } from '../../../src/mesh/models';
import type { MeshNode } from '../../../src/mesh/node';
import { WorkLoop } from '../../../src/mesh/work-loop';
import { DEFAULT_MAX_MODEL_BYTES } from '../../../src/model/limits';
import { referenceEngine } from '../../support/model-fixture';
import { tcpNode } from '../../support/tcp-node';

// Which announced job the work loop picks, and how it backs off an owner whose work cannot be
// had. The board is a component that lists announcements (the loop only reads `jobs()`); the
// node, the contributor and the reputation are real.

const nodes: MeshNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function peerId(): Promise<string> {
  const { node } = await tcpNode();
  nodes.push(node);
  return node.peerId.toString();
}

async function loop(jobs: AnnouncementMsg[]) {
  const { node } = await tcpNode();
  nodes.push(node);
  const engine = referenceEngine();
  const models = new ModelLibrary(
    engine,
    new MemoryModelCache(),
    new ModelServer(node, { mayFetch: () => false }),
    new ModelFetcher(node, {}),
  );
  const reputation = new Reputation();
  const l = new WorkLoop(
    { node, board: { jobs: () => jobs }, models, reputation },
    {
      engine,
      adapter: 'test',
      maxBufferBytes: 2 ** 28,
      peerId: node.peerId.toString(),
      kernelDigest: 'k',
      contributing: false,
    },
  );
  return { l, reputation, me: node.peerId.toString() };
}

function job(jobId: string, owner: string, over: Partial<AnnouncementMsg> = {}): AnnouncementMsg {
  return {
    jobId,
    owner,
    kind: 'matmul',
    shardCount: 4,
    shardsLeft: 4,
    kernelDigest: 'k',
    expiresAt: Date.now() + 60_000,
    addrs: [], // nobody can dial it: work on it fails at once
    modelDigest: '',
    modelBytes: 0,
    price: 1,
    shardGflop: 1,
    ...over,
  };
}

describe('the work loop', () => {
  it('offers only jobs this tab can run, the best-paying first', async () => {
    const [a, b, bad] = [await peerId(), await peerId(), await peerId()];
    const jobs: AnnouncementMsg[] = [];
    const { l, reputation, me } = await loop(jobs);
    jobs.push(
      job('cheap', a, { price: 1 }),
      job('dear', b, { price: 9 }),
      job('mine', me, { price: 50 }),
      job('done', a, { shardsLeft: 0 }),
      job('paused', a, { paused: true }),
      job('other-kernel', a, { kernelDigest: 'x' }),
      job('huge-model', a, { modelDigest: 'm', modelBytes: DEFAULT_MAX_MODEL_BYTES + 1 }),
      job('from-quarantined', bad, { price: 20 }),
    );
    for (let i = 0; i < 20 && !reputation.isQuarantined(bad); i++) {
      reputation.record(bad, 'rejected', 'test');
    }
    expect(reputation.isQuarantined(bad)).toBe(true);
    expect(l.workable().map((j) => j.jobId)).toEqual(['dear', 'cheap']);
  });

  it('backs off an owner whose work broke, all its jobs, doubling the wait', async () => {
    const a = await peerId();
    const jobs = [job('a1', a, { price: 5 }), job('a2', a, { price: 4 })];
    const { l } = await loop(jobs);
    const offered = () => l.workable().map((j) => j.jobId);
    await l.pick();
    expect(offered()).toEqual(['a1', 'a2']); // not contributing: nothing tried
    l.setContributing(true); // tries a1 (best-paying); its owner cannot be dialed
    await new Promise((r) => setTimeout(r, 100));
    // A second's back-off for the owner: a2 waits too.
    expect(offered()).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(offered()).toEqual(['a1', 'a2']);
    await l.pick(); // fails again: two seconds now
    await new Promise((r) => setTimeout(r, 1_100));
    expect(offered()).toEqual([]);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(offered()).toEqual(['a1', 'a2']);
    await l.stop();
    expect(l.idle).toBe(false);
  });
});
