import { forwardFlops, logitErrorBound } from '../model/gpt';
import { type Rng, seededRng } from '../model/rng';
import { computeInference, groupByLength, prefixSums } from './inference-compute';
import {
  checkInferenceSpec,
  type InferenceSpec,
  planShards,
  type ShardDef,
  sequenceSeeds,
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
  type Settlement,
  type Verdict,
  type VerificationMethod,
  type VerificationReport,
} from './job';
import { type CheckReason, type Decision, RedundancyVerifier } from './redundancy';
import { type Lease, Scheduler, type SchedulerOptions } from './scheduler';
import { checkGenerated } from './token-check';
import type { InferenceOutput, InferenceWork, Output } from './work-codec';

/**
 * Batched inference as shardable work (pure): a job is a model, named by the content digest of
 * its config and weights, plus many token sequences; a shard is a block of sequences; its
 * result is each sequence's last-position logits, or `steps` generated tokens.
 *
 * No algebraic check exists for a forward pass, so results are verified by redundancy (copies
 * on different adapters, compared within the model's error bound), canaries (shards whose
 * answer the owner computes itself, hidden among the real ones) and owner checks: a recomputed
 * forward pass for logits, and for generated tokens one teacher-forced pass over the generated
 * sequence (src/jobs/token-check.ts), which costs about 1/steps of the generation.
 */

export interface InferenceJobOptions extends SchedulerOptions {
  /** The owner's own engine, for canary answers and checks. */
  engine: Engine;
  /** Where random spot-check choices come from; the platform CSPRNG in the app. */
  rng: Rng;
  /** Clock for verification timings (ms). */
  now?: () => number;
}

/** A contributor that asked for work this recently is online (for adapters and stuck shards). */
const ONLINE_MS = 30_000;

interface CopyLease {
  leaseId: string;
  contributor: string;
  computeMs: number;
}

/** The owner's side of one inference job. */
export class InferenceOwnerJob implements OwnerJob {
  readonly kind = 'inference';
  onSettled?: (s: Settlement) => void;
  /** The answer: sequences × vocab logits, or sequences × steps tokens. */
  readonly logits: Float32Array;
  readonly tokens: Uint32Array;
  readonly #defs: ShardDef[];
  readonly #book: Scheduler;
  readonly #verifier: RedundancyVerifier<InferenceOutput>;
  readonly #seeds: Uint32Array;
  readonly #o: InferenceJobOptions;
  readonly #report: VerificationReport;
  /** Results received per shard that wait for a decision, with the lease each came on. */
  readonly #received = new Map<number, CopyLease[]>();
  /** Contributors seen asking for work, with their adapters: who is online. */
  readonly #seen = new Map<string, { adapter: string; at: number }>();
  /** Since when each shard has waited for a copy (ms). */
  readonly #waitingSince = new Map<number, number>();
  /** Owner-computed answers of canaries and of checked shards. */
  readonly #known = new Map<number, Promise<InferenceOutput>>();

  constructor(
    readonly id: string,
    readonly spec: InferenceSpec,
    options: InferenceJobOptions,
  ) {
    checkInferenceSpec(spec);
    this.#o = options;
    this.#defs = planShards(spec);
    this.#seeds =
      spec.mode === 'tokens' && spec.temperature > 0
        ? sequenceSeeds(spec.seed, spec.sequences.length)
        : new Uint32Array(0);
    const canaries = new Set<number>();
    for (const [i, d] of this.#defs.entries()) if (d.canary) canaries.add(i);
    this.#verifier = new RedundancyVerifier(this.#defs.length, canaries, {
      agree: (x, y) => this.#agree(x, y),
      copies: spec.policy.copies,
      spotCheckRate: spec.policy.spotCheckRate,
      rng: options.rng,
    });
    this.#book = new Scheduler(this.#defs.length, {
      shardFlops: (s) => this.#flops(s),
      ...options,
    });
    const n = spec.sequences.length;
    this.logits = new Float32Array(spec.mode === 'logits' ? n * spec.config.vocab : 0);
    this.tokens = new Uint32Array(spec.mode === 'tokens' ? n * spec.steps : 0);
    this.#report = emptyReport('inference', this.#defs.length);
    this.#report.canaries = canaries.size;
  }

  get shardCount(): number {
    return this.#defs.length;
  }
  get modelDigest(): string {
    return this.spec.modelDigest;
  }

  answer(): JobAnswer {
    return { kind: 'inference', logits: this.logits, tokens: this.tokens };
  }
  get doneCount(): number {
    return this.#book.doneCount;
  }
  get done(): boolean {
    return this.#book.done;
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

  /** The sequences of a shard, as its lease carries them. */
  work(shardId: number): InferenceWork {
    const d = this.#defs[shardId]!;
    const seqs = d.sequences.map((i) => this.spec.sequences[i]!);
    const tokens = new Uint32Array(seqs.reduce((s, q) => s + q.length, 0));
    let at = 0;
    for (const q of seqs) {
      tokens.set(q, at);
      at += q.length;
    }
    return {
      kind: 'inference',
      modelDigest: this.spec.modelDigest,
      lengths: Uint32Array.from(seqs, (q) => q.length),
      tokens,
      mode: this.spec.mode,
      steps: this.spec.mode === 'tokens' ? this.spec.steps : 0,
      temperature: this.spec.mode === 'tokens' ? this.spec.temperature : 0,
      seeds: this.#seeds.length
        ? Uint32Array.from(d.sequences, (i) => this.#seeds[i]!)
        : this.#seeds,
    };
  }

  offer(c: ContributorInfo, now: number): LeaseOffer {
    if (this.done) return { kind: 'none', finished: true, retryAfterMs: 0 };
    this.#seen.set(c.id, { adapter: c.adapter, at: now });
    // Only who asked lately counts as online; forgetting the rest keeps fresh ids from costing
    // memory or time.
    for (const [id, x] of this.#seen) if (now - x.at >= ONLINE_MS) this.#seen.delete(id);
    this.#checkStuck(now);
    const lease = this.#book.lease(c.id, now, c.gflops, (s) => this.#canTake(s, c, now));
    if (!lease) return { kind: 'none', finished: false, retryAfterMs: 1_000 };
    this.#waitingSince.delete(lease.shardId);
    return { kind: 'lease', lease, work: this.work(lease.shardId) };
  }

  #canTake(shardId: number, c: ContributorInfo, now: number): boolean {
    const copies = this.#verifier.copies(shardId);
    const adapters = new Set(copies.map((x) => x.adapter));
    // Another adapter is online when someone seen lately runs one no copy was computed on.
    const otherAdaptersOnline = [...this.#seen.values()].some(
      (s) => now - s.at < ONLINE_MS && !adapters.has(s.adapter),
    );
    return this.#verifier.canTake(shardId, c.id, c.adapter, otherAdaptersOnline);
  }

  /** Shards waiting too long for a copy that no one seen lately may take: the owner checks. */
  #checkStuck(now: number) {
    for (const s of this.#book.pendingShards()) {
      const since = this.#waitingSince.get(s);
      if (since === undefined || now - since < this.spec.policy.copyWaitMs) continue;
      const someoneCan = [...this.#seen.entries()].some(
        ([id, x]) =>
          now - x.at < ONLINE_MS &&
          this.#canTake(s, { id, adapter: x.adapter, gflops: 0, maxBufferBytes: 0 }, now),
      );
      if (someoneCan) continue;
      this.#waitingSince.delete(s);
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
      this.#verdicts([{ leaseId, contributor }], -1, 'stale', 'no such lease for this peer');
      return;
    }
    const s = lease.shardId;
    const shape =
      output.kind === 'inference' ? this.#shapeError(s, output) : 'not an inference output';
    if (shape) {
      this.#book.settle(leaseId, contributor, false);
      this.#report.rejected++;
      this.#verdicts([{ leaseId, contributor }], s, 'rejected', shape);
      return;
    }
    const adapter = this.#seen.get(contributor)?.adapter ?? '';
    const decision = this.#verifier.submit(s, contributor, adapter, output as InferenceOutput);
    if (decision.kind === 'stale') {
      this.#book.settle(leaseId, contributor, false); // ends the lease; the shard is in hand
      this.#verdicts([{ leaseId, contributor }], s, 'stale', 'the shard was already decided');
      return;
    }
    const copies = this.#received.get(s) ?? [];
    // The owner's own measure (lease to result) counts; the claim is kept as a hint.
    copies.push({ leaseId, contributor, computeMs: Math.max(0, now - lease.issuedAt) });
    this.#report.reportedComputeMs += computeMs;
    this.#received.set(s, copies);
    // The lease is over either way; the shard stays out of the queue until it is decided.
    this.#book.requeue(leaseId, contributor);
    if (decision.kind === 'wait') this.#waitingSince.set(s, now);
    await this.#decide(s, decision);
  }

  async #decide(s: number, d: Decision): Promise<void> {
    if (d.kind === 'check') {
      const reason = d.reason;
      let valid: ((r: InferenceOutput) => boolean) | undefined;
      const t0 = this.#now();
      try {
        valid = await this.#ownerCheck(s, reason);
      } catch (e) {
        // The owner's GPU failed: nothing is decided; the copies wait for another chance.
        console.warn(`tessel: owner check of shard ${s} of ${this.id} failed: ${e}`);
        this.#verifier.abandonCheck(s);
        this.#waitingSince.set(s, this.#now());
        return;
      } finally {
        this.#report.verifyMs += this.#now() - t0;
      }
      const next = this.#verifier.resolveCheck(s, valid);
      if (reason !== 'canary') this.#report.spotChecks++;
      const failed = next.kind === 'retry' || (next.kind === 'settled' && next.rejected.length > 0);
      if (failed) {
        if (reason === 'canary') this.#report.canariesFailed++;
        else this.#report.spotChecksFailed++;
      }
      return this.#apply(s, next, reason === 'canary' ? 'canary' : 'spot-check');
    }
    return this.#apply(s, d, 'redundancy');
  }

  #apply(s: number, d: Decision, method: VerificationMethod) {
    const copies = this.#received.get(s) ?? [];
    if (d.kind === 'settled') {
      this.#received.delete(s);
      this.#waitingSince.delete(s);
      const accepted = copies.filter((c) => d.accepted.includes(c.contributor));
      const rejected = copies.filter((c) => d.rejected.includes(c.contributor));
      this.#book.markDone(s);
      const result = this.#verifier.result(s)!;
      this.#place(s, result);
      this.#report.accepted++;
      this.#report.rejected += rejected.length;
      for (const c of accepted) this.#report.computeMs += c.computeMs;
      this.onSettled?.({
        verdicts: [
          ...this.#make(accepted, s, 'accepted', 'verified', method),
          ...this.#make(rejected, s, 'rejected', 'disagrees with the verified answer', method),
        ],
        shard: { shardId: s, output: result },
      });
    } else if (d.kind === 'retry') {
      this.#received.delete(s);
      this.#report.rejected += copies.length; // the shard is still queued: it goes out again
      this.onSettled?.({
        verdicts: this.#make(copies, s, 'rejected', 'failed the owner’s check', method),
      });
    }
  }

  /** Decides which copies of a shard are right from the owner's own computation. */
  async #ownerCheck(s: number, reason: CheckReason): Promise<(r: InferenceOutput) => boolean> {
    const work = this.work(s);
    const copies = this.#verifier.results(s);
    if (this.spec.mode === 'logits' || reason === 'canary') {
      // The owner's own answer; for a canary computed once, however many contributors get it.
      let known = this.#known.get(s);
      if (!known) {
        known = computeInference(work, this.#o.engine);
        this.#known.set(s, known);
        known.catch(() => this.#known.delete(s));
      }
      const answer = await known;
      if (this.spec.mode === 'logits') return (r) => this.#agree(r, answer);
      // Tokens: an exact match passes at once; anything else gets the teacher-forced check,
      // since an honest run may break a near-tie the other way.
      const valid = new Map<InferenceOutput, boolean>();
      for (const r of copies) {
        valid.set(r, sameTokens(r.tokens, answer.tokens) || (await this.#teacherForced(work, r)));
      }
      return (r) => valid.get(r) === true;
    }
    const valid = new Map<InferenceOutput, boolean>();
    for (const r of copies) valid.set(r, await this.#teacherForced(work, r));
    return (r) => valid.get(r) === true;
  }

  /**
   * Whether generated tokens are what the model picks: one forward pass per distinct prompt
   * length over prompt + generated tokens gives every step's logits (src/jobs/token-check.ts).
   */
  async #teacherForced(w: InferenceWork, r: InferenceOutput): Promise<boolean> {
    const { vocab } = this.spec.config;
    const steps = w.steps;
    const offsets = prefixSums(w.lengths);
    for (const [len, idx] of groupByLength(w.lengths)) {
      const seq = len + steps - 1;
      const batch = new Uint32Array(idx.length * seq);
      idx.forEach((i, j) => {
        batch.set(w.tokens.subarray(offsets[i]!, offsets[i]! + len), j * seq);
        batch.set(r.tokens.subarray(i * steps, (i + 1) * steps - 1), j * seq + len);
      });
      const logits = await this.#o.engine.logitsFrom(
        w.modelDigest,
        batch,
        idx.length,
        seq,
        len - 1,
      );
      for (const [j, i] of idx.entries()) {
        const rows = logits.subarray(j * steps * vocab, (j + 1) * steps * vocab);
        const check = checkGenerated(
          rows,
          r.tokens.subarray(i * steps, (i + 1) * steps),
          vocab,
          w.temperature,
          (row) => 2 * logitErrorBound(this.spec.config, maxAbs(row)),
          w.temperature > 0 ? seededRng(w.seeds[i]!) : undefined,
        );
        if (!check.ok) return false;
      }
    }
    return true;
  }

  #agree(x: InferenceOutput, y: InferenceOutput): boolean {
    if (this.spec.mode === 'tokens') return sameTokens(x.tokens, y.tokens);
    const { vocab } = this.spec.config;
    if (x.logits.length !== y.logits.length) return false;
    for (let row = 0; row < x.logits.length / vocab; row++) {
      const a = x.logits.subarray(row * vocab, (row + 1) * vocab);
      const b = y.logits.subarray(row * vocab, (row + 1) * vocab);
      const tol = 2 * logitErrorBound(this.spec.config, Math.max(maxAbs(a), maxAbs(b)));
      for (let i = 0; i < vocab; i++) if (!(Math.abs(a[i]! - b[i]!) <= tol)) return false;
    }
    return true;
  }

  /** Why an output cannot be this shard's (wrong size, token outside the vocabulary), or ''. */
  #shapeError(s: number, o: InferenceOutput): string {
    const n = this.#defs[s]!.sequences.length;
    const { vocab } = this.spec.config;
    if (this.spec.mode === 'logits') {
      if (o.logits.length !== n * vocab) return `expected ${n}×${vocab} logits`;
      return o.logits.every(Number.isFinite) ? '' : 'non-finite logits';
    }
    if (o.tokens.length !== n * this.spec.steps) return `expected ${n}×${this.spec.steps} tokens`;
    return o.tokens.every((t) => t < vocab) ? '' : 'a token outside the vocabulary';
  }

  #place(s: number, r: InferenceOutput) {
    const d = this.#defs[s]!;
    if (d.canary) return;
    const w = this.spec.mode === 'logits' ? this.spec.config.vocab : this.spec.steps;
    const [src, dst] =
      this.spec.mode === 'logits' ? [r.logits, this.logits] : [r.tokens, this.tokens];
    d.sequences.forEach((seq, i) => {
      (dst as Float32Array).set((src as Float32Array).subarray(i * w, (i + 1) * w), seq * w);
    });
  }

  #flops(s: number): number {
    const d = this.#defs[s];
    if (!d) return 0;
    const c = this.spec.config;
    let total = 0;
    for (const i of d.sequences) {
      const len = this.spec.sequences[i]!.length;
      if (this.spec.mode === 'logits') total += forwardFlops(c, len);
      else
        for (let t = 0; t < this.spec.steps; t++)
          total += forwardFlops(c, Math.min(len + t, c.maxSeq));
    }
    return total;
  }

  #make(
    copies: CopyLease[],
    shardId: number,
    settlement: Verdict['settlement'],
    reason: string,
    method: VerificationMethod,
  ): Verdict[] {
    return copies.map((c) => ({
      jobId: this.id,
      shardId,
      leaseId: c.leaseId,
      contributor: c.contributor,
      settlement,
      reason,
      method,
      flops: this.#flops(shardId),
    }));
  }

  #verdicts(
    copies: { leaseId: string; contributor: string }[],
    shardId: number,
    settlement: Verdict['settlement'],
    reason: string,
  ) {
    this.onSettled?.({
      verdicts: this.#make(
        copies.map((c) => ({ ...c, computeMs: 0 })),
        shardId,
        settlement,
        reason,
        'redundancy',
      ),
    });
  }

  #now(): number {
    return (this.#o.now ?? (() => performance.now()))();
  }

  restore(shardId: number, output: Output): boolean {
    if (
      !this.#defs[shardId] ||
      output.kind !== 'inference' ||
      this.#book.isDone(shardId) ||
      this.#shapeError(shardId, output)
    ) {
      return false;
    }
    this.#book.markDone(shardId);
    this.#verifier.restore(shardId, output);
    this.#place(shardId, output);
    this.#report.accepted++;
    this.#report.restored++;
    return true;
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
    return lapsed;
  }
  progress(): JobProgress {
    return progressOf(
      this.shardCount,
      this.#book.outstanding,
      this.#verifier.awaiting(),
      this.doneCount,
    );
  }

  outstanding(): Lease[] {
    return this.#book.outstanding;
  }
}

function sameTokens(a: Uint32Array, b: Uint32Array): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

function maxAbs(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]!));
  return m;
}
