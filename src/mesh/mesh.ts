import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Block, MatmulProblem } from '../jobs/freivalds';
import {
  chooseBlockSize,
  MatmulOwnerJob,
  planBlocks,
  type VerificationReport,
} from '../jobs/matmul-job';
import { Reputation } from '../jobs/reputation';
import type { ReceiptStore } from '../ledger/store';
import type { AnnouncementMsg } from './codec';
import { JobBoard } from './job-board';
import { type MeshNode, startMeshNode, waitForWebRtcAddress } from './node';
import {
  type ContributorOptions,
  type ShardComputer,
  ShardContributor,
  type ShardOutcome,
} from './shard-contributor';
import { type SettledEvent, ShardOwnerService } from './shard-owner';
import type { OwnerStore, StoredJob } from './store';

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
  /** Where submitted jobs, verified blocks and peer records persist (IndexedDB). */
  ownerStore?: OwnerStore;
  /** Where issued and earned receipts persist (IndexedDB). */
  receipts?: ReceiptStore;
  /** Contributor pacing: GPU budget and when to pause (see ShardContributor). */
  budget?: number;
  /** This tab's measured matmul speed, sent with work requests so owners size deadlines to it. */
  gflops?: number;
  gate?: ContributorOptions['gate'];
}

export interface FinishedJob {
  jobId: string;
  c: Float32Array;
  report: VerificationReport;
}

export interface RunningJob {
  job: MatmulOwnerJob;
  done: Promise<FinishedJob>;
  /** True when the job was resumed from IndexedDB after a reload. */
  resumed: boolean;
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
 * submits (persisted, resumed after a reload), and the contributor loop for jobs others announce.
 */
export class Mesh extends EventTarget {
  readonly board: JobBoard;
  readonly owner: ShardOwnerService;
  readonly contributor: ShardContributor;
  readonly reputation = new Reputation();
  /** This tab's jobs as an owner, including ones resumed from an earlier session. */
  readonly running = new Map<string, RunningJob>();
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
    const store = options.ownerStore;
    this.reputation.onChange = (peer, record) => void store?.putPeer(peer, record);
    this.board = new JobBoard(node.services.pubsub, {
      ignore: (peer) => this.reputation.isQuarantined(peer),
    });
    this.owner = new ShardOwnerService(node, {
      reputation: this.reputation,
      privateKey: options.privateKey,
      persist: async (job, shardId, c) => {
        await store?.putResult(job.id, shardId, c);
      },
      onReceipt: async (signed, r) => {
        await options.receipts?.put('issued', signed, r);
      },
    });
    this.contributor = new ShardContributor(node, {
      compute: options.compute,
      maxBufferBytes: options.maxBufferBytes,
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
      ...(options.gflops !== undefined ? { gflops: options.gflops } : {}),
      ...(options.gate ? { gate: options.gate } : {}),
      onReceipt: async (signed, r) => {
        await options.receipts?.put('earned', signed, r);
      },
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
    if (options.ownerStore) mesh.reputation.restore(await options.ownerStore.peers());
    mesh.board.start();
    await mesh.owner.start();
    await mesh.#resumeJobs();
    return mesh;
  }

  get peerId(): string {
    return this.node.peerId.toString();
  }

  status(): MeshStatus {
    const conns = this.node.getConnections();
    const direct = conns.filter((c) => c.remoteAddr.toString().includes('/webrtc'));
    return {
      peerId: this.peerId,
      address: this.address,
      peers: new Set(conns.map((c) => c.remotePeer.toString())).size,
      directPeers: new Set(direct.map((c) => c.remotePeer.toString())).size,
      jobs: this.board.jobs(),
      contributing: this.#contributing,
    };
  }

  setContributing(on: boolean): void {
    this.#contributing = on;
    this.#changed();
    if (on) void this.#pickWork();
  }

  /**
   * Shards a matmul, stores it (so a reload resumes it), announces it, and resolves `done` with
   * the verified, assembled C.
   */
  async submitMatmul(
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
  ): Promise<RunningJob & { jobId: string }> {
    const { m, k, n } = problem;
    const size = block ?? chooseBlockSize(m, k, n, { maxShardBytes: this.options.maxBufferBytes });
    const stored: StoredJob = {
      id: randomId(),
      m,
      k,
      n,
      a: problem.a.slice().buffer,
      b: problem.b.slice().buffer,
      ...size,
      createdAt: Date.now(),
      finished: false,
    };
    await this.options.ownerStore?.putJob(stored);
    return { jobId: stored.id, ...this.#run(stored, problem, false) };
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.board.stop();
    await this.owner.stop();
    await this.node.stop();
  }

  async #resumeJobs() {
    const store = this.options.ownerStore;
    if (!store) return;
    for (const stored of await store.unfinishedJobs()) {
      const problem = {
        a: new Float32Array(stored.a),
        b: new Float32Array(stored.b),
        m: stored.m,
        k: stored.k,
        n: stored.n,
      };
      const earlier = await store.results(stored.id);
      const run = this.#run(stored, problem, true, (job) => {
        // restore() ignores a block of the wrong size or for a shard that does not exist.
        for (const r of earlier) {
          if (r.c instanceof ArrayBuffer && r.c.byteLength % 4 === 0) {
            job.restore(r.shardId, new Float32Array(r.c));
          }
        }
      });
      if (run.job.done)
        this.owner.dispatchEvent(new CustomEvent('done', { detail: { jobId: stored.id } }));
    }
  }

  #run(
    stored: StoredJob,
    problem: MatmulProblem,
    resumed: boolean,
    restore?: (job: MatmulOwnerJob) => void,
  ): RunningJob {
    const blocks: Block[] = planBlocks(stored.m, stored.n, stored.blockRows, stored.blockCols);
    const job = new MatmulOwnerJob(stored.id, problem, blocks, {
      defaultWindowMs: 20_000,
      onExpire: (l) => this.reputation.record(l.contributor, 'missed-deadline'),
    });
    restore?.(job);
    this.owner.addJob(job);
    const expiresAt = stored.createdAt + 24 * 3_600_000;
    const done = new Promise<FinishedJob>((resolve) => {
      const onDone = (e: Event) => {
        if ((e as CustomEvent<{ jobId: string }>).detail.jobId !== job.id) return;
        this.owner.removeEventListener('done', onDone);
        this.board.withdraw(job.id);
        void this.options.ownerStore?.finishJob(job.id);
        resolve({ jobId: job.id, c: job.c, report: job.report() });
      };
      this.owner.addEventListener('done', onDone);
    });
    if (!job.done) {
      this.board.announce(() => ({
        jobId: job.id,
        owner: this.peerId,
        kind: 'matmul',
        shardCount: blocks.length,
        shardsLeft: blocks.length - job.book.doneCount,
        kernelDigest: this.options.kernelDigest,
        expiresAt,
        addrs: [this.address],
      }));
    }
    const run = { job, done, resumed };
    this.running.set(job.id, run);
    this.#changed();
    return run;
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
      const why = e instanceof Error ? e.message : `a ${(e as Event)?.type ?? String(e)} event`;
      console.warn(`tessel: work on job ${job.jobId} stopped: ${why}`);
      this.#skip.set(job.jobId, Date.now() + 1_000);
      // The owner may have reloaded: drop what is left of the old connection, or the next dial
      // would reuse it and wait for it to time out.
      await this.node.hangUp(peerIdFromString(job.owner)).catch(() => {});
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
