import { type Entry, type HeldReceipt, openEntry } from './entries';
import { LedgerError } from './errors';
import { MerkleTree, sameHash } from './merkle';
import type { SignedCheckpoint } from './note';

// Checking the books. An auditor holds a log's leaves and the owner's signed checkpoint, replays
// the tree and names what is wrong; balances are then a pure function of the logs it checked, so
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

/** One peer's books, as computed from a set of checked logs. All amounts in µcredits. */
export interface Account {
  peer: string;
  /** Credit received: receipts naming this peer in others' logs that are not void. */
  earned: number;
  /** Credit paid: this peer's own receipts that are not void. */
  spent: number;
  /** The starter grant (the only credit not earned by work). */
  grant: number;
  /** grant + earned − spent. */
  balance: number;
  /** Verified work this peer did for others (GFLOP of its earned receipts). */
  workGflop: number;
  receiptsEarned: number;
  receiptsIssued: number;
  /** Receipts this peer issued that count for nothing: to itself, repeated, or beyond its means. */
  voided: { index: number; why: 'self' | 'repeat' | 'overdrawn' }[];
}

export interface MarketRules {
  /** µcredits every peer may spend before it has earned anything. */
  grant: number;
}

/**
 * Balances from a set of checked logs (the credit issuance rule, docs/market.md):
 * - a receipt moves its credit from the owner whose log holds it to the contributor it names;
 * - it is void (moves nothing) when it names its own owner, repeats an earlier receipt for the
 *   same job, shard and contributor, or would take the owner's spending past its grant plus what
 *   it earned from receipts in the other logs; receipts are spent in log order;
 * - so credit is conserved: the balances of any set of peers sum to their grants, however they
 *   deal among themselves, and no one can pay with credit it does not have.
 * Voiding one receipt can lower another owner's earnings and void its later receipts, so the rule
 * is applied until nothing changes (each round voids at least one more receipt, or ends).
 */
export function accounts(logs: readonly CheckedLog[], rules: MarketRules): Map<string, Account> {
  type Row = {
    owner: string;
    contributor: string;
    credit: number;
    flops: number;
    index: number;
    key: string;
  };
  const rows = new Map<string, Row[]>();
  const voided = new Map<string, Account['voided']>();
  const live = new Set<Row>();
  for (const log of logs) {
    const seen = new Set<string>();
    const list: Row[] = [];
    const v: Account['voided'] = [];
    log.entries.forEach((e, index) => {
      if (e.type !== 'receipt') return;
      const r = e.receipt;
      const key = `${r.jobId}/${r.shardId}/${r.contributor}`;
      if (r.contributor === log.peer) v.push({ index, why: 'self' });
      else if (seen.has(key)) v.push({ index, why: 'repeat' });
      else {
        const row = {
          owner: log.peer,
          contributor: r.contributor,
          credit: r.credit,
          flops: r.flops,
          index,
          key,
        };
        list.push(row);
        live.add(row);
      }
      seen.add(key);
    });
    rows.set(log.peer, list);
    voided.set(log.peer, v);
  }
  // What each peer earns from the receipts still live, kept as receipts are voided (not
  // recounted over every receipt for every log in every round).
  const earned = new Map<string, number>();
  for (const row of live)
    earned.set(row.contributor, (earned.get(row.contributor) ?? 0) + row.credit);
  for (let changed = true; changed; ) {
    changed = false;
    for (const [peer, list] of rows) {
      const means = rules.grant + (earned.get(peer) ?? 0);
      let spent = 0;
      for (const row of list) {
        if (!live.has(row)) continue;
        if (spent + row.credit > means) {
          live.delete(row);
          earned.set(row.contributor, (earned.get(row.contributor) ?? 0) - row.credit);
          voided.get(peer)?.push({ index: row.index, why: 'overdrawn' });
          changed = true;
        } else {
          spent += row.credit;
        }
      }
    }
  }
  const out = new Map<string, Account>();
  const account = (peer: string): Account => {
    let a = out.get(peer);
    if (!a) {
      a = {
        peer,
        earned: 0,
        spent: 0,
        grant: rules.grant,
        balance: rules.grant,
        workGflop: 0,
        receiptsEarned: 0,
        receiptsIssued: 0,
        voided: voided.get(peer) ?? [],
      };
      out.set(peer, a);
    }
    return a;
  };
  for (const log of logs)
    account(log.peer).receiptsIssued = log.entries.filter((e) => e.type === 'receipt').length;
  for (const row of live) {
    const to = account(row.contributor);
    const from = account(row.owner);
    to.earned += row.credit;
    to.workGflop += row.flops / 1e9;
    to.receiptsEarned++;
    from.spent += row.credit;
  }
  for (const a of out.values()) {
    a.voided.sort((x, y) => x.index - y.index);
    a.balance = a.grant + a.earned - a.spent;
  }
  return out;
}
