import type { Mesh } from '../mesh/mesh';
import type { LocalLedger } from './local';
import { LedgerService } from './service';

/**
 * Starts a mesh peer's part in the market (a tab's, a headless contributor's): its ledger is
 * served and gossiped with its current address and supply, an equivocating log's owner is
 * quarantined, and the parameters votes decide are applied to its reputation rules.
 */
export async function startMarket(mesh: Mesh, ledger: LocalLedger): Promise<LedgerService> {
  const market = new LedgerService({
    node: mesh.node,
    ledger,
    board: mesh.board,
    address: () => mesh.address,
    quarantine: (peer) => mesh.reputation.quarantine(peer),
    supply: () => ({ gflops: mesh.contributor.gflops, idle: mesh.idle }),
    onParams: (p) => {
      mesh.reputation.quarantineBelow = p.quarantineBelow;
    },
  });
  await market.start();
  return market;
}
