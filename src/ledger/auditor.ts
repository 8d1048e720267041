import { peerIdFromString } from '@libp2p/peer-id';
import { log } from '../log/log';
import { errorText } from '../wire/fields';
import { type Account, accounts, byCodeUnits, type CheckedLog, checkLog } from './audit';
import type { LedgerClient } from './client';
import type { HeldReceipt } from './entries';
import { LedgerError } from './errors';
import { DEFAULT_PARAMS, type Tally, tally } from './governance';
import type { OwnerLog } from './log';
import { openCheckpoint } from './note';
import { noticeBadLog, type Witness } from './witness';

const trace = log('ledger:auditor');

/** Logs one audit consults at most, unless told otherwise. */
export const AUDIT_MAX_LOGS = 16;

/** What an audit of one peer found. Amounts in µcredits. */
export interface AuditReport {
  peer: string;
  /** Its books from the logs that could be fetched and checked. */
  account: Account;
  /** Receipts it holds whose owner's log could not be fetched: proven by their bundles
   * (signature and inclusion proof), not yet counted in `account`. */
  proven: { count: number; credit: bigint };
  /** Each log consulted, and what was wrong with it, if anything. */
  logs: { peer: string; size: number; problem?: string }[];
  at: number;
}

export interface AuditorOptions {
  /** This tab's peer id: its own log and receipts are read here, not asked for. */
  me: string;
  log: Pick<OwnerLog, 'checkpoint' | 'entries' | 'size'>;
  /** Receipts this tab earned. */
  held: () => HeldReceipt[];
  client: Pick<LedgerClient, 'log' | 'earned'>;
  /** Where each checkpoint fetched is recorded (and checked for equivocation), and the heads
   * seen before that the log's entries must agree with. */
  witness: Pick<Witness, 'see' | 'heads'>;
}

/**
 * The auditor (a tessera log monitor that also does the sums): it fetches peers' logs and the
 * receipts they hold, checks each log against its signed checkpoint, the heads seen before and
 * the receipts held, and computes books and governance tallies from them.
 */
export class Auditor {
  readonly #o: AuditorOptions;

  constructor(o: AuditorOptions) {
    this.#o = o;
  }

  /**
   * Audits `peer`: fetches its log and the receipts it holds, then the logs of the owners who
   * paid it (at most `maxLogs`), checks each against its signed checkpoint and against the
   * receipts held, and computes its books from them with a starter grant of `grant` µcredits.
   * Never throws for a peer's fault: problems are in the report.
   */
  async audit(peer: string, grant: number, maxLogs = AUDIT_MAX_LOGS): Promise<AuditReport> {
    peerIdFromString(peer); // a RangeError for something that is not a peer id
    // Breadth first: the peer, the owners who paid it, the owners who paid them… An owner's
    // means include what it earned in other logs, so its payers' logs are needed too. Owners
    // found together are taken in peer-id order, so every auditor that is served the same
    // receipts consults the same logs when it stops at `maxLogs`.
    const held: HeldReceipt[] = [];
    const reports: AuditReport['logs'] = [];
    const checked: CheckedLog[] = [];
    const queue = [peer];
    const seen = new Set(queue);
    let mine: HeldReceipt[] = [];
    while (queue.length > 0 && reports.length < maxLogs) {
      const who = queue.shift() as string;
      try {
        const earned = who === this.#o.me ? this.#o.held() : await this.#o.client.earned(who);
        if (who === peer) mine = earned;
        held.push(...earned);
        const found = new Set(earned.map((h) => h.receipt.owner).filter((o) => !seen.has(o)));
        for (const o of [...found].sort(byCodeUnits)) {
          seen.add(o);
          queue.push(o);
        }
        const c = await this.checkedLog(
          who,
          held.filter((h) => h.receipt.owner === who),
        );
        checked.push(c);
        reports.push({ peer: who, size: c.size });
      } catch (e) {
        reports.push({ peer: who, size: 0, problem: errorText(e) });
        if (e instanceof LedgerError && who !== peer) noticeBadLog(who, e);
      }
    }
    const books = accounts(checked, { grant });
    const audited = new Set(checked.map((c) => c.peer));
    const outside = mine.filter((h) => !audited.has(h.receipt.owner));
    const account = books.get(peer) ?? emptyAccount(peer, grant);
    return {
      peer,
      account,
      proven: {
        count: outside.length,
        credit: outside.reduce((s, h) => s + BigInt(h.receipt.credit), 0n),
      },
      logs: reports,
      at: Date.now(),
    };
  }

  /** Every proposal in the logs of `peers` (and this tab's) and its tally. */
  async governance(peers: readonly string[]): Promise<Tally[]> {
    const logs: CheckedLog[] = [];
    for (const p of new Set([this.#o.me, ...peers])) {
      try {
        logs.push(await this.checkedLog(p, []));
      } catch (e) {
        trace('governance: no log of %s: %s', p, e);
      }
    }
    // Weights use the default grant: the grant itself is a votable parameter. The order of
    // `logs` (this tab's own first) does not matter: tally() reads them in a canonical order.
    return tally(logs, { grant: DEFAULT_PARAMS.grant * 1e6 });
  }

  /** `peer`'s log (this tab's own read here), checked against its checkpoint, the heads of it
   * seen before and the receipts in `held` it issued. */
  async checkedLog(peer: string, held: readonly HeldReceipt[]): Promise<CheckedLog> {
    const own = this.#o.log;
    const { note, leaves } =
      peer === this.#o.me
        ? { note: own.checkpoint(), leaves: own.entries(0, own.size) }
        : await this.#o.client.log(peer);
    const checkpoint = await openCheckpoint(note, peer);
    // Recorded before its first await: the heads read next include it.
    this.#o.witness.see(checkpoint, note).catch((e) => trace('head of %s: %s', peer, e));
    return checkLog({ peer, checkpoint, leaves }, held, this.#o.witness.heads(peer));
  }
}

function emptyAccount(peer: string, grant: number): Account {
  return {
    peer,
    earned: 0n,
    spent: 0n,
    burned: 0n,
    grant: BigInt(grant),
    balance: BigInt(grant),
    workGflop: 0,
    receiptsEarned: 0,
    receiptsIssued: 0,
    voided: [],
  };
}
