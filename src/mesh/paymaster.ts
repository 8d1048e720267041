import type { Work } from '../jobs/codec';
import type { OwnerJob, Receipt, Verdict } from '../jobs/job';
import type { Wallet } from '../jobs/purse';
import type { Lease } from '../jobs/scheduler';
import { notice } from '../log/log';
import type { ShardOwnerOptions } from './shard-owner';

/** The money hooks of the owner service (see ShardOwnerOptions). */
export type PaymentHooks = Pick<
  ShardOwnerOptions,
  'mayLease' | 'mayTake' | 'reserve' | 'submitted' | 'payFor' | 'issueReceipt'
>;

/**
 * Connects an owner's Wallet to its jobs' leases and verdicts: a lease reserves its shard's
 * exact credit in the tick it is made, a result keeps its reservation until the verdict, an
 * accepted verdict is paid from it (never more), any other verdict or a lease that ended gives
 * it back, and a payment counts as owed until its receipt is in the owner's books.
 */
export class Paymaster {
  constructor(
    readonly wallet: Wallet,
    readonly o: {
      /** The owner's jobs now (whose ended leases give their reservations back). */
      jobs: () => Iterable<OwnerJob>;
      /** Signs and keeps a receipt (src/ledger); without it, payments need no receipt. */
      issue?: (r: Receipt) => Promise<Uint8Array>;
    },
  ) {}

  /** The hooks to start the owner service with. */
  hooks(): PaymentHooks {
    const issue = this.o.issue;
    return {
      mayLease: (job) => this.mayLease(job),
      mayTake: (job, shardId) => this.mayTake(job, shardId),
      reserve: (job, lease, work) => this.reserve(job, lease, work),
      submitted: (jobId, leaseId, peer) => this.wallet.purse(jobId)?.submitted(leaseId, peer),
      payFor: (v) => this.payFor(v),
      ...(issue ? { issueReceipt: (r: Receipt) => this.#issue(issue, r) } : {}),
    };
  }

  /** Whether a job may lease at all: its budget is not spent. Which shard it may lease is
   * `mayTake`'s to say (ended leases give their reservations back first). */
  mayLease(job: OwnerJob): boolean {
    this.#sweep();
    const purse = this.wallet.purse(job.id);
    return !purse || purse.spent < purse.terms.budget;
  }

  /** Whether the budget and the balance pay for a lease of `shardId` now, exactly: its FLOPs at
   * the job's price, with every copy the shard still needs, beside what every lease of every
   * job of this owner holds. A twin whose copies are held already needs nothing more. */
  mayTake(job: OwnerJob, shardId: number): boolean {
    const purse = this.wallet.purse(job.id);
    if (!purse) return true;
    const credit = purse.cost(job.shardFlops(shardId));
    return this.wallet.affords(job.id, purse.need(shardId, credit));
  }

  /** Reserves what the shard just leased pays if verified, exactly (its FLOPs at the job's
   * price); false when the budget or the balance cannot (never after `mayTake` said yes in
   * the same tick). */
  reserve(job: OwnerJob, lease: Lease, _work: Work): boolean {
    const purse = this.wallet.purse(job.id);
    if (!purse) return true;
    const credit = purse.cost(job.shardFlops(lease.shardId));
    return this.wallet.reserve(job.id, lease.leaseId, lease.contributor, lease.shardId, credit);
  }

  /** Pays an accepted verdict from its lease's reservation (never more); any other verdict
   * gives its reservation back. Returns the µcredits its receipt pays. */
  payFor(v: Verdict): number {
    const purse = this.wallet.purse(v.jobId);
    if (!purse) return 0;
    if (v.settlement !== 'accepted') {
      purse.release(v.leaseId, v.contributor);
      return 0;
    }
    // The price the lease was made at (a job's price may have changed since).
    const credit = purse.leased(v.leaseId, v.contributor) ?? purse.cost(v.flops);
    const paid = this.wallet.pay(v.jobId, v.leaseId, v.contributor, credit);
    if (paid < credit) {
      notice(
        `shard ${v.shardId} of ${v.jobId} pays ${paid} of ${credit} µcredits: its lease reserved no more`,
      );
    }
    // Without a ledger there is no receipt to wait for.
    if (!this.o.issue) this.wallet.recorded(paid);
    return paid;
  }

  /** Whether the balance and budget pay one copy of a job's costliest shard beside what every
   * lease holds (what the job's view and announcements say; `mayTake` decides each lease);
   * leases that ended with no result give their reservations back first. */
  affordable(jobId: string): boolean {
    this.#sweep();
    const purse = this.wallet.purse(jobId);
    return !purse || this.wallet.affords(jobId, purse.shardCost);
  }

  /** Leases that ended with no result give their reservations back. */
  #sweep(): void {
    for (const job of this.o.jobs()) {
      this.wallet.purse(job.id)?.sweep(new Set(job.outstanding().map((l) => l.leaseId)));
    }
  }

  /** Signs a receipt through the ledger: its payment is owed until the ledger counts it. */
  async #issue(issue: (r: Receipt) => Promise<Uint8Array>, r: Receipt): Promise<Uint8Array> {
    let bundle: Uint8Array;
    try {
      bundle = await issue(r);
    } catch (e) {
      this.wallet.unpaid(r.jobId, r.credit);
      throw e;
    }
    this.wallet.recorded(r.credit);
    return bundle;
  }
}
