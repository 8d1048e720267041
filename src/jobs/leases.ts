/** A shard handed to a contributor until `deadline` (ms, on the owner's clock). */
export interface Lease {
  leaseId: string;
  shardId: number;
  contributor: string; // peer id
  issuedAt: number; // ms
  deadline: number; // ms
}

export interface LeaseBookOptions {
  /** How long a contributor has before its shard is offered again, unless it heartbeats. */
  deadlineMs?: number; // default 60_000
}

export type Settlement = 'accepted' | 'rejected' | 'stale';

/**
 * Which shards are pending, leased (to whom, until when) or done. Pure bookkeeping on an
 * injected clock: expired and failed leases go back to the queue, the first accepted result for
 * a shard wins, and anything arriving for a lease that is no longer current is 'stale'.
 */
export class LeaseBook {
  readonly #pending: number[];
  readonly #leases = new Map<string, Lease>();
  readonly #done = new Set<number>();
  readonly deadlineMs: number;
  #counter = 0;
  /** Leases that ended without a result (expired or failed) and were offered again. */
  reassignments = 0;

  constructor(
    readonly shardCount: number,
    options: LeaseBookOptions = {},
  ) {
    this.#pending = Array.from({ length: shardCount }, (_, i) => i);
    this.deadlineMs = options.deadlineMs ?? 60_000;
  }

  get done(): boolean {
    return this.#done.size === this.shardCount;
  }
  get doneCount(): number {
    return this.#done.size;
  }
  get outstanding(): Lease[] {
    return [...this.#leases.values()];
  }
  isDone(shardId: number): boolean {
    return this.#done.has(shardId);
  }

  /** Leases the next pending shard to `contributor`, or undefined when none is pending. */
  lease(contributor: string, now: number): Lease | undefined {
    this.expire(now);
    const shardId = this.#pending.shift();
    if (shardId === undefined) return undefined;
    const lease: Lease = {
      leaseId: `s${shardId}-l${++this.#counter}`,
      shardId,
      contributor,
      issuedAt: now,
      deadline: now + this.deadlineMs,
    };
    this.#leases.set(lease.leaseId, lease);
    return lease;
  }

  /** The lease if it is current and held by `contributor`. */
  get(leaseId: string, contributor: string): Lease | undefined {
    const l = this.#leases.get(leaseId);
    return l && l.contributor === contributor ? l : undefined;
  }

  /** Extends a current lease by a full deadline. False when the lease is not current. */
  heartbeat(leaseId: string, contributor: string, now: number): boolean {
    const l = this.get(leaseId, contributor);
    if (!l || l.deadline < now) return false;
    l.deadline = now + this.deadlineMs;
    return true;
  }

  /** Ends a lease whose contributor gave up (device lost, tab closing): the shard is re-queued. */
  fail(leaseId: string, contributor: string): boolean {
    const l = this.get(leaseId, contributor);
    if (!l) return false;
    this.#release(l);
    return true;
  }

  /** Releases every lease whose deadline has passed. Returns them. */
  expire(now: number): Lease[] {
    const expired = [...this.#leases.values()].filter((l) => l.deadline < now);
    for (const l of expired) this.#release(l);
    return expired;
  }

  /** Records the verifier's verdict on a lease's result. */
  settle(leaseId: string, contributor: string, accepted: boolean): Settlement {
    const l = this.get(leaseId, contributor);
    if (!l) return 'stale';
    this.#leases.delete(leaseId);
    if (this.#done.has(l.shardId)) return 'stale';
    if (!accepted) {
      this.#requeue(l.shardId);
      return 'rejected';
    }
    this.#done.add(l.shardId);
    return 'accepted';
  }

  #release(l: Lease) {
    this.#leases.delete(l.leaseId);
    this.reassignments++;
    this.#requeue(l.shardId);
  }

  #requeue(shardId: number) {
    // Re-queued shards go first: they are the ones holding the job up.
    if (!this.#done.has(shardId) && !this.#pending.includes(shardId))
      this.#pending.unshift(shardId);
  }
}
