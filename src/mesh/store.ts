import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { PeerRecord } from '../jobs/reputation';

/** A submitted matmul job as kept in IndexedDB: everything needed to resume it after a reload. */
export interface StoredJob {
  id: string;
  m: number;
  k: number;
  n: number;
  a: ArrayBuffer; // f32, m×k
  b: ArrayBuffer; // f32, k×n
  blockRows: number;
  blockCols: number;
  createdAt: number; // ms since the epoch
  finished: boolean;
}

interface OwnerDB extends DBSchema {
  jobs: { key: string; value: StoredJob };
  /** Verified blocks of C, keyed [jobId, shardId]. */
  results: { key: [string, number]; value: { jobId: string; shardId: number; c: ArrayBuffer } };
  reputation: { key: string; value: PeerRecord };
}

/**
 * The researcher's durable state (database `tessel-owner`): its jobs, every verified block, and
 * what it learned about peers. Writes happen before a contributor is told its result was
 * accepted, so a reload never loses an accepted shard, and never pays for one twice.
 */
export class OwnerStore {
  private constructor(readonly db: IDBPDatabase<OwnerDB>) {}

  static async open(name = 'tessel-owner'): Promise<OwnerStore> {
    const db = await openDB<OwnerDB>(name, 1, {
      upgrade(d) {
        d.createObjectStore('jobs', { keyPath: 'id' });
        d.createObjectStore('results', { keyPath: ['jobId', 'shardId'] });
        d.createObjectStore('reputation');
      },
    });
    return new OwnerStore(db);
  }

  putJob(job: StoredJob): Promise<string> {
    return this.db.put('jobs', job);
  }

  async finishJob(id: string): Promise<void> {
    const job = await this.db.get('jobs', id);
    if (job) await this.db.put('jobs', { ...job, finished: true });
  }

  /** Unfinished jobs; a record that fails validation is skipped with a warning, not resumed. */
  async unfinishedJobs(): Promise<StoredJob[]> {
    const out: StoredJob[] = [];
    for (const raw of await this.db.getAll('jobs')) {
      const problem = checkStoredJob(raw);
      if (problem)
        console.warn(`tessel: stored job ${String(raw?.id)} is unusable (${problem}); skipped`);
      else if (!raw.finished) out.push(raw);
    }
    return out;
  }

  putResult(jobId: string, shardId: number, c: Float32Array): Promise<[string, number]> {
    // A copy: the caller's array may be a view into a network frame.
    return this.db.put('results', { jobId, shardId, c: c.slice().buffer });
  }

  results(jobId: string): Promise<{ jobId: string; shardId: number; c: ArrayBuffer }[]> {
    return this.db.getAll(
      'results',
      IDBKeyRange.bound([jobId, 0], [jobId, Number.MAX_SAFE_INTEGER]),
    );
  }

  putPeer(peer: string, record: PeerRecord): Promise<string> {
    return this.db.put('reputation', record, peer);
  }

  async peers(): Promise<[string, PeerRecord][]> {
    const tx = this.db.transaction('reputation');
    const out: [string, PeerRecord][] = [];
    for await (const cursor of tx.store) out.push([cursor.key, cursor.value]);
    return out;
  }
}

/**
 * Why a job record read back from IndexedDB cannot be resumed (another version of tessel, a
 * browser extension or disk corruption may have written it), or undefined when it is sound.
 */
export function checkStoredJob(j: unknown): string | undefined {
  if (typeof j !== 'object' || j === null) return 'not an object';
  const r = j as Record<string, unknown>;
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(r.id)) return 'bad id';
  for (const f of ['m', 'k', 'n', 'blockRows', 'blockCols'] as const) {
    const v = r[f];
    if (!Number.isSafeInteger(v) || (v as number) < 1 || (v as number) > 65_536) return `bad ${f}`;
  }
  const { m, k, n } = r as { m: number; k: number; n: number };
  if (!(r.a instanceof ArrayBuffer) || r.a.byteLength !== m * k * 4) return 'A does not match m×k';
  if (!(r.b instanceof ArrayBuffer) || r.b.byteLength !== k * n * 4) return 'B does not match k×n';
  if (typeof r.finished !== 'boolean' || !Number.isFinite(r.createdAt)) return 'bad flags';
  return undefined;
}
