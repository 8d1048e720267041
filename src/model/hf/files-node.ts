/**
 * A checkpoint folder on disk, for Node (the headless contributor, tests). Apart from
 * files.ts so that the page's bundle never imports node:fs.
 */

import { readdir, readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { CheckpointError } from './errors';
import { type CheckpointFiles, isSafeName } from './files';

/** Folders below the checkpoint's that are listed (a pooling module's `1_Pooling/`). */
const MAX_DEPTH = 2;

/** The files under `dir` (to MAX_DEPTH), by '/'-separated relative name. A file reached through
 * a link that leads outside `dir` is refused when read. */
export async function filesFromDirectory(dir: string): Promise<CheckpointFiles> {
  const root = await realpath(dir).catch((e: Error) => {
    throw new CheckpointError('missing-file', dir, '', `no such folder: ${e.message}`);
  });
  const names: string[] = [];
  const walk = async (at: string, depth: number) => {
    for (const e of await readdir(at, { withFileTypes: true })) {
      const path = join(at, e.name);
      if (e.isDirectory() && depth < MAX_DEPTH) await walk(path, depth + 1);
      else if (e.isFile() || e.isSymbolicLink())
        names.push(relative(root, path).split(sep).join('/'));
    }
  };
  await walk(root, 1);
  const present = new Set(names.filter(isSafeName));
  return {
    list: () => [...present],
    read: async (name) => {
      if (!present.has(name))
        throw new CheckpointError('missing-file', name, '', 'not in the folder');
      const real = await realpath(join(root, ...name.split('/')));
      if (relative(root, real).startsWith('..')) {
        throw new CheckpointError('missing-file', name, '', 'links outside the checkpoint folder');
      }
      return new Uint8Array(await readFile(real));
    },
  };
}
