// The inference owner job's test fixture: a tiny model loaded into an owner's and an honest
// contributor's reference engines, a spec of 12 sequences, and a driver that runs contributors
// against a job on a fake clock (tests/unit/jobs/inference-job*.test.ts).
import type { InferenceWork } from '../../src/jobs/codec';
import { computeInference } from '../../src/jobs/inference-compute';
import { InferenceOwnerJob } from '../../src/jobs/inference-job';
import { defaultPolicy, type InferenceSpec } from '../../src/jobs/inference-spec';
import type { ContributorInfo, Engine, Revocation, Verdict } from '../../src/jobs/job';
import { OwnerTrust, PROVEN_AFTER } from '../../src/jobs/owner-trust';
import { seededRng } from '../../src/model/rng';
import { referenceEngine, tinyModelFiles, tinySummary } from './model-fixture';

/** The tiny model's files (tests load it into cheating engines too). */
export const file = tinyModelFiles(300);
let digest = '';
/** The owner's engine (its calls are counted) and an honest contributor's. */
export const owner = referenceEngine();
export const honest = referenceEngine();
let loading: Promise<void> | undefined;
/** Loads the tiny model into both engines, once per test file (pass it to beforeAll). */
export function loadModels(): Promise<void> {
  loading ??= (async () => {
    digest = (await owner.loadModel(file)).digest;
    await honest.loadModel(file);
  })();
  return loading;
}

/** 12 sequences of 4 to 9 tokens. */
export const sequences = Array.from({ length: 12 }, (_, i) =>
  Uint32Array.from({ length: 4 + (i % 6) }, (_, j) => (i * 7 + j * 3) % tinySummary.vocab),
);

export function spec(over: Partial<InferenceSpec> = {}): InferenceSpec {
  const mode = over.mode ?? 'logits';
  return {
    modelDigest: digest,
    model: tinySummary,
    sequences,
    mode,
    steps: mode === 'tokens' ? 6 : 0,
    temperature: 0,
    seed: 42,
    perShard: 3,
    policy: { ...defaultPolicy(mode), spotCheckRate: 0, canaryRate: 0 },
    ...over,
  };
}

export interface Peer {
  info: ContributorInfo;
  engine: Engine;
}
export const peer = (id: string, engine: Engine, adapter = `gpu-${id}`): Peer => ({
  info: { id, gflops: 1, bytesPerSec: 0, maxBufferBytes: 2 ** 30, adapter },
  engine,
});

/** Drives a job with contributors taking turns on a fake clock until it is done. */
export async function drive(job: InferenceOwnerJob, peers: Peer[], clock = { t: 0 }, rounds = 200) {
  const verdicts: Verdict[] = [];
  const before = job.onSettled;
  job.onSettled = (s) => {
    before?.(s);
    verdicts.push(...s.verdicts);
  };
  for (let r = 0; r < rounds && !job.done; r++) {
    for (const p of peers) {
      const offer = job.offer(p.info, clock.t);
      if (offer.kind !== 'lease') continue;
      const out = await computeInference(offer.work as InferenceWork, p.engine);
      await job.submit(offer.lease.leaseId, p.info.id, out, 10, clock.t);
    }
    clock.t += 250;
    job.expire(clock.t);
    await new Promise((r) => setTimeout(r, 0)); // owner checks started by expire()
  }
  return verdicts;
}

export function newJob(s: InferenceSpec, rng = seededRng(5), trust?: OwnerTrust, id = 'inf') {
  return new InferenceOwnerJob(id, s, { engine: owner, rng, now: () => 0, trust });
}

/** An owner's record in which these contributors already passed its own checks. */
export function provenTrust(...ids: string[]): OwnerTrust {
  const t = new OwnerTrust();
  for (const id of ids) t.passed(id, PROVEN_AFTER);
  return t;
}

/** Every revocation a job emits. */
export function revocations(job: InferenceOwnerJob): Revocation[] {
  const out: Revocation[] = [];
  const before = job.onSettled;
  job.onSettled = (s) => {
    before?.(s);
    out.push(...(s.revoke ?? []));
  };
  return out;
}

export async function reference(s: InferenceSpec) {
  const lengths = Uint32Array.from(s.sequences, (q) => q.length);
  const tokens = new Uint32Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const q of s.sequences) {
    tokens.set(q, at);
    at += q.length;
  }
  return computeInference(
    {
      kind: 'inference',
      modelDigest: digest,
      lengths,
      tokens,
      mode: s.mode,
      steps: s.steps,
      temperature: s.temperature,
      seeds: new Uint32Array(0),
    },
    honest,
  );
}
