import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { CheckpointFileMap } from '../worker/api';
import { isFolderFileName } from './file-map';

// Models kept by checkpoint digest (src/model/hf/checkpoint.ts digestFiles), so the next job or
// page visit on the same model moves nothing. A cache holds whole checkpoint folders (their
// file maps) up to a byte limit the user sets, dropping the least recently used past it.

/** One cached model, as the page lists them. */
export interface CachedModel {
  digest: string;
  /** What the person called it (a folder or URL name); shown, never trusted. */
  name: string;
  bytes: number; // all its files
  lastUsed: number; // ms since the epoch
}

/** Models kept by digest. A record is only a hint: callers re-check the digest before use. */
export interface ModelCache {
  get(digest: string): Promise<CheckpointFileMap | undefined>;
  /** Keeps a model, then drops the least recently used others until the total fits `limit()`.
   * A model larger than the limit by itself is not kept (nothing else is dropped for it). */
  put(digest: string, files: CheckpointFileMap, name: string): Promise<void>;
  list(): Promise<CachedModel[]>;
  delete(digest: string): Promise<void>;
  /** Bytes the cache may hold (the user's limit); DEFAULT_MODEL_CACHE_BYTES until set. */
  limit(): number;
  setLimit(bytes: number): Promise<void>;
}

/** The cache's limit until the user sets one. */
export const DEFAULT_MODEL_CACHE_BYTES = 2 * 2 ** 30; // 2 GiB

function checkLimit(bytes: number): number {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new RangeError(`a cache limit is a whole number of bytes ≥ 0, not ${bytes}`);
  }
  return bytes;
}

/** Bytes of a file map; throws RangeError on a name that could leave the model's folder. */
function sizeOf(files: CheckpointFileMap): number {
  let bytes = 0;
  for (const [name, data] of Object.entries(files)) {
    if (!isFolderFileName(name)) throw new RangeError(`${JSON.stringify(name)} is not a file name`);
    bytes += data.byteLength;
  }
  return bytes;
}

/** The least recently used entries to drop so that the rest fit `limit` (`keep` stays). */
function evictions(entries: CachedModel[], limit: number, keep: string): string[] {
  let total = entries.reduce((s, e) => s + e.bytes, 0);
  const out: string[] = [];
  for (const e of [...entries].sort((a, b) => a.lastUsed - b.lastUsed)) {
    if (total <= limit) break;
    if (e.digest === keep) continue;
    out.push(e.digest);
    total -= e.bytes;
  }
  return out;
}

/** A cache that lives as long as the page (tests, or a browser without storage). */
export class MemoryModelCache implements ModelCache {
  readonly #models = new Map<string, { files: CheckpointFileMap; entry: CachedModel }>();
  #limit: number;

  constructor(
    limit = DEFAULT_MODEL_CACHE_BYTES,
    readonly now: () => number = Date.now,
  ) {
    this.#limit = checkLimit(limit);
  }

  async get(digest: string) {
    const m = this.#models.get(digest);
    if (m) m.entry.lastUsed = this.now();
    return m?.files;
  }

  async put(digest: string, files: CheckpointFileMap, name: string) {
    const bytes = sizeOf(files);
    if (bytes > this.#limit) return;
    const entry = { digest, name, bytes, lastUsed: this.now() };
    this.#models.set(digest, { files: { ...files }, entry });
    await this.#evict(digest);
  }

  async list() {
    return [...this.#models.values()].map((m) => ({ ...m.entry }));
  }

  async delete(digest: string) {
    this.#models.delete(digest);
  }

  limit() {
    return this.#limit;
  }

  async setLimit(bytes: number) {
    this.#limit = checkLimit(bytes);
    await this.#evict('');
  }

  async #evict(keep: string) {
    for (const d of evictions(await this.list(), this.#limit, keep)) this.#models.delete(d);
  }
}

/** An index record: the model's entry and its files' names (their bytes live in OPFS). */
interface StoredModel extends CachedModel {
  files: string[];
}

interface ModelDB extends DBSchema {
  models: { key: string; value: StoredModel };
  settings: { key: string; value: number };
}

/** The cache's IndexedDB schema version (see BrowserModelCache.open's upgrade steps). */
export const MODEL_DB_VERSION = 2;

/**
 * Models in the browser: each checkpoint's files in the origin private file system under
 * `models/<digest>/<path>`, and an IndexedDB index (database `tessel-models`) of what is there,
 * when it was last used, and the limit.
 *
 * Schema versions: 1 (before issue 23) held one record per model with its old-format config and
 * safetensors bytes in IndexedDB itself; nothing reads that format any more, so the upgrade to 2
 * drops those records (a model is fetched again when a job needs it). 2: `models` (index records
 * keyed by digest) and `settings` (the limit).
 */
export class BrowserModelCache implements ModelCache {
  #limit: number;

  private constructor(
    readonly db: IDBPDatabase<ModelDB>,
    readonly root: FileSystemDirectoryHandle,
    limit: number,
  ) {
    this.#limit = limit;
  }

  /**
   * Opens the cache; rejects where the browser has no OPFS or IndexedDB (use the memory one).
   * `dir`: where the files go instead of OPFS's `models/` (Node tests, which have no OPFS).
   */
  static async open(
    name = 'tessel-models',
    dir?: FileSystemDirectoryHandle,
  ): Promise<BrowserModelCache> {
    const root =
      dir ??
      (await (
        await navigator.storage.getDirectory()
      ).getDirectoryHandle('models', { create: true }));
    const db: IDBPDatabase<ModelDB> = await openDB<ModelDB>(name, MODEL_DB_VERSION, {
      upgrade(d, oldVersion) {
        // 1 → 2: the old records (config + safetensors in IndexedDB) are dropped.
        if (oldVersion >= 1) d.deleteObjectStore('models' as never);
        d.createObjectStore('models', { keyPath: 'digest' });
        d.createObjectStore('settings');
      },
      // A newer tab wants to upgrade the schema: let it, rather than block it.
      blocking() {
        db.close();
      },
    });
    const stored = await db.get('settings', 'limit');
    const limit = typeof stored === 'number' && stored >= 0 ? stored : DEFAULT_MODEL_CACHE_BYTES;
    return new BrowserModelCache(db, root, limit);
  }

  async get(digest: string): Promise<CheckpointFileMap | undefined> {
    const r = await this.db.get('models', digest);
    if (!r || !Array.isArray(r.files)) return undefined;
    try {
      const dir = await this.root.getDirectoryHandle(digest);
      const files: CheckpointFileMap = {};
      for (const path of r.files) {
        if (typeof path !== 'string' || !isFolderFileName(path)) throw new RangeError('bad index');
        const file = await (await fileHandle(dir, path, false)).getFile();
        files[path] = new Uint8Array(await file.arrayBuffer());
      }
      await this.db.put('models', { ...r, lastUsed: Date.now() });
      return files;
    } catch {
      // A file went missing (the user cleared site data in part): the record is dropped.
      await this.delete(digest);
      return undefined;
    }
  }

  async put(digest: string, files: CheckpointFileMap, name: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(digest)) throw new RangeError('a model digest is 64 hex digits');
    const bytes = sizeOf(files);
    if (bytes > this.#limit) return;
    await this.root.removeEntry(digest, { recursive: true }).catch(() => {});
    const dir = await this.root.getDirectoryHandle(digest, { create: true });
    for (const [path, data] of Object.entries(files)) {
      const w = await (await fileHandle(dir, path, true)).createWritable();
      await w.write(data as Uint8Array<ArrayBuffer>);
      await w.close();
    }
    // The index names the model only once every file is written.
    const record = { digest, name, bytes, lastUsed: Date.now(), files: Object.keys(files) };
    await this.db.put('models', record);
    await this.#evict(digest);
  }

  async list(): Promise<CachedModel[]> {
    return (await this.db.getAll('models')).map(({ digest, name, bytes, lastUsed }) => ({
      digest,
      name,
      bytes,
      lastUsed,
    }));
  }

  async delete(digest: string): Promise<void> {
    await this.db.delete('models', digest);
    await this.root.removeEntry(digest, { recursive: true }).catch(() => {});
  }

  limit(): number {
    return this.#limit;
  }

  async setLimit(bytes: number): Promise<void> {
    this.#limit = checkLimit(bytes);
    await this.db.put('settings', this.#limit, 'limit');
    await this.#evict('');
  }

  async #evict(keep: string) {
    for (const d of evictions(await this.list(), this.#limit, keep)) await this.delete(d);
  }
}

/** The handle of `path` ('/'-separated, checked by isSafeName) under `dir`. */
async function fileHandle(
  dir: FileSystemDirectoryHandle,
  path: string,
  create: boolean,
): Promise<FileSystemFileHandle> {
  const parts = path.split('/');
  let d = dir;
  for (const p of parts.slice(0, -1)) d = await d.getDirectoryHandle(p, { create });
  return d.getFileHandle(parts.at(-1)!, { create });
}
