import type { OwnerJob } from './job';
import { creditFor } from './price';
import type { JobTerms } from './terms';

// Settlement that never overdraws. A lease reserves, in the same tick as it is made, the exact
// µcredits its shard pays if verified (its FLOPs at the job's price), against the job's budget
// and against the owner's balance across all its jobs. A verdict pays from that reservation and
// never more; a lease that ends without a payment gives it back. No await separates a check
// from the reservation it guards, so results settling concurrently cannot race it.

/** One lease's reservation: µcredits, and whether its result reached the job (its verdict may
 * then come after the lease itself ended, e.g. a copy waiting for its twin). */
interface Hold {
  credit: number;
  contributor: string;
  shard: number;
  submitted: boolean;
}

/** One shard's reservations: leases holding, copies paid, what one copy pays. */
interface ShardBook {
  holds: number;
  paid: number;
  unit: number;
}

/**
 * One job's money: what its receipts paid (`spent`) and what its leases out hold (`held`), both
 * in µcredits, within the job's budget. Pure: Wallet adds the owner's balance.
 *
 * A shard that is paid for several verified copies (redundancy) reserves them all with its
 * first lease, so its twins never wait for credit that lone first copies of other shards hold
 * (which would stall the job with its credit held). A twin's lease then takes its part of that
 * reserve and needs nothing more.
 */
export class Purse {
  /** µcredits this job's receipts paid or are being issued for. */
  spent = 0;
  readonly #holds = new Map<string, Hold>();
  readonly #shards = new Map<number, ShardBook>();
  #held = 0;
  #largest: number;

  constructor(
    readonly terms: JobTerms,
    /** FLOPs of the job's costliest shard (largestShardFlops): the most one copy pays. */
    readonly largestShardFlops: number,
    /** Verified copies of a shard the job pays for (paidCopies). */
    readonly copies = 1,
  ) {
    this.#largest = creditFor(largestShardFlops, terms.price);
  }

  /** Changes the price (credits per GFLOP) for leases made from now on; those made before keep
   * what they reserved, and are paid that (`leased`). */
  setPrice(price: number): void {
    this.terms.price = price;
    this.#largest = creditFor(this.largestShardFlops, price);
  }

  /** µcredits lease `leaseId` of `contributor` reserved for itself: what its verified result
   * pays (the price when it was leased). Undefined when it holds nothing. */
  leased(leaseId: string, contributor: string): number | undefined {
    const h = this.#holds.get(leaseId);
    return h?.contributor === contributor ? h.credit : undefined;
  }

  /** µcredits a verified shard of `flops` pays under these terms (the same rounding receipts
   * carry, so a reservation and its payment are the same integer). */
  cost(flops: number): number {
    return creditFor(flops, this.terms.price);
  }

  /** µcredits the costliest shard pays for one copy. */
  get shardCost(): number {
    return this.#largest;
  }

  /** µcredits held by this job's leases, results awaiting verdicts and the copies their shards
   * still need. */
  get held(): number {
    return this.#held;
  }

  /** µcredits more that a lease of `shard` paying `credit` needs beside what is held. */
  need(shard: number, credit: number): number {
    const b = this.#shards.get(shard) ?? { holds: 0, paid: 0, unit: credit };
    const after = { ...b, holds: b.holds + 1, unit: Math.max(b.unit, credit) };
    return credit + this.#reserve(after) - this.#reserve(b);
  }

  /** Whether `credit` more µcredits fit the budget beside what is spent and held. */
  fits(credit: number): boolean {
    return this.spent + this.#held + credit <= this.terms.budget;
  }

  /** Whether `more` + 1 shards at the costliest shard's price still fit the budget. */
  mayLease(more = 0): boolean {
    return this.fits((more + 1) * this.#largest) && this.spent < this.terms.budget;
  }

  /** Not even one copy of the costliest shard fits the budget (until some is given back or
   * the budget is raised): what the job's announcements say. */
  get exhausted(): boolean {
    return !this.fits(this.#largest) || this.spent >= this.terms.budget;
  }

  /** Spending outside leases: a resumed job's receipts, read from the owner's log. */
  charge(credit: number): void {
    this.spent += checkCredit(credit);
  }

  /** Gives back a payment whose receipt could not be issued. */
  refund(credit: number): void {
    this.spent = Math.max(0, this.spent - credit);
  }

  /** Holds `credit` for lease `leaseId` of `contributor` on `shard`, with the copies the shard
   * still needs (the caller checked `need` fits). */
  hold(leaseId: string, contributor: string, shard: number, credit: number): void {
    this.#drop(leaseId);
    this.#holds.set(leaseId, { credit: checkCredit(credit), contributor, shard, submitted: false });
    this.#held += credit;
    this.#change(shard, (b) => {
      b.holds++;
      b.unit = Math.max(b.unit, credit);
    });
  }

  /** The lease's result reached the job: its hold stays until the verdict, lease or not. */
  submitted(leaseId: string, contributor: string): void {
    const h = this.#holds.get(leaseId);
    if (h?.contributor === contributor) h.submitted = true;
  }

  /** Gives back what lease `leaseId` of `contributor` holds; returns it (0 when it held
   * nothing). Another peer naming the lease releases nothing. */
  release(leaseId: string, contributor: string): number {
    return this.#holds.get(leaseId)?.contributor === contributor ? this.#drop(leaseId) : 0;
  }

  /** Pays a verified shard of `credit` from the hold of lease `leaseId` of `contributor`: never
   * more than it holds; the rest, if any, is given back. Returns the µcredits paid. */
  pay(leaseId: string, contributor: string, credit: number): number {
    checkCredit(credit);
    const h = this.#holds.get(leaseId);
    if (h?.contributor !== contributor) return 0;
    const paid = Math.min(credit, h.credit);
    this.#drop(leaseId, paid > 0);
    this.spent += paid;
    return paid;
  }

  /** Releases the holds of leases that ended (not in `live`) with no result at the job. */
  sweep(live: ReadonlySet<string>): void {
    for (const [leaseId, h] of this.#holds) {
      if (!h.submitted && !live.has(leaseId)) this.#drop(leaseId);
    }
  }

  /** Releases every hold. */
  releaseAll(): void {
    for (const leaseId of [...this.#holds.keys()]) this.#drop(leaseId);
  }

  /** Ends a hold (a copy paid when `paid`); returns what it held. */
  #drop(leaseId: string, paid = false): number {
    const h = this.#holds.get(leaseId);
    if (!h) return 0;
    this.#holds.delete(leaseId);
    this.#held -= h.credit;
    this.#change(h.shard, (b) => {
      b.holds--;
      if (paid) b.paid++;
    });
    return h.credit;
  }

  /** Applies `f` to a shard's book, keeping `held` = holds + the copies shards still need. */
  #change(shard: number, f: (b: ShardBook) => void): void {
    const b = this.#shards.get(shard) ?? { holds: 0, paid: 0, unit: 0 };
    const before = this.#reserve(b);
    f(b);
    this.#held += this.#reserve(b) - before;
    if (b.holds === 0 && b.paid === 0) this.#shards.delete(shard);
    else this.#shards.set(shard, b);
  }

  /** µcredits a shard keeps for copies it still needs: only while some lease of it holds. */
  #reserve(b: ShardBook): number {
    return b.holds > 0 ? b.unit * Math.max(0, this.copies - b.holds - b.paid) : 0;
  }
}

/**
 * One owner's money across all its jobs: its balance as its ledger keeps it (through
 * `canSpend`), less what its jobs' leases hold and what verdicts paid whose receipts its books
 * do not show yet (`owed`: a receipt is counted there once it is durable). Every reservation is
 * checked against that, synchronously, so two jobs, or two results settling at once, cannot
 * both count on the same credit.
 */
export class Wallet {
  readonly #purses = new Map<string, Purse>();
  #owed = 0;

  constructor(
    /** Whether the owner's books (grant + earned − spent, µcredits) cover `credit` more. */
    readonly canSpend: (credit: number) => boolean = () => true,
  ) {}

  /** Starts keeping `purse` for job `jobId`. */
  open(jobId: string, purse: Purse): void {
    this.#purses.set(jobId, purse);
  }

  purse(jobId: string): Purse | undefined {
    return this.#purses.get(jobId);
  }

  /** µcredits promised beyond what the owner's books show: every hold, and payments owed. */
  get committed(): number {
    let held = this.#owed;
    for (const p of this.#purses.values()) held += p.held;
    return held;
  }

  /** µcredits paid at verdicts whose receipts are not in the owner's books yet. */
  get owed(): number {
    return this.#owed;
  }

  /** Whether job `jobId` could reserve `credit` µcredits now (budget and balance). */
  affords(jobId: string, credit: number): boolean {
    const purse = this.#purses.get(jobId);
    if (!purse) return false;
    return purse.fits(credit) && this.canSpend(this.committed + credit);
  }

  /** Reserves `credit` µcredits for lease `leaseId` of `contributor` on `shard` of job `jobId`
   * (with the copies the shard still needs) if both budget and balance allow it; false
   * (nothing reserved) otherwise. */
  reserve(
    jobId: string,
    leaseId: string,
    contributor: string,
    shard: number,
    credit: number,
  ): boolean {
    const purse = this.#purses.get(jobId);
    if (!purse || !this.affords(jobId, purse.need(shard, credit))) return false;
    purse.hold(leaseId, contributor, shard, credit);
    return true;
  }

  /** Pays a verified shard of `credit` µcredits from its lease's reservation (never more than
   * was reserved); the payment is owed until `recorded`. Returns the µcredits paid. */
  pay(jobId: string, leaseId: string, contributor: string, credit: number): number {
    const paid = this.#purses.get(jobId)?.pay(leaseId, contributor, credit) ?? 0;
    this.#owed += paid;
    return paid;
  }

  /** A payment's receipt is in the owner's books now (they count it from here). */
  recorded(credit: number): void {
    this.#owed = Math.max(0, this.#owed - credit);
  }

  /** A payment's receipt could not be issued: nothing was paid after all. */
  unpaid(jobId: string, credit: number): void {
    this.recorded(credit);
    this.#purses.get(jobId)?.refund(credit);
  }

  /** Job `jobId` ended (done or cancelled): every hold goes back, results awaiting a twin
   * included (no verdict comes for them, and their credit would be held for ever). A verdict
   * still to come (an owner check running at a cancel) pays nothing: never past a reservation. */
  close(jobId: string): void {
    this.#purses.get(jobId)?.releaseAll();
  }
}

/** Throws RangeError unless `credit` is a whole, non-negative, safe number of µcredits. */
function checkCredit(credit: number): number {
  if (!(Number.isSafeInteger(credit) && credit >= 0)) {
    throw new RangeError(`credit ${credit} is not a whole number of µcredits`);
  }
  return credit;
}

// Verified copies of one shard a job pays for are its kind's to say (kinds.ts).

/** FLOPs of a job's costliest shard (canaries included), as the job counts them in verdicts. */
export function largestShardFlops(job: Pick<OwnerJob, 'shardCount' | 'shardFlops'>): number {
  let most = 0;
  for (let s = 0; s < job.shardCount; s++) most = Math.max(most, job.shardFlops(s));
  return most;
}
