import { type Account, accounts, type CheckedLog, type MarketRules } from './audit';
import type { ProposalBody } from './entries';
import { LedgerError } from './errors';
import { DEFAULT_PARAMS, MAX_WEIGHT, PARAMS, type Param, type Params, QUORUM } from './params';

export { DEFAULT_PARAMS, MAX_WEIGHT, PARAMS, type Param, type Params, QUORUM };

// Rule changes by vote. Only the parameters below can be voted on, each within bounds. Proposals
// and votes are entries in their authors' own logs (signed by them, committed to by their
// checkpoints), so a tally is a pure function of a set of logs at stated sizes: two peers with the
// same logs at the same sizes get the same result.

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

/** A voter's weight: √(credits earned for verified work), at most MAX_WEIGHT. */
export function weight(a: Account | undefined): number {
  return a ? Math.min(MAX_WEIGHT, Math.sqrt(Math.max(0, a.earned) / 1e6)) : 0;
}

export interface Tally {
  id: string; // `<proposer>:<leaf index>`
  proposer: string;
  param: Param;
  value: number;
  reason: string;
  createdAt: number;
  yes: number;
  no: number;
  voters: number;
  passed: boolean;
}

/**
 * Every proposal in `logs` and its tally: each voter's latest vote in its own log counts with its
 * weight from the same logs' balances. Proposals outside the whitelist are skipped (never tallied).
 */
export function tally(logs: readonly CheckedLog[], rules: MarketRules): Tally[] {
  const books = accounts(logs, rules);
  const out = new Map<string, Tally>();
  for (const log of logs) {
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
      out.set(id, {
        id,
        proposer: log.peer,
        param,
        value,
        reason,
        createdAt,
        yes: 0,
        no: 0,
        voters: 0,
        passed: false,
      });
    });
  }
  for (const log of logs) {
    const latest = new Map<string, boolean>();
    for (const e of log.entries) if (e.type === 'vote') latest.set(e.vote.proposal, e.vote.yes);
    const w = weight(books.get(log.peer));
    for (const [id, yes] of latest) {
      const t = out.get(id);
      if (!t) continue;
      t.voters++;
      if (yes) t.yes += w;
      else t.no += w;
    }
  }
  for (const t of out.values()) t.passed = t.yes > t.no && t.yes >= QUORUM;
  return [...out.values()].sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** The parameters in force: defaults, overridden by passed proposals, later ones last. */
export function paramsFrom(tallies: readonly Tally[]): Params {
  const p = { ...DEFAULT_PARAMS };
  for (const t of tallies) if (t.passed) p[t.param] = t.value;
  return p;
}
