import type { ComputeApi } from './api';
import { type ComputeFaults, withFaults } from './faults';
import type { LocalCompute } from './local-api';
import { COMPUTE_METHODS, FAULT_METHODS, served } from './methods';
import type { ComputeSpawnOptions } from './spawn';

/**
 * What a compute Worker exposes for `api` (built from the method tables): the compute API,
 * plus fault injection only when it was spawned with `faults`.
 */
export function serveCompute(
  api: LocalCompute,
  options: ComputeSpawnOptions = {},
): ComputeApi | (ComputeApi & ComputeFaults) {
  if (!options.faults) return served<ComputeApi>(api, COMPUTE_METHODS);
  const faulty = withFaults(api);
  return {
    ...served<ComputeApi>(faulty, COMPUTE_METHODS),
    ...served<ComputeFaults>(faulty, FAULT_METHODS),
  };
}
