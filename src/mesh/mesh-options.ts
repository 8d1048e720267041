import type { PrivateKey } from '@libp2p/interface';
import type { Engine } from '../jobs/job';
import type { Reputation } from '../jobs/reputation';
import { notice } from '../log/log';
import type { JobHistory } from './job-history';
import type { LedgerPort } from './ledger-port';
import { MemoryModelCache, type ModelCache } from './model-store';
import { ModelFetcher, ModelServer, type ModelServerOptions } from './model-transfer';
import { type ModelHost, ModelLibrary } from './models';
import type { MeshNode } from './node';
import type { ContributorOptions } from './shard-contributor';
import type { OwnerStore } from './store';

export interface MeshConfig {
  /** Relay multiaddrs (…/ws/p2p/<id>): the tab connects to all and reserves on two. */
  relays: string[];
  iceServers: RTCIceServer[];
}

/** What a Mesh is started with (see Mesh.start). */
export interface MeshOptions {
  config: MeshConfig;
  privateKey: PrivateKey;
  /** The tab's compute Worker: it runs shards and the owner's own checks, and holds models. */
  engine: Engine & ModelHost;
  /** This tab's engine and adapter (src/gpu/device.ts adapterIdentity). */
  adapter: string;
  maxBufferBytes: number; // bytes
  kernelDigest: string;
  contribute: boolean;
  /** Where submitted jobs, verified shards and peer records persist (IndexedDB). */
  ownerStore?: OwnerStore;
  /** Where models are kept by digest (IndexedDB); in memory by default. */
  modelCache?: ModelCache;
  /** This tab's books (src/ledger): receipts issued and accepted, spending, balance. Absent: no
   * market (payments need no receipt, spending has no limit but budgets). */
  ledger?: LedgerPort;
  /** Contributor pacing: GPU budget and when to pause (see ShardContributor). */
  budget?: number;
  /** This tab's measured matmul speed, sent with work requests so owners size deadlines to it. */
  gflops?: number; // GFLOP/s
  gate?: ContributorOptions['gate'];
  /** Largest model this tab fetches to contribute. */
  maxModelBytes?: number; // bytes, default DEFAULT_MAX_MODEL_BYTES (work-loop.ts)
  /** The researcher's finished and cancelled jobs (kept in `ownerStore`): listed with the
   * running ones, answers rebuilt on demand. */
  history?: JobHistory;
}

/** `o`'s books with their methods bound, so that its parts may pass them on detached (the
 * port may be a class instance). */
export function ledgerOf(o: MeshOptions): LedgerPort | undefined {
  const l = o.ledger;
  if (!l) return undefined;
  return {
    issue: (r) => l.issue(r),
    revoke: (jobId, contributor, reason) => l.revoke(jobId, contributor, reason),
    accept: (signed, expect) => l.accept(signed, expect),
    spent: (jobId) => l.spent(jobId),
    canSpend: (credit) => l.canSpend(credit),
  };
}

/** The models a Mesh holds, fetches (a peer serving a bad one is recorded as malformed) and
 * serves to the peers `mayFetch` allows. */
export function modelLibrary(
  node: MeshNode,
  o: MeshOptions,
  { mayFetch, reputation }: Pick<ModelServerOptions, 'mayFetch'> & { reputation: Reputation },
): ModelLibrary {
  return new ModelLibrary(
    o.engine,
    o.modelCache ?? new MemoryModelCache(),
    new ModelServer(node, { mayFetch }),
    new ModelFetcher(node, {
      ...(o.maxModelBytes ? { maxModelBytes: o.maxModelBytes } : {}),
      onBadPeer: (peer, error) => {
        notice(error.message);
        reputation.record(peer, 'malformed', `served a bad model: ${error.message}`);
      },
    }),
  );
}
