import type { PrivateKey } from '@libp2p/interface';
import { matmulKernelDigest } from '../gpu/matmul';
import type { LocalLedger } from '../ledger/local';
import { startMarket } from '../ledger/market';
import type { LedgerService } from '../ledger/service';
import { Mesh, type MeshConfig, type MeshOptions } from '../mesh/mesh';
import { BooksPort } from './books-port';

export { BooksPort } from './books-port';

/** What a peer (a tab, a headless contributor) is started with. */
export interface PeerOptions {
  config: MeshConfig;
  /** The peer's libp2p key: its books sign as the same peer. */
  privateKey: PrivateKey;
  /** The engine shards and the owner's own checks run on (the compute Worker, or Dawn). */
  engine: MeshOptions['engine'];
  /** The engine's identity (src/worker ComputeInfo.identity) and its largest buffer. */
  adapter: string;
  maxBufferBytes: number; // bytes
  /** The peer's books: receipts it issues, earns and spends. */
  ledger: LocalLedger;
  /** Contribute from the start (a headless contributor), or once told (a tab: setContributing). */
  contribute: boolean;
  /** Gossip checkpoints, witness and answer audits (the market); default on. */
  market?: boolean;
  budget?: MeshOptions['budget'];
  gflops?: MeshOptions['gflops']; // GFLOP/s
  gate?: MeshOptions['gate'];
  ownerStore?: MeshOptions['ownerStore'];
  history?: MeshOptions['history'];
  modelCache?: MeshOptions['modelCache'];
}

/** A started peer: its mesh and its part in the market (see startPeer). */
export class Peer {
  readonly mesh: Mesh;
  /** The market's service (audits, witnessing, prices); undefined when started without. */
  readonly market: LedgerService | undefined;
  #stopped: Promise<void> | undefined;

  constructor(mesh: Mesh, market: LedgerService | undefined) {
    this.mesh = mesh;
    this.market = market;
  }

  /** Stops the market, then the mesh (held leases given back); both are tried, the first
   * failure is thrown. Later calls share the first. */
  stop(): Promise<void> {
    this.#stopped ??= stopBoth(this.market, this.mesh);
    return this.#stopped;
  }
}

/**
 * Starts a peer: the mesh on `engine`, paying and earning through `ledger` (a BooksPort), then
 * the market beside it, whose governance decides the grant the books' balance counts. The one
 * composition of the tab (src/ui/session.ts) and the headless contributor (src/headless).
 */
export async function startPeer(o: PeerOptions): Promise<Peer> {
  const books = new BooksPort(o.ledger);
  const mesh = await Mesh.start({
    config: o.config,
    privateKey: o.privateKey,
    engine: o.engine,
    adapter: o.adapter,
    kernelDigest: await matmulKernelDigest(),
    maxBufferBytes: o.maxBufferBytes,
    contribute: o.contribute,
    ledger: books,
    ...(o.budget !== undefined ? { budget: o.budget } : {}),
    ...(o.gflops ? { gflops: o.gflops } : {}),
    ...(o.gate ? { gate: o.gate } : {}),
    ...(o.ownerStore ? { ownerStore: o.ownerStore } : {}),
    ...(o.history ? { history: o.history } : {}),
    ...(o.modelCache ? { modelCache: o.modelCache } : {}),
  });
  let market: LedgerService | undefined;
  try {
    market = o.market === false ? undefined : await startMarket(mesh, o.ledger);
  } catch (e) {
    await mesh.stop().catch(() => {});
    throw e;
  }
  if (market) {
    const service = market;
    books.grant = () => service.params.grant;
  }
  return new Peer(mesh, market);
}

/** The market first: its gossip rides on the mesh's node. */
async function stopBoth(market: LedgerService | undefined, mesh: Mesh): Promise<void> {
  let failure: unknown;
  await market?.stop().catch((e: unknown) => {
    failure = e;
  });
  await mesh.stop().catch((e: unknown) => {
    failure ??= e;
  });
  if (failure !== undefined) throw failure;
}
