import type { ModelSummary } from '../model/hf/cost';
import type { Rng } from '../model/rng';
import type { JobKind, Output, Work, WorkKind } from './codec';
import type { MatmulProblem, Projector } from './freivalds';
import { computeInference } from './inference-compute';
import { InferenceOwnerJob } from './inference-job';
import {
  checkInferenceSpec,
  checkModelSummary,
  defaultPerShard,
  defaultPolicy,
  type InferencePolicy,
  type InferenceSpec,
} from './inference-spec';
import { type Engine, JobSpecError, type OwnerJob } from './job';
import { MAX_JOB_DIM } from './limits';
import { MatmulOwnerJob, planBlocks } from './matmul-job';
import type { OwnerTrust } from './owner-trust';
import { buildRowsSpec, checkRowsSpec, describeRows, type RowKind, type RowsRequest } from './rows';
import type { SchedulerOptions } from './scheduler';

/**
 * The registry of job kinds: for each, how a researcher's request becomes a spec, how a spec is
 * checked and described, how the owner's job is built, and the compute function a contributor
 * runs. src/mesh goes through this and nothing else, so a new kind is a file in src/jobs, its
 * messages in work.proto, and one entry here.
 */

/** A researcher's matmul: C = A·B in blocks of blockRows × blockCols. */
export interface MatmulSpec {
  m: number;
  k: number;
  n: number;
  a: Float32Array; // m×k, row-major
  b: Float32Array; // k×n, row-major
  blockRows: number;
  blockCols: number;
}

/** A researcher's matmul request: the problem and the block size it is cut into. */
export interface MatmulRequest {
  problem: MatmulProblem;
  block: { blockRows: number; blockCols: number };
}

/** What a batched inference job outputs per sequence: last-position logits, or `steps`
 * generated tokens (greedy at temperature 0, else seeded sampling, so that copies agree and the
 * answer can be reproduced from `seed`). */
export type InferenceOutput =
  | { mode: 'logits' }
  | { mode: 'tokens'; steps: number; temperature?: number; seed?: number };

/** A researcher's batched inference over a model the owner holds (Mesh.submitInference resolves
 * the model first). */
export interface InferenceRequest {
  /** The model's checkpoint digest and its summary, as the owner loaded it. */
  modelDigest: string;
  model: ModelSummary;
  /** Token ids, one array per sequence. */
  sequences: Uint32Array[];
  output: InferenceOutput;
  /** How results are verified; defaults depend on the output (inference-job.ts). */
  policy?: Partial<InferencePolicy>;
  /** Sequences per shard; defaultPerShard when absent. */
  perShard?: number;
}

export type JobSpec =
  | { kind: 'matmul'; spec: MatmulSpec }
  | { kind: 'inference' | RowKind; spec: InferenceSpec };

/** What the owner's jobs are built with. */
export interface JobEnv {
  /** The owner's own engine (its Worker), for checks it runs itself. */
  engine: Engine;
  /** Unpredictable choices (spot-checks); the platform CSPRNG in the app. */
  rng: Rng;
  /** Computes Freivalds' projections for matmul checks (an engine's kernels); float64
   * JavaScript when absent. */
  projector?: Projector;
  /** Who this owner's own checks proved or caught, shared by all its jobs; each job its own
   * when absent. */
  trust?: OwnerTrust;
  scheduler?: SchedulerOptions;
  /** Shards this job split in an earlier session (its `splits()`, stored with it): replayed
   * before anything is restored, so shard ids match the stored outputs. Kinds that do not
   * split ignore it. */
  splits?: readonly number[];
  /** Told the job's whole list of splits after each split, to store with it. */
  onSplit?: (splits: number[]) => void;
}

/** One job kind: its spec `S`, built from a researcher's request `R`. */
export interface KindDef<S, R> {
  /** The spec a researcher's request asks for (still to be checked); `rng` draws what the
   * request leaves to chance (an inference job's seed). */
  build(req: R, rng: Rng): S;
  /** Validates a spec, also one read back from storage; throws JobSpecError naming the field. */
  check(raw: unknown): S;
  /** What was asked, in words, for lists ("C = A·B, 512×256 by 256×512"). */
  describe(spec: S): string;
  /** The model (by checkpoint digest) the owner must hold to run the job, if any. */
  model(spec: S): string | undefined;
  /** Verified copies of one shard the job pays for. */
  paidCopies(spec: S): number;
  create(id: string, spec: S, env: JobEnv): OwnerJob;
}

/** What a contributor runs for each kind of work a lease carries. */
interface WorkDef {
  compute(work: Work, engine: Engine): Promise<Output>;
  /** The model (by content digest) a contributor must hold to run the work, if any. */
  requiredModel(work: Work): string | undefined;
}

/** Largest |Σₚ aᵢₚbₚⱼ| (and every partial sum) a matmul job may reach: below float32's 2¹²⁸,
 * with room for rounding, so an honest float32 product never overflows. */
export const MAX_PRODUCT_MAGNITUDE = 2 ** 126;

/**
 * Refuses A and B whose product could overflow float32 (max over rows of Σₚ|aᵢₚ| times the
 * largest |b|, an upper bound on every partial sum): an honest contributor's C would hold ∞,
 * which the verifier takes as proof of a wrong result. O(m·k + k·n).
 */
function checkNoOverflow(a: Float32Array, b: Float32Array, m: number, k: number, n: number) {
  let bMax = 0;
  for (let i = 0; i < k * n; i++) bMax = Math.max(bMax, Math.abs(b[i]!));
  let rowMax = 0;
  for (let i = 0; i < m; i++) {
    let s = 0;
    for (let p = 0; p < k; p++) s += Math.abs(a[i * k + p]!);
    rowMax = Math.max(rowMax, s);
  }
  if (!(rowMax * bMax < MAX_PRODUCT_MAGNITUDE)) {
    throw new JobSpecError(
      'a',
      `A·B may overflow float32 (a row of |A| sums to ${rowMax.toExponential(2)}, the largest |b| is ${bMax.toExponential(2)}): scale A or B down`,
    );
  }
}

const matmul: KindDef<MatmulSpec, MatmulRequest> = {
  build: ({ problem: p, block }) => ({
    m: p.m,
    k: p.k,
    n: p.n,
    a: p.a.slice(),
    b: p.b.slice(),
    blockRows: block.blockRows,
    blockCols: block.blockCols,
  }),
  describe: ({ m, k, n, blockRows, blockCols }) =>
    `C = A·B, ${m}×${k} by ${k}×${n}, in ${blockRows}×${blockCols} blocks`,
  model: () => undefined,
  // Freivalds verifies a result alone; speculative copies are stale.
  paidCopies: () => 1,
  check(raw) {
    const r = object(raw);
    const dims = ['m', 'k', 'n', 'blockRows', 'blockCols'] as const;
    for (const f of dims) {
      const v = r[f];
      if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > MAX_JOB_DIM) {
        throw new JobSpecError(f, 'a size from 1 to 65,536');
      }
    }
    const { m, k, n } = r as unknown as MatmulSpec;
    if (!(r.a instanceof Float32Array) || r.a.length !== m * k) {
      throw new JobSpecError('a', 'A must be m×k float32');
    }
    if (!(r.b instanceof Float32Array) || r.b.length !== k * n) {
      throw new JobSpecError('b', 'B must be k×n float32');
    }
    checkNoOverflow(r.a, r.b, m, k, n);
    return r as unknown as MatmulSpec;
  },
  create(id, s, env) {
    const job = new MatmulOwnerJob(
      id,
      { a: s.a, b: s.b, m: s.m, k: s.k, n: s.n },
      planBlocks(s.m, s.n, s.blockRows, s.blockCols),
      {
        ...env.scheduler,
        ...(env.projector ? { verify: { projector: env.projector } } : {}),
        ...(env.trust ? { trust: env.trust } : {}),
        ...(env.splits ? { splits: env.splits } : {}),
      },
    );
    if (env.onSplit) job.onSplit = env.onSplit;
    return job;
  },
};

const inference: KindDef<InferenceSpec, InferenceRequest> = {
  build(req, rng) {
    const out = req.output;
    const tokens = out.mode === 'tokens';
    return {
      modelDigest: req.modelDigest,
      model: req.model,
      sequences: req.sequences.map((q) => Uint32Array.from(q)),
      mode: out.mode,
      steps: tokens ? out.steps : 0,
      temperature: tokens ? (out.temperature ?? 0) : 0,
      seed: (tokens ? out.seed : undefined) ?? rng.nextUint32(),
      perShard: req.perShard ?? defaultPerShard(req.sequences.length),
      policy: { ...defaultPolicy(out.mode), ...req.policy },
    };
  },
  describe(s) {
    const what = s.mode === 'logits' ? 'next-token logits' : `${s.steps} generated tokens each`;
    return `${s.sequences.length} sequence(s), ${what}`;
  },
  model: (s) => s.modelDigest,
  // Redundant inference pays each agreeing copy.
  paidCopies: (s) => Math.max(1, s.policy.copies),
  check(raw) {
    const r = object(raw);
    // A stored spec from before issue 23 names its model by a config of tessel's own
    // (`config`): that format is gone, and such a spec is refused here.
    const model = checkModelSummary(r.model);
    if (!Array.isArray(r.sequences) || !r.sequences.every((q) => q instanceof Uint32Array)) {
      throw new JobSpecError('sequences', 'a list of token-id arrays');
    }
    const spec = { ...(r as unknown as InferenceSpec), model };
    checkInferenceSpec(spec);
    return spec;
  },
  create: (id, s, env) => inferenceJob(id, s, env, 'inference'),
};

/** The owner's job of an inference spec, run as `kind`. A data-set kind keeps no answer in
 * memory: its outputs are stored as they verify. */
function inferenceJob(id: string, s: InferenceSpec, env: JobEnv, kind: 'inference' | RowKind) {
  return new InferenceOwnerJob(id, s, {
    engine: env.engine,
    rng: env.rng,
    ...env.scheduler,
    ...(env.trust ? { trust: env.trust } : {}),
    kind,
    holdAnswer: kind === 'inference',
  });
}

/** A data-set kind (src/jobs/rows.ts). */
function rowKind(kind: RowKind): KindDef<InferenceSpec, RowsRequest> {
  return {
    build: (req, rng) => buildRowsSpec(kind, req, rng),
    check: (raw) => checkRowsSpec(kind, raw),
    describe: (s) => describeRows(kind, s),
    model: (s) => s.modelDigest,
    paidCopies: (s) => Math.max(1, s.policy.copies),
    create: (id, s, env) => inferenceJob(id, s, env, kind),
  };
}

const WORK: { [K in WorkKind]: WorkDef } = {
  matmul: {
    async compute(work, engine) {
      if (work.kind !== 'matmul') throw new JobSpecError('work', 'not a matmul');
      // The lease's tensors are not needed afterwards, so the engine may take them.
      const c = await engine.matmul(work.a, work.b, { m: work.m, k: work.k, n: work.n });
      return { kind: 'matmul', rows: work.m, cols: work.n, c };
    },
    requiredModel: () => undefined,
  },
  inference: {
    async compute(work, engine) {
      if (work.kind !== 'inference') throw new JobSpecError('work', 'not inference');
      return computeInference(work, engine);
    },
    requiredModel: (work) => (work.kind === 'inference' ? work.modelDigest : undefined),
  },
};

/** The request each kind is built from. */
export interface JobRequests {
  matmul: MatmulRequest;
  inference: InferenceRequest;
  embed: RowsRequest;
  generate: RowsRequest;
  score: RowsRequest;
}

export const KINDS: {
  [K in JobKind]: KindDef<K extends 'matmul' ? MatmulSpec : InferenceSpec, JobRequests[K]>;
} = {
  matmul,
  inference,
  embed: rowKind('embed'),
  generate: rowKind('generate'),
  score: rowKind('score'),
};

/** A kind's definition, looked up by a spec's tag. */
function defOf(js: JobSpec): KindDef<unknown, unknown> {
  return KINDS[js.kind] as KindDef<unknown, unknown>;
}

export function isJobKind(k: unknown): k is JobKind {
  return typeof k === 'string' && Object.hasOwn(KINDS, k);
}

/** Validates a kind-tagged spec (submitted, or read back from IndexedDB). */
export function checkJobSpec(kind: unknown, spec: unknown): JobSpec {
  if (!isJobKind(kind)) throw new JobSpecError('kind', `unknown job kind ${String(kind)}`);
  return { kind, spec: KINDS[kind].check(spec) } as JobSpec;
}

/** The spec a researcher's request of kind `kind` asks for, unchecked (checkJobSpec says
 * whether it can run). */
export function buildJobSpec<K extends JobKind>(kind: K, req: JobRequests[K], rng: Rng): JobSpec {
  const def: KindDef<unknown, JobRequests[K]> = KINDS[kind];
  return { kind, spec: def.build(req, rng) } as JobSpec;
}

/** A job's request in words, for lists ("C = A·B, 512×256 by 256×512"). */
export function describeJob(js: JobSpec): string {
  return defOf(js).describe(js.spec);
}

/** Verified copies of one shard a job pays for (its kind's KindDef.paidCopies). */
export function paidCopies(js: JobSpec): number {
  return defOf(js).paidCopies(js.spec);
}

/** The model (by checkpoint digest) the owner must hold to run a job, if any. */
export function jobModel(js: JobSpec): string | undefined {
  return defOf(js).model(js.spec);
}

/** Whether a job keeps its answer in memory (matmul, low-level inference); a data-set job's
 * outputs are read from the owner's store. */
export function holdsAnswer(js: JobSpec): boolean {
  return js.kind === 'matmul' || js.kind === 'inference';
}

export function createJob(id: string, js: JobSpec, env: JobEnv): OwnerJob {
  return defOf(js).create(id, js.spec, env);
}

/** Runs a lease's work on an engine: the contributor's side of every kind. When `signal`
 * aborts (the lease ran out), the promise rejects with its reason and the engine stops the
 * work if it can (see Engine.cancellable). */
export function computeShard(work: Work, engine: Engine, signal?: AbortSignal): Promise<Output> {
  const run = () => WORK[work.kind].compute(work, engine);
  if (!signal) return run();
  if (signal.aborted) return Promise.reject(signal.reason);
  if (engine.cancellable) return engine.cancellable(signal, run);
  return new Promise<Output>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    run()
      .then(resolve, reject)
      .finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function requiredModel(work: Work): string | undefined {
  return WORK[work.kind].requiredModel(work);
}

function object(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null) throw new JobSpecError('spec', 'not an object');
  return raw as Record<string, unknown>;
}
