import { credits } from '../jobs/price';
import type { JobStall } from './read-model';
import type { Ask } from './shard-owner';

/** A job younger than this is starting, not stalled: contributors are still finding it. */
export const STALL_GRACE_MS = 15_000;

/** What an owner knows of a running job's chances right now (see stallOf). */
export interface StallFacts {
  now: number; // ms since the epoch
  createdAt: number; // ms since the epoch
  /** Leases out now: a job with any is progressing, however slowly. */
  leased: number;
  /** Its budget cannot pay another shard. */
  budgetSpent: boolean;
  spent: number; // µcredits
  budget: number; // µcredits (Infinity: none)
  /** The owner's balance cannot pay another shard. */
  balanceLow: boolean;
  /** What contributors asking lately were answered (ShardOwnerService.asks). */
  asks: Ask[];
  /** Bytes the largest shard binds (0: unknown). */
  shardBytes: number;
}

/**
 * Why a running job leases nothing, with what would help, or nothing when it progresses or
 * has just started. Money first (it is the owner's to fix at once), then the contributors.
 */
export function stallOf(f: StallFacts): { stall?: JobStall } {
  if (f.budgetSpent) {
    const of = Number.isFinite(f.budget) ? ` of ${fmt(f.budget)}` : '';
    return {
      stall: {
        reason: 'budget',
        message: `Its budget is spent (${fmt(f.spent)}${of} credits): add credits to its budget to go on.`,
        action: 'add-credits',
      },
    };
  }
  if (f.balanceLow) {
    return {
      stall: {
        reason: 'balance',
        message:
          'Your balance cannot pay for another shard: earn credits by contributing, or import your ledger; the job goes on as soon as it can pay.',
        action: 'wait',
      },
    };
  }
  if (f.leased > 0 || f.now - f.createdAt < STALL_GRACE_MS) return {};
  const asks = f.asks;
  if (asks.length === 0) {
    return {
      stall: {
        reason: 'no-contributors',
        message:
          'No contributor is asking for work: nobody with a free GPU is online. It goes on when one is; keep this tab open.',
        action: 'wait',
      },
    };
  }
  if (asks.some((a) => a.answer === 'lease')) return {};
  if (asks.every((a) => a.answer === 'quarantined' || a.answer === 'barred')) {
    return {
      stall: {
        reason: 'quarantined',
        message: `Every contributor asking (${asks.length}) is quarantined by this tab: lift a quarantine in the mesh view if you trust it.`,
        action: 'lift',
      },
    };
  }
  if (asks.some((a) => a.answer === 'too-big')) {
    const mib = f.shardBytes > 0 ? ` (${(f.shardBytes / 2 ** 20).toFixed(1)} MiB each)` : '';
    return {
      stall: {
        reason: 'too-big',
        message: `No contributor asking can hold this job's shards${mib}: split them into smaller ones.`,
        action: 'split',
      },
    };
  }
  return {};
}

function fmt(micro: number): string {
  return credits(micro).toFixed(3);
}
