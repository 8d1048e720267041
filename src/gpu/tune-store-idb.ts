import { openDB } from 'idb';
import type { TuneStore } from './autotune';
import type { TileConfig } from './matmul';

/** Remembers autotune results in IndexedDB (database `tessel-gpu`), keyed by adapter. */
export function idbTuneStore(dbName = 'tessel-gpu'): TuneStore {
  const db = openDB(dbName, 1, {
    upgrade(d) {
      d.createObjectStore('tune');
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
