import { TypedEventEmitter } from 'main-event';
import type { Output } from '../jobs/codec';
import type { Engine, OwnerJob } from '../jobs/job';
import { checkJobSpec, createJob, type JobSpec, jobModel, paidCopies } from '../jobs/kinds';
import { OwnerTrust } from '../jobs/owner-trust';
import { PRICE_CEILING, PRICE_FLOOR } from '../jobs/price';
import { largestShardFlops, Purse, Wallet } from '../jobs/purse';
import type { Reputation } from '../jobs/reputation';
import { checkTerms, DEFAULT_TERMS, type JobTerms } from '../jobs/terms';
import { notice } from '../log/log';
import { cryptoRng } from '../model/rng';
import type { JobBoard } from './job-board';
import { type JobHistory, type PartialAnswer, partialAnswer } from './job-history';
import type { LedgerPort } from './ledger-port';
import type { ModelLibrary } from './models';
import type { MeshNode } from './node';
import {
  type FinishedJob,
  JobCancelledError,
  type LeasePolicy,
  newJobId,
  type RunningJob,
} from './owner-jobs';
import { type Asked, type DeskBooks, ending, jobView, meanShardGflop } from './owner-views';
import { Paymaster } from './paymaster';
import type { JobView } from './read-model';
import { type SettledEvent, type ShardOwnerEvents, ShardOwnerService } from './shard-owner';
import type { OwnerStore, StoredJob } from './store';
import { OwnerVerifier } from './verifier';

/** How long an announced job stays on boards (its announcements' expiresAt). */
const JOB_LIFETIME_MS = 24 * 3_600_000; // ms
/** How long a lease lasts by default, before its expected compute time is known. */
const DEFAULT_WINDOW_MS = 20_000; // ms

/** What the desk is built from: the narrow parts of the mesh it uses. */
export interface OwnerDeskComponents {
  /** The node the owner service answers work requests on. */
  node: MeshNode;
  board: Pick<JobBoard, 'announce' | 'withdraw'>;
  /** Models this tab's inference jobs run (added, resumed after a reload, served). */
  models: Pick<ModelLibrary, 'hold' | 'size' | 'resume'>;
  /** How this tab's owner side judges contributors (shared with the contributor side). */
  reputation: Reputation;
  /** This tab's peer id and the addresses its announcements carry now. */
  peerId(): string;
  addresses(): string[];
}

export interface OwnerDeskOptions {
  /** The owner's own engine, for the checks it runs itself. */
  engine: Engine;
  kernelDigest: string;
  /** Where submitted jobs, verified shards and peer records persist (IndexedDB). */
  ownerStore?: OwnerStore;
  /** Finished and cancelled jobs kept from earlier sessions. */
  history?: JobHistory;
  /** This tab's books, its methods callable detached (ledgerOf binds them); absent: no
   * receipts, no revocations, no balance limit. */
  ledger?: LedgerPort;
}

export interface OwnerDeskEvents {
  /** A job's view changed. */
  job: CustomEvent<JobView>;
  /** A job was forgotten (the researcher's Delete). */
  deleted: CustomEvent<string>;
}

/**
 * This tab's jobs as their owner: runs them (stored first, so a reload resumes them), announces
 * them, keeps their purses against this tab's balance, cancels and deletes them, and shows them
 * as views beside the history kept from earlier sessions.
 */
export class OwnerDesk extends TypedEventEmitter<OwnerDeskEvents> {
  readonly owner: ShardOwnerService;
  /** This tab's jobs, including ones resumed from an earlier session. */
  readonly running = new Map<string, RunningJob>();
  /** Every result this tab settled as an owner, in order. */
  readonly settled: SettledEvent[] = [];
  /** Who this tab's own checks proved or caught, shared by its jobs (kept in the owner store). */
  readonly trust = new OwnerTrust();
  /** How the jobs started from now lease their shards: lifetimes (a multiple of the expected
   * compute time), leases per contributor, speculation. The defaults suit real work. */
  leasePolicy: LeasePolicy = {};
  /** What this tab's jobs pay, have paid and hold for their leases, against its balance. */
  readonly #wallet: Wallet;
  readonly #pay: Paymaster;
  /** The owner's matmul checks on the CPU engine's float64 kernels. */
  readonly #verifier = new OwnerVerifier();
  /** What each job was asked to do, and how it ended. */
  readonly #asked = new Map<string, Asked>();
  readonly #cancels = new Map<string, (e: JobCancelledError) => void>();
  /** Finished and cancelled jobs kept from earlier sessions (see JobHistory). */
  #history: JobView[] = [];

  constructor(
    readonly c: OwnerDeskComponents,
    readonly o: OwnerDeskOptions,
  ) {
    super();
    const { ownerStore: store, ledger } = o;
    this.#wallet = new Wallet(ledger?.canSpend);
    this.#pay = new Paymaster(this.#wallet, {
      jobs: () => this.owner.jobs.values(),
      ...(ledger?.issue ? { issue: ledger.issue } : {}),
    });
    this.trust.onChange = (peer, record) => void store?.putTrust(peer, record);
    const revoke = ledger?.revoke;
    this.owner = new ShardOwnerService(c.node, {
      reputation: c.reputation,
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
    this.owner.addEventListener('settled', (e) => {
      const settled = e.detail;
      this.settled.push(settled);
      this.#emitJob(settled.jobId);
    });
  }

  /** Reads what earlier sessions kept: whom this tab's checks trust, the jobs' history. */
  async load(): Promise<void> {
    const store = this.o.ownerStore;
    if (store) this.trust.load(await store.trust());
    this.#history = (await this.o.history?.list()) ?? [];
  }

  stop(): Promise<void> {
    return this.owner.stop();
  }

  /** Every job's view: the running ones, then the history not running now. */
  views(): JobView[] {
    return [
      ...[...this.running.keys()].flatMap((id) => this.#view(id) ?? []),
      ...this.#history.filter((v) => !this.running.has(v.jobId)),
    ];
  }

  /** Whether `peer` may fetch model `digest` from this tab for job `jobId`: only a peer
   * holding a lease on one of this tab's jobs that runs the model. */
  mayFetch(peer: string, digest: string, jobId: string): boolean {
    const job = this.owner.jobs.get(jobId);
    return job?.modelDigest === digest && job.outstanding().some((l) => l.contributor === peer);
  }

  /** What one of this tab's jobs was asked to do (its spec, inputs included). */
  request(jobId: string): JobSpec | undefined {
    return this.#asked.get(jobId)?.js;
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
      id: newJobId(),
      kind: checked.kind,
      spec: checked.spec,
      createdAt: Date.now(),
      finished: false,
      terms: checkTerms({ ...terms }),
    };
    await this.o.ownerStore?.putJob(stored);
    return { jobId: stored.id, ...this.#run(stored, checked, false) };
  }

  /** A verified shard's output of one of this tab's jobs, from the store (undefined: none is
   * kept). Throws WorkError for a kept record that fails the codec. */
  shardOutput(jobId: string, shardId: number): Promise<Output | undefined> {
    return this.o.ownerStore?.result(jobId, shardId) ?? Promise.resolve(undefined);
  }

  /** Raises a job's budget by `micro` µcredits; a job whose budget was spent leases again. */
  async addBudget(jobId: string, micro: number): Promise<void> {
    const purse = this.#wallet.purse(jobId);
    const stored = await this.o.ownerStore?.job(jobId);
    if (!purse || !(micro > 0)) return;
    purse.terms.budget += micro;
    if (stored) await this.o.ownerStore?.putJob({ ...stored, terms: { ...purse.terms } });
    this.#emitJob(jobId);
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
    const stored = await this.o.ownerStore?.job(jobId);
    if (stored) await this.o.ownerStore?.putJob({ ...stored, terms: { ...purse.terms } });
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

  /**
   * Cancels a running job: it is withdrawn, contributors hear it is finished, its stored record
   * is closed (a reload does not resume it) and `done` rejects with JobCancelledError. Verified
   * shards already settled keep their receipts.
   */
  async cancel(jobId: string): Promise<void> {
    const asked = this.#asked.get(jobId);
    if (!asked || !this.running.has(jobId) || asked.state !== 'running') return;
    asked.state = 'cancelled';
    asked.finishedAt = Date.now();
    const end = this.#ending(jobId);
    // Its end is announced first, with its last state: boards drop it at once.
    this.c.board.withdraw(jobId, { ended: true });
    this.owner.removeJob(jobId);
    this.#wallet.close(jobId);
    this.#cancels.get(jobId)?.(new JobCancelledError(jobId));
    await this.o.ownerStore?.finishJob(jobId, end);
    this.#emitJob(jobId);
  }

  /**
   * What a job has verified so far (running, finished, cancelled, or kept from an earlier
   * session): its answer with unverified parts zero, and a mask of the verified parts.
   * Undefined for a job this tab does not know.
   */
  async answer(jobId: string): Promise<PartialAnswer | undefined> {
    const run = this.running.get(jobId);
    const asked = this.#asked.get(jobId);
    if (run && asked) return partialAnswer(run.job, asked.js, run.job.doneShards());
    return this.o.history?.answer(jobId);
  }

  /** Forgets a finished or cancelled job and its outputs (the researcher's Delete). A running
   * job must be cancelled first. */
  async deleteJob(jobId: string): Promise<void> {
    const asked = this.#asked.get(jobId);
    if (asked?.state === 'running') throw new Error(`job ${jobId} is running: cancel it first`);
    this.running.delete(jobId);
    this.#asked.delete(jobId);
    this.#history = this.#history.filter((v) => v.jobId !== jobId);
    if (this.o.history) await this.o.history.delete(jobId);
    else await this.o.ownerStore?.deleteJob(jobId);
    this.safeDispatchEvent('deleted', { detail: jobId });
  }

  /** Runs again the jobs an earlier session left unfinished, and redelivers its verdicts. */
  async resume(): Promise<void> {
    const store = this.o.ownerStore;
    if (!store) return;
    // Verdicts decided before a reload and never written: their contributors hear them next.
    this.owner.redeliver(await store.verdicts());
    for (const stored of await store.unfinishedJobs()) {
      const model = jobModel(stored);
      if (model && !(await this.c.models.resume(model).catch(() => false))) {
        notice(`job ${stored.id} needs model ${model}, which this tab lost`);
        continue;
      }
      const earlier = await store.kept(stored);
      const run = this.#run(stored, stored, true, (job) => {
        // restore() refuses an output that does not fit the shard.
        for (const r of earlier) job.restore(r.shardId, r.output);
      });
      if (run.job.done) this.owner.safeDispatchEvent('done', { detail: { jobId: stored.id } });
    }
  }

  #run(
    stored: StoredJob,
    js: JobSpec,
    resumed: boolean,
    restore?: (job: OwnerJob) => void,
  ): RunningJob {
    const rep = this.c.reputation;
    const job = createJob(stored.id, js, {
      engine: this.o.engine,
      rng: cryptoRng(),
      projector: this.#verifier.project,
      trust: this.trust,
      // A split shard keeps its id; its parts get new ones: the layout is kept so a reload's
      // kept outputs land on the same blocks.
      ...(stored.splits?.length ? { splits: stored.splits } : {}),
      onSplit: (splits: number[]) => void this.o.ownerStore?.putSplits(stored.id, splits),
      scheduler: {
        defaultWindowMs: DEFAULT_WINDOW_MS,
        ...this.leasePolicy,
        // Slow is not dishonest: a lapse costs standing, never a quarantine on its own.
        onExpire: (l) =>
          rep.record(
            l.contributor,
            'missed-deadline',
            `lease ${l.leaseId} of job ${stored.id} lapsed`,
          ),
        // Stalling ids cannot keep a shard from a contributor with verified work behind it.
        proven: (peer) => rep.get(peer).accepted > 0,
      },
    });
    restore?.(job);
    const purse = new Purse(
      stored.terms ?? { ...DEFAULT_TERMS },
      largestShardFlops(job),
      paidCopies(js),
    );
    purse.charge(this.o.ledger?.spent(job.id) ?? 0);
    this.#wallet.open(job.id, purse);
    this.owner.addJob(job);
    const asked: Asked = { js, createdAt: stored.createdAt, state: 'running' };
    this.#asked.set(job.id, asked);
    const done = new Promise<FinishedJob>((resolve, reject) => {
      const onDone = (e: ShardOwnerEvents['done']) => {
        if (e.detail.jobId !== job.id) return;
        this.owner.removeEventListener('done', onDone);
        this.c.board.withdraw(job.id, { ended: true });
        this.#wallet.close(job.id);
        job.close?.();
        asked.state = 'done';
        asked.finishedAt = Date.now();
        void this.o.ownerStore
          ?.finishJob(job.id, this.#ending(job.id))
          .then(() => this.o.history?.add(job.id));
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
    if (!job.done) this.#announce(job, purse, stored.createdAt + JOB_LIFETIME_MS);
    const run = { job, done, resumed };
    this.running.set(job.id, run);
    this.#emitJob(job.id);
    return run;
  }

  /** Announces `job` until it ends, with what it has left and what it pays now. */
  #announce(job: OwnerJob, purse: Purse, expiresAt: number) {
    const modelDigest = job.modelDigest ?? '';
    const gflop = meanShardGflop(job);
    this.c.board.announce(() => ({
      jobId: job.id,
      owner: this.c.peerId(),
      kind: job.kind,
      shardCount: job.shardCount,
      shardsLeft: job.shardCount - job.doneCount,
      kernelDigest: this.o.kernelDigest,
      expiresAt,
      addrs: this.c.addresses().slice(0, 4),
      modelDigest,
      modelBytes: modelDigest ? this.c.models.size(modelDigest) : 0,
      price: purse.terms.price,
      shardGflop: gflop(),
      // A job whose budget (or its owner's balance) is spent offers nothing meanwhile.
      // shardsLeft stays the truth (progress shown is the owner's): paused says it leases
      // nothing for now.
      ...(purse.exhausted || !this.#pay.affordable(job.id) ? { paused: true } : {}),
    }));
  }

  #view(jobId: string): JobView | undefined {
    const run = this.running.get(jobId);
    const asked = this.#asked.get(jobId);
    const books: DeskBooks = { wallet: this.#wallet, pay: this.#pay, owner: this.owner };
    return run && asked ? jobView(run, asked, books) : undefined;
  }

  #ending(jobId: string) {
    const view = this.#view(jobId);
    return view ? ending(view) : undefined;
  }

  #emitJob(jobId: string) {
    const view = this.#view(jobId);
    if (view) this.safeDispatchEvent('job', { detail: view });
  }
}
