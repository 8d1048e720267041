// The matmul owner job's test helpers: a contributor as a job sees it, and a job's verdicts
// collected as they settle (tests/unit/jobs/matmul-job*.test.ts).
import type { Verdict } from '../../src/jobs/job';
import type { MatmulOwnerJob } from '../../src/jobs/matmul-job';

/** A contributor named `id` at 1 GFLOP/s whose GPU binds `maxBufferBytes`. */
export const who = (id: string, maxBufferBytes = Infinity) => ({
  id,
  gflops: 1,
  bytesPerSec: 0,
  maxBufferBytes,
  adapter: 'test',
});

/** A job whose settlements are collected as they happen. */
export function collect(job: MatmulOwnerJob): Verdict[] {
  const verdicts: Verdict[] = [];
  job.onSettled = (s) => verdicts.push(...s.verdicts);
  return verdicts;
}
