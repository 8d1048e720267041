import { creditFor, START_PRICE } from '../jobs/price';

/** What a researcher pays for a job: a price per unit of verified work and a ceiling. */
export interface JobTerms {
  /** Credits per GFLOP of verified work (see src/jobs/price.ts). */
  price: number;
  /** Most µcredits the job may spend; Infinity for no ceiling. */
  budget: number;
}

export const DEFAULT_TERMS: JobTerms = { price: START_PRICE, budget: Number.POSITIVE_INFINITY };

/** Checks terms from a caller or a stored job; throws RangeError naming the field. */
export function checkTerms(t: JobTerms): JobTerms {
  if (!(Number.isFinite(t.price) && t.price > 0 && t.price <= 1_000)) {
    throw new RangeError(`price ${t.price} is not in (0, 1000] credits per GFLOP`);
  }
  if (!(t.budget > 0) || Number.isNaN(t.budget))
    throw new RangeError(`budget ${t.budget} is not positive`);
  return t;
}

/**
 * One job's spending: what its receipts paid, and whether one more lease fits the budget when
 * every shard out may come back verified (each at the largest shard cost seen or estimated).
 */
export class Purse {
  spent = 0;
  #largest: number;

  constructor(
    readonly terms: JobTerms,
    /** Estimated FLOPs of one shard (0 when unknown until a first one is verified). */
    shardFlops: number,
  ) {
    this.#largest = creditFor(shardFlops, terms.price);
  }

  /** µcredits a verified shard of `flops` costs under these terms. */
  cost(flops: number): number {
    return creditFor(flops, this.terms.price);
  }

  /** Commits the credit of a shard just verified (before its receipt is signed, so that no
   * lease goes out against money already owed). */
  charge(credit: number): void {
    this.spent += credit;
    this.#largest = Math.max(this.#largest, credit);
  }

  /** Gives back a charge whose receipt could not be issued. */
  refund(credit: number): void {
    this.spent = Math.max(0, this.spent - credit);
  }

  /** The most one verified shard has cost or is estimated to cost (µcredits). */
  get shardCost(): number {
    return this.#largest;
  }

  /** Whether another lease may go out while `outstanding` are out. */
  mayLease(outstanding: number): boolean {
    return (
      this.spent + (outstanding + 1) * this.#largest <= this.terms.budget &&
      this.spent < this.terms.budget
    );
  }

  get exhausted(): boolean {
    return !this.mayLease(0);
  }
}
