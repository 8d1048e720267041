import { type CheckedLog, checkLog } from './audit';
import { type HeldReceipt, openBundle } from './entries';
import { LedgerError } from './errors';
import type { LocalLedger } from './local';
import { fromBase64, openCheckpoint, toBase64 } from './note';

// A ledger as a file: a peer's log (leaves and its signed checkpoint) and the receipts it earned
// (bundles with their proofs). Everything in it is signed by someone, so a file proves itself:
// importing one checks every signature and proof before anything is believed or kept.

export const LEDGER_FILE_FORMAT = 'tessel-ledger';
export const LEDGER_FILE_VERSION = 1;
/** Largest ledger file read (a log of ~100,000 receipts). */
export const MAX_LEDGER_FILE_BYTES = 64 * 1024 * 1024;

interface LedgerFileJson {
  format: typeof LEDGER_FILE_FORMAT;
  version: number;
  peer: string;
  checkpoint: string;
  leaves: string[];
  earned: string[];
}

export async function exportLedger(ledger: LocalLedger): Promise<string> {
  const { held } = ledger.held();
  const file: LedgerFileJson = {
    format: LEDGER_FILE_FORMAT,
    version: LEDGER_FILE_VERSION,
    peer: ledger.peer,
    checkpoint: ledger.log.checkpoint(),
    leaves: ledger.log.entries(0, ledger.log.size).map(toBase64),
    earned: held.map((h) => toBase64(h.bundle)),
  };
  return JSON.stringify(file);
}

export interface OpenedLedgerFile {
  peer: string;
  log: CheckedLog;
  held: HeldReceipt[];
}

/** Reads and checks a ledger file; throws LedgerError naming what is wrong. */
export async function openLedgerFile(text: string): Promise<OpenedLedgerFile> {
  if (text.length > MAX_LEDGER_FILE_BYTES)
    throw new LedgerError('forged', 'ledger file is too large');
  let f: Partial<LedgerFileJson>;
  try {
    f = JSON.parse(text);
  } catch (cause) {
    throw new LedgerError('forged', 'not a ledger file (not JSON)', { cause });
  }
  if (f?.format !== LEDGER_FILE_FORMAT || f.version !== LEDGER_FILE_VERSION) {
    throw new LedgerError(
      'forged',
      `not a ${LEDGER_FILE_FORMAT} file of version ${LEDGER_FILE_VERSION}`,
    );
  }
  const strings = (v: unknown, what: string): string[] => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      throw new LedgerError('forged', `${what} must be a list of base64 strings`);
    }
    return v;
  };
  if (typeof f.peer !== 'string' || typeof f.checkpoint !== 'string') {
    throw new LedgerError('forged', 'a ledger file names its peer and checkpoint');
  }
  const leaves = strings(f.leaves, 'leaves').map((s, i) => fromBase64(s, `leaf ${i}`));
  const held: HeldReceipt[] = [];
  for (const [i, b] of strings(f.earned, 'earned').entries()) {
    try {
      held.push(await openBundle(fromBase64(b, `receipt ${i}`), { contributor: f.peer }));
    } catch (e) {
      throw new LedgerError('forged', `earned receipt ${i}: ${(e as Error).message}`, { cause: e });
    }
  }
  const checkpoint = await openCheckpoint(f.checkpoint, f.peer);
  const log = await checkLog({ peer: f.peer, checkpoint, leaves }, held);
  return { peer: f.peer, log, held };
}

/**
 * Restores this tab's own ledger from a file it exported: receipts earned that storage lost, and
 * the log itself when this tab's log is empty (its ledger database was deleted, its identity
 * kept). A file of another peer restores nothing. Returns what was restored.
 */
export async function restoreLedger(
  ledger: LocalLedger,
  file: OpenedLedgerFile,
  leaves: readonly Uint8Array[],
): Promise<{ receipts: number; entries: number }> {
  if (file.peer !== ledger.peer) return { receipts: 0, entries: 0 };
  const have = new Set(
    (await ledger.store.list('earned')).filter((r) => r.bundle).map((r) => r.key),
  );
  let receipts = 0;
  for (const h of file.held) {
    const r = h.receipt;
    if (have.has(`${r.owner}/${r.jobId}/${r.shardId}`)) continue;
    await ledger.accept(h.bundle, r);
    receipts++;
  }
  let entries = 0;
  if (ledger.log.size === 0) {
    for (const leaf of leaves) {
      await ledger.log.append(leaf);
      entries++;
    }
  }
  return { receipts, entries };
}

/** The leaves of a ledger file (after openLedgerFile accepted it). */
export function leavesOf(text: string): Uint8Array[] {
  return (JSON.parse(text) as LedgerFileJson).leaves.map((s, i) => fromBase64(s, `leaf ${i}`));
}
