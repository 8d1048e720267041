import type { JobAnswer, OwnerJob, VerificationReport } from '../jobs/job';
import type { InferenceRequest as HeldModelRequest } from '../jobs/kinds';
import type { RowsRequest } from '../jobs/rows';
import type { SchedulerOptions } from '../jobs/scheduler';
import type { CheckpointFileMap } from '../worker/api';

// The owner's jobs as the desk hands them out (see owner-desk.ts).

/** The lease rules a tab's jobs are started with (see SchedulerOptions). */
export type LeasePolicy = Omit<SchedulerOptions, 'shardFlops' | 'onExpire' | 'proven'>;

export interface FinishedJob {
  jobId: string;
  answer: JobAnswer;
  report: VerificationReport;
}

export interface RunningJob {
  job: OwnerJob;
  /** Resolves with the verified answer; rejects with JobCancelledError if the owner cancels. */
  done: Promise<FinishedJob>;
  /** True when the job was resumed from IndexedDB after a reload. */
  resumed: boolean;
}

/** `done` of a job its owner cancelled. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`);
  }
}

/** A researcher's batched inference (see OwnerDesk.submitInference). */
export interface InferenceRequest extends Omit<HeldModelRequest, 'modelDigest' | 'model'> {
  /** The model: a Hugging Face checkpoint folder's files (and a name to list it under), or the
   * checkpoint digest of one this tab holds. */
  model: { files: CheckpointFileMap; name?: string } | { digest: string };
}

/** A researcher's data-set job (see OwnerDesk.submitRows): rows through a model. */
export interface RowsJobRequest extends Omit<RowsRequest, 'modelDigest' | 'model'> {
  /** The model, as InferenceRequest takes it. */
  model: InferenceRequest['model'];
}

/** A fresh job id: 96 random bits, base64url. */
export function newJobId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}
