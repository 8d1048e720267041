/**
 * The embeddable contributor, built as an ES library (vite.embed.config.ts → dist/embed/tessel.js).
 * One script tag on any site:
 *
 *   <script type="module" src="https://tessel.example/embed/tessel.js"></script>
 *   <tessel-contributor relay="/dns4/relay.example/tcp/443/wss/p2p/12D3…" budget="0.3"></tessel-contributor>
 *
 * (several relays: their multiaddrs in `relay`, separated by spaces; the tab reserves on two).
 *
 * The element shows the same Contribute switch as the app (off until the visitor turns it on).
 * Sites with their own consent UI call `startContributor` from the visitor's click instead.
 */

import type { EngineKind } from '../worker/api';
import { parseEngine, parseMeshConfig } from './config';
import { TesselContributor } from './contributor-view';
import { type SessionStatus, TabSession } from './session';

export type { SessionStatus };
export { TesselContributor };

export interface StartContributorOptions {
  /** A relay's multiaddr, ending in /p2p/<peer id>, or several (the tab reserves on two). */
  relay: string | string[];
  /** Share of wall time the GPU may be busy, BUDGET_MIN to BUDGET_MAX (src/jobs/budget.ts). */
  budget?: number; // default DEFAULT_BUDGET
  /** `auto` (default: the faster engine, measured on the visitor's device), `webgpu` or `cpu`. */
  engine?: 'auto' | EngineKind;
  /** Called on every change of state (starting, contributing, paused, error, off). */
  onStatus?: (status: SessionStatus) => void;
}

export interface RunningContributor {
  readonly session: TabSession;
  /** Stops at once: no more shards, the tab leaves the mesh, the Worker is released. */
  stop(): Promise<void>;
  setBudget(budget: number): void;
}

/**
 * Starts contributing this visitor's GPU without the element's UI. Call it only from the
 * visitor's own action (their click on your consent control): it switches Contribute on and
 * remembers that for your origin, as the element's switch does. Throws ConfigError for a relay
 * that is not a multiaddr.
 */
export async function startContributor(
  options: StartContributorOptions,
): Promise<RunningContributor> {
  const config = parseMeshConfig({ relays: [options.relay].flat() });
  const engine = parseEngine('engine', options.engine);
  const session = new TabSession({ config: async () => config, engine: () => engine });
  if (options.onStatus) {
    const onStatus = options.onStatus;
    session.addEventListener('status', (e) => onStatus(e.detail));
  }
  if (options.budget !== undefined) session.setBudget(options.budget);
  await session.setContributing(true);
  return {
    session,
    setBudget: (b) => session.setBudget(b),
    async stop() {
      await session.setContributing(false);
      await session.dispose();
    },
  };
}
