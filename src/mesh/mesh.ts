import type { PrivateKey } from '@libp2p/interface';
import type { Block, MatmulProblem } from '../jobs/freivalds';
import {
  chooseBlockSize,
  MatmulOwnerJob,
  planBlocks,
  type VerificationReport,
} from '../jobs/matmul-job';
import type { AnnouncementMsg } from './codec';
import { JobBoard } from './job-board';
import { type MeshNode, startMeshNode, waitForWebRtcAddress } from './node';
import { type ShardComputer, ShardContributor, type ShardOutcome } from './shard-contributor';
import { type SettledEvent, ShardOwnerService } from './shard-owner';

export interface MeshConfig {
  relay: string;
  iceServers: RTCIceServer[];
}

export interface MeshOptions {
  config: MeshConfig;
  privateKey: PrivateKey;
  compute: ShardComputer;
  maxBufferBytes: number;
  kernelDigest: string;
  contribute: boolean;
}

export interface FinishedJob {
  jobId: string;
  c: Float32Array;
  report: VerificationReport;
}

export interface MeshStatus {
  peerId: string;
  address: string;
  peers: number;
  directPeers: number;
  jobs: AnnouncementMsg[];
  contributing: boolean;
}

/**
 * A tab's place in the mesh: its libp2p node, the job board, the owner service for jobs it
 * submits, and the contributor loop for jobs others announce.
 */
export class Mesh extends EventTarget {
  readonly board: JobBoard;
  readonly owner: ShardOwnerService;
  readonly contributor: ShardContributor;
  /** Every result this tab settled as an owner, in order. */
  readonly settled: SettledEvent[] = [];
  /** Every verdict this tab received as a contributor, in order. */
  readonly outcomes: ShardOutcome[] = [];
  #contributing: boolean;
  #busy = false;
  readonly #skip = new Map<string, number>(); // jobId -> retry after (ms since epoch)
  readonly #abort = new AbortController();

  private constructor(
    readonly node: MeshNode,
    readonly address: string,
    readonly options: MeshOptions,
  ) {
    super();
    this.#contributing = options.contribute;
    this.board = new JobBoard(node.services.pubsub);
    this.owner = new ShardOwnerService(node);
    this.contributor = new ShardContributor(node, {
      compute: options.compute,
      maxBufferBytes: options.maxBufferBytes,
    });
    this.owner.addEventListener('settled', (e) => {
      this.settled.push((e as CustomEvent<SettledEvent>).detail);
      this.#changed();
    });
    this.contributor.addEventListener('outcome', (e) => {
      this.outcomes.push((e as CustomEvent<ShardOutcome>).detail);
      this.#changed();
    });
    this.board.addEventListener('job', () => {
      this.#changed();
      void this.#pickWork();
    });
    node.addEventListener('connection:open', () => this.#changed());
    node.addEventListener('connection:close', () => this.#changed());
  }

  static async start(options: MeshOptions): Promise<Mesh> {
    const node = await startMeshNode({
      privateKey: options.privateKey,
      relay: options.config.relay,
      iceServers: options.config.iceServers,
    });
    const address = await waitForWebRtcAddress(node);
    const mesh = new Mesh(node, address, options);
    mesh.board.start();
    await mesh.owner.start();
    return mesh;
  }

  get peerId(): string {
    return this.node.peerId.toString();
  }

  status(): MeshStatus {
    const conns = this.node.getConnections();
    return {
      peerId: this.peerId,
      address: this.address,
      peers: new Set(conns.map((c) => c.remotePeer.toString())).size,
      directPeers: new Set(
        conns
          .filter((c) => c.remoteAddr.toString().includes('/webrtc'))
          .map((c) => c.remotePeer.toString()),
      ).size,
      jobs: this.board.jobs(),
      contributing: this.#contributing,
    };
  }

  setContributing(on: boolean): void {
    this.#contributing = on;
    this.#changed();
    if (on) void this.#pickWork();
  }

  /** Shards a matmul, announces it, and resolves with the verified, assembled C. */
  submitMatmul(
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
  ): {
    jobId: string;
    done: Promise<FinishedJob>;
  } {
    const { m, k, n } = problem;
    const size = block ?? chooseBlockSize(m, k, n, { maxShardBytes: this.options.maxBufferBytes });
    const blocks: Block[] = planBlocks(m, n, size.blockRows, size.blockCols);
    const jobId = randomId();
    const job = new MatmulOwnerJob(jobId, problem, blocks, { defaultWindowMs: 20_000 });
    this.owner.addJob(job);
    const expiresAt = Date.now() + 3_600_000;
    this.board.announce(() => ({
      jobId,
      owner: this.peerId,
      kind: 'matmul',
      shardCount: blocks.length,
      shardsLeft: blocks.length - job.book.doneCount,
      kernelDigest: this.options.kernelDigest,
      expiresAt,
      addrs: [this.address],
    }));
    const done = new Promise<FinishedJob>((resolve) => {
      const onDone = (e: Event) => {
        if ((e as CustomEvent<{ jobId: string }>).detail.jobId !== jobId) return;
        this.owner.removeEventListener('done', onDone);
        this.board.withdraw(jobId);
        resolve({ jobId, c: job.c, report: job.report() });
      };
      this.owner.addEventListener('done', onDone);
    });
    this.#changed();
    return { jobId, done };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.board.stop();
    await this.owner.stop();
    await this.node.stop();
  }

  /** Works on announced jobs one at a time while contributing. */
  async #pickWork(): Promise<void> {
    if (this.#busy || !this.#contributing) return;
    const now = Date.now();
    const job = this.board
      .jobs()
      .find(
        (j) =>
          j.owner !== this.peerId &&
          j.shardsLeft > 0 &&
          j.kernelDigest === this.options.kernelDigest &&
          (this.#skip.get(j.jobId) ?? 0) <= now,
      );
    if (!job) return;
    this.#busy = true;
    try {
      await this.contributor.work(job, this.#abort.signal);
      this.#skip.set(job.jobId, Number.POSITIVE_INFINITY); // finished: never again
    } catch (e) {
      console.warn(`tessel: work on job ${job.jobId} stopped: ${(e as Error).message}`);
      this.#skip.set(job.jobId, Date.now() + 5_000);
    } finally {
      this.#busy = false;
    }
    void this.#pickWork();
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}
