import type { Mesh } from '../mesh/mesh';
import type { ComputeClient } from '../worker/client';
import type { PageFaults } from './faults';
import type { TabSession } from './session';

/**
 * The page's public handle, `window.tessel`, for developers in the console and for the
 * end-to-end specs that play a cheating or crashing contributor (which import this type).
 */
export interface PageHandle {
  compute: ComputeClient;
  session: TabSession;
  /** Set while the tab is on the mesh. */
  readonly mesh: Mesh | undefined;
  /** Joins the mesh as the owner of jobs, without contributing (what submitting a job does). */
  join(): Promise<Mesh>;
  /** Fault injection for the end-to-end specs: only on a page opened with `?faults`. */
  faults?: PageFaults;
}
