import { START_PRICE } from './price';

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

// A job's purse (its spending and reservations) lives in purse.ts.
export { Purse } from './purse';
