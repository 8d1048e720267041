import '../../../src/relay/polyfills';
import { afterEach, describe, expect, it } from 'vitest';
import { randomProblem } from '../../../src/jobs/matmul-job';
import { Reputation } from '../../../src/jobs/reputation';
import type { AnnouncementMsg } from '../../../src/mesh/codec';
import { JobIntake } from '../../../src/mesh/job-intake';
import { MemoryModelCache } from '../../../src/mesh/model-store';
import { ModelFetcher, ModelServer } from '../../../src/mesh/model-transfer';
import { ModelLibrary } from '../../../src/mesh/models';
import type { MeshNode } from '../../../src/mesh/node';
import { OwnerDesk } from '../../../src/mesh/owner-desk';
import { seededRng } from '../../../src/model/rng';
import { referenceEngine, tinyModelFiles, tinySummary } from '../../support/model-fixture';
import { tcpNode } from '../../support/tcp-node';

// The owner desk's announcements: what a job offers the mesh, as the board publishes it. The
// board is a recording component (the desk uses only announce and withdraw); the node, the
// owner service, the models and the jobs are real.

let node: MeshNode | undefined;
afterEach(async () => {
  await node?.stop();
  node = undefined;
});

async function desk() {
  ({ node } = await tcpNode());
  const engine = referenceEngine();
  const models = new ModelLibrary(
    engine,
    new MemoryModelCache(),
    new ModelServer(node, { mayFetch: () => false }),
    new ModelFetcher(node, {}),
  );
  const announced = new Map<string, () => AnnouncementMsg>();
  const board = {
    announce: (current: () => AnnouncementMsg) => void announced.set(current().jobId, current),
    withdraw: (jobId: string) => void announced.delete(jobId),
  };
  const n = node;
  const d = new OwnerDesk(
    {
      node: n,
      board,
      models,
      reputation: new Reputation(),
      peerId: () => n.peerId.toString(),
      addresses: () => [],
    },
    { engine, kernelDigest: 'k' },
  );
  const intake = new JobIntake({ submit: (js, t) => d.submit(js, t), owner: d.owner, models });
  return { d, intake, announced };
}

describe('the owner desk announces', () => {
  it("an inference job's real GFLOP per shard (its kind's count, not 0)", async () => {
    const { d, intake, announced } = await desk();
    const sequences = Array.from({ length: 6 }, (_, i) =>
      Uint32Array.from({ length: 3 + i }, (_, j) => (i + j) % tinySummary.vocab),
    );
    const run = await intake.submitInference({
      model: { files: tinyModelFiles(1) },
      sequences,
      output: { mode: 'logits' },
      perShard: 2,
    });
    const a = announced.get(run.jobId)?.();
    expect(a?.kind).toBe('inference');
    const { job } = run;
    let flops = 0;
    for (let s = 0; s < job.shardCount; s++) flops += job.shardFlops(s);
    expect(flops).toBeGreaterThan(0);
    expect(a?.shardGflop).toBeCloseTo(flops / job.shardCount / 1e9, 12);
    expect(a?.shardGflop).toBeGreaterThan(0);
    await d.cancel(run.jobId);
    expect(announced.has(run.jobId)).toBe(false);
  });

  it("a matmul job's GFLOP per shard as before: 2·m·k·n over its shards", async () => {
    const { d, intake, announced } = await desk();
    const problem = randomProblem(8, 4, 12, seededRng(3));
    const run = await intake.submitMatmul(problem, { blockRows: 4, blockCols: 6 });
    const a = announced.get(run.jobId)?.();
    expect(run.job.shardCount).toBe(4);
    expect(a?.shardGflop).toBeCloseTo((2 * 8 * 4 * 12) / 4 / 1e9, 15);
    expect(a).toMatchObject({ kind: 'matmul', shardsLeft: 4, kernelDigest: 'k', modelBytes: 0 });
    await d.cancel(run.jobId);
  });

  it('a data-set job as its kind, with its rows’ GFLOP per shard', async () => {
    const { d, intake, announced } = await desk();
    const rows = Array.from({ length: 40 }, (_, i) =>
      Uint32Array.from({ length: 3 + (i % 5) }, (_, j) => (i + j) % 60),
    );
    const run = await intake.submitRows('embed', {
      model: { files: tinyModelFiles(2, 'bert') },
      rows,
      inputs: rows.map((_, i) => `row ${i}`),
    });
    const a = announced.get(run.jobId)?.();
    expect(a?.kind).toBe('embed');
    expect(a?.modelBytes).toBeGreaterThan(0);
    // Sized for a contributor it has not seen (UNKNOWN_CONTRIBUTOR): four shards at least.
    expect(run.job.shardCount).toBeGreaterThanOrEqual(4);
    expect(d.request(run.jobId)).toMatchObject({ kind: 'embed' });
    expect(run.job.holdsAnswer).toBe(false);
    await d.cancel(run.jobId);
  });
});
