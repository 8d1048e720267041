import { type Entry, type HeldReceipt, openEntry } from './entries';
import { LedgerError } from './errors';
import { MerkleTree, sameHash } from './merkle';
import type { SignedCheckpoint } from './note';

// Checking the books. An auditor holds a log's leaves and the owner's signed checkpoint, replays
// the tree and names what is wrong; balances are then a pure function of the set of logs it
// checked (not of their order, nor of how often each was given), in exact integer µcredits, so
// two auditors with the same logs at the same sizes get the same figures.

/** A log as served: its owner, a checkpoint the owner signed, and the leaves up to its size. */
export interface LogView {
  peer: string;
  checkpoint: SignedCheckpoint;
  leaves: Uint8Array[];
}

/** A log that checked out against its signed checkpoint, its entries decoded. */
export interface CheckedLog {
  peer: string;
  size: number;
  root: Uint8Array;
  entries: Entry[];
}

/**
 * Replays a served log against its signed checkpoint and against what the auditor already holds:
 * receipts of this log with their proofs, and earlier checkpoints of it. Throws LedgerError naming
 * the fault: 'dropped', 'reordered', 'tampered' (an entry's bytes), 'forged' (an entry not signed
 * by the log's owner), 'inconsistent' (a history that does not extend an earlier checkpoint).
 */
export async function checkLog(
  view: LogView,
  held: readonly HeldReceipt[] = [],
  earlier: readonly SignedCheckpoint[] = [],
): Promise<CheckedLog> {
  const { peer, checkpoint, leaves } = view;
  if (checkpoint.log !== peer) throw new LedgerError('bad-signature', `not ${peer}'s checkpoint`);
  const tree = new MerkleTree();
  for (const l of leaves) tree.append(l);
  const mine = held.filter((h) => h.receipt.owner === peer);
  if (leaves.length !== checkpoint.size || !sameHash(tree.root(), checkpoint.root)) {
    throw locate(peer, leaves, checkpoint.size, mine);
  }
  for (const h of mine) {
    if (h.checkpoint.size > checkpoint.size) continue; // a newer head than the one audited
    if (!sameHash(tree.root(h.checkpoint.size), h.checkpoint.root)) {
      throw new LedgerError(
        'inconsistent',
        `${peer}'s log at ${checkpoint.size} does not extend the checkpoint at ${h.checkpoint.size} it signed for receipt ${h.index}`,
      );
    }
  }
  for (const c of earlier) {
    if (c.size <= checkpoint.size && !sameHash(tree.root(c.size), c.root)) {
      throw new LedgerError('inconsistent', `${peer}'s log rewrote history before ${c.size}`);
    }
  }
  const entries: Entry[] = [];
  for (const [i, l] of leaves.entries()) {
    try {
      entries.push(await openEntry(peer, l));
    } catch (e) {
      throw new LedgerError('forged', `entry ${i} of ${peer}'s log: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }
  return { peer, size: checkpoint.size, root: checkpoint.root, entries };
}

/** Names how served leaves differ from the signed tree, using the receipts held with proofs. */
function locate(
  peer: string,
  leaves: readonly Uint8Array[],
  size: number,
  held: readonly HeldReceipt[],
): LedgerError {
  for (const h of held) {
    if (h.index >= size) continue;
    const at = leaves[h.index];
    if (at && sameHash(at, h.leaf)) continue;
    const moved = leaves.findIndex((l) => sameHash(l, h.leaf));
    if (moved >= 0) {
      return new LedgerError('reordered', `${peer}'s receipt ${h.index} is served at ${moved}`);
    }
    if (leaves.length < size) {
      return new LedgerError(
        'dropped',
        `${peer}'s log serves ${leaves.length} of ${size} entries; receipt ${h.index} is gone`,
      );
    }
    return new LedgerError('tampered', `${peer}'s entry ${h.index} is not the receipt it signed`);
  }
  if (leaves.length < size) {
    return new LedgerError(
      'dropped',
      `${peer}'s log serves ${leaves.length} of its ${size} entries`,
    );
  }
  return new LedgerError(
    'tampered',
    `${peer}'s entries do not hash to the root it signed at ${size}`,
  );
}

/** One peer's books, as computed from a set of checked logs. Amounts in µcredits, exact. */
export interface Account {
  peer: string;
  /** Credit received: receipts naming this peer in others' logs that are honoured, not revoked. */
  earned: bigint;
  /** Credit paid: this peer's own honoured receipts, the ones it revoked included (`burned`). */
  spent: bigint;
  /** Of `spent`, the credit of receipts this peer revoked: paid by it, received by no one. */
  burned: bigint;
  /** The starter grant (the only credit not earned by work). */
  grant: bigint;
  /** grant + earned − spent: never negative. */
  balance: bigint;
  /** Verified work this peer did for others (GFLOP of its earned receipts). */
  workGflop: number;
  receiptsEarned: number;
  receiptsIssued: number;
  /** This peer's receipts that pay its contributor nothing: to itself, repeated, beyond its
   * means, or revoked by a later entry of its log. */
  voided: { index: number; why: 'self' | 'repeat' | 'overdrawn' | 'revoked' }[];
}

export interface MarketRules {
  /** µcredits every peer may spend before it has earned anything (a safe, non-negative integer). */
  grant: number;
}

/** Code-unit order: the same on every peer, whatever its locale. */
export function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** Whether two decoded entries say the same thing (for comparing two copies of one log). */
function sameEntry(a: Entry, b: Entry): boolean {
  switch (a.type) {
    case 'receipt':
      return b.type === 'receipt' && sameBytes(a.signed, b.signed);
    case 'proposal':
      return b.type === 'proposal' && JSON.stringify(a.proposal) === JSON.stringify(b.proposal);
    case 'vote':
      return b.type === 'vote' && JSON.stringify(a.vote) === JSON.stringify(b.vote);
    case 'revocation':
      return (
        b.type === 'revocation' && JSON.stringify(a.revocation) === JSON.stringify(b.revocation)
      );
  }
}

/**
 * The logs as the books read them, whatever order and repetitions they were given in: one log
 * per peer, sorted by peer id. Copies of one peer's log at different sizes are one log at the
 * largest (a log only grows, so the smaller is a prefix of it); two copies that differ within
 * their common length are two histories signed by one owner, and throw LedgerError
 * 'equivocation' (whoever holds both holds the proof).
 */
export function canonicalLogs(logs: readonly CheckedLog[]): CheckedLog[] {
  const byPeer = new Map<string, CheckedLog>();
  for (const log of logs) {
    const had = byPeer.get(log.peer);
    if (!had) {
      byPeer.set(log.peer, log);
      continue;
    }
    // `had` extends every copy seen so far, so comparing with it alone finds any divergence.
    const [short, long] = had.entries.length <= log.entries.length ? [had, log] : [log, had];
    const at = short.entries.findIndex((e, i) => !sameEntry(e, long.entries[i] as Entry));
    if (at >= 0) {
      throw new LedgerError(
        'equivocation',
        `two copies of ${log.peer}'s log differ at entry ${at}: two histories signed by one owner`,
      );
    }
    byPeer.set(log.peer, long);
  }
  return [...byPeer.values()].sort((a, b) => byCodeUnits(a.peer, b.peer));
}

/** A receipt that is neither to its own owner nor a repeat: it pays, if the owner's means allow. */
interface Row {
  contributor: string;
  credit: bigint;
  flops: number;
  index: number;
  /** A later revocation in the owner's log names its job and contributor. */
  revoked: boolean;
}

/** One owner's paying receipts in log order, with their running totals. */
interface Payer {
  peer: string;
  rows: Row[];
  /** cum[k]: the credit of rows[0..k), so cum[0] = 0. */
  cum: bigint[];
  /** How many rows, from the first, are honoured: a prefix, only ever shortened. */
  honoured: number;
  voided: Account['voided'];
}

function payerOf(log: CheckedLog): Payer {
  // Where each (job, contributor) was last revoked: receipts before that index are void.
  const revokedAt = new Map<string, number>();
  log.entries.forEach((e, index) => {
    if (e.type === 'revocation') {
      revokedAt.set(JSON.stringify([e.revocation.jobId, e.revocation.contributor]), index);
    }
  });
  const seen = new Set<string>();
  const payer: Payer = { peer: log.peer, rows: [], cum: [0n], honoured: 0, voided: [] };
  log.entries.forEach((e, index) => {
    if (e.type !== 'receipt') return;
    const r = e.receipt;
    if (!(Number.isSafeInteger(r.credit) && r.credit >= 0)) {
      // openEntry refuses these; a log built another way must not turn into float sums.
      throw new LedgerError('forged', `entry ${index} of ${log.peer}'s log: credit ${r.credit}`);
    }
    const key = JSON.stringify([r.jobId, r.shardId, r.contributor]);
    if (r.contributor === log.peer) payer.voided.push({ index, why: 'self' });
    else if (seen.has(key)) payer.voided.push({ index, why: 'repeat' });
    else {
      const credit = BigInt(r.credit);
      const revoked = (revokedAt.get(JSON.stringify([r.jobId, r.contributor])) ?? -1) > index;
      payer.rows.push({ contributor: r.contributor, credit, flops: r.flops, index, revoked });
      payer.cum.push((payer.cum.at(-1) as bigint) + credit);
    }
    seen.add(key);
  });
  payer.honoured = payer.rows.length;
  return payer;
}

/**
 * Balances from a set of checked logs (the credit issuance rule, docs/market.md):
 * - a receipt moves its credit from the owner whose log holds it to the contributor it names;
 * - it pays nothing when it names its own owner ('self') or repeats an earlier receipt of the
 *   log for the same job, shard and contributor ('repeat');
 * - an owner's receipts are honoured in log order while their running total fits its means,
 *   grant + earned (from honoured, unrevoked receipts in the other logs); the first that does not
 *   fit, and every receipt after it, is void ('overdrawn');
 * - an honoured receipt followed in its log by a revocation of its job and contributor is paid by
 *   the owner and received by no one ('revoked': the credit is burned).
 * The honoured receipts are the greatest set consistent with these rules: each owner's honoured
 * prefix only lengthens when its means grow, so starting from every receipt and shortening
 * prefixes until all fit reaches the same set in whatever order the logs are given or visited.
 * Credit is conserved or burned, never made: balances are ≥ 0 and sum to at most the grants.
 * Copies of a log count once (canonicalLogs). Throws LedgerError 'equivocation' for two
 * histories of one log, 'forged' for a receipt whose credit is not a whole number of µcredits.
 */
export function accounts(logs: readonly CheckedLog[], rules: MarketRules): Map<string, Account> {
  if (!(Number.isSafeInteger(rules.grant) && rules.grant >= 0)) {
    throw new RangeError(`a grant is a whole number of µcredits, not ${rules.grant}`);
  }
  const grant = BigInt(rules.grant);
  const canonical = canonicalLogs(logs);
  const payers = new Map(canonical.map((log) => [log.peer, payerOf(log)]));
  const earned = new Map<string, bigint>();
  const add = (peer: string, credit: bigint) => earned.set(peer, (earned.get(peer) ?? 0n) + credit);
  for (const p of payers.values())
    for (const row of p.rows) if (!row.revoked) add(row.contributor, row.credit);
  // Worklist: an owner is looked at again only when what it earned went down.
  const queue = [...payers.values()];
  const queued = new Set(payers.keys());
  for (let q = 0; q < queue.length; q++) {
    const p = queue[q] as Payer;
    queued.delete(p.peer);
    const means = grant + (earned.get(p.peer) ?? 0n);
    let h = p.honoured;
    while (h > 0 && (p.cum[h] as bigint) > means) h--;
    for (const row of p.rows.slice(h, p.honoured)) {
      if (row.revoked) continue;
      add(row.contributor, -row.credit);
      const next = payers.get(row.contributor);
      if (next && !queued.has(next.peer)) {
        queued.add(next.peer);
        queue.push(next);
      }
    }
    p.honoured = h;
  }
  const peers = new Set(payers.keys());
  for (const p of payers.values()) for (const row of p.rows) peers.add(row.contributor);
  const out = new Map<string, Account>();
  for (const peer of [...peers].sort(byCodeUnits)) {
    out.set(peer, {
      peer,
      earned: 0n,
      spent: 0n,
      burned: 0n,
      grant,
      balance: grant,
      workGflop: 0,
      receiptsEarned: 0,
      receiptsIssued: 0,
      voided: [],
    });
  }
  for (const log of canonical) {
    const p = payers.get(log.peer) as Payer;
    const from = out.get(log.peer) as Account;
    from.receiptsIssued = log.entries.filter((e) => e.type === 'receipt').length;
    from.voided = p.voided;
    from.spent = p.cum[p.honoured] as bigint;
    for (const [k, row] of p.rows.entries()) {
      if (k >= p.honoured) from.voided.push({ index: row.index, why: 'overdrawn' });
      else if (row.revoked) {
        from.voided.push({ index: row.index, why: 'revoked' });
        from.burned += row.credit;
      } else {
        const to = out.get(row.contributor) as Account;
        to.earned += row.credit;
        to.workGflop += row.flops / 1e9;
        to.receiptsEarned++;
      }
    }
  }
  for (const a of out.values()) {
    a.voided.sort((x, y) => x.index - y.index);
    a.balance = a.grant + a.earned - a.spent;
  }
  return out;
}
