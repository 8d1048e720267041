import { type LedgerFaults, ledgerFaults } from '../ledger/faults';
import { type MeshFaults, meshFaults } from '../mesh/faults';
import type { ComputeFaults } from '../worker/faults';
import type { TabSession } from './session';

/** The URL flag that installs fault injection on a page (the end-to-end specs set it). */
export const FAULTS_FLAG = 'faults';

/**
 * `window.tessel.faults`: what the end-to-end specs use to play a cheating, crashing or lying
 * peer. Present only on a page opened with `?faults`; the production page has none of it (its
 * compute Worker is spawned without fault methods).
 */
export interface PageFaults {
  /** The compute Worker's faults: cheats, stalls, a lost device. */
  readonly compute: ComputeFaults;
  /** The mesh's faults (lease policy, corrupt model chunks); throws before the tab joined. */
  readonly mesh: MeshFaults;
  /** The market's faults (an equivocating log); throws before the market started. */
  readonly ledger: LedgerFaults;
}

/** The faults of `session`, read when used (the mesh and the market come and go). */
export function pageFaults(session: TabSession): PageFaults {
  const compute = session.compute.faults;
  if (!compute) throw new Error('the compute Worker was spawned without faults');
  return {
    compute,
    get mesh() {
      if (!session.mesh) throw new Error('the tab is not on the mesh');
      return meshFaults(session.mesh);
    },
    get ledger() {
      if (!session.market) throw new Error('the market has not started');
      return ledgerFaults(session.market);
    },
  };
}
