import type { MatmulProblem } from '../jobs/freivalds';
import { buildJobSpec, type JobSpec } from '../jobs/kinds';
import type { RowKind } from '../jobs/rows';
import { type ShardSize, sizeShards } from '../jobs/shard-size';
import type { JobTerms } from '../jobs/terms';
import { cryptoRng } from '../model/rng';
import type { ModelLibrary } from './models';
import type { InferenceRequest, RowsJobRequest, RunningJob } from './owner-jobs';
import type { ShardOwnerService } from './shard-owner';

type Submitted = Promise<RunningJob & { jobId: string }>;

/** What the intake is built from: the desk's submit, what the owner service has seen of
 * contributors (to size shards), and the models this tab holds. */
export interface JobIntakeComponents {
  submit(js: JobSpec, terms?: JobTerms): Submitted;
  owner: Pick<ShardOwnerService, 'contributors' | 'links'>;
  models: Pick<ModelLibrary, 'hold'>;
}

/**
 * A researcher's requests turned into job specs for the desk (OwnerDesk.submit): shards sized
 * for the contributors this tab has seen, models resolved to ones it holds.
 */
export class JobIntake {
  constructor(readonly c: JobIntakeComponents) {}

  /** A matmul C = A·B, cut into blocks that fit contributors' GPUs unless `block` says. */
  submitMatmul(
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
    terms?: JobTerms,
  ): Submitted {
    const size = block ?? this.sizeMatmul(problem.m, problem.k, problem.n);
    return this.c.submit(buildJobSpec('matmul', { problem, block: size }, cryptoRng()), terms);
  }

  /**
   * Block sizes for an m×k×n matmul, cut to TARGET_SHARD_MS for the median of the contributors
   * that asked this tab for work lately (their stated speed and limits, the links this tab
   * measured), or for conservative defaults when it has seen none (shards that turn out too big
   * lapse and are split). Throws RangeError when K is too deep for any contributor.
   */
  sizeMatmul(m: number, k: number, n: number): ShardSize {
    const seen = [...this.c.owner.contributors].map(([peer, c]) => ({
      gflops: c.gflops,
      bytesPerSec: this.c.owner.links.bytesPerSec(peer),
      maxBufferBytes: c.maxBufferBytes,
    }));
    return sizeShards(m, k, n, seen);
  }

  /**
   * Batched inference: sequences are cut into shards, leased to contributors (who fetch the
   * model from this tab if they lack it), verified by the job's policy, and assembled in order.
   */
  async submitInference(req: InferenceRequest, terms?: JobTerms): Submitted {
    const held = { ...req, ...(await this.c.models.hold(req.model)) };
    return this.c.submit(buildJobSpec('inference', held, cryptoRng()), terms);
  }

  /**
   * A data-set job (embed, generate or score; src/jobs/rows.ts): rows cut into shards sized for
   * the slowest contributor this tab has seen (rowsPerShard), verified on sampled rows, every
   * verified shard's output stored as it settles (read back with OwnerDesk.shardOutput).
   */
  async submitRows(kind: RowKind, req: RowsJobRequest, terms?: JobTerms): Submitted {
    const speeds = [...this.c.owner.contributors.values()]
      .map((c) => c.gflops)
      .filter((g) => g > 0);
    const gflops = req.gflops ?? (speeds.length ? Math.min(...speeds) : undefined);
    const held = {
      ...req,
      ...(await this.c.models.hold(req.model)),
      ...(gflops ? { gflops } : {}),
    };
    return this.c.submit(buildJobSpec(kind, held, cryptoRng()), terms);
  }
}
