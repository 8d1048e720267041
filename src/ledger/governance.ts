import {
  type Account,
  accounts,
  byCodeUnits,
  type CheckedLog,
  canonicalLogs,
  type MarketRules,
} from './audit';
import type { ProposalBody } from './entries';
import { LedgerError } from './errors';
import { DEFAULT_PARAMS, PARAMS, type Param, type Params, QUORUM } from './params';

export { DEFAULT_PARAMS, PARAMS, type Param, type Params, QUORUM };

// Rule changes by vote. Only the parameters below can be voted on, each within bounds. Proposals
// and votes are entries in their authors' own logs (signed by them, committed to by their
// checkpoints), so a tally is a pure function of a set of logs at stated sizes: two peers with the
// same logs at the same sizes get the same result, in whatever order and however often each log
// was given (weights are summed as exact integers, proposals ordered by code units).

/** Checks a proposal's parameter and value; throws LedgerError 'not-votable'. */
export function checkProposal(p: Pick<ProposalBody, 'param' | 'value'>): Param {
  if (!Object.hasOwn(PARAMS, p.param)) {
    throw new LedgerError('not-votable', `${JSON.stringify(p.param)} is not a votable parameter`);
  }
  const spec = PARAMS[p.param as Param];
  if (!(Number.isFinite(p.value) && p.value >= spec.min && p.value <= spec.max)) {
    throw new LedgerError('not-votable', `${p.param} must be in [${spec.min}, ${spec.max}]`);
  }
  return p.param as Param;
}

/**
 * A voter's weight, in µcredits: the credit it holds beyond its grant, earned − spent (revoked
 * receipts it issued count as spent), or 0 when that is negative. Linear, not a root: moving
 * credit between ids never raises their total weight (docs/market.md, "Votes").
 */
export function weight(a: Account | undefined): bigint {
  if (!a) return 0n;
  const net = a.earned - a.spent;
  return net > 0n ? net : 0n;
}

export interface Tally {
  id: string; // `<proposer>:<leaf index>`
  proposer: string;
  param: Param;
  value: number;
  reason: string;
  createdAt: number;
  /** Weight for and against, in credits (decided on the exact µcredit sums). */
  yes: number;
  no: number;
  voters: number;
  passed: boolean;
}

/**
 * Every proposal in `logs` and its tally: each voter's latest vote in its own log counts with its
 * weight from the same logs' balances. Proposals outside the whitelist are skipped (never tallied).
 * Throws LedgerError 'equivocation' for two histories of one log (canonicalLogs).
 */
export function tally(logs: readonly CheckedLog[], rules: MarketRules): Tally[] {
  const canonical = canonicalLogs(logs);
  const books = accounts(canonical, rules);
  const found = new Map<string, { t: Tally; index: number; yes: bigint; no: bigint }>();
  for (const log of canonical) {
    log.entries.forEach((e, index) => {
      if (e.type !== 'proposal') return;
      let param: Param;
      try {
        param = checkProposal(e.proposal);
      } catch {
        return;
      }
      const id = `${log.peer}:${index}`;
      const { value, reason, createdAt } = e.proposal;
      const t = { id, proposer: log.peer, param, value, reason, createdAt };
      found.set(id, {
        t: { ...t, yes: 0, no: 0, voters: 0, passed: false },
        index,
        yes: 0n,
        no: 0n,
      });
    });
  }
  for (const log of canonical) {
    const latest = new Map<string, boolean>();
    for (const e of log.entries) if (e.type === 'vote') latest.set(e.vote.proposal, e.vote.yes);
    const w = weight(books.get(log.peer));
    for (const [id, yes] of latest) {
      const f = found.get(id);
      if (!f) continue;
      f.t.voters++;
      if (yes) f.yes += w;
      else f.no += w;
    }
  }
  const quorum = BigInt(QUORUM) * 1_000_000n;
  for (const f of found.values()) {
    f.t.yes = Number(f.yes) / 1e6;
    f.t.no = Number(f.no) / 1e6;
    f.t.passed = f.yes > f.no && f.yes >= quorum;
  }
  return [...found.values()]
    .sort(
      (a, b) =>
        a.t.createdAt - b.t.createdAt ||
        byCodeUnits(a.t.proposer, b.t.proposer) ||
        a.index - b.index,
    )
    .map((f) => f.t);
}

/** The parameters in force: defaults, overridden by passed proposals, later ones last. */
export function paramsFrom(tallies: readonly Tally[]): Params {
  const p = { ...DEFAULT_PARAMS };
  for (const t of tallies) if (t.passed) p[t.param] = t.value;
  return p;
}
