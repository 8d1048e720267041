import { TypedEventEmitter } from 'main-event';
import type { Output } from '../jobs/codec';
import type { MatmulProblem } from '../jobs/freivalds';
import type { JobSpec } from '../jobs/kinds';
import type { OwnerTrust } from '../jobs/owner-trust';
import { Reputation } from '../jobs/reputation';
import type { RowKind } from '../jobs/rows';
import type { ShardSize } from '../jobs/shard-size';
import type { JobTerms } from '../jobs/terms';
import { JobBoard } from './job-board';
import type { PartialAnswer } from './job-history';
import { JobIntake } from './job-intake';
import { ledgerOf, type MeshOptions, modelLibrary } from './mesh-options';
import type { ModelLibrary } from './models';
import { type MeshNode, startMeshNode, waitForWebRtcAddress } from './node';
import { OwnerDesk } from './owner-desk';
import type { FinishedJob, InferenceRequest, RowsJobRequest, RunningJob } from './owner-jobs';
import {
  dialAddresses,
  forward,
  type MeshEvents,
  type MeshSnapshot,
  peerViews,
  relayViews,
} from './read-model';
import type { ShardContributor, ShardOutcome } from './shard-contributor';
import type { SettledEvent, ShardOwnerService } from './shard-owner';
import { WorkLoop } from './work-loop';

export type { MeshConfig, MeshOptions } from './mesh-options';
export {
  type FinishedJob,
  type InferenceRequest,
  JobCancelledError,
  type LeasePolicy,
  type RowsJobRequest,
  type RunningJob,
} from './owner-jobs';

type Submitted = Promise<RunningJob & { jobId: string }>;

/**
 * A tab's place in the mesh: its libp2p node and job board, the models it holds and serves,
 * this tab's jobs as their owner (OwnerDesk: persisted, resumed after a reload) and its work on
 * jobs others announce (WorkLoop), seen by views through `snapshot()` and typed events. Jobs of
 * any kind: the kinds are src/jobs/kinds.ts's.
 */
export class Mesh extends TypedEventEmitter<MeshEvents> {
  readonly board: JobBoard;
  readonly models: ModelLibrary;
  readonly reputation = new Reputation();
  /** This tab's jobs as their owner. */
  readonly desk: OwnerDesk;
  /** A researcher's requests made into jobs for the desk. */
  readonly intake: JobIntake;
  /** Which announced job this tab works on, and when. */
  readonly loop: WorkLoop;
  /** The desk's owner service, jobs (resumed ones included), results settled in order, and
   * whom its checks proved or caught (see OwnerDesk). */
  readonly owner: ShardOwnerService;
  readonly running: Map<string, RunningJob>;
  readonly settled: SettledEvent[];
  readonly trust: OwnerTrust;
  /** The loop's side of the shard protocol, and every verdict it received in order. */
  readonly contributor: ShardContributor;
  readonly outcomes: ShardOutcome[];

  private constructor(
    readonly node: MeshNode,
    /** The relayed WebRTC addresses the node had when it started (see `addresses`). */
    readonly startAddresses: string[],
    readonly options: MeshOptions,
  ) {
    super();
    const store = options.ownerStore;
    const ledger = ledgerOf(options);
    this.reputation.onChange = (peer, record) => {
      void store?.putPeer(peer, record);
      this.#emitPeers();
    };
    this.board = new JobBoard(node.services.pubsub, {
      ignore: (peer) => this.reputation.isQuarantined(peer),
    });
    this.models = modelLibrary(node, options, {
      mayFetch: (peer, digest, jobId) => this.desk.mayFetch(peer, digest, jobId),
      reputation: this.reputation,
    });
    this.desk = new OwnerDesk(
      {
        node,
        board: this.board,
        models: this.models,
        reputation: this.reputation,
        peerId: () => this.peerId,
        addresses: () => this.addresses,
      },
      { ...options, ...(ledger ? { ledger } : {}) },
    );
    this.intake = new JobIntake({
      submit: (js, terms) => this.desk.submit(js, terms),
      owner: this.desk.owner,
      models: this.models,
    });
    this.loop = new WorkLoop(
      { node, board: this.board, models: this.models, reputation: this.reputation },
      {
        ...options,
        ...(ledger?.accept ? { acceptReceipt: ledger.accept } : {}),
        peerId: this.peerId,
        contributing: options.contribute,
      },
    );
    ({
      owner: this.owner,
      running: this.running,
      settled: this.settled,
      trust: this.trust,
    } = this.desk);
    ({ contributor: this.contributor, outcomes: this.outcomes } = this.loop);
    forward(this.desk, this, ['job', 'deleted']);
    forward(this.loop, this, ['abandoned', 'stopped', 'outcome']);
    const announced = () => this.safeDispatchEvent('announced', { detail: this.board.jobs() });
    this.board.addEventListener('job', () => {
      announced();
      void this.loop.pick();
    });
    // Ended by their owners or gone silent: off the volunteers' list at once.
    this.board.addEventListener('gone', announced);
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
    if (options.ownerStore) mesh.reputation.restore(await options.ownerStore.peers());
    await mesh.desk.load();
    mesh.board.start();
    await mesh.owner.start();
    await mesh.models.server.start();
    await mesh.desk.resume();
    return mesh;
  }

  get peerId(): string {
    return this.node.peerId.toString();
  }

  /** The relayed WebRTC addresses others dial now, one per relay holding a reservation. */
  get addresses(): string[] {
    return dialAddresses(this.node, this.startAddresses);
  }

  /** The first of `addresses`. */
  get address(): string {
    return this.addresses[0]!;
  }

  /** Contributing and waiting for work (the supply the price rule counts). */
  get idle(): boolean {
    return this.loop.idle;
  }

  /** Everything a view shows, as plain data (see read-model.ts). */
  snapshot(): MeshSnapshot {
    return {
      peerId: this.peerId,
      address: this.address,
      relays: relayViews(this.node, this.options.config.relays),
      peers: this.#peers(),
      announced: this.board.jobs(),
      jobs: this.desk.views(),
      contribution: this.loop.view(),
    };
  }

  /** The verified answer of one of this tab's jobs, once done (see RunningJob.done). */
  result(jobId: string): Promise<FinishedJob> | undefined {
    return this.running.get(jobId)?.done;
  }

  /** What one of this tab's jobs was asked to do (its spec, inputs included). */
  request(jobId: string): JobSpec | undefined {
    return this.desk.request(jobId);
  }

  /** Switches contributing on or off. Off stops at once: the shard being worked on is abandoned
   * (its lease lapses at the owner) and no new work is asked for. */
  setContributing(on: boolean): void {
    if (this.loop.setContributing(on)) this.safeDispatchEvent('contributing', { detail: on });
  }

  // How this tab contributes: see WorkLoop for each.
  setMeasuredSpeed = (gflops: number): void => this.loop.setMeasuredSpeed(gflops);
  setEngine = (adapter: string, maxBufferBytes: number) =>
    this.loop.setEngine(adapter, maxBufferBytes);
  setBudget = (budget: number): void => this.loop.setBudget(budget);

  // This tab's jobs as their owner: see OwnerDesk for each.
  cancel = (jobId: string): Promise<void> => this.desk.cancel(jobId);
  answer = (jobId: string): Promise<PartialAnswer | undefined> => this.desk.answer(jobId);
  deleteJob = (jobId: string): Promise<void> => this.desk.deleteJob(jobId);
  setPrice = (jobId: string, price: number): Promise<void> => this.desk.setPrice(jobId, price);
  splitShards = (jobId: string): number => this.desk.splitShards(jobId);
  addBudget = (jobId: string, micro: number): Promise<void> => this.desk.addBudget(jobId, micro);
  shardOutput = (jobId: string, shardId: number): Promise<Output | undefined> =>
    this.desk.shardOutput(jobId, shardId);

  // A researcher's requests: see JobIntake for each.
  sizeMatmul = (m: number, k: number, n: number): ShardSize => this.intake.sizeMatmul(m, k, n);
  submit = (js: JobSpec, terms?: JobTerms): Submitted => this.desk.submit(js, terms);
  submitMatmul = (
    problem: MatmulProblem,
    block?: { blockRows: number; blockCols: number },
    terms?: JobTerms,
  ): Submitted => this.intake.submitMatmul(problem, block, terms);
  submitInference = (req: InferenceRequest, terms?: JobTerms): Submitted =>
    this.intake.submitInference(req, terms);
  submitRows = (kind: RowKind, req: RowsJobRequest, terms?: JobTerms): Submitted =>
    this.intake.submitRows(kind, req, terms);

  /** Lifts a quarantine this tab's owner side put on `peer` (the owner's call, from the mesh
   * view): it may ask for work again, and what this tab's checks caught is forgiven. */
  lift(peer: string): void {
    this.reputation.lift(peer);
    this.trust.forgive(peer);
    this.#emitPeers();
  }

  /**
   * Leaves the mesh: stops contributing (the shard stream is closed first, so owners take back
   * the leases this tab held at once rather than at their deadlines) and serving, and closes
   * every connection.
   */
  async stop(): Promise<void> {
    await this.loop.stop();
    this.board.stop();
    await this.desk.stop();
    await this.models.server.stop();
    await this.node.stop();
  }

  #peers() {
    const { node, options, owner, reputation } = this;
    return peerViews(node, options.config.relays, owner.contributors, reputation);
  }

  #emitPeers() {
    this.safeDispatchEvent('peers', { detail: this.#peers() });
  }
}
