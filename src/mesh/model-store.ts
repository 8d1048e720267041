import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { ModelBundle } from './model-transfer';

/** Models kept by content digest, so the next job on the same model moves nothing. */
export interface ModelCache {
  get(digest: string): Promise<ModelBundle | undefined>;
  put(digest: string, model: ModelBundle): Promise<void>;
}

/** A cache that lives as long as the page (tests, or a browser without IndexedDB). */
export class MemoryModelCache implements ModelCache {
  readonly #models = new Map<string, ModelBundle>();
  async get(digest: string) {
    return this.#models.get(digest);
  }
  async put(digest: string, model: ModelBundle) {
    this.#models.set(digest, model);
  }
}

interface StoredModel {
  digest: string;
  config: string; // canonical JSON
  file: ArrayBuffer; // safetensors
  storedAt: number; // ms since the epoch
}

interface ModelDB extends DBSchema {
  models: { key: string; value: StoredModel };
}

/**
 * Models in IndexedDB (database `tessel-models`, schema version 1: one store keyed by digest).
 * A record is only a hint: whoever reads one re-checks its digest before anything runs it.
 */
export class IdbModelCache implements ModelCache {
  private constructor(readonly db: IDBPDatabase<ModelDB>) {}

  static async open(name = 'tessel-models'): Promise<IdbModelCache> {
    const db = await openDB<ModelDB>(name, 1, {
      upgrade(d, oldVersion) {
        // Version 1: the models store.
        if (oldVersion < 1) d.createObjectStore('models', { keyPath: 'digest' });
      },
      // A newer tab wants to upgrade the schema: let it, rather than block it.
      blocking() {
        db.close();
      },
    });
    return new IdbModelCache(db);
  }

  async get(digest: string): Promise<ModelBundle | undefined> {
    const r: unknown = await this.db.get('models', digest);
    const m = r as Partial<StoredModel> | undefined;
    if (!m || typeof m.config !== 'string' || !(m.file instanceof ArrayBuffer)) return undefined;
    return { config: m.config, file: new Uint8Array(m.file) };
  }

  async put(digest: string, model: ModelBundle): Promise<void> {
    await this.db.put('models', {
      digest,
      config: model.config,
      file: model.file.slice().buffer,
      storedAt: Date.now(),
    });
  }
}
