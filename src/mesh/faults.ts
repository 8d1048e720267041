import type { Mesh } from './mesh';
import type { LeasePolicy } from './owner-jobs';

/**
 * Fault injection into a Mesh, for tests only: installed under a test flag (the page's
 * `?faults`, as `window.tessel.faults`), never part of what production code calls. One method
 * per fault; each applies from the next thing it affects.
 */
export interface MeshFaults {
  /** How the jobs this tab starts from now lease their shards: lifetimes, leases per
   * contributor, speculation (tests shorten them to see lapses quickly). */
  leasePolicy(p: LeasePolicy): void;
}

/** The faults a test may inject into `mesh`. */
export function meshFaults(mesh: Pick<Mesh, 'desk'>): MeshFaults {
  return {
    leasePolicy: (p) => {
      mesh.desk.leasePolicy = { ...p };
    },
  };
}
