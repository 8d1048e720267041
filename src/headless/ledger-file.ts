import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportLedger, leavesOf, openLedgerFile, restoreLedger } from '../ledger/file';
import { LocalLedger } from '../ledger/local';
import { formatCredits } from './progress';

/**
 * The contributor's books: IndexedDB where there is one, else an in-memory one, restored from
 * and saved to `ledger.json` in the data folder (every receipt in it carries its own proof).
 */
export async function openLedger(
  key: Parameters<typeof LocalLedger.open>[0],
  peerId: string,
  dataDir: string,
  log: (line: string) => void,
): Promise<LocalLedger> {
  if (typeof indexedDB === 'undefined') {
    // Node has no IndexedDB: an in-memory one, made durable by the ledger file below.
    const inMemory = 'fake-indexeddb/auto';
    await import(/* @vite-ignore */ inMemory);
  }
  const ledger = await LocalLedger.open(key, peerId, `tessel-ledger-${peerId}`);
  const file = join(dataDir, 'ledger.json');
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (text !== undefined) {
    const restored = await restoreLedger(ledger, await openLedgerFile(text), leavesOf(text));
    log(
      `ledger ${file}: ${formatCredits(ledger.earned)} earned (${restored.receipts} receipts read)`,
    );
  }
  // Saved after every receipt, so a crash loses none it was told of.
  let saving = Promise.resolve();
  ledger.addEventListener('books', () => {
    saving = saving
      .then(() => saveLedger(ledger, dataDir))
      .catch((e) => {
        log(`could not save ${file}: ${(e as Error).message}`);
      });
  });
  return ledger;
}

/** Writes the ledger file whole, then renames it over the old one (never half-written). */
export async function saveLedger(ledger: LocalLedger, dataDir: string): Promise<void> {
  const file = join(dataDir, 'ledger.json');
  await writeFile(`${file}.tmp`, await exportLedger(ledger), { mode: 0o600 });
  await rename(`${file}.tmp`, file);
}
