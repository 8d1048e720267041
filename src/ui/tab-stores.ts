import type { PrivateKey } from '@libp2p/interface';
import type { LocalLedger } from '../ledger/local';
import { notice } from '../log/log';
import type { JobHistory } from '../mesh/job-history';
import type { ModelCache } from '../mesh/model-store';
import type { OwnerStore } from '../mesh/store';
import { describeError } from './format';

/**
 * What a tab keeps across visits, each opened once on first use and shared: its libp2p key, its
 * books, the researcher's jobs and the models it holds. No network, no GPU, so views show them
 * before the tab joins the mesh; the modules load only when asked for (libp2p is most of the
 * page's weight).
 */
export class TabStores {
  #identity: Promise<PrivateKey> | undefined;
  #ledger: Promise<LocalLedger> | undefined;
  #owner: Promise<OwnerStore> | undefined;
  #history: Promise<JobHistory> | undefined;
  #models: Promise<ModelCache> | undefined;

  /** The tab's libp2p key (IndexedDB): the ledger and the mesh must sign as the same peer. */
  identity(): Promise<PrivateKey> {
    this.#identity ??= import('../mesh/identity').then(({ loadIdentity }) => loadIdentity());
    return this.#identity;
  }

  /** This tab's own books (its log and the receipts it earned), from IndexedDB. */
  ledger(): Promise<LocalLedger> {
    this.#ledger ??= (async () => {
      const [{ LocalLedger }, { peerIdFromPrivateKey }, key] = await Promise.all([
        import('../ledger/local'),
        import('@libp2p/peer-id'),
        this.identity(),
      ]);
      return LocalLedger.open(key, peerIdFromPrivateKey(key).toString());
    })();
    return this.#ledger;
  }

  /** Where the researcher's submitted jobs, verified shards and peer records persist. */
  ownerStore(): Promise<OwnerStore> {
    this.#owner ??= import('../mesh/store').then(({ OwnerStore }) => OwnerStore.open());
    return this.#owner;
  }

  /** The researcher's finished and cancelled jobs (kept in the owner store). */
  history(): Promise<JobHistory> {
    this.#history ??= (async () => {
      const { JobHistory } = await import('../mesh/job-history');
      return new JobHistory(await this.ownerStore());
    })();
    return this.#history;
  }

  /**
   * The models this browser keeps by checkpoint digest (OPFS with an IndexedDB index; in memory
   * where the browser has neither).
   */
  modelCache(): Promise<ModelCache> {
    this.#models ??= import('../mesh/model-store').then(({ BrowserModelCache, MemoryModelCache }) =>
      BrowserModelCache.open().catch((e) => {
        notice(`models are kept in memory only: ${describeError(e)}`);
        return new MemoryModelCache();
      }),
    );
    return this.#models;
  }
}
