/**
 * Where a checkpoint's files come from. The loader reads only through this interface, so it
 * does no I/O of its own: the page hands it the files a person picked, Node a folder, both a URL
 * prefix (those two sources come later).
 */

import { CheckpointError } from './errors';

/** A checkpoint folder: its files by name relative to the folder (`1_Pooling/config.json`). */
export interface CheckpointFiles {
  /** Every file's relative name, '/'-separated, in no particular order. */
  list(): string[];
  /** The file's bytes; a CheckpointError ('missing-file') when there is no such file. */
  read(name: string): Promise<Uint8Array>;
}

/**
 * A source over files already in memory (tests; the page's picked files). Names are taken as
 * given except that a leading './' or '/' is dropped, so 'x/config.json' stays distinct from
 * 'config.json'.
 */
export function filesFromMap(files: ReadonlyMap<string, Uint8Array>): CheckpointFiles {
  const byName = new Map<string, Uint8Array>();
  for (const [name, bytes] of files) byName.set(normalizeName(name), bytes);
  return {
    list: () => [...byName.keys()],
    read: async (name) => {
      const bytes = byName.get(normalizeName(name));
      if (!bytes) throw new CheckpointError('missing-file', name, '', 'no such file in the folder');
      return bytes;
    },
  };
}

function normalizeName(name: string): string {
  return name.replace(/^(\.\/|\/)+/, '');
}
