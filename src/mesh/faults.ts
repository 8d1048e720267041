import type { Mesh } from './mesh';
import { corruptModelChunks } from './model-transfer';
import type { LeasePolicy } from './owner-jobs';

/**
 * Fault injection into a Mesh, for tests only: installed under a test flag (the page's
 * `?faults`, as `window.tessel.faults.mesh`), never part of what production code calls. One
 * method per fault; each applies from the next thing it affects.
 */
export interface MeshFaults {
  /** How the jobs this tab starts from now lease their shards: lifetimes, leases per
   * contributor, speculation (tests shorten them to see lapses quickly). */
  leasePolicy(p: LeasePolicy): void;
  /** The next `n` model chunks this tab serves have one byte flipped (corruption in flight,
   * which the fetcher must catch by the chunk's hash). */
  corruptChunks(n: number): void;
}

/** The faults a test may inject into `mesh`. */
export function meshFaults(mesh: Pick<Mesh, 'desk' | 'models'>): MeshFaults {
  return {
    leasePolicy: (p) => {
      mesh.desk.leasePolicy = { ...p };
    },
    corruptChunks: (n) => corruptModelChunks(mesh.models.server, n),
  };
}
