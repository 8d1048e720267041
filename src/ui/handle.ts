import type { Mesh } from '../mesh/mesh';
import type { ComputeClient } from '../worker/client';

/**
 * The page's public handle, `window.tessel`: the compute Worker's client and, once joined, the
 * mesh. For developers in the console, and for end-to-end tests (which import this type).
 */
export interface PageHandle {
  compute: ComputeClient;
  /** Set once the tab has joined the mesh (undefined without a relay). */
  mesh?: Mesh;
  meshReady: Promise<Mesh | undefined>;
}
