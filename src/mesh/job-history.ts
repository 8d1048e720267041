import { planShards } from '../jobs/inference-spec';
import { type Engine, emptyReport, type JobAnswer, type OwnerJob } from '../jobs/job';
import { createJob, type JobSpec } from '../jobs/kinds';
import { MatmulOwnerJob } from '../jobs/matmul-job';
import { DEFAULT_TERMS } from '../jobs/terms';
import { cryptoRng } from '../model/rng';
import type { JobView } from './read-model';
import { checkStoredJob, type OwnerStore, type StoredJob } from './store';

/** A finished or cancelled job as its history lists it: its record without the inputs. */
export interface HistoryRecord extends Omit<StoredJob, 'spec'> {
  /** What was asked, in words (describeJob). */
  summary: string;
}

// A job's request in words comes from the kind registry (its KindDef.describe).

/**
 * A history entry's view: the report, progress and spending kept when it ended. A job finished
 * before endings were kept shows what is known (its verified shards are counted when its
 * answer is read).
 */
export function historyView(r: HistoryRecord): JobView {
  const terms = r.terms ?? DEFAULT_TERMS;
  const ended = r.ended;
  return {
    jobId: r.id,
    kind: r.kind,
    state: ended?.state ?? 'done',
    resumed: false,
    history: true,
    createdAt: r.createdAt,
    ...(ended ? { finishedAt: ended.at } : {}),
    summary: r.summary,
    progress: ended?.progress ?? { shards: 0, leased: 0, awaiting: 0, verified: 0 },
    report: ended?.report ?? emptyReport(r.kind, 0),
    price: terms.price,
    budget: terms.budget,
    spent: ended?.spent ?? 0,
    budgetSpent: false,
    balanceLow: false,
  };
}

/** What a job has verified so far: its answer with the unverified parts zero, and which parts
 * are verified. */
export interface PartialAnswer {
  answer: JobAnswer;
  /** Verified shard ids. */
  verified: number[];
  /** Matmul: one byte per element of C (m×n, row-major), 1 where its block is verified.
   * Inference: one byte per sequence, 1 where its shard is verified. */
  mask: Uint8Array;
  /** Every shard is verified: the answer is whole. */
  complete: boolean;
  /** What the job was asked (its inputs, prompts and model). */
  js: JobSpec;
}

/** The verified part of a job's answer (`verified`: its verified shard ids). */
export function partialAnswer(job: OwnerJob, js: JobSpec, verified: number[]): PartialAnswer {
  const answer = job.answer();
  let mask: Uint8Array;
  if (js.kind === 'matmul' && job instanceof MatmulOwnerJob) {
    const n = js.spec.n;
    mask = new Uint8Array(js.spec.m * n);
    for (const s of verified) {
      const b = job.blocks[s];
      if (!b) continue;
      for (let r = b.row0; r < b.row0 + b.rows; r++)
        mask.fill(1, r * n + b.col0, r * n + b.col0 + b.cols);
    }
  } else if (js.kind !== 'matmul') {
    // Shard ids are shuffled, and canaries hold sequences of their own choosing: the plan says
    // which sequences each real shard holds.
    const defs = planShards(js.spec);
    mask = new Uint8Array(js.spec.sequences.length);
    for (const s of verified) {
      const d = defs[s];
      if (d && !d.canary) for (const q of d.sequences) mask[q] = 1;
    }
  } else {
    mask = new Uint8Array(0);
  }
  return { answer, verified, mask, complete: job.done, js };
}

/** The engine a history job is rebuilt with: it only assembles kept outputs, never computes. */
const NO_ENGINE = new Proxy({} as Engine, {
  get: (_t, name) => () => {
    throw new Error(`a finished job computes nothing (${String(name)})`);
  },
});

/**
 * The researcher's finished and cancelled jobs, read from the owner store: listed with what
 * they showed when they ended, their verified answers rebuilt from the kept outputs on demand,
 * deleted only when the researcher says. Works without joining the mesh.
 */
export class JobHistory {
  #records: Map<string, HistoryRecord> | undefined;

  constructor(readonly store: OwnerStore) {}

  /** Finished and cancelled jobs, newest first. */
  async list(): Promise<JobView[]> {
    return [...(await this.#load()).values()].map(historyView);
  }

  /** Adds a job that ended in this session (its record is in the store already). */
  async add(jobId: string): Promise<void> {
    const records = await this.#load();
    const [r] = (await this.store.finishedJobs()).filter((x) => x.id === jobId);
    if (r) records.set(jobId, r);
  }

  /** A kept job's verified answer, rebuilt from its kept outputs (undefined: no such job). */
  async answer(jobId: string): Promise<PartialAnswer | undefined> {
    const stored = await this.store.job(jobId);
    const checked = stored && checkStoredJob(stored);
    if (!checked || typeof checked === 'string') return undefined;
    const job = createJob(checked.id, checked, {
      engine: NO_ENGINE,
      rng: cryptoRng(),
      ...(checked.splits ? { splits: checked.splits } : {}),
    });
    const verified: number[] = [];
    for (const r of await this.store.kept(checked)) {
      if (job.restore(r.shardId, r.output)) verified.push(r.shardId);
    }
    return partialAnswer(job, checked, verified);
  }

  /** Forgets a job and its outputs for good. */
  async delete(jobId: string): Promise<void> {
    await this.store.deleteJob(jobId);
    (await this.#load()).delete(jobId);
  }

  async #load(): Promise<Map<string, HistoryRecord>> {
    this.#records ??= new Map((await this.store.finishedJobs()).map((r) => [r.id, r]));
    return this.#records;
  }
}
