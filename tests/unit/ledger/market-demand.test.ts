import { describe, expect, it } from 'vitest';
import { InferenceOwnerJob } from '../../../src/jobs/inference-job';
import { defaultPolicy, type InferenceSpec } from '../../../src/jobs/inference-spec';
import type { OwnerJob } from '../../../src/jobs/job';
import { MatmulOwnerJob, planBlocks, randomProblem } from '../../../src/jobs/matmul-job';
import { MAX_QUEUED_GFLOP } from '../../../src/ledger/codec';
import { queuedGflop } from '../../../src/ledger/market';
import { seededRng } from '../../../src/model/rng';
import { referenceEngine, tinySummary } from '../../support/model-fixture';

const running = (...jobs: OwnerJob[]) =>
  ({ running: new Map(jobs.map((job) => [job.id, { job }])) }) as unknown as Parameters<
    typeof queuedGflop
  >[0];

function inferenceJob(): InferenceOwnerJob {
  const sequences = Array.from({ length: 9 }, (_, i) =>
    Uint32Array.from({ length: 3 + i }, (_, j) => (i + j) % tinySummary.vocab),
  );
  const spec: InferenceSpec = {
    modelDigest: 'd'.repeat(64),
    model: tinySummary,
    sequences,
    mode: 'logits',
    steps: 0,
    temperature: 0,
    seed: 1,
    perShard: 3,
    policy: defaultPolicy('logits'),
  };
  return new InferenceOwnerJob('i', spec, {
    engine: referenceEngine(),
    rng: seededRng(4),
    now: () => 0,
  });
}

describe("a peer's reported demand (queuedGflop)", () => {
  it('counts a matmul job as 2mkn over its shards, times the shards left', () => {
    const p = randomProblem(40, 24, 32, seededRng(1));
    const job = new MatmulOwnerJob('m', p, planBlocks(40, 32, 16, 16));
    expect(queuedGflop(running(job))).toBeCloseTo((2 * 40 * 24 * 32) / 1e9, 15);
  });

  it('counts inference jobs too (they used to count for nothing)', () => {
    const job = inferenceJob();
    let flops = 0;
    for (let s = 0; s < job.shardCount; s++) flops += job.shardFlops(s);
    expect(flops).toBeGreaterThan(0);
    expect(queuedGflop(running(job))).toBeCloseTo(flops / 1e9, 15);
    const p = randomProblem(16, 16, 16, seededRng(2));
    const both = running(job, new MatmulOwnerJob('m', p, planBlocks(16, 16, 16, 16)));
    expect(queuedGflop(both)).toBeCloseTo((flops + 2 * 16 ** 3) / 1e9, 15);
  });

  it('states at most what a report may carry', () => {
    const huge = {
      id: 'h',
      done: false,
      shardCount: 4,
      doneCount: 0,
      shardFlops: () => 1e20,
    } as unknown as OwnerJob;
    expect(queuedGflop(running(huge))).toBe(MAX_QUEUED_GFLOP);
  });
});
