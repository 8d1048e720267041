// The owner's scheduler, verifier and reputation driven by 1,000 simulated contributors over
// 100,000 shards (src/jobs/simulate.ts), in the browser's JS engine like a researcher's tab.
import { type SimulationOptions, simulate } from '../src/jobs/simulate';

function runSchedulerBench(options: SimulationOptions, repeats: number) {
  simulate({ ...options, shards: Math.min(options.shards, 10_000) }); // warm up the JIT
  const runs = Array.from({ length: repeats }, (_, i) => simulate({ ...options, seed: i + 1 }));
  return runs;
}

Object.assign(globalThis, { runSchedulerBench });
