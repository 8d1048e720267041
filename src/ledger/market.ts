import type { Mesh } from '../mesh/mesh';
import { MAX_QUEUED_GFLOP } from './codec';
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
 * Work left in this peer's own unfinished jobs (GFLOP), of every kind: the demand it reports.
 * Each job counts its mean shard (OwnerJob.shardFlops, what its announcements state) times the
 * shards not yet done, capped at what one report may state (MAX_QUEUED_GFLOP).
 */
export function queuedGflop(mesh: Pick<Mesh, 'running'>): number {
  let total = 0;
  for (const { job } of mesh.running.values()) {
    const left = job.done ? 0 : Math.max(0, job.shardCount - job.doneCount);
    if (left === 0) continue;
    let flops = 0;
    for (let s = 0; s < job.shardCount; s++) flops += job.shardFlops(s);
    total += (flops / job.shardCount / 1e9) * left;
  }
  return Math.min(total, MAX_QUEUED_GFLOP);
}
