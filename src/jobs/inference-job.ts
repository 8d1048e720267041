import { notice } from '../log/log';
import type { Rng } from '../model/rng';
import type { InferenceOutput, InferenceWork, JobKind, Output } from './codec';
import { CopyPlacement } from './copy-placement';
import { Credits } from './credits';
import { InferenceChecker } from './inference-check';
import {
  checkInferenceSpec,
  type InferenceSpec,
  outputShapeError,
  placeOutput,
  planShards,
  type ShardDef,
  sequenceSeeds,
  shardBytes,
  shardFlops,
  shardWork,
} from './inference-spec';
import {
  type ContributorInfo,
  type Engine,
  emptyReport,
  type JobAnswer,
  type JobProgress,
  type LeaseOffer,
  type OwnerJob,
  progressOf,
  type Revocation,
  type Settlement,
  type Verdict,
  type VerificationMethod,
  type VerificationReport,
  watchRefusals,
} from './job';
import { OwnerTrust } from './owner-trust';
import { type Decision, RedundancyVerifier } from './redundancy';
import { type Lease, Scheduler, type SchedulerOptions } from './scheduler';
import { WaitingCopies } from './waiting-copies';

// Over 450 lines: one class keeps the scheduler, the redundancy verifier, the owner's checks,
// the waiting copies and revocations in step over per-shard state they all change together;
// split, each part would have to reach into the others' maps.

/**
 * Batched inference as shardable work (pure): a job is a model, named by the digest of its
 * Hugging Face checkpoint (with a summary of its shape), plus many token sequences; a shard is
 * a block of sequences; its result is each sequence's last-position logits, `steps` generated
 * tokens, a pooled embedding or a log-likelihood (the data-set kinds, src/jobs/rows.ts).
 *
 * No algebraic check exists for a forward pass, so results are verified by redundancy (copies
 * on different adapters, compared within the model's error bound; agreement counts only when a
 * contributor proven by this owner's own checks is among them, src/jobs/owner-trust.ts),
 * canaries (shards whose answer the owner computes itself, hidden among the real ones) and
 * owner checks (src/jobs/inference-check.ts).
 *
 * A contributor an owner check catches (a wrong canary, a copy the owner's computation
 * rejects) is barred from the job and has everything it returned redone: copies still waiting
 * are dropped, shards settled on agreement it was part of are recomputed by the owner, and the
 * job emits a `Revocation` so the mesh voids its receipts for the job. The same happens in
 * every running job of the owner that shares the `OwnerTrust`.
 */

export interface InferenceJobOptions extends SchedulerOptions {
  /** The owner's own engine, for canary answers and checks. */
  engine: Engine;
  /** Where random spot-check choices come from; the platform CSPRNG in the app. */
  rng: Rng;
  /** Clock for verification timings (ms). */
  now?: () => number;
  /** Who passed this owner's own checks, owner-wide and persisted by the mesh. A job without
   * one keeps its own: every contributor starts unproven, and agreement costs a check until
   * a contributor is proven. */
  trust?: OwnerTrust;
  /** The registry kind the job runs as (announcements and reports show it); 'inference'. */
  kind?: JobKind;
  /** Keep the assembled answer in memory (`answer()`); default true. A data-set job (a
   * million rows of embeddings) keeps nothing: every verified shard's output goes to the
   * owner's store as it settles (Settlement.shard), and files are written from there. */
  holdAnswer?: boolean;
}

/** The owner's side of one inference job. */
export class InferenceOwnerJob implements OwnerJob {
  readonly kind: JobKind;
  onSettled?: (s: Settlement) => void;
  /** The answer: sequences × vocab logits, sequences × steps tokens, or one score per
   * sequence; all empty when the job does not hold its answer. */
  readonly logits: Float32Array;
  readonly tokens: Uint32Array;
  readonly scores: Float32Array;
  readonly holdsAnswer: boolean;
  readonly #defs: ShardDef[];
  readonly #book: Scheduler;
  readonly #verifier: RedundancyVerifier<InferenceOutput>;
  readonly #checker: InferenceChecker;
  readonly #trust: OwnerTrust;
  readonly #seeds: Uint32Array;
  readonly #report: VerificationReport;
  /** Results received per shard that wait for a decision, and since when shards wait. */
  readonly #copies = new WaitingCopies();
  /** Who is online, and who may take a shard's next copy. */
  readonly #placement: CopyPlacement;
  /** Who was credited for which shards; who was caught (here or in another job of the
   * owner): nothing of theirs counts. */
  readonly #credits = new Credits();
  /** Verified shards being re-verified by the owner since a contributor to them was caught. */
  readonly #reopened = new Set<number>();
  /** Re-verifications whose owner check failed to run: tried again on the next expire(). */
  readonly #recheckLater = new Set<number>();
  readonly #stopListening: () => void;
  /** Clock for verification timings (ms). */
  readonly #now: () => number;
  /** Rows of the real shards verified (restored ones included), reopened ones still in. */
  #rowsDone = 0;

  constructor(
    readonly id: string,
    readonly spec: InferenceSpec,
    options: InferenceJobOptions,
  ) {
    checkInferenceSpec(spec);
    this.kind = options.kind ?? 'inference';
    this.holdsAnswer = options.holdAnswer ?? true;
    this.#now = options.now ?? (() => performance.now());
    this.#defs = planShards(spec);
    this.#seeds =
      spec.mode === 'tokens' && spec.temperature > 0
        ? sequenceSeeds(spec.seed, spec.sequences.length)
        : new Uint32Array(0);
    this.#checker = new InferenceChecker(spec, options.engine, (s) => this.work(s), options.rng);
    this.#trust = options.trust ?? new OwnerTrust();
    const canaries = new Set<number>();
    for (const [i, d] of this.#defs.entries()) if (d.canary) canaries.add(i);
    this.#verifier = new RedundancyVerifier(this.#defs.length, canaries, {
      agree: (x, y) => this.#checker.agree(x, y),
      proven: (c) => this.#trust.isProven(c),
      copies: spec.policy.copies,
      spotCheckRate: spec.policy.spotCheckRate,
      rng: options.rng,
    });
    this.#placement = new CopyPlacement(this.#verifier, (c) => this.#trust.isProven(c));
    this.#book = new Scheduler(this.#defs.length, {
      shardFlops: (s) => shardFlops(spec, this.#defs[s]),
      shardBytes: (s) => shardBytes(spec, this.#defs[s]),
      ...options,
    });
    const n = this.holdsAnswer ? spec.sequences.length : 0;
    this.logits = new Float32Array(spec.mode === 'logits' ? n * spec.model.vocab : 0);
    this.tokens = new Uint32Array(spec.mode === 'tokens' ? n * spec.steps : 0);
    this.scores = new Float32Array(spec.mode === 'score' ? n : 0);
    this.#report = emptyReport(this.kind, this.#defs.length);
    this.#report.canaries = canaries.size;
    this.#stopListening = this.#trust.onCaught((c, why) => this.#revoke(c, why));
  }

  get shardCount(): number {
    return this.#defs.length;
  }
  get modelDigest(): string {
    return this.spec.modelDigest;
  }

  answer(): JobAnswer {
    return { kind: 'inference', logits: this.logits, tokens: this.tokens, scores: this.scores };
  }
  get doneCount(): number {
    return this.#book.doneCount - this.#reopened.size;
  }
  /** Every shard verified, none being re-verified. */
  get done(): boolean {
    return this.#book.done && this.#reopened.size === 0;
  }

  report(): VerificationReport {
    const r = {
      ...this.#report,
      reassignments: this.#book.reassignments,
      redundancyOverhead: this.#verifier.extraCopies / this.#defs.length,
      disagreements: this.#verifier.disagreements,
    };
    r.verifyOverCompute = r.computeMs > 0 ? r.verifyMs / r.computeMs : 0;
    return r;
  }

  /** One forward pass per sequence of the shard, generation cached (inference-spec's
   * shardFlops over src/model/hf/cost.ts's forwardFlops). */
  shardFlops(shardId: number): number {
    return shardFlops(this.spec, this.#defs[shardId]);
  }

  work(shardId: number): InferenceWork {
    return shardWork(this.spec, this.#defs[shardId]!, this.#seeds);
  }

  offer(c: ContributorInfo, now: number, mayTake?: (shardId: number) => boolean): LeaseOffer {
    if (this.done) return { kind: 'none', finished: true, retryAfterMs: 0 };
    // A caught contributor gets nothing more from this owner's jobs.
    if (this.#credits.barred(c.id) || this.#trust.isCaught(c.id)) {
      return { kind: 'none', finished: false, retryAfterMs: 60_000, reason: 'barred' };
    }
    this.#placement.saw(c.id, c.adapter, now);
    this.#checkStuck(now);
    const money = watchRefusals(mayTake);
    const canTake = (s: number) =>
      this.#placement.canTake(s, c.id, c.adapter, now) && money.mayTake(s);
    // Deadlines cover the lease's transfer over this contributor's link and its compute.
    const { gflops, bytesPerSec } = c;
    const lease = this.#book.lease(c.id, now, { gflops, bytesPerSec, canTake });
    if (!lease) {
      const reason = money.refused() ? 'budget' : 'all-leased';
      return { kind: 'none', finished: false, retryAfterMs: 1_000, reason };
    }
    this.#copies.stopWaiting(lease.shardId);
    return { kind: 'lease', lease, work: this.work(lease.shardId) };
  }

  /** Shards waiting too long for a copy that no one seen lately may take: the owner checks. */
  #checkStuck(now: number) {
    for (const s of this.#book.pendingShards()) {
      const since = this.#copies.waitingSince(s);
      if (since === undefined || now - since < this.spec.policy.copyWaitMs) continue;
      if (this.#placement.anyoneCan(s, now)) continue;
      this.#copies.stopWaiting(s);
      void this.#decide(s, this.#verifier.ownerCheck(s));
    }
  }

  async submit(
    leaseId: string,
    contributor: string,
    output: Output,
    computeMs: number,
    now: number,
  ): Promise<void> {
    const lease = this.#book.get(leaseId, contributor);
    if (!lease) {
      this.#tell(leaseId, contributor, -1, 'stale', 'no such lease for this peer');
      return;
    }
    const s = lease.shardId;
    if (this.#credits.barred(contributor) || this.#trust.isCaught(contributor)) {
      this.#book.settle(leaseId, contributor, false);
      this.#tell(leaseId, contributor, s, 'rejected', 'revoked: caught cheating');
      return;
    }
    const shape =
      output.kind === 'inference'
        ? outputShapeError(this.spec, this.#defs[s]!, output)
        : 'not an inference output';
    if (shape) {
      this.#book.settle(leaseId, contributor, false);
      this.#report.rejected++;
      this.#tell(leaseId, contributor, s, 'rejected', shape);
      return;
    }
    const adapter = this.#placement.adapterOf(contributor);
    const decision = this.#verifier.submit(s, contributor, adapter, output as InferenceOutput);
    if (decision.kind === 'stale') {
      this.#book.settle(leaseId, contributor, false); // ends the lease; the shard is in hand
      this.#tell(leaseId, contributor, s, 'stale', 'the shard was already decided');
      return;
    }
    // The owner's own measure (lease to result) counts; the claim is kept as a hint.
    const copy = { leaseId, contributor, computeMs: Math.max(0, now - lease.issuedAt) };
    this.#copies.add(s, copy);
    this.#report.reportedComputeMs += computeMs;
    // The lease is over either way; the shard stays out of the queue until it is decided.
    this.#book.requeue(leaseId, contributor);
    if (decision.kind === 'wait') this.#copies.wait(s, now);
    await this.#decide(s, decision);
  }

  async #decide(s: number, d: Decision): Promise<void> {
    if (d.kind !== 'check') return this.#apply(s, d, 'redundancy', false);
    const reason = d.reason;
    let outcome: Awaited<ReturnType<InferenceChecker['check']>>;
    const t0 = this.#now();
    try {
      outcome = await this.#checker.check(s, reason, this.#verifier.results(s));
    } catch (e) {
      // The owner's GPU failed: nothing is decided; the copies wait for another chance.
      notice(`owner check of shard ${s} of ${this.id} failed: ${e}`);
      if (reason === 'revoked') this.#recheckLater.add(s);
      else {
        this.#verifier.abandonCheck(s);
        this.#copies.wait(s, this.#now());
      }
      return;
    } finally {
      this.#report.verifyMs += this.#now() - t0;
    }
    // A canary that nobody got right goes out again (it keeps testing); a real shard takes
    // the owner's own answer rather than another round of contributors' work.
    const own = reason === 'canary' ? undefined : outcome.own;
    const next = this.#verifier.resolveCheck(s, outcome.valid, own, outcome.sampled !== undefined);
    this.#report.rowsChecked += outcome.sampled?.length ?? this.#defs[s]!.sequences.length;
    this.#report.checkFlops += outcome.flops;
    if (reason !== 'canary') this.#report.spotChecks++;
    const failed = next.kind === 'retry' || (next.kind === 'settled' && next.rejected.length > 0);
    if (failed) {
      if (reason === 'canary') this.#report.canariesFailed++;
      else this.#report.spotChecksFailed++;
    }
    const method = reason === 'canary' ? 'canary' : 'spot-check';
    this.#apply(s, next, method, true, reason, outcome.sampled?.length);
  }

  /** Carries out a decision; `checked` when it came from the owner's own computation, of
   * `sampled` rows of the shard when it checked a sample (what the contributor is credited
   * with toward being proven), else of all. */
  #apply(
    s: number,
    d: Decision,
    method: VerificationMethod,
    checked: boolean,
    why = '',
    sampled?: number,
  ) {
    // Whoever the owner's computation found wrong is caught first: what it returned is reopened
    // before this shard settles, so the job cannot report done with its output still in.
    if (checked && (d.kind === 'settled' || d.kind === 'retry')) {
      const where = `shard ${s} of job ${this.id}`;
      for (const c of d.rejected) this.#catch(c, `${method} (${why}) on ${where}`);
    }
    const copies = this.#copies.of(s);
    const rows = this.#defs[s]!.sequences.length;
    const units = sampled ?? rows;
    if (d.kind === 'settled') {
      this.#copies.clear(s);
      this.#copies.stopWaiting(s);
      const again = this.#reopened.delete(s);
      this.#recheckLater.delete(s);
      const accepted = copies.filter((c) => d.accepted.includes(c.contributor));
      const rejected = copies.filter((c) => d.rejected.includes(c.contributor));
      this.#book.markDone(s);
      const result = this.#verifier.result(s)!;
      placeOutput(this.spec, this.#defs[s]!, result, this);
      if (!again) {
        this.#report.accepted++;
        if (!this.#defs[s]!.canary) {
          this.#report.computeFlops += this.shardFlops(s);
          this.#rowsDone += rows;
        }
      }
      this.#report.rejected += rejected.length;
      for (const c of accepted) {
        this.#report.computeMs += c.computeMs;
        this.#credits.credit(c.contributor, s);
      }
      if (checked) for (const c of d.accepted) this.#trust.passed(c, units);
      this.onSettled?.({
        verdicts: [
          ...this.#make(accepted, s, 'accepted', 'verified', method),
          ...this.#make(rejected, s, 'rejected', 'disagrees with the verified answer', method),
        ],
        shard: { shardId: s, output: result },
      });
      // The mesh stores the output it was handed: a job that does not hold its answer keeps
      // no reference to it.
      if (!this.holdsAnswer) this.#verifier.forget(s);
    } else if (d.kind === 'retry') {
      this.#copies.clear(s);
      this.#report.rejected += copies.length; // the shard is still queued: it goes out again
      this.onSettled?.({
        verdicts: this.#make(copies, s, 'rejected', 'failed the owner’s check', method),
      });
    }
    if (this.done) this.#stopListening();
  }

  /** The owner's own computation found `contributor` wrong: barred here and everywhere. */
  #catch(contributor: string, how: string) {
    if (this.#credits.barred(contributor)) return;
    const reason = `caught by the owner’s ${how}: a result beyond the honest tolerance`;
    this.#revoke(contributor, reason, true);
    this.#trust.caught(contributor, reason);
  }

  /**
   * Redoes everything `contributor` returned in this job and voids its credit here: copies still
   * waiting are dropped (with a rejected verdict), shards settled on agreement it was part of
   * are recomputed by the owner, and a Revocation goes out. Once per contributor.
   */
  #revoke(contributor: string, reason: string, caughtHere = false) {
    if (this.#credits.barred(contributor) || this.done) return;
    this.#report.contributorsCaught++;
    const credited = this.#credits.bar(contributor)!.sort((a, b) => a - b);
    this.#book.dropContributor(contributor);
    const { dropped, agreed } = this.#verifier.bar(contributor);
    const verdicts: Verdict[] = [];
    for (const s of dropped) {
      const mine = this.#copies.drop(s, contributor);
      this.#report.rejected += mine.length;
      verdicts.push(...this.#make(mine, s, 'rejected', `revoked: ${reason}`));
    }
    for (const s of agreed) {
      this.#verifier.reopen(s);
      this.#reopened.add(s);
    }
    if (caughtHere || verdicts.length || credited.length || agreed.length) {
      const revoke: Revocation = {
        jobId: this.id,
        contributor,
        reason,
        credited,
        reopened: agreed,
      };
      this.onSettled?.({ verdicts, revoke: [revoke] });
    }
    for (const s of agreed) void this.#decide(s, { kind: 'check', reason: 'revoked' });
  }

  #make(
    copies: readonly { leaseId: string; contributor: string }[],
    shardId: number,
    settlement: Verdict['settlement'],
    reason: string,
    method: VerificationMethod = 'redundancy',
  ): Verdict[] {
    const flops = shardFlops(this.spec, this.#defs[shardId]);
    return copies.map(({ leaseId, contributor }) => ({
      ...{ jobId: this.id, shardId, leaseId, contributor },
      ...{ settlement, reason, method, flops },
    }));
  }

  /** One verdict on a lease, outside any shard's decision. */
  #tell(leaseId: string, contributor: string, s: number, v: Verdict['settlement'], why: string) {
    this.onSettled?.({ verdicts: this.#make([{ leaseId, contributor }], s, v, why) });
  }

  restore(shardId: number, output?: Output): boolean {
    const d = this.#defs[shardId];
    if (!d || this.#book.isDone(shardId)) return false;
    if (output === undefined) {
      // A data-set job's stored output was checked by the codec when it was kept; it is read
      // again (and checked again) when a file is written.
      if (this.holdsAnswer) return false;
    } else if (output.kind !== 'inference' || outputShapeError(this.spec, d, output)) {
      return false;
    }
    this.#book.markDone(shardId);
    this.#verifier.restore(shardId, this.holdsAnswer ? output : undefined);
    if (output) placeOutput(this.spec, d, output as InferenceOutput, this);
    this.#report.accepted++;
    this.#report.restored++;
    if (!d.canary) this.#rowsDone += d.sequences.length;
    return true;
  }

  /** The owner dropped the job: it stops hearing of contributors caught elsewhere. */
  close(): void {
    this.#stopListening();
  }

  heartbeat(leaseId: string, contributor: string, now: number): boolean {
    return this.#book.heartbeat(leaseId, contributor, now);
  }
  fail(leaseId: string, contributor: string): boolean {
    return this.#book.fail(leaseId, contributor);
  }
  dropContributor(contributor: string): number {
    return this.#book.dropContributor(contributor);
  }
  expire(now: number): Lease[] {
    const lapsed = this.#book.expire(now);
    this.#checkStuck(now);
    for (const s of [...this.#recheckLater]) {
      this.#recheckLater.delete(s);
      void this.#decide(s, { kind: 'check', reason: 'revoked' });
    }
    return lapsed;
  }
  /** Verified shards, canaries included, less those being re-verified. */
  doneShards(): number[] {
    return this.#book.doneShards().filter((s) => !this.#reopened.has(s));
  }
  progress(): JobProgress {
    let reopened = 0;
    for (const s of this.#reopened)
      if (!this.#defs[s]!.canary) reopened += this.#defs[s]!.sequences.length;
    return {
      ...progressOf(
        this.shardCount,
        this.#book.outstanding,
        this.#verifier.awaiting(),
        this.doneCount,
      ),
      rows: this.spec.sequences.length,
      rowsVerified: this.#rowsDone - reopened,
    };
  }

  outstanding(): Lease[] {
    return this.#book.outstanding;
  }
}
