import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { MatmulProblem } from '../jobs/freivalds';
import { defaultPolicy, type InferencePolicy, type InferenceSpec } from '../jobs/inference-spec';
import {
  type Engine,
  type JobAnswer,
  JobSpecError,
  type OwnerJob,
  type Receipt,
  type VerificationReport,
} from '../jobs/job';
import { checkJobSpec, computeShard, createJob, type JobSpec, requiredModel } from '../jobs/kinds';
import { chooseBlockSize } from '../jobs/matmul-job';
import { Reputation } from '../jobs/reputation';
import { cryptoRng } from '../model/rng';
import type { AnnouncementMsg } from './codec';
import { JobBoard } from './job-board';
import { MemoryModelCache, type ModelCache } from './model-store';
import { ModelFetcher, ModelServer } from './model-transfer';
import { type ModelHost, ModelLibrary } from './models';
import { type MeshNode, startMeshNode, waitForWebRtcAddress } from './node';
import { type ContributorOptions, ShardContributor, type ShardOutcome } from './shard-contributor';
import { type SettledEvent, ShardOwnerService } from './shard-owner';
import type { OwnerStore, StoredJob } from './store';

export interface MeshConfig {
  relay: string;
  iceServers: RTCIceServer[];
}

export interface MeshOptions {
  config: MeshConfig;
  privateKey: PrivateKey;
  /** The tab's compute Worker: it runs shards and the owner's own checks, and holds models. */
  engine: Engine & ModelHost;
  /** This tab's engine and adapter (src/gpu/device.ts adapterIdentity). */
  adapter: string;
  maxBufferBytes: number;
  kernelDigest: string;
  contribute: boolean;
  /** Where submitted jobs, verified shards and peer records persist (IndexedDB). */
  ownerStore?: OwnerStore;
  /** Where models are kept by digest (IndexedDB); in memory by default. */
  modelCache?: ModelCache;
  /** Signs and keeps the receipt of an accepted result (src/ledger); returns its bytes. */
  issueReceipt?: (r: Receipt) => Promise<Uint8Array>;
  /** Checks and keeps a receipt this tab earned (src/ledger). */
  acceptReceipt?: ContributorOptions['acceptReceipt'];
  /** Contributor pacing: GPU budget and when to pause (see ShardContributor). */
  budget?: number;
  /** This tab's measured matmul speed, sent with work requests so owners size deadlines to it. */
  gflops?: number;
  gate?: ContributorOptions['gate'];
  /** Largest model this tab fetches to contribute. */
  maxModelBytes?: number; // default 256 MiB
}

export interface FinishedJob {
  jobId: string;
  answer: JobAnswer;
  report: VerificationReport;
}

export interface RunningJob {
  job: OwnerJob;
  done: Promise<FinishedJob>;
  /** True when the job was resumed from IndexedDB after a reload. */
  resumed: boolean;
}

/** A researcher's batched inference (see Mesh.submitInference). */
export interface InferenceRequest {
  /** The model: its safetensors bytes and config, or the digest of one this tab holds. */
  model: { file: Uint8Array; config: unknown } | { digest: string };
  /** Token ids, one array per sequence. */
  sequences: Uint32Array[];
  /** Last-position logits, or `steps` generated tokens per sequence (greedy at temperature 0,
   * else seeded sampling, so that copies agree and the answer can be reproduced from `seed`). */
  output:
    | { mode: 'logits' }
    | { mode: 'tokens'; steps: number; temperature?: number; seed?: number };
  /** How results are verified; defaults depend on the output (inference-job.ts). */
  policy?: Partial<InferencePolicy>;
  /** Sequences per shard; by default the job is cut into about 8 shards (bigger batches use a
   * GPU better; 8 still spreads over 8 tabs). */
  perShard?: number;
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
 * submits (persisted, resumed after a reload), the models it holds and serves, and the
 * contributor loop for jobs others announce. Jobs of any kind: this file knows the kinds only
 * through src/jobs/kinds.ts.
 */
export class Mesh extends EventTarget {
  readonly board: JobBoard;
  readonly owner: ShardOwnerService;
  readonly contributor: ShardContributor;
  readonly models: ModelLibrary;
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
      ...(store
        ? {
            persist: (job, settlement) => store.settle(job.id, settlement),
            delivered: (leaseId) => store.deleteVerdict(leaseId),
          }
        : {}),
      ...(options.issueReceipt ? { issueReceipt: options.issueReceipt } : {}),
    });
    this.models = new ModelLibrary(
      options.engine,
      options.modelCache ?? new MemoryModelCache(),
      new ModelServer(node, {
        // Only peers holding a lease on one of this tab's jobs that runs the model.
        mayFetch: (peer, digest, jobId) => {
          const job = this.owner.jobs.get(jobId);
          return (
            job?.modelDigest === digest && job.outstanding().some((l) => l.contributor === peer)
          );
        },
      }),
      new ModelFetcher(node, {
        ...(options.maxModelBytes ? { maxModelBytes: options.maxModelBytes } : {}),
        onBadPeer: (peer, error) => {
          console.warn(`tessel: ${error.message}`);
          this.reputation.record(peer, 'malformed');
        },
      }),
    );
    this.contributor = new ShardContributor(node, {
      maxBufferBytes: options.maxBufferBytes,
      adapter: options.adapter,
      ...(options.budget !== undefined ? { budget: options.budget } : {}),
      ...(options.gflops !== undefined ? { gflops: options.gflops } : {}),
      ...(options.gate ? { gate: options.gate } : {}),
      ...(options.acceptReceipt ? { acceptReceipt: options.acceptReceipt } : {}),
      compute: async (lease, job, signal) => {
        const digest = requiredModel(lease.work);
        if (digest) {
          const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0]!;
          await this.models.ensure(digest, { owner: job.owner, addr, jobId: job.jobId }, signal);
        }
        return computeShard(lease.work, options.engine);
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
    await mesh.models.server.start();
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
   * Stores a job of any kind (so a reload resumes it), announces it, and resolves `done` with
   * the verified, assembled answer. Throws JobSpecError for a spec that cannot run.
   */
  async submit(js: JobSpec): Promise<RunningJob & { jobId: string }> {
    const checked = checkJobSpec(js.kind, js.spec);
    const stored: StoredJob = {
      id: randomId(),
      kind: checked.kind,
      spec: checked.spec,
      createdAt: Date.now(),
      finished: false,
    };
    await this.options.ownerStore?.putJob(stored);
    return { jobId: stored.id, ...this.#run(stored, checked, false) };
  }

  /** A matmul C = A·B, cut into blocks that fit contributors' GPUs unless `block` says. */
  submitMatmul(
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
  ): Promise<RunningJob & { jobId: string }> {
    const { m, k, n } = problem;
    const size = block ?? chooseBlockSize(m, k, n, { maxShardBytes: this.options.maxBufferBytes });
    return this.submit({
      kind: 'matmul',
      spec: { m, k, n, a: problem.a.slice(), b: problem.b.slice(), ...size },
    });
  }

  /**
   * Batched inference: sequences are cut into shards, leased to contributors (who fetch the
   * model from this tab if they lack it), verified by the job's policy, and assembled in order.
   */
  async submitInference(req: InferenceRequest): Promise<RunningJob & { jobId: string }> {
    const digest =
      'digest' in req.model
        ? req.model.digest
        : await this.models.add(req.model.file, req.model.config);
    const config = this.models.config(digest);
    if (!config) throw new JobSpecError('model', `no model ${digest} is held by this tab`);
    const out = req.output;
    const mode = out.mode;
    const n = req.sequences.length;
    const spec: InferenceSpec = {
      modelDigest: digest,
      config,
      sequences: req.sequences.map((q) => Uint32Array.from(q)),
      mode,
      steps: out.mode === 'tokens' ? out.steps : 0,
      temperature: out.mode === 'tokens' ? (out.temperature ?? 0) : 0,
      seed: (out.mode === 'tokens' ? out.seed : undefined) ?? cryptoRng().nextUint32(),
      perShard: req.perShard ?? Math.min(64, Math.max(1, Math.ceil(n / 8))),
      policy: { ...defaultPolicy(mode), ...req.policy },
    };
    return this.submit({ kind: 'inference', spec });
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    this.board.stop();
    await this.owner.stop();
    await this.models.server.stop();
    await this.node.stop();
  }

  async #resumeJobs() {
    const store = this.options.ownerStore;
    if (!store) return;
    // Verdicts decided before a reload and never written: their contributors hear them next.
    this.owner.redeliver(await store.verdicts());
    for (const stored of await store.unfinishedJobs()) {
      const model = stored.kind === 'inference' ? stored.spec.modelDigest : undefined;
      if (model && !(await this.models.resume(model).catch(() => false))) {
        console.warn(`tessel: job ${stored.id} needs model ${model}, which this tab lost`);
        continue;
      }
      const earlier = await store.results(stored.id);
      const run = this.#run(stored, stored, true, (job) => {
        // restore() refuses an output that does not fit the shard.
        for (const r of earlier) job.restore(r.shardId, r.output);
      });
      if (run.job.done)
        this.owner.dispatchEvent(new CustomEvent('done', { detail: { jobId: stored.id } }));
    }
  }

  #run(
    stored: StoredJob,
    js: JobSpec,
    resumed: boolean,
    restore?: (job: OwnerJob) => void,
  ): RunningJob {
    const job = createJob(stored.id, js, {
      engine: this.options.engine,
      rng: cryptoRng(),
      scheduler: {
        defaultWindowMs: 20_000,
        onExpire: (l) => this.reputation.record(l.contributor, 'missed-deadline'),
      },
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
        resolve({ jobId: job.id, answer: job.answer(), report: job.report() });
      };
      this.owner.addEventListener('done', onDone);
    });
    if (!job.done) {
      const modelDigest = job.modelDigest ?? '';
      this.board.announce(() => ({
        jobId: job.id,
        owner: this.peerId,
        kind: job.kind,
        shardCount: job.shardCount,
        shardsLeft: job.shardCount - job.doneCount,
        kernelDigest: this.options.kernelDigest,
        expiresAt,
        addrs: [this.address],
        modelDigest,
        modelBytes: modelDigest ? this.models.size(modelDigest) : 0,
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
    const maxModel = this.options.maxModelBytes ?? 256 * 2 ** 20;
    const job = this.board
      .jobs()
      .find(
        (j) =>
          j.owner !== this.peerId &&
          j.shardsLeft > 0 &&
          j.kernelDigest === this.options.kernelDigest &&
          j.modelBytes <= maxModel &&
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
