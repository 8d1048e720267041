// Over 450 lines: the Mesh is still a hub (owner, contributor, history, market hooks); splitting
// it by role behind a thin facade is issue 24.
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { TypedEventEmitter } from 'main-event';
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
import { OwnerTrust } from '../jobs/owner-trust';
import { PRICE_CEILING, PRICE_FLOOR } from '../jobs/price';
import { largestShardFlops, Purse, paidCopies, Wallet } from '../jobs/purse';
import { Reputation } from '../jobs/reputation';
import type { SchedulerOptions } from '../jobs/scheduler';
import { type ShardSize, sizeShards } from '../jobs/shard-size';
import { checkTerms, DEFAULT_TERMS, type JobTerms } from '../jobs/terms';
import { cryptoRng } from '../model/rng';
import { describeStreamError } from '../wire/stream-errors';
import type { CheckpointFileMap } from '../worker/api';
import type { AnnouncementMsg } from './codec';
import { JobBoard } from './job-board';
import { describeJob, type JobHistory, type PartialAnswer, partialAnswer } from './job-history';
import { MemoryModelCache, type ModelCache } from './model-store';
import { ModelFetcher, ModelServer } from './model-transfer';
import { type ModelHost, ModelLibrary } from './models';
import {
  type MeshNode,
  relayOf,
  startMeshNode,
  waitForWebRtcAddress,
  webRtcAddresses,
} from './node';
import { Paymaster } from './paymaster';
import type { JobView, MeshEvents, MeshSnapshot, PeerView, StoppedBy } from './read-model';
import {
  type AbandonedShard,
  type ContributorOptions,
  ShardContributor,
  type ShardOutcome,
} from './shard-contributor';
import { type SettledEvent, ShardOwnerService } from './shard-owner';
import { type StallFacts, stallOf } from './stall';
import type { JobEnding, OwnerStore, StoredJob } from './store';
import { OwnerVerifier } from './verifier';

export interface MeshConfig {
  /** Relay multiaddrs (…/ws/p2p/<id>): the tab connects to all and reserves on two. */
  relays: string[];
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
  /** Voids a caught contributor's receipts for a job (an entry in this tab's log, src/ledger). */
  revokeReceipts?: (jobId: string, contributor: string, reason: string) => Promise<void>;
  /** Checks and keeps a receipt this tab earned (src/ledger). */
  acceptReceipt?: ContributorOptions['acceptReceipt'];
  /** µcredits this tab's receipts already paid for a job (its log; a resumed job's spending). */
  spentOn?: (jobId: string) => number;
  /** Whether this tab's books can still pay `credit` µcredits (grant + earned − spent, from
   * src/ledger): asked with every reservation and payment its books do not show yet, plus the
   * new one (see Wallet in purse.ts). */
  canSpend?: (credit: number) => boolean;
  /** Contributor pacing: GPU budget and when to pause (see ShardContributor). */
  budget?: number;
  /** This tab's measured matmul speed, sent with work requests so owners size deadlines to it. */
  gflops?: number;
  gate?: ContributorOptions['gate'];
  /** Largest model this tab fetches to contribute. */
  maxModelBytes?: number; // default 256 MiB
  /** The researcher's finished and cancelled jobs (kept in `ownerStore`): listed with the
   * running ones, answers rebuilt on demand. */
  history?: JobHistory;
}

/** Owners' reasons for turning this tab away, kept for the volunteer's view. */
const MAX_STOPPED_BY = 20;

/** What one of this tab's jobs was asked to do, and how it ended. */
interface Asked {
  js: JobSpec;
  createdAt: number; // ms since the epoch
  state: JobView['state'];
  finishedAt?: number; // ms since the epoch
}

export interface FinishedJob {
  jobId: string;
  answer: JobAnswer;
  report: VerificationReport;
}

export interface RunningJob {
  job: OwnerJob;
  /** Resolves with the verified answer; rejects with JobCancelledError if the owner cancels. */
  done: Promise<FinishedJob>;
  /** True when the job was resumed from IndexedDB after a reload. */
  resumed: boolean;
}

/** `done` of a job its owner cancelled. */
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
  constructor(readonly jobId: string) {
    super(`job ${jobId} was cancelled`);
  }
}

/** A researcher's batched inference (see Mesh.submitInference). */
export interface InferenceRequest {
  /** The model: a Hugging Face checkpoint folder's files (and a name to list it under), or the
   * checkpoint digest of one this tab holds. */
  model: { files: CheckpointFileMap; name?: string } | { digest: string };
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

/**
 * A tab's place in the mesh: its libp2p node, the job board, the owner service for jobs it
 * submits (persisted, resumed after a reload), the models it holds and serves, and the
 * contributor loop for jobs others announce. Jobs of any kind: this file knows the kinds only
 * through src/jobs/kinds.ts.
 */
/** The lease rules a Mesh's jobs are started with (see SchedulerOptions). */
export type LeasePolicy = Omit<SchedulerOptions, 'shardFlops' | 'onExpire' | 'proven'>;

export class Mesh extends TypedEventEmitter<MeshEvents> {
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
  /**
   * How the jobs this tab starts from now lease their shards: lifetimes (a multiple of the
   * expected compute time, whatever the heartbeats), leases per contributor, speculation. See
   * SchedulerOptions; the defaults suit real work, tests shorten them.
   */
  leasePolicy: LeasePolicy = {};
  #contributing: boolean;
  #busy = false;
  /** The contributor loop's current work, settled when it has closed its shard stream. */
  #working: Promise<void> = Promise.resolve();
  /** What each of this tab's jobs was asked to do, and how it ended. */
  readonly #asked = new Map<string, Asked>();
  /** Stops the shard being worked on when contributing is switched off. */
  #work = new AbortController();
  readonly #skip = new Map<string, number>(); // jobId -> retry after (ms since epoch)
  /** Owners whose work could not be had (dial failed, stream broke): consecutive failures and
   * when to try them again. Announcing jobs that do not exist costs their announcer's other
   * jobs the same back-off, doubling to 5 minutes. */
  readonly #backoff = new Map<string, { failures: number; until: number }>();
  readonly #abort = new AbortController();
  readonly #cancels = new Map<string, (e: JobCancelledError) => void>();
  /** What this tab's jobs pay, have paid and hold for their leases, against its balance. */
  readonly #wallet: Wallet;
  /** Who this tab's own checks proved or caught, shared by its jobs (kept in the owner store). */
  readonly trust = new OwnerTrust();
  /** The owner's matmul checks on the CPU engine's float64 kernels. */
  readonly #verifier = new OwnerVerifier();
  readonly #pay: Paymaster;
  /** Finished and cancelled jobs kept from earlier sessions (see JobHistory). */
  #history: JobView[] = [];
  /** Owners that stopped giving this tab work, and why; newest first, at most MAX_STOPPED_BY. */
  readonly #stoppedBy: StoppedBy[] = [];

  private constructor(
    readonly node: MeshNode,
    /** The relayed WebRTC addresses the node had when it started (see `addresses`). */
    readonly startAddresses: string[],
    readonly options: MeshOptions,
  ) {
    super();
    this.#wallet = new Wallet(options.canSpend);
    this.#pay = new Paymaster(this.#wallet, {
      jobs: () => this.owner.jobs.values(),
      ...(options.issueReceipt ? { issue: options.issueReceipt } : {}),
    });
    this.#contributing = options.contribute;
    const store = options.ownerStore;
    this.reputation.onChange = (peer, record) => {
      void store?.putPeer(peer, record);
      this.#emitPeers();
    };
    this.trust.onChange = (peer, record) => void store?.putTrust(peer, record);
    this.board = new JobBoard(node.services.pubsub, {
      ignore: (peer) => this.reputation.isQuarantined(peer),
    });
    const revoke = options.revokeReceipts;
    this.owner = new ShardOwnerService(node, {
      reputation: this.reputation,
      ...(revoke ? { revoke: (r) => revoke(r.jobId, r.contributor, r.reason) } : {}),
      ...(store
        ? {
            persist: (job, settlement) => store.settle(job.id, settlement),
            delivered: (leaseId) => store.deleteVerdict(leaseId),
          }
        : {}),
      // A lease reserves its shard's credit; its verdict pays from that, before the receipt is
      // signed and stored.
      ...this.#pay.hooks(),
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
          this.reputation.record(peer, 'malformed', `served a bad model: ${error.message}`);
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
      elsewhere: (jobId) => this.#workable().some((j) => j.jobId !== jobId),
      compute: async (lease, job, signal) => {
        const digest = requiredModel(lease.work);
        if (digest) {
          const addr = job.addrs.find((a) => a.includes('/webrtc')) ?? job.addrs[0]!;
          await this.models.ensure(digest, { owner: job.owner, addr, jobId: job.jobId }, signal);
        }
        return computeShard(lease.work, options.engine, signal);
      },
    });
    this.owner.addEventListener('settled', (e) => {
      const settled = (e as CustomEvent<SettledEvent>).detail;
      this.settled.push(settled);
      this.#emitJob(settled.jobId);
    });
    this.contributor.addEventListener('abandoned', (e) => {
      const abandoned = (e as CustomEvent<AbandonedShard>).detail;
      console.warn(
        `tessel: gave back shard ${abandoned.shardId} of ${abandoned.jobId}: it outlived its ${abandoned.lifetimeMs} ms lease`,
      );
      this.safeDispatchEvent('abandoned', { detail: abandoned });
    });
    this.contributor.addEventListener('stopped', (e) => {
      const { owner, jobId, reason } = (e as CustomEvent<Omit<StoppedBy, 'at'>>).detail;
      const stopped = { owner, jobId, reason, at: Date.now() };
      this.#stoppedBy.unshift(stopped);
      this.#stoppedBy.splice(MAX_STOPPED_BY);
      this.safeDispatchEvent('stopped', { detail: stopped });
    });
    this.contributor.addEventListener('outcome', (e) => {
      const outcome = (e as CustomEvent<ShardOutcome>).detail;
      this.outcomes.push(outcome);
      this.safeDispatchEvent('outcome', { detail: outcome });
    });
    this.board.addEventListener('job', () => {
      this.safeDispatchEvent('announced', { detail: this.board.jobs() });
      void this.#pickWork();
    });
    // Ended by their owners or gone silent: off the volunteers' list at once.
    this.board.addEventListener('gone', () => {
      this.safeDispatchEvent('announced', { detail: this.board.jobs() });
    });
    node.addEventListener('connection:open', () => this.#emitPeers());
    node.addEventListener('connection:close', () => this.#emitPeers());
  }

  static async start(options: MeshOptions): Promise<Mesh> {
    const node = await startMeshNode({
      privateKey: options.privateKey,
      relays: options.config.relays,
      iceServers: options.config.iceServers,
    });
    const addresses = await waitForWebRtcAddress(node, Math.min(2, options.config.relays.length));
    const mesh = new Mesh(node, addresses, options);
    if (options.ownerStore) {
      mesh.reputation.restore(await options.ownerStore.peers());
      mesh.trust.load(await options.ownerStore.trust());
    }
    mesh.#history = (await options.history?.list()) ?? [];
    mesh.board.start();
    await mesh.owner.start();
    await mesh.models.server.start();
    await mesh.#resumeJobs();
    return mesh;
  }

  get peerId(): string {
    return this.node.peerId.toString();
  }

  /** The relayed WebRTC addresses others dial now, one per relay holding a reservation. */
  get addresses(): string[] {
    const live = webRtcAddresses(this.node);
    const byRelay = new Map<string, string>();
    for (const a of live.length > 0 ? live : this.startAddresses) {
      if (!byRelay.has(relayOf(a))) byRelay.set(relayOf(a), a);
    }
    return [...byRelay.values()];
  }

  /** The first of `addresses`. */
  get address(): string {
    return this.addresses[0]!;
  }

  /** Contributing and waiting for work (the supply the price rule counts). */
  get idle(): boolean {
    return this.#contributing && !this.#busy;
  }

  /** Everything a view shows, as plain data (see read-model.ts). */
  snapshot(): MeshSnapshot {
    const reserved = new Set(webRtcAddresses(this.node).map(relayOf));
    return {
      peerId: this.peerId,
      address: this.address,
      relays: this.options.config.relays.map((addr) => {
        const id = relayOf(addr);
        return {
          addr,
          connected: this.node.getConnections().some((c) => c.remotePeer.toString() === id),
          reserved: reserved.has(id),
        };
      }),
      peers: this.#peers(),
      announced: this.board.jobs(),
      jobs: [
        ...[...this.running.keys()].flatMap((id) => this.#jobView(id) ?? []),
        ...this.#history.filter((v) => !this.running.has(v.jobId)),
      ],
      contribution: {
        contributing: this.#contributing,
        verified: this.outcomes.filter((o) => o.accepted).length,
        rejected: this.outcomes.filter((o) => !o.accepted).length,
        stoppedBy: [...this.#stoppedBy],
      },
    };
  }

  /** The verified answer of one of this tab's jobs, once done (see RunningJob.done). */
  result(jobId: string): Promise<FinishedJob> | undefined {
    return this.running.get(jobId)?.done;
  }

  /** What one of this tab's jobs was asked to do (its spec, inputs included). */
  request(jobId: string): JobSpec | undefined {
    return this.#asked.get(jobId)?.js;
  }

  /**
   * Switches contributing on or off. Off stops at once: the shard being worked on is abandoned
   * (its lease lapses at the owner) and no new work is asked for.
   */
  setContributing(on: boolean): void {
    if (on === this.#contributing) return;
    this.#contributing = on;
    if (!on) {
      this.#work.abort();
      this.#work = new AbortController();
    }
    this.safeDispatchEvent('contributing', { detail: on });
    if (on) void this.#pickWork();
  }

  /** This tab's measured GFLOP/s, sent with its next work requests (owners size deadlines). */
  setMeasuredSpeed(gflops: number): void {
    if (gflops > 0 && Number.isFinite(gflops)) this.contributor.gflops = gflops;
  }

  /** The engine this tab computes on now (its identity, e.g. "cpu:wasm-fma", and largest
   * binding), sent with its next work requests: redundancy tells engines apart by it. */
  setEngine(adapter: string, maxBufferBytes: number): void {
    this.contributor.adapter = adapter;
    this.contributor.maxBufferBytes = maxBufferBytes;
  }

  /** The share of wall time the GPU may be busy, (0, 1]; applies from the next shard. */
  setBudget(budget: number): void {
    if (!(budget > 0 && budget <= 1)) throw new RangeError(`budget ${budget} is not in (0, 1]`);
    this.contributor.budget = budget;
  }

  /**
   * Cancels one of this tab's jobs: it is withdrawn, contributors hear it is finished, its
   * stored record is closed (a reload does not resume it) and `done` rejects with
   * JobCancelledError. Verified shards already settled keep their receipts.
   */
  async cancel(jobId: string): Promise<void> {
    const asked = this.#asked.get(jobId);
    const run = this.running.get(jobId);
    if (!asked || !run || asked.state !== 'running') return;
    asked.state = 'cancelled';
    asked.finishedAt = Date.now();
    const ending = this.#ending(jobId);
    // Its end is announced first, with its last state: boards drop it at once.
    this.board.withdraw(jobId, { ended: true });
    this.owner.removeJob(jobId);
    this.#wallet.close(jobId);
    this.#cancels.get(jobId)?.(new JobCancelledError(jobId));
    await this.options.ownerStore?.finishJob(jobId, ending);
    this.#emitJob(jobId);
  }

  /** How a job ended, as its history keeps it. */
  #ending(jobId: string): JobEnding | undefined {
    const view = this.#jobView(jobId);
    if (!view || view.state === 'running') return undefined;
    return {
      state: view.state,
      at: view.finishedAt ?? Date.now(),
      report: view.report,
      progress: { ...view.progress, leased: 0, awaiting: 0 },
      spent: view.spent,
    };
  }

  /**
   * What one of this tab's jobs has verified so far (running, finished, cancelled, or kept from
   * an earlier session): its answer with unverified parts zero, and a mask of the verified
   * parts. Undefined for a job this tab does not know.
   */
  async answer(jobId: string): Promise<PartialAnswer | undefined> {
    const run = this.running.get(jobId);
    const asked = this.#asked.get(jobId);
    if (run && asked) return partialAnswer(run.job, asked.js, run.job.doneShards());
    return this.options.history?.answer(jobId);
  }

  /** Forgets a finished or cancelled job and its outputs (the researcher's Delete). A running
   * job must be cancelled first. */
  async deleteJob(jobId: string): Promise<void> {
    const asked = this.#asked.get(jobId);
    if (asked?.state === 'running') throw new Error(`job ${jobId} is running: cancel it first`);
    this.running.delete(jobId);
    this.#asked.delete(jobId);
    this.#history = this.#history.filter((v) => v.jobId !== jobId);
    if (this.options.history) await this.options.history.delete(jobId);
    else await this.options.ownerStore?.deleteJob(jobId);
    this.safeDispatchEvent('deleted', { detail: jobId });
  }

  /**
   * Changes a running job's price (credits per GFLOP) from its next lease on: leases already
   * made pay the price they were made at. Throws RangeError outside [PRICE_FLOOR, PRICE_CEILING].
   */
  async setPrice(jobId: string, price: number): Promise<void> {
    if (!(Number.isFinite(price) && price >= PRICE_FLOOR && price <= PRICE_CEILING)) {
      throw new RangeError(
        `price ${price} is not in [${PRICE_FLOOR}, ${PRICE_CEILING}] credits per GFLOP`,
      );
    }
    const purse = this.#wallet.purse(jobId);
    if (!purse || this.#asked.get(jobId)?.state !== 'running') return;
    purse.setPrice(price);
    const stored = await this.options.ownerStore?.job(jobId);
    if (stored) await this.options.ownerStore?.putJob({ ...stored, terms: { ...purse.terms } });
    this.#emitJob(jobId);
  }

  /** Splits a running job's waiting shards into smaller ones (the action offered when no
   * contributor can hold its shards, or they keep lapsing). Returns how many were split. */
  splitShards(jobId: string): number {
    const job = this.running.get(jobId)?.job;
    if (!job?.splitPending || this.#asked.get(jobId)?.state !== 'running') return 0;
    const n = job.splitPending();
    this.#emitJob(jobId);
    return n;
  }

  /** Lifts a quarantine this tab's owner side put on `peer` (the owner's call, from the mesh
   * view): it may ask for work again, and what this tab's checks caught is forgiven. */
  lift(peer: string): void {
    this.reputation.lift(peer);
    this.trust.forgive(peer);
    this.#emitPeers();
  }

  /**
   * Stores a job of any kind (so a reload resumes it), announces it, and resolves `done` with
   * the verified, assembled answer. Throws JobSpecError for a spec that cannot run.
   */
  async submit(
    js: JobSpec,
    terms: JobTerms = DEFAULT_TERMS,
  ): Promise<RunningJob & { jobId: string }> {
    const checked = checkJobSpec(js.kind, js.spec);
    const stored: StoredJob = {
      id: randomId(),
      kind: checked.kind,
      spec: checked.spec,
      createdAt: Date.now(),
      finished: false,
      terms: checkTerms({ ...terms }),
    };
    await this.options.ownerStore?.putJob(stored);
    return { jobId: stored.id, ...this.#run(stored, checked, false) };
  }

  /** A matmul C = A·B, cut into blocks that fit contributors' GPUs unless `block` says. */
  submitMatmul(
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
    terms?: JobTerms,
  ): Promise<RunningJob & { jobId: string }> {
    const { m, k, n } = problem;
    const size = block ?? this.sizeMatmul(m, k, n);
    return this.submit(
      { kind: 'matmul', spec: { m, k, n, a: problem.a.slice(), b: problem.b.slice(), ...size } },
      terms,
    );
  }

  /**
   * Block sizes for an m×k×n matmul, cut to TARGET_SHARD_MS for the median of the contributors
   * that asked this tab for work lately (their stated speed and limits, the links this tab
   * measured), or for conservative defaults when it has seen none (shards that turn out too big
   * lapse and are split). Throws RangeError when K is too deep for any contributor.
   */
  sizeMatmul(m: number, k: number, n: number): ShardSize {
    const seen = [...this.owner.contributors].map(([peer, c]) => ({
      gflops: c.gflops,
      bytesPerSec: this.owner.links.bytesPerSec(peer),
      maxBufferBytes: c.maxBufferBytes,
    }));
    return sizeShards(m, k, n, seen);
  }

  /** Raises a job's budget by `micro` µcredits; a job whose budget was spent leases again. */
  async addBudget(jobId: string, micro: number): Promise<void> {
    const purse = this.#wallet.purse(jobId);
    const stored = await this.options.ownerStore?.job(jobId);
    if (!purse || !(micro > 0)) return;
    purse.terms.budget += micro;
    if (stored) await this.options.ownerStore?.putJob({ ...stored, terms: { ...purse.terms } });
    this.#emitJob(jobId);
  }

  /**
   * Batched inference: sequences are cut into shards, leased to contributors (who fetch the
   * model from this tab if they lack it), verified by the job's policy, and assembled in order.
   */
  async submitInference(
    req: InferenceRequest,
    terms?: JobTerms,
  ): Promise<RunningJob & { jobId: string }> {
    const digest =
      'digest' in req.model
        ? req.model.digest
        : await this.models.add(req.model.files, req.model.name);
    const model = this.models.summary(digest);
    if (!model) throw new JobSpecError('model', `no model ${digest} is held by this tab`);
    const out = req.output;
    const mode = out.mode;
    const n = req.sequences.length;
    const spec: InferenceSpec = {
      modelDigest: digest,
      model,
      sequences: req.sequences.map((q) => Uint32Array.from(q)),
      mode,
      steps: out.mode === 'tokens' ? out.steps : 0,
      temperature: out.mode === 'tokens' ? (out.temperature ?? 0) : 0,
      seed: (out.mode === 'tokens' ? out.seed : undefined) ?? cryptoRng().nextUint32(),
      perShard: req.perShard ?? Math.min(64, Math.max(1, Math.ceil(n / 8))),
      policy: { ...defaultPolicy(mode), ...req.policy },
    };
    return this.submit({ kind: 'inference', spec }, terms);
  }

  /**
   * Leaves the mesh: stops contributing (the shard stream is closed first, so owners take back
   * the leases this tab held at once rather than at their deadlines) and serving, and closes
   * every connection.
   */
  async stop(): Promise<void> {
    this.#contributing = false;
    this.#work.abort();
    this.#abort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.#working, new Promise((r) => (timer = setTimeout(r, 2_000)))]);
    clearTimeout(timer);
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
      projector: this.#verifier.project,
      trust: this.trust,
      // A split shard keeps its id; its parts get new ones: the layout is kept so a reload's
      // kept outputs land on the same blocks.
      ...(stored.splits?.length ? { splits: stored.splits } : {}),
      onSplit: (splits: number[]) => void this.options.ownerStore?.putSplits(stored.id, splits),
      scheduler: {
        defaultWindowMs: 20_000,
        ...this.leasePolicy,
        // Slow is not dishonest: a lapse costs standing, never a quarantine on its own.
        onExpire: (l) =>
          this.reputation.record(
            l.contributor,
            'missed-deadline',
            `lease ${l.leaseId} of job ${stored.id} lapsed`,
          ),
        // Stalling ids cannot keep a shard from a contributor with verified work behind it.
        proven: (peer) => this.reputation.get(peer).accepted > 0,
      },
    });
    restore?.(job);
    const terms = stored.terms ?? { ...DEFAULT_TERMS };
    const purse = new Purse(terms, largestShardFlops(job), paidCopies(js));
    purse.charge(this.options.spentOn?.(job.id) ?? 0);
    this.#wallet.open(job.id, purse);
    this.owner.addJob(job);
    const asked: Asked = { js, createdAt: stored.createdAt, state: 'running' };
    this.#asked.set(job.id, asked);
    const expiresAt = stored.createdAt + 24 * 3_600_000;
    const done = new Promise<FinishedJob>((resolve, reject) => {
      const onDone = (e: Event) => {
        if ((e as CustomEvent<{ jobId: string }>).detail.jobId !== job.id) return;
        this.owner.removeEventListener('done', onDone);
        this.board.withdraw(job.id, { ended: true });
        this.#wallet.close(job.id);
        job.close?.();
        asked.state = 'done';
        asked.finishedAt = Date.now();
        void this.options.ownerStore
          ?.finishJob(job.id, this.#ending(job.id))
          .then(() => this.options.history?.add(job.id));
        resolve({ jobId: job.id, answer: job.answer(), report: job.report() });
        this.#emitJob(job.id);
      };
      this.owner.addEventListener('done', onDone);
      this.#cancels.set(job.id, (e) => {
        this.owner.removeEventListener('done', onDone);
        reject(e);
      });
    });
    done.catch(() => {}); // a cancelled job nobody awaits is no unhandled rejection
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
        addrs: this.addresses.slice(0, 4),
        modelDigest,
        modelBytes: modelDigest ? this.models.size(modelDigest) : 0,
        price: purse.terms.price,
        shardGflop: shardFlops(js, job.shardCount) / 1e9,
        // A job whose budget (or its owner's balance) is spent offers nothing meanwhile.
        // shardsLeft stays the truth (progress shown is the owner's): paused says it leases
        // nothing for now.
        ...(purse.exhausted || !this.#pay.affordable(job.id) ? { paused: true } : {}),
      }));
    }
    const run = { job, done, resumed };
    this.running.set(job.id, run);
    this.#emitJob(job.id);
    return run;
  }

  /** Works on announced jobs one at a time while contributing. */
  async #pickWork(): Promise<void> {
    if (this.#busy || !this.#contributing) return;
    // The best-paying work this tab can run first.
    const job = this.#workable()[0];
    if (!job) return;
    this.#busy = true;
    const signal = AbortSignal.any([this.#abort.signal, this.#work.signal]);
    try {
      const work = this.contributor.work(job, signal);
      this.#working = work.then(
        () => {},
        () => {},
      );
      const end = await work;
      this.#backoff.delete(job.owner);
      if (end.finished) {
        this.#skip.set(job.jobId, Number.POSITIVE_INFINITY); // finished: never again
      } else if (end.retryAfterMs > 0) {
        // Nothing to lease there now, and other work is waiting: that first, this one later.
        this.#skip.set(job.jobId, Date.now() + end.retryAfterMs);
        setTimeout(() => void this.#pickWork(), end.retryAfterMs);
      }
    } catch (e) {
      // Switched off or stopped: the stream was closed on purpose, nobody failed.
      if (!signal.aborted) await this.#failed(job, e);
    } finally {
      this.#busy = false;
    }
    void this.#pickWork();
  }

  /** Announced jobs this tab could work on now, the best-paying first. */
  #workable(): AnnouncementMsg[] {
    const now = Date.now();
    const maxModel = this.options.maxModelBytes ?? 256 * 2 ** 20;
    return this.board
      .jobs()
      .filter(
        (j) =>
          j.owner !== this.peerId &&
          !this.reputation.isQuarantined(j.owner) &&
          j.shardsLeft > 0 &&
          !j.paused &&
          j.kernelDigest === this.options.kernelDigest &&
          j.modelBytes <= maxModel &&
          (this.#skip.get(j.jobId) ?? 0) <= now &&
          (this.#backoff.get(j.owner)?.until ?? 0) <= now,
      )
      .sort((a, b) => b.price - a.price);
  }

  /** Work on `job` broke (dial failed, stream broke): skip it a while, back off its owner. */
  async #failed(job: AnnouncementMsg, e: unknown) {
    const why = describeStreamError(e);
    console.warn(`tessel: work on job ${job.jobId} of ${job.owner} stopped: ${why}`);
    this.#skip.set(job.jobId, Date.now() + 1_000);
    const failures = (this.#backoff.get(job.owner)?.failures ?? 0) + 1;
    const wait = Math.min(300_000, 1_000 * 2 ** (failures - 1));
    this.#backoff.set(job.owner, { failures, until: Date.now() + wait });
    this.#prune();
    // The owner may have reloaded: drop what is left of the old connection, or the next dial
    // would reuse it and wait for it to time out.
    await this.node.hangUp(peerIdFromString(job.owner)).catch(() => {});
  }

  /** Keeps the skip and back-off records to jobs and owners still on the board. */
  #prune() {
    if (this.#skip.size + this.#backoff.size < 4_096) return;
    const live = this.board.jobs();
    const jobs = new Set(live.map((j) => j.jobId));
    const owners = new Set(live.map((j) => j.owner));
    for (const id of this.#skip.keys()) if (!jobs.has(id)) this.#skip.delete(id);
    for (const id of this.#backoff.keys()) if (!owners.has(id)) this.#backoff.delete(id);
  }

  #emitJob(jobId: string) {
    const view = this.#jobView(jobId);
    if (view) this.safeDispatchEvent('job', { detail: view });
  }

  #emitPeers() {
    this.safeDispatchEvent('peers', { detail: this.#peers() });
  }

  #jobView(jobId: string): JobView | undefined {
    const run = this.running.get(jobId);
    const asked = this.#asked.get(jobId);
    if (!run || !asked) return undefined;
    return {
      jobId,
      kind: run.job.kind,
      state: asked.state,
      resumed: run.resumed,
      history: false,
      createdAt: asked.createdAt,
      ...(asked.finishedAt ? { finishedAt: asked.finishedAt } : {}),
      summary: describeJob(asked.js),
      progress: run.job.progress(),
      report: run.job.report(),
      price: this.#wallet.purse(jobId)?.terms.price ?? DEFAULT_TERMS.price,
      budget: this.#wallet.purse(jobId)?.terms.budget ?? DEFAULT_TERMS.budget,
      spent: this.#wallet.purse(jobId)?.spent ?? 0,
      budgetSpent: (this.#wallet.purse(jobId)?.exhausted ?? false) && !run.job.done,
      balanceLow: !run.job.done && !this.#pay.affordable(jobId),
      ...(asked.state === 'running' && !run.job.done
        ? stallOf(this.#stallFacts(run.job, asked))
        : {}),
    };
  }

  /** What decides whether a running job is stalled, and why (see stall.ts). */
  #stallFacts(job: OwnerJob, asked: Asked): StallFacts {
    const purse = this.#wallet.purse(job.id);
    return {
      now: Date.now(),
      createdAt: asked.createdAt,
      leased: job.outstanding().length,
      budgetSpent: purse?.exhausted ?? false,
      spent: purse?.spent ?? 0,
      budget: purse?.terms.budget ?? Number.POSITIVE_INFINITY,
      balanceLow: !this.#pay.affordable(job.id),
      asks: this.owner.asks(job.id),
      shardBytes: job.shardBytes?.() ?? 0,
    };
  }

  #peers(): PeerView[] {
    const relayIds = new Set(this.options.config.relays.map(relayOf));
    const byPeer = new Map<string, PeerView>();
    for (const c of this.node.getConnections()) {
      const id = c.remotePeer.toString();
      const direct = c.remoteAddr.toString().includes('/webrtc') && c.limits == null;
      const known = byPeer.get(id);
      if (known) {
        known.direct ||= direct;
        continue;
      }
      const said = this.owner.contributors.get(id);
      const r = this.reputation.get(id);
      byPeer.set(id, {
        id,
        direct,
        relay: relayIds.has(id),
        ...(said ? { adapter: said.adapter, gflops: said.gflops } : {}),
        score: r.score,
        accepted: r.accepted,
        rejected: r.rejected,
        missedDeadlines: r.missedDeadlines,
        quarantined: r.quarantined,
        ...(r.reason ? { reason: r.reason } : {}),
      });
    }
    return [...byPeer.values()];
  }
}

/** FLOPs in one shard of a job, estimated from its spec (0 where it depends on the model). */
function shardFlops(js: JobSpec, shards: number): number {
  if (js.kind !== 'matmul') return 0;
  const { m, k, n } = js.spec;
  return (2 * m * k * n) / Math.max(1, shards);
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}
