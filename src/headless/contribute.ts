import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { LocalLedger } from '../ledger/local';
import { print } from '../log/log';
import { parseMeshConfig } from '../mesh/config';
import type { Mesh } from '../mesh/mesh';
import { startPeer } from '../peer/peer';
import { loadOrCreateKey } from '../relay/relay';
import type { ComputeApi, ComputeInfo, EngineKind } from '../worker/api';
import { chooseEngine } from '../worker/engine-choice';
import { openLedger, saveLedger } from './ledger-file';
import { ProgressLog } from './progress';

/** The engine a headless contributor computes on: the Worker's API, here in-process on Dawn. */
export type HeadlessEngine = Pick<
  ComputeApi,
  | 'info'
  | 'tune'
  | 'benchmark'
  | 'setEngine'
  | 'matmul'
  | 'logits'
  | 'generateTokens'
  | 'embed'
  | 'score'
> &
  Pick<ComputeApi, 'loadModel' | 'hasModel'>;

export interface HeadlessOptions {
  /** Relay multiaddrs (…/ws/p2p/<id> or …/wss/p2p/<id>); at least one, two to stay reachable. */
  relays: string[];
  /** Share of wall time the GPU may be busy, BUDGET_MIN to BUDGET_MAX (src/jobs/budget.ts). */
  budget?: number; // share of wall time, default DEFAULT_BUDGET (src/jobs/budget.ts)
  /** STUN/TURN servers for WebRTC across the internet ([] on one machine). */
  iceServers?: RTCIceServer[];
  /** Where the identity key and the ledger file live, so a restart keeps peer id and credit. */
  dataDir?: string; // default ~/.tessel
  /** The engine to compute on; default: this process's WebGPU adapter through Dawn (`webgpu`). */
  engine?: HeadlessEngine;
  /** Which engine computes: `auto` (default) measures the CPU engine against a hardware GPU
   * and lends the faster (a software adapter or none means the CPU). */
  use?: EngineKind | 'auto';
  /** Measured GFLOP/s; when absent the kernels are tuned and measured once at start. */
  gflops?: number;
  /** Gossip checkpoints, witness and answer audits as a tab does (the market); default on. */
  market?: boolean;
  /** Where progress lines go. */
  log?: (line: string) => void; // default print (stdout)
}

/** A running headless contributor (see `contribute`). */
export interface HeadlessContributor {
  readonly peerId: string;
  readonly adapter: string;
  readonly gflops: number;
  readonly mesh: Mesh;
  readonly ledger: LocalLedger;
  /** Shards verified and rejected this run, copies that lost a race to another copy
   * (superseded: no fault, no pay), and credit earned (µcredits; formatCredits shows it in
   * credits, as the page does) in all runs. */
  stats(): {
    verified: number;
    rejected: number;
    superseded: number;
    abandoned: number;
    credit: number;
  };
  /** Stops: no new work, held leases given back (the shard stream closes first), ledger saved. */
  stop(): Promise<void>;
}

/**
 * Contributes this machine's GPU to the mesh without a browser: the same kernels (src/gpu) on
 * Dawn, the same contributor protocol over WebRTC (node-datachannel), the same receipts. It
 * starts contributing at once: running it is the owner's consent.
 */
export async function contribute(o: HeadlessOptions): Promise<HeadlessContributor> {
  const log = o.log ?? print;
  const config = parseMeshConfig({ relays: o.relays, iceServers: o.iceServers ?? [] });
  const dataDir = o.dataDir ?? join(process.env.HOME ?? '.', '.tessel');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const own = o.engine ? undefined : await dawnEngine();
  const engine = (o.engine ?? own) as HeadlessEngine;
  try {
    const { info, gflops } = await lend(engine, o, log);
    const adapter = info.identity;
    log(`engine ${adapter}`);
    const privateKey = await loadOrCreateKey(join(dataDir, 'key'));
    const peerId = peerIdFromPrivateKey(privateKey).toString();
    const ledger = await openLedger(privateKey, peerId, dataDir, log);
    const peer = await startPeer({
      config,
      privateKey,
      engine,
      adapter,
      maxBufferBytes: info.maxBindingBytes,
      ledger,
      contribute: true,
      ...(o.market === false ? { market: false } : {}),
      ...(o.budget !== undefined ? { budget: o.budget } : {}),
      ...(gflops ? { gflops } : {}),
    });
    const { mesh } = peer;
    log(`peer ${peerId}, reachable at ${mesh.addresses.join(' ')}`);
    const progress = new ProgressLog(peerId, log);
    progress.follow(mesh);
    let stopped: Promise<void> | undefined;
    return {
      peerId,
      adapter,
      gflops,
      mesh,
      ledger,
      stats: () => ({ ...progress.counts, credit: ledger.earned }),
      stop() {
        stopped ??= (async () => {
          await peer.stop();
          await saveLedger(ledger, dataDir);
          await own?.dispose();
        })();
        return stopped;
      },
    };
  } catch (e) {
    await own?.dispose();
    throw e;
  }
}

/** Chooses the engine to lend (`o.use`) and its speed, and says so in progress lines. */
async function lend(
  engine: HeadlessEngine,
  o: Pick<HeadlessOptions, 'use' | 'gflops'>,
  log: (line: string) => void,
): Promise<{ info: ComputeInfo; gflops: number }> {
  let info = await engine.info();
  log(
    info.adapter
      ? `WebGPU adapter ${info.adapter.vendor}/${info.adapter.architecture}${info.adapter.isFallback ? ' (software)' : ''}`
      : `no WebGPU adapter (${info.gpuError?.message ?? 'none'})`,
  );
  let gflops = o.gflops ?? 0;
  const use = o.use ?? 'auto';
  if (use === 'auto') {
    const choice = await chooseEngine(engine);
    info = choice.info;
    gflops ||= choice.gflops;
    const figures = Object.entries(choice.measured).map(([k, v]) => `${k} ${v.toFixed(1)}`);
    log(`measured GFLOP/s at 512³: ${figures.join(', ')}; lending ${info.engine}`);
  } else {
    info = await engine.setEngine(use);
    if (use === 'webgpu') info = await engine.tune();
    gflops ||= (await engine.benchmark([512], 1))[0]?.gflops ?? 0;
    log(`lending ${use}: ${gflops.toFixed(1)} GFLOP/s at 512³`);
  }
  if (info.engine === 'webgpu') log(`tile ${JSON.stringify(info.tile)}`);
  if (info.cpu) log(`CPU engine: ${info.cpu.simd}, ${info.cpu.threads} threads`);
  return { info, gflops };
}

async function dawnEngine() {
  const [{ createComputeApi }, { spawnNodeHelper }] = await Promise.all([
    import('../worker/api'),
    import('../cpu/node-threads'),
  ]);
  return createComputeApi({ cpu: { threads: availableParallelism(), spawn: spawnNodeHelper } });
}
