import type { InferenceSpec } from '../jobs/inference-spec';
import type { JobSpec } from '../jobs/kinds';
import type { RowKind } from '../jobs/rows';
import type { JobView } from '../mesh/read-model';
import { formatBytes } from './format';
import { resultsFile } from './results-file';
import { embedBound, isRowKind, nextRowPace, type RowJobState } from './row-progress';
import type { TabSession } from './session';

/** The least time between two counts of one running job's rows. */
const COUNT_EVERY_MS = 1_000; // ms

/**
 * The data-set jobs of `<tessel-jobs>`: each one's rows verified (the job's progress.rowsVerified,
 * read as shards settle, at most once a COUNT_EVERY_MS), its pace, and the results
 * file built on request from the verified outputs the owner store keeps (results-file.ts).
 * `changed` is called whenever something shown moved.
 */
export class RowJobs {
  readonly #views = new Map<string, RowJobState>();
  /** Per job: what the last count was taken at, so a count runs only when the job moved. */
  readonly #seen = new Map<string, { key: string; at: number }>();

  constructor(
    readonly session: () => TabSession | undefined,
    readonly changed: () => void,
  ) {}

  get views(): ReadonlyMap<string, RowJobState> {
    return this.#views;
  }

  /** Counts the rows of the data-set jobs among `jobs` that moved since their last count. */
  track(jobs: readonly JobView[]): void {
    const now = Date.now();
    for (const j of jobs) {
      if (!isRowKind(j.kind)) continue;
      const key = `${j.state}:${j.progress.verified}:${j.progress.shards}`;
      const seen = this.#seen.get(j.jobId);
      if (seen?.key === key) continue;
      if (seen && j.state === 'running' && now - seen.at < COUNT_EVERY_MS) continue;
      this.#seen.set(j.jobId, { key, at: now });
      this.#count(j);
    }
  }

  #count(j: JobView) {
    const mesh = this.session()?.mesh;
    const js = mesh?.request(j.jobId);
    if (!mesh || !js || js.kind === 'matmul') return;
    const total = js.spec.sequences.length;
    const rows = j.state === 'done' ? total : (j.progress.rowsVerified ?? 0);
    const before = this.#views.get(j.jobId);
    this.#views.set(j.jobId, {
      ...before,
      pace: nextRowPace(before?.pace, total, rows, Date.now()),
      ...(js.kind === 'embed' ? { bound: embedBound(js.spec.model) } : {}),
    });
    this.changed();
  }

  /**
   * Builds the job's results file (all of it, or with `partial` the rows verified so far of a
   * .jsonl) and keeps its link; `note` is told the progress. Rejects with why it cannot.
   */
  async build(jobId: string, js: JobSpec, partial: boolean, note: (text: string) => void) {
    const session = this.session();
    const mesh = session?.mesh;
    if (!session || !mesh) {
      throw new Error('join the mesh first: the results are read from this tab’s store');
    }
    if (!isRowKind(js.kind)) throw new Error(`a ${js.kind} job has no data-set results`);
    const kind: RowKind = js.kind;
    const spec = js.spec as InferenceSpec;
    const compute = session.compute;
    if (kind === 'generate' && !(await compute.hasModel(spec.modelDigest))) {
      const files = await (await session.modelCache()).get(spec.modelDigest);
      if (!files) throw new Error('the job’s model is no longer in this browser: load it again');
      await compute.loadModel(files);
    }
    const file = await resultsFile(
      jobId,
      kind,
      spec,
      {
        output: (shardId) => mesh.shardOutput(jobId, shardId),
        detokenize: (rows) => compute.detokenize(spec.modelDigest, rows),
      },
      {
        partial,
        onProgress: (rows, total) =>
          note(`Writing ${rows.toLocaleString('en')} of ${total.toLocaleString('en')} rows…`),
      },
    );
    const before = this.#views.get(jobId);
    if (before?.results) URL.revokeObjectURL(before.results.url);
    const results = {
      name: file.name,
      url: URL.createObjectURL(file.blob),
      bytes: file.blob.size,
      rows: file.rows,
    };
    this.#views.set(jobId, {
      ...(before ?? { pace: nextRowPace(undefined, file.rows, file.rows, Date.now()) }),
      results,
    });
    this.changed();
    return `${file.name}: ${file.rows.toLocaleString('en')} rows, ${formatBytes(results.bytes)}, ready to save.`;
  }

  /** Forgets a deleted job (and frees its results file). */
  forget(jobId: string): void {
    const v = this.#views.get(jobId);
    if (v?.results) URL.revokeObjectURL(v.results.url);
    this.#views.delete(jobId);
    this.#seen.delete(jobId);
  }

  /** Frees every results file (the list left the page). */
  dispose(): void {
    for (const id of [...this.#views.keys()]) this.forget(id);
  }
}
