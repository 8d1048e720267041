import { describe, expect, it } from 'vitest';
import { defaultPolicy } from '../../../src/jobs/inference-spec';
import {
  buildJobSpec,
  checkJobSpec,
  describeJob,
  type InferenceRequest,
  jobModel,
  paidCopies,
} from '../../../src/jobs/kinds';
import { randomProblem } from '../../../src/jobs/matmul-job';
import { seededRng } from '../../../src/model/rng';
import { tinySummary } from '../../support/model-fixture';

// The kind registry builds a spec from a researcher's request (what Mesh.submitMatmul and
// submitInference ask for), describes it, and names the model it needs: src/mesh knows no kind.

const digest = 'd'.repeat(64);
const inference = (over: Partial<InferenceRequest> = {}): InferenceRequest => ({
  modelDigest: digest,
  model: tinySummary,
  sequences: [Uint32Array.of(1, 2, 3), Uint32Array.of(4, 5)],
  output: { mode: 'logits' },
  ...over,
});

describe('the kind registry', () => {
  it('builds a matmul spec that owns copies of A and B, and describes it', () => {
    const problem = randomProblem(4, 2, 6, seededRng(1));
    const js = buildJobSpec(
      'matmul',
      { problem, block: { blockRows: 2, blockCols: 3 } },
      seededRng(2),
    );
    expect(js.kind).toBe('matmul');
    if (js.kind !== 'matmul') return;
    expect(js.spec).toMatchObject({ m: 4, k: 2, n: 6, blockRows: 2, blockCols: 3 });
    expect(js.spec.a).toEqual(problem.a);
    // The researcher may reuse its arrays: the job keeps its own.
    expect(js.spec.a).not.toBe(problem.a);
    expect(js.spec.b).not.toBe(problem.b);
    expect(() => checkJobSpec(js.kind, js.spec)).not.toThrow();
    expect(describeJob(js)).toBe('C = A·B, 4×2 by 2×6, in 2×3 blocks');
    expect(jobModel(js)).toBeUndefined();
    expect(paidCopies(js)).toBe(1); // Freivalds verifies one copy alone
  });

  it('builds an inference spec with the defaults the request leaves out', () => {
    const js = buildJobSpec('inference', inference(), seededRng(7));
    if (js.kind !== 'inference') throw new Error('not inference');
    const s = js.spec;
    expect(s).toMatchObject({ modelDigest: digest, mode: 'logits', steps: 0, temperature: 0 });
    expect(s.perShard).toBe(1); // ceil(2 / 8): about 8 shards
    expect(s.policy).toEqual(defaultPolicy('logits'));
    expect(s.seed).toBe(seededRng(7).nextUint32()); // drawn when the request names none
    expect(() => checkJobSpec(js.kind, js.spec)).not.toThrow();
    expect(describeJob(js)).toBe('2 sequence(s), next-token logits');
    expect(jobModel(js)).toBe(digest);
  });

  it('keeps what an inference request names: steps, temperature, seed, policy, shard size', () => {
    const req = inference({
      output: { mode: 'tokens', steps: 3, temperature: 0.5, seed: 42 },
      policy: { copies: 3 },
      perShard: 2,
    });
    const js = buildJobSpec('inference', req, seededRng(7));
    if (js.kind !== 'inference') throw new Error('not inference');
    expect(js.spec).toMatchObject({ mode: 'tokens', steps: 3, temperature: 0.5, seed: 42 });
    expect(js.spec.perShard).toBe(2);
    expect(js.spec.policy).toEqual({ ...defaultPolicy('tokens'), copies: 3 });
    // Its own copies of the token ids.
    expect(js.spec.sequences[0]).not.toBe(req.sequences[0]);
    expect(describeJob(js)).toBe('2 sequence(s), 3 generated tokens each');
    expect(paidCopies(js)).toBe(3); // each agreeing copy is paid
  });

  it('a request that cannot run is refused when checked, naming the field', () => {
    const js = buildJobSpec('inference', inference({ sequences: [] }), seededRng(1));
    expect(() => checkJobSpec(js.kind, js.spec)).toThrow(/sequences/);
  });
});
