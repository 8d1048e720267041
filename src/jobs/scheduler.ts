import { MinHeap } from './heap';

/** A shard handed to a contributor until `deadline` (ms, on the owner's clock). */
export interface Lease {
  leaseId: string;
  shardId: number;
  contributor: string; // peer id
  issuedAt: number; // ms
  deadline: number; // ms
  /** How long this contributor is given from each heartbeat or the start. */
  windowMs: number;
  /** The lease ends at this time (ms) whatever the heartbeats: a peer that heartbeats and never
   * answers cannot hold a shard for ever. */
  expiresBy: number;
  /** True when the shard was already leased to someone else (a speculative copy). */
  speculative: boolean;
}

export interface SchedulerOptions {
  /** Work in one shard, to size deadlines from a contributor's measured GFLOP/s. */
  shardFlops?: (shardId: number) => number;
  /** Deadline = slack × the expected compute time, clamped to [minWindowMs, maxWindowMs]. */
  slack?: number; // default 4
  minWindowMs?: number; // default 10_000
  maxWindowMs?: number; // default 600_000
  /** Window for a contributor whose speed is unknown. */
  defaultWindowMs?: number; // default 60_000
  /** A lease's whole life, heartbeats or not: lifetimeSlack × the expected compute time,
   * clamped to [minLifetimeMs, maxLifetimeMs]; defaultLifetimeMs when the speed is unknown. */
  lifetimeSlack?: number; // default 16
  minLifetimeMs?: number; // default 60_000
  maxLifetimeMs?: number; // default 1_800_000
  defaultLifetimeMs?: number; // default 300_000
  /** Leases one contributor may hold at once in this job (ids are free: this bounds what one
   * id can stall, not what many can). */
  maxLeasesPerPeer?: number; // default 2
  /** Whether a contributor has a record of verified work. Copies held by unproven peers do not
   * count towards maxCopies, so ids made to stall a shard cannot keep it from a speculative
   * copy. Default: everyone counts. */
  proven?: (contributor: string) => boolean;
  /** When nothing is pending, lease the oldest outstanding shards again, up to this many copies. */
  maxCopies?: number; // default 2 (1 turns speculation off)
  /** Told about every lease that lapsed (its contributor missed the deadline). */
  onExpire?: (lease: Lease) => void;
}

export type Settlement = 'accepted' | 'rejected' | 'stale';

/**
 * Which shards are pending, leased (to whom, until when) or done, on an injected clock. Pure and
 * O(log n) per operation, so one owner can drive thousands of contributors.
 *
 * - Deadlines scale with the contributor's measured speed; heartbeats push them out again, up
 *   to the lease's lifetime cap. One contributor holds at most `maxLeasesPerPeer` at once.
 * - Expired, failed and rejected leases put their shard back at the front of the queue.
 * - Results are idempotent by shard: the first accepted one wins, anything later is 'stale'.
 * - When the queue runs dry, the longest-running shards are leased again to idle contributors
 *   (speculatively), so one slow tab cannot hold the whole job up. A proven contributor's second
 *   lease waits behind its first (double-buffering): only the one it is computing is copied.
 */
export class Scheduler {
  readonly shardCount: number;
  readonly #o: Required<SchedulerOptions>;
  readonly #pending: Deque = new Deque();
  readonly #queued: Uint8Array; // 1 while a shard sits in #pending
  readonly #done: Uint8Array;
  readonly #copies: Uint16Array; // current leases per shard
  readonly #leases = new Map<string, Lease>(); // insertion order = issue order
  readonly #held = new Map<string, number>(); // current leases per contributor
  readonly #expiry = new MinHeap<string>();
  #doneCount = 0;
  #counter = 0;
  /** Leases that ended without a result (expired or failed) and were offered again. */
  reassignments = 0;
  /** Leases handed out as speculative copies. */
  speculativeLeases = 0;

  constructor(shardCount: number, options: SchedulerOptions = {}) {
    this.shardCount = shardCount;
    this.#o = {
      shardFlops: () => 0,
      slack: 4,
      minWindowMs: 10_000,
      maxWindowMs: 600_000,
      defaultWindowMs: 60_000,
      lifetimeSlack: 16,
      minLifetimeMs: 60_000,
      maxLifetimeMs: 1_800_000,
      defaultLifetimeMs: 300_000,
      maxLeasesPerPeer: 2,
      proven: () => true,
      maxCopies: 2,
      onExpire: () => {},
      ...options,
    };
    this.#queued = new Uint8Array(shardCount);
    this.#done = new Uint8Array(shardCount);
    this.#copies = new Uint16Array(shardCount);
    for (let i = 0; i < shardCount; i++) this.#enqueue(i, false);
  }

  get done(): boolean {
    return this.#doneCount === this.shardCount;
  }
  get doneCount(): number {
    return this.#doneCount;
  }
  get outstanding(): Lease[] {
    return [...this.#leases.values()];
  }
  isDone(shardId: number): boolean {
    return this.#done[shardId] === 1;
  }
  doneShards(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.shardCount; i++) if (this.#done[i]) out.push(i);
    return out;
  }

  /** Puts a finished shard back at the front of the queue: its output turned out wrong. */
  reopen(shardId: number): boolean {
    if (!this.#done[shardId]) return false;
    this.#done[shardId] = 0;
    this.#doneCount--;
    this.#enqueue(shardId, true);
    return true;
  }

  /**
   * Marks a shard finished outside a lease (verified in an earlier session, or settled by the
   * owner's own check); any copies still out become pointless and end.
   */
  markDone(shardId: number): void {
    if (this.#done[shardId]) return;
    this.#done[shardId] = 1;
    this.#doneCount++;
    for (const l of [...this.#leases.values()]) if (l.shardId === shardId) this.#end(l);
  }

  /**
   * Ends a lease whose result was received but whose shard needs more (another copy to compare
   * with): the shard goes back to the front of the queue, and nobody is counted as late.
   */
  requeue(leaseId: string, contributor: string): boolean {
    const l = this.get(leaseId, contributor);
    if (!l) return false;
    this.#end(l);
    if (!this.#done[l.shardId] && this.#copies[l.shardId] === 0) this.#enqueue(l.shardId, true);
    return true;
  }

  /** Shards waiting in the queue, oldest first (for owners that look for stuck ones). */
  pendingShards(): number[] {
    return this.#pending.items().filter((s) => !this.#done[s]);
  }

  /** Leases `contributor` holds now. */
  heldBy(contributor: string): number {
    return this.#held.get(contributor) ?? 0;
  }

  /** A lease's whole life for a contributor at `gflops` (ms), heartbeats or not. */
  lifetimeFor(shardId: number, gflops: number): number {
    const { lifetimeSlack, minLifetimeMs, maxLifetimeMs, defaultLifetimeMs, shardFlops } = this.#o;
    if (!(gflops > 0)) return defaultLifetimeMs;
    const expectedMs = shardFlops(shardId) / (gflops * 1e6);
    return Math.min(maxLifetimeMs, Math.max(minLifetimeMs, lifetimeSlack * expectedMs));
  }

  /** How long a contributor at `gflops` is given for `shardId` (ms). */
  windowFor(shardId: number, gflops: number): number {
    const { slack, minWindowMs, maxWindowMs, defaultWindowMs, shardFlops } = this.#o;
    if (!(gflops > 0)) return defaultWindowMs;
    const expectedMs = shardFlops(shardId) / (gflops * 1e6);
    return Math.min(maxWindowMs, Math.max(minWindowMs, slack * expectedMs));
  }

  /**
   * Leases the next pending shard to `contributor` (measured at `gflops`, 0 if unknown), or a
   * speculative copy of the longest-running one when nothing is pending and it holds no lease,
   * or undefined.
   * `canTake` narrows the choice (e.g. redundant copies go to other contributors). None for a
   * contributor that already holds `maxLeasesPerPeer`.
   */
  lease(
    contributor: string,
    now: number,
    gflops = 0,
    canTake?: (shardId: number) => boolean,
  ): Lease | undefined {
    this.expire(now);
    if (this.heldBy(contributor) >= this.#o.maxLeasesPerPeer) return undefined;
    let shardId = this.#nextPending(canTake);
    let speculative = false;
    if (shardId === undefined) {
      // Copies go to idle contributors only: one still computing asks ahead (double-buffering)
      // for work to queue, not for a copy of someone else's shard to race.
      if (this.heldBy(contributor) > 0) return undefined;
      shardId = this.#speculativeCandidate(contributor, canTake);
      if (shardId === undefined) return undefined;
      speculative = true;
      this.speculativeLeases++;
    }
    const windowMs = this.windowFor(shardId, gflops);
    const expiresBy = now + Math.max(windowMs, this.lifetimeFor(shardId, gflops));
    const lease: Lease = {
      leaseId: `s${shardId}-l${++this.#counter}`,
      shardId,
      contributor,
      issuedAt: now,
      deadline: now + windowMs,
      windowMs,
      expiresBy,
      speculative,
    };
    this.#leases.set(lease.leaseId, lease);
    this.#copies[shardId]!++;
    this.#held.set(contributor, this.heldBy(contributor) + 1);
    this.#expiry.push(lease.deadline, lease.leaseId);
    return lease;
  }

  /** The lease if it is current and held by `contributor`. */
  get(leaseId: string, contributor: string): Lease | undefined {
    const l = this.#leases.get(leaseId);
    return l && l.contributor === contributor ? l : undefined;
  }

  /** Pushes a current lease's deadline a full window out, never past its lifetime. False when
   * it is not current. */
  heartbeat(leaseId: string, contributor: string, now: number): boolean {
    const l = this.get(leaseId, contributor);
    if (!l || l.deadline < now) return false;
    l.deadline = Math.min(now + l.windowMs, l.expiresBy);
    this.#expiry.push(l.deadline, l.leaseId);
    return true;
  }

  /** Ends a lease whose contributor gave up (device lost, tab closing): its shard is re-queued. */
  fail(leaseId: string, contributor: string): boolean {
    const l = this.get(leaseId, contributor);
    if (!l) return false;
    this.#release(l);
    return true;
  }

  /** Fails every lease `contributor` holds (it disconnected). Returns how many. */
  dropContributor(contributor: string): number {
    const mine = [...this.#leases.values()].filter((l) => l.contributor === contributor);
    for (const l of mine) this.#release(l);
    return mine.length;
  }

  /** Releases every lease whose deadline has passed and returns them. */
  expire(now: number): Lease[] {
    const expired: Lease[] = [];
    while (this.#expiry.size > 0 && this.#expiry.peekKey() < now) {
      const leaseId = this.#expiry.pop();
      const l = this.#leases.get(leaseId);
      // The heap keeps stale entries for extended or settled leases; skip those.
      if (!l || l.deadline >= now) continue;
      this.#release(l);
      expired.push(l);
      this.#o.onExpire(l);
    }
    return expired;
  }

  /** Records the verifier's verdict on a lease's result. */
  settle(leaseId: string, contributor: string, accepted: boolean): Settlement {
    const l = this.get(leaseId, contributor);
    if (!l) return 'stale';
    this.#end(l);
    if (this.#done[l.shardId]) return 'stale';
    if (!accepted) {
      this.#enqueue(l.shardId, true);
      return 'rejected';
    }
    this.#done[l.shardId] = 1;
    this.#doneCount++;
    // Other copies of this shard are now pointless; their results will be 'stale'.
    for (const other of [...this.#leases.values()])
      if (other.shardId === l.shardId) this.#end(other);
    return 'accepted';
  }

  #nextPending(canTake?: (shardId: number) => boolean): number | undefined {
    if (!canTake) {
      while (this.#pending.size > 0) {
        const s = this.#pending.shift()!;
        this.#queued[s] = 0;
        if (!this.#done[s]) return s;
      }
      return undefined;
    }
    // Shards this contributor may not take stay queued, in order, for the next one.
    const skipped: number[] = [];
    let found: number | undefined;
    while (this.#pending.size > 0) {
      const s = this.#pending.shift()!;
      if (this.#done[s]) {
        this.#queued[s] = 0;
        continue;
      }
      if (!canTake(s)) {
        skipped.push(s);
        continue;
      }
      this.#queued[s] = 0;
      found = s;
      break;
    }
    for (let i = skipped.length - 1; i >= 0; i--) this.#pending.unshift(skipped[i]!);
    return found;
  }

  #speculativeCandidate(
    contributor: string,
    canTake?: (shardId: number) => boolean,
  ): number | undefined {
    if (this.#o.maxCopies < 2) return undefined;
    const held = new Set<number>();
    const provenCopies = new Map<number, number>();
    for (const l of this.#leases.values()) {
      if (l.contributor === contributor) held.add(l.shardId);
      if (this.#o.proven(l.contributor)) {
        provenCopies.set(l.shardId, (provenCopies.get(l.shardId) ?? 0) + 1);
      }
    }
    // Oldest first: Map iteration follows issue order. For a proven contributor, copies held by
    // unproven peers do not count; an unproven one counts every copy, so fresh ids cannot pile
    // copies onto a shard either.
    const counts = this.#o.proven(contributor)
      ? (s: number) => provenCopies.get(s) ?? 0
      : (s: number) => this.#copies[s]!;
    // A contributor's oldest lease is the one it is computing (issue order: the first seen
    // here). A later one waits behind it (asked for while computing, to overlap the transfer),
    // so it is not late, only queued; that is taken on trust only from peers with verified work
    // (ids are free: a fresh one could hold its second lease hostage behind a first it never
    // computes).
    const seen = new Set<string>();
    for (const l of this.#leases.values()) {
      const computing = !seen.has(l.contributor);
      seen.add(l.contributor);
      if (
        !held.has(l.shardId) &&
        (computing || !this.#o.proven(l.contributor)) &&
        counts(l.shardId) < this.#o.maxCopies &&
        (!canTake || canTake(l.shardId))
      ) {
        return l.shardId;
      }
    }
    return undefined;
  }

  #end(l: Lease) {
    if (!this.#leases.delete(l.leaseId)) return;
    this.#copies[l.shardId]!--;
    const left = this.heldBy(l.contributor) - 1;
    if (left > 0) this.#held.set(l.contributor, left);
    else this.#held.delete(l.contributor);
  }

  #release(l: Lease) {
    this.#end(l);
    this.reassignments++;
    // Only re-queue if no other copy is still being computed.
    if (this.#copies[l.shardId] === 0) this.#enqueue(l.shardId, true);
  }

  #enqueue(shardId: number, front: boolean) {
    if (this.#done[shardId] || this.#queued[shardId]) return;
    this.#queued[shardId] = 1;
    // Re-queued shards go first: they are the ones holding the job up.
    if (front) this.#pending.unshift(shardId);
    else this.#pending.push(shardId);
  }
}

/** A ring-buffer deque of shard ids. */
class Deque {
  #buf = new Int32Array(16);
  #head = 0;
  size = 0;
  push(v: number) {
    this.#grow();
    this.#buf[(this.#head + this.size) & (this.#buf.length - 1)] = v;
    this.size++;
  }
  unshift(v: number) {
    this.#grow();
    this.#head = (this.#head - 1) & (this.#buf.length - 1);
    this.#buf[this.#head] = v;
    this.size++;
  }
  items(): number[] {
    return Array.from(
      { length: this.size },
      (_, i) => this.#buf[(this.#head + i) & (this.#buf.length - 1)]!,
    );
  }
  shift(): number | undefined {
    if (this.size === 0) return undefined;
    const v = this.#buf[this.#head]!;
    this.#head = (this.#head + 1) & (this.#buf.length - 1);
    this.size--;
    return v;
  }
  #grow() {
    if (this.size < this.#buf.length) return;
    const next = new Int32Array(this.#buf.length * 2);
    for (let i = 0; i < this.size; i++)
      next[i] = this.#buf[(this.#head + i) & (this.#buf.length - 1)]!;
    this.#buf = next;
    this.#head = 0;
  }
}
