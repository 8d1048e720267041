/**
 * A folder (or loose files) dropped on the page, as the picked files filesFromPicked takes.
 * A drop hands over File and Directory Entries (DataTransferItem.webkitGetAsEntry); a folder's
 * entries are read in batches until an empty one, as the API requires.
 */

import type { PickedFile } from '../model/hf/files';

/** Levels of folders read, the dropped one first: a checkpoint's deepest file is
 * `1_Pooling/config.json` (two levels); `.git` and deep trees are never walked. */
export const DROP_MAX_DEPTH = 2;
/** Files read from one drop at most (a home folder dropped by mistake stops here). */
export const DROP_MAX_FILES = 2_000;

/** The parts of the entries API used here (FileSystemEntry and its two kinds). */
export interface DropEntry {
  isFile: boolean;
  isDirectory: boolean;
  name: string;
  /** '/folder/file' from the drop's root. */
  fullPath: string;
  file?(ok: (f: File) => void, fail: (e: unknown) => void): void;
  createReader?(): {
    readEntries(ok: (entries: DropEntry[]) => void, fail: (e: unknown) => void): void;
  };
}

/** A dropped file with its path from the drop's root (`folder/1_Pooling/config.json`). */
export interface DroppedFile extends PickedFile {
  webkitRelativePath: string;
  size: number;
}

/** The dropped entries' files, folders walked to DROP_MAX_DEPTH (dot-folders skipped). */
export async function filesFromEntries(roots: readonly DropEntry[]): Promise<DroppedFile[]> {
  const out: DroppedFile[] = [];
  const walk = async (entry: DropEntry, depth: number): Promise<void> => {
    if (out.length >= DROP_MAX_FILES) return;
    if (entry.isFile && entry.file) {
      const file = await new Promise<File>((ok, fail) => entry.file!(ok, fail));
      out.push({
        name: entry.name,
        webkitRelativePath: entry.fullPath.replace(/^\/+/, ''),
        size: file.size,
        arrayBuffer: () => file.arrayBuffer(),
      });
      return;
    }
    if (!entry.isDirectory || !entry.createReader || entry.name.startsWith('.')) return;
    if (depth >= DROP_MAX_DEPTH) return;
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise<DropEntry[]>((ok, fail) => reader.readEntries(ok, fail));
      if (batch.length === 0) break;
      for (const e of batch) await walk(e, depth + 1);
    }
  };
  // A dropped folder is depth 0; its files are at depth 1.
  for (const root of roots) await walk(root, 0);
  return out;
}

/** The entries of a drop's items (those that are files or folders). */
export function dropEntries(items: DataTransferItemList): DropEntry[] {
  const entries: DropEntry[] = [];
  for (const item of Array.from(items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.() as DropEntry | null | undefined;
    if (entry) entries.push(entry);
  }
  return entries;
}
