/**
 * A contributor's GPU budget: the share of wall time its engine may be busy computing shards
 * (the rest it idles, so the machine stays usable). One definition of its bounds for the
 * contributor's pacing (src/mesh/shard-contributor.ts), the page's slider and remembered choice
 * (src/ui) and the `tessel contribute --budget` flag (src/headless).
 */

/** The budget a contributor lends unless told otherwise: half the time. */
export const DEFAULT_BUDGET = 0.5; // share of wall time

/** The least budget a volunteer may choose: a tenth of the time (the page's slider starts here). */
export const BUDGET_MIN = 0.1; // share of wall time

/** The most: the engine may be busy all the time. */
export const BUDGET_MAX = 1; // share of wall time

/** Whether `b` is a budget a contributor accepts: from BUDGET_MIN to BUDGET_MAX. */
export function isBudget(b: number): boolean {
  return b >= BUDGET_MIN && b <= BUDGET_MAX;
}

/** `b` brought within BUDGET_MIN..BUDGET_MAX; DEFAULT_BUDGET for a value that is no number. */
export function clampBudget(b: number): number {
  return Number.isFinite(b) ? Math.min(BUDGET_MAX, Math.max(BUDGET_MIN, b)) : DEFAULT_BUDGET;
}
