import { Deque } from './deque';
import { MinHeap } from './heap';
import { LEASE_DEFAULTS, type Lease, LeaseTiming, type LeaseTimingOptions } from './lease-timing';

export {
  DEFAULT_LINK_BYTES_PER_SEC,
  LEASE_DEFAULTS,
  type Lease,
  type LeaseTimingOptions,
  TRANSFER_SLACK,
  transferTimeMs,
} from './lease-timing';

/** How the scheduler leases: deadlines (LeaseTimingOptions), and how many leases and copies. */
export interface SchedulerOptions extends LeaseTimingOptions {
  /** Leases one contributor may hold at once in this job (ids are free: this bounds what one
   * id can stall, not what many can). */
  maxLeasesPerPeer?: number;
  /** Whether a contributor has a record of verified work. Copies held by unproven peers do not
   * count towards maxCopies, so ids made to stall a shard cannot keep it from a speculative
   * copy. Default: everyone counts. */
  proven?: (contributor: string) => boolean;
  /** When nothing is pending, lease the oldest outstanding shards again, up to this many copies
   * (1 turns speculation off). */
  maxCopies?: number;
  /** Told about every lease that lapsed (its contributor missed the deadline). */
  onExpire?: (lease: Lease) => void;
}

/** Who asks for a lease, as the owner knows it. */
export interface LeaseRequest {
  /** The contributor's measured speed (GFLOP/s); 0 or absent when unknown. */
  gflops?: number;
  /** The owner-measured throughput of the link to it (bytes/s); 0 or absent when unknown
   * (DEFAULT_LINK_BYTES_PER_SEC is assumed). */
  bytesPerSec?: number;
  /** Narrows the shards it may take (e.g. redundant copies go to other contributors, shards
   * too big for its GPU). */
  canTake?: (shardId: number) => boolean;
}

export type Settlement = 'accepted' | 'rejected' | 'stale';

/**
 * Which shards are pending, leased (to whom, until when) or done, on an injected clock. Pure and
 * O(log n) per operation, so one owner can drive thousands of contributors.
 *
 * - Deadlines cover the lease's transfer at the link's throughput and its compute at the
 *   contributor's measured speed; heartbeats push them out again, up to the lease's lifetime
 *   cap. One contributor holds at most `maxLeasesPerPeer` at once.
 * - Expired, failed and rejected leases put their shard back at the front of the queue; each
 *   lapse is counted per shard (`lapses`), so a job can split a shard nobody finishes in time.
 * - Shards can be added (`addShards`) and retired (`retire`: never leased again, its leases end)
 *   while the job runs: a job splits a shard into smaller ones this way. Ids are never reused.
 * - Results are idempotent by shard: the first accepted one wins, anything later is 'stale'.
 * - When the queue runs dry, the longest-running shards are leased again to idle contributors
 *   (speculatively), so one slow tab cannot hold the whole job up. A proven contributor's second
 *   lease waits behind its first (double-buffering): only the one it is computing is copied.
 */
export class Scheduler {
  readonly #o: Required<SchedulerOptions>;
  readonly #timing: LeaseTiming;
  readonly #pending: Deque = new Deque();
  // Per shard id (they only grow): 1 while queued, done, retired; current leases; lapses.
  readonly #queued: number[] = [];
  readonly #done: number[] = [];
  readonly #retired: number[] = [];
  readonly #copies: number[] = [];
  readonly #lapses: number[] = [];
  readonly #leases = new Map<string, Lease>(); // insertion order = issue order
  readonly #held = new Map<string, number>(); // current leases per contributor
  readonly #expiry = new MinHeap<string>();
  #doneCount = 0;
  #retiredCount = 0;
  #counter = 0;
  /** Leases that ended without a result (expired or failed) and were offered again. */
  reassignments = 0;
  /** Leases handed out as speculative copies. */
  speculativeLeases = 0;

  constructor(shardCount: number, options: SchedulerOptions = {}) {
    this.#o = {
      shardFlops: () => 0,
      shardBytes: () => 0,
      ...LEASE_DEFAULTS,
      proven: () => true,
      onExpire: () => {},
      ...options,
    };
    this.#timing = new LeaseTiming(this.#o);
    this.addShards(shardCount, false);
  }

  /** Shard ids issued so far, retired ones included (ids run from 0 to this − 1). */
  get shardCount(): number {
    return this.#done.length;
  }
  /** Shards that still count: every id but the retired ones. */
  get liveCount(): number {
    return this.shardCount - this.#retiredCount;
  }
  get done(): boolean {
    return this.#doneCount === this.liveCount;
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
  isRetired(shardId: number): boolean {
    return this.#retired[shardId] === 1;
  }
  /** Leases of the shard that lapsed (expired without a result), over its life. */
  lapses(shardId: number): number {
    return this.#lapses[shardId] ?? 0;
  }
  doneShards(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.shardCount; i++) if (this.#done[i]) out.push(i);
    return out;
  }

  /**
   * Adds `count` pending shards with the next ids and returns the ids. With `front` they go
   * ahead of the queue, in order (they replace a shard that was holding the job up).
   */
  addShards(count: number, front = true): number[] {
    const first = this.shardCount;
    const ids = Array.from({ length: Math.max(0, count) }, (_, i) => first + i);
    for (let i = 0; i < ids.length; i++) {
      this.#queued.push(0);
      this.#done.push(0);
      this.#retired.push(0);
      this.#copies.push(0);
      this.#lapses.push(0);
    }
    const order = front ? [...ids].reverse() : ids;
    for (const id of order) this.#enqueue(id, front);
    return ids;
  }

  /**
   * Takes a shard out of the job for good (it was split into others): it is never leased
   * again and its current leases end (their results are 'stale'). Returns the leases ended, or
   * undefined for a shard that is done, retired already or unknown.
   */
  retire(shardId: number): Lease[] | undefined {
    if (
      !(shardId >= 0 && shardId < this.shardCount) ||
      this.#done[shardId] ||
      this.#retired[shardId]
    )
      return undefined;
    this.#retired[shardId] = 1;
    this.#retiredCount++;
    const ended = [...this.#leases.values()].filter((l) => l.shardId === shardId);
    for (const l of ended) this.#end(l);
    return ended;
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
    if (this.#done[shardId] !== 0 || this.#retired[shardId]) return;
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
    return this.#pending.items().filter((s) => this.#live(s));
  }

  /** Leases `contributor` holds now. */
  heldBy(contributor: string): number {
    return this.#held.get(contributor) ?? 0;
  }

  /** Time allowed for the shard's bytes to cross a link of `bytesPerSec` one way or the other
   * (ms, TRANSFER_SLACK included; 0 or less: unknown, DEFAULT_LINK_BYTES_PER_SEC). */
  transferMsFor(shardId: number, bytesPerSec = 0): number {
    return this.#timing.transferMs(shardId, bytesPerSec);
  }

  /** A lease's whole life for a contributor at `gflops` on a link of `bytesPerSec` (ms),
   * heartbeats or not: its compute lifetime plus the transfer both ways. */
  lifetimeFor(shardId: number, gflops: number, bytesPerSec = 0): number {
    return this.#timing.lifetime(shardId, gflops, bytesPerSec);
  }

  /** How long a contributor at `gflops` on a link of `bytesPerSec` is given from each
   * heartbeat (ms): its compute window plus one transfer (the result's trip back). */
  windowFor(shardId: number, gflops: number, bytesPerSec = 0): number {
    return this.#timing.window(shardId, gflops, bytesPerSec);
  }

  /**
   * Leases the next pending shard to `contributor`, or a speculative copy of the
   * longest-running one when nothing is pending and it holds no lease, or undefined. None for
   * a contributor that already holds `maxLeasesPerPeer`. The first deadline is the transfer
   * in plus the window (which covers the compute and the result's trip back).
   */
  lease(contributor: string, now: number, request: LeaseRequest = {}): Lease | undefined {
    const { gflops = 0, bytesPerSec = 0, canTake } = request;
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
    const transferMs = this.transferMsFor(shardId, bytesPerSec);
    const windowMs = this.windowFor(shardId, gflops, bytesPerSec);
    const deadline = now + transferMs + windowMs;
    const expiresBy = Math.max(deadline, now + this.lifetimeFor(shardId, gflops, bytesPerSec));
    const lease: Lease = {
      leaseId: `s${shardId}-l${++this.#counter}`,
      shardId,
      contributor,
      issuedAt: now,
      deadline,
      windowMs,
      transferMs,
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

  /** Pushes a current lease's deadline a full window out, never past its lifetime (nor pulls
   * in a first deadline still waiting for the transfer). False when it is not current. */
  heartbeat(leaseId: string, contributor: string, now: number): boolean {
    const l = this.get(leaseId, contributor);
    if (!l || l.deadline < now) return false;
    l.deadline = Math.max(l.deadline, Math.min(now + l.windowMs, l.expiresBy));
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
      this.#lapses[l.shardId]!++;
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

  /** Neither done nor retired: the shard still needs a result. */
  #live(shardId: number): boolean {
    return this.#done[shardId] === 0 && this.#retired[shardId] === 0;
  }

  #nextPending(canTake?: (shardId: number) => boolean): number | undefined {
    if (!canTake) {
      while (this.#pending.size > 0) {
        const s = this.#pending.shift()!;
        this.#queued[s] = 0;
        if (this.#live(s)) return s;
      }
      return undefined;
    }
    // Shards this contributor may not take stay queued, in order, for the next one.
    const skipped: number[] = [];
    let found: number | undefined;
    while (this.#pending.size > 0) {
      const s = this.#pending.shift()!;
      if (!this.#live(s)) {
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
    if (!this.#live(shardId) || this.#queued[shardId]) return;
    this.#queued[shardId] = 1;
    // Re-queued shards go first: they are the ones holding the job up.
    if (front) this.#pending.unshift(shardId);
    else this.#pending.push(shardId);
  }
}
