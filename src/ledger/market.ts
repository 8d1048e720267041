import { matmulFlops } from '../jobs/price';
import type { Mesh } from '../mesh/mesh';
import type { LocalLedger } from './local';
import { LedgerService } from './service';

/**
 * Starts a mesh peer's part in the market (a tab's, a headless contributor's): its ledger is
 * served and gossiped with its current address and market report (supply and its own queued
 * work), an equivocating log's owner is quarantined, and the parameters votes decide are
 * applied to its reputation rules.
 */
export async function startMarket(mesh: Mesh, ledger: LocalLedger): Promise<LedgerService> {
  const market = new LedgerService({
    node: mesh.node,
    ledger,
    address: () => mesh.address,
    quarantine: (peer, why) => mesh.reputation.quarantine(peer, why),
    supply: () => ({
      gflops: mesh.contributor.gflops,
      idle: mesh.idle,
      queuedGflop: queuedGflop(mesh),
    }),
    onParams: (p) => {
      mesh.reputation.quarantineBelow = p.quarantineBelow;
    },
  });
  await market.start();
  return market;
}

/**
 * Work left in this peer's own unfinished jobs (GFLOP): the demand it reports. Matmul shards
 * only, as its announcements state them (an inference shard's work depends on the model and is
 * announced as 0).
 */
export function queuedGflop(mesh: Pick<Mesh, 'running' | 'request'>): number {
  let total = 0;
  for (const [id, run] of mesh.running) {
    const js = run.job.done ? undefined : mesh.request(id);
    if (js?.kind !== 'matmul') continue;
    const { m, k, n } = js.spec;
    const left = Math.max(0, run.job.shardCount - run.job.doneCount);
    total += (matmulFlops(m, k, n) / Math.max(1, run.job.shardCount) / 1e9) * left;
  }
  return total;
}
