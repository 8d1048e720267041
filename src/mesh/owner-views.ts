import type { OwnerJob } from '../jobs/job';
import { describeJob, type JobSpec } from '../jobs/kinds';
import type { Wallet } from '../jobs/purse';
import { DEFAULT_TERMS } from '../jobs/terms';
import type { Paymaster } from './paymaster';
import type { JobView } from './read-model';
import type { ShardOwnerService } from './shard-owner';
import { type StallFacts, stallOf } from './stall';
import type { JobEnding } from './store';

/** What one of this tab's jobs was asked to do, and how it ended. */
export interface Asked {
  js: JobSpec;
  createdAt: number; // ms since the epoch
  state: JobView['state'];
  finishedAt?: number; // ms since the epoch
}

/** Where a job view reads the job's money and its contributors' asks. */
export interface DeskBooks {
  wallet: Wallet;
  pay: Pick<Paymaster, 'affordable'>;
  owner: Pick<ShardOwnerService, 'asks'>;
}

/** One of this tab's jobs as the researcher's view shows it. */
export function jobView(
  run: { job: OwnerJob; resumed: boolean },
  asked: Asked,
  books: DeskBooks,
): JobView {
  const { job } = run;
  const purse = books.wallet.purse(job.id);
  return {
    jobId: job.id,
    kind: job.kind,
    state: asked.state,
    resumed: run.resumed,
    history: false,
    createdAt: asked.createdAt,
    ...(asked.finishedAt ? { finishedAt: asked.finishedAt } : {}),
    summary: describeJob(asked.js),
    progress: job.progress(),
    report: job.report(),
    price: purse?.terms.price ?? DEFAULT_TERMS.price,
    budget: purse?.terms.budget ?? DEFAULT_TERMS.budget,
    spent: purse?.spent ?? 0,
    budgetSpent: (purse?.exhausted ?? false) && !job.done,
    balanceLow: !job.done && !books.pay.affordable(job.id),
    ...(asked.state === 'running' && !job.done ? stallOf(stallFacts(job, asked, books)) : {}),
  };
}

/** How a job ended, as its history keeps it; undefined while it runs. */
export function ending(view: JobView): JobEnding | undefined {
  if (view.state === 'running') return undefined;
  return {
    state: view.state,
    at: view.finishedAt ?? Date.now(),
    report: view.report,
    progress: { ...view.progress, leased: 0, awaiting: 0 },
    spent: view.spent,
  };
}

/** What decides whether a running job is stalled, and why (see stall.ts). */
function stallFacts(job: OwnerJob, asked: Asked, books: DeskBooks): StallFacts {
  const purse = books.wallet.purse(job.id);
  return {
    now: Date.now(),
    createdAt: asked.createdAt,
    leased: job.outstanding().length,
    budgetSpent: purse?.exhausted ?? false,
    spent: purse?.spent ?? 0,
    budget: purse?.terms.budget ?? Number.POSITIVE_INFINITY,
    balanceLow: !books.pay.affordable(job.id),
    asks: books.owner.asks(job.id),
    shardBytes: job.shardBytes?.() ?? 0,
  };
}

/** A job's mean GFLOP per shard (its kind's own count, OwnerJob.shardFlops), worked out again
 * only when a split changes its shards. */
export function meanShardGflop(job: Pick<OwnerJob, 'shardCount' | 'shardFlops'>): () => number {
  let count = -1;
  let mean = 0;
  return () => {
    if (job.shardCount !== count) {
      count = job.shardCount;
      let flops = 0;
      for (let s = 0; s < count; s++) flops += job.shardFlops(s);
      mean = flops / Math.max(1, count) / 1e9;
    }
    return mean;
  };
}
