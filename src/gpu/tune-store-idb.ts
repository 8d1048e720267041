import { openDB } from 'idb';
import type { TuneStore } from './autotune';
import type { TileConfig } from './matmul';

/** Schema version of `tessel-gpu`: 1 is one store of tiles keyed by adapter. */
export const TUNE_DB_VERSION = 1;

/** Remembers autotune results in IndexedDB (database `tessel-gpu`), keyed by adapter. */
export function idbTuneStore(dbName = 'tessel-gpu'): TuneStore {
  const db = openDB(dbName, TUNE_DB_VERSION, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) d.createObjectStore('tune');
    },
    // A newer tab wants to upgrade the schema: let it (tiles are measured again if need be).
    async blocking() {
      (await db).close();
    },
  });
  return {
    async get(key) {
      const v: unknown = await (await db).get('tune', key);
      return isTile(v) ? v : undefined; // a corrupt or foreign record is ignored, then rewritten
    },
    async set(key, tile) {
      await (await db).put('tune', tile, key);
    },
  };
}

function isTile(v: unknown): v is TileConfig {
  if (typeof v !== 'object' || v === null) return false;
  const t = v as Record<string, unknown>;
  return ['wgX', 'wgY', 'tk'].every((k) => Number.isInteger(t[k]) && (t[k] as number) > 0);
}
