// The workloads bench (`npm run bench -- --only workloads` → bench/results/workloads.json; issue
// 25): data-set jobs on the mesh (bench/workloads-mesh.ts) and the verification of the data-set
// kinds simulated without it (bench/workloads-catch.ts). scripts/bench.mjs builds this file for
// Node and calls workloadsBench.
import { type CatchFigures, type CatchOptions, catchRates } from './workloads-catch';
import { type Workload, type WorkloadFigures, workloadsMesh } from './workloads-mesh';

export interface WorkloadsBenchOptions {
  relay: string;
  contributorScript: string;
  env?: NodeJS.ProcessEnv;
  workloads: Workload[];
  catch: CatchOptions;
  /** Which parts run (both by default). */
  parts?: { mesh?: boolean; catch?: boolean };
  log?: (line: string) => void;
}

export async function workloadsBench(
  o: WorkloadsBenchOptions,
): Promise<{ mesh?: WorkloadFigures[]; verification?: CatchFigures[] }> {
  const log = o.log ?? (() => {});
  const out: { mesh?: WorkloadFigures[]; verification?: CatchFigures[] } = {};
  if (o.parts?.mesh !== false) {
    log('\nworkloads on the mesh: a Node owner (CPU engine, 1 thread) and headless contributors');
    out.mesh = await workloadsMesh({ ...o, log });
  }
  if (o.parts?.catch !== false) {
    log('\nverification of the data-set kinds, simulated (default policy, 10% faker)');
    out.verification = await catchRates({ ...o.catch, log });
  }
  return out;
}
