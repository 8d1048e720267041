import {
  type DBSchema,
  type IDBPDatabase,
  type IDBPTransaction,
  openDB,
  type StoreNames,
} from 'idb';
import { decodeOutput, encodeOutput, type Output, WorkError } from '../jobs/codec';
import type { JobProgress, VerificationReport } from '../jobs/job';
import { checkJobSpec, describeJob, holdsAnswer, type JobSpec } from '../jobs/kinds';
import { planBlocks } from '../jobs/matmul-job';
import { MAX_TRUST_RECORDS, type TrustRecord } from '../jobs/owner-trust';
import type { PeerRecord } from '../jobs/reputation';
import type { JobTerms } from '../jobs/terms';
import { notice } from '../log/log';
import { decodeShardMsg, encodeShardMsg, type VerdictMsg } from './codec';
import type { HistoryRecord } from './job-history';
import type { DurableSettlement } from './shard-owner';

/** A submitted job as kept in IndexedDB: everything needed to resume it after a reload. */
export interface StoredJob {
  id: string;
  kind: JobSpec['kind'];
  spec: JobSpec['spec'];
  createdAt: number; // ms since the epoch
  finished: boolean;
  /** What the job pays (absent on jobs stored before the market: the default terms). */
  terms?: JobTerms;
  /** Shards split into smaller ones, in order (src/jobs/shard-size.ts): replayed on resume so
   * the shard ids of kept results mean the same blocks. */
  splits?: number[];
  /** How a finished job ended, when, and what it showed then (its history entry). Absent on
   * jobs finished before history was kept: they read as done when every shard is kept. */
  ended?: JobEnding;
}

/** A finished or cancelled job's last state, kept for its history entry. */
export interface JobEnding {
  state: 'done' | 'cancelled';
  at: number; // ms since the epoch
  report: VerificationReport;
  progress: JobProgress;
  /** µcredits its receipts paid. */
  spent: number;
}

/** A verified shard's output, encoded as it travels (so it is read back through the codec). */
interface StoredResult {
  jobId: string;
  shardId: number;
  output: ArrayBuffer;
}

interface OwnerDB extends DBSchema {
  jobs: { key: string; value: StoredJob };
  /** Verified shard outputs, keyed [jobId, shardId]. */
  results: { key: [string, number]; value: StoredResult };
  /** What this owner learned of each peer, oldest-seen first by the `seenAt` index (v3). */
  reputation: { key: string; value: PeerRecord; indexes: { seenAt: number } };
  /** Verdicts decided but not yet written to their contributor, keyed by lease id. */
  outbox: { key: string; value: { peer: string; frame: ArrayBuffer } };
  /** Who this owner's own checks proved or caught (v4), oldest change first by `changedAt`. */
  trust: { key: string; value: StoredTrust; indexes: { changedAt: number } };
}

/** A contributor's record in the owner's trust (src/jobs/owner-trust.ts), dated. */
interface StoredTrust extends TrustRecord {
  changedAt: number; // ms since the epoch
}

/**
 * Schema versions: 1 held matmul jobs only (A, B and blocks of C); 2 holds jobs of any kind and
 * an outbox of verdicts not yet delivered; 3 dates peer records (`seenAt`, indexed) so the store
 * keeps the MAX_PEERS_KEPT most recently seen: ids are free, and every one that misbehaves
 * would otherwise leave a record for ever; 4 keeps the owner's trust (who its own checks proved
 * or caught), so a reload neither forgets a caught cheat nor makes every peer prove itself again.
 */
export const OWNER_DB_VERSION = 4;

/** Peer records kept in the owner's store. */
export const MAX_PEERS_KEPT = 10_000;

/**
 * The researcher's durable state (database `tessel-owner`): its jobs, every verified shard, and
 * what it learned about peers. Writes happen before a contributor is told its result was
 * accepted, so a reload never loses an accepted shard, and never pays for one twice.
 */
export class OwnerStore {
  private constructor(readonly db: IDBPDatabase<OwnerDB>) {}

  static async open(name = 'tessel-owner'): Promise<OwnerStore> {
    const db = await openDB<OwnerDB>(name, OWNER_DB_VERSION, {
      async upgrade(d, oldVersion, _new, tx) {
        if (oldVersion < 1) {
          d.createObjectStore('jobs', { keyPath: 'id' });
          d.createObjectStore('results', { keyPath: ['jobId', 'shardId'] });
          d.createObjectStore('reputation');
        }
        if (oldVersion < 2) d.createObjectStore('outbox');
        if (oldVersion >= 1 && oldVersion < 2) await upgradeToKinds(tx);
        if (oldVersion < 3) {
          const peers = tx.objectStore('reputation');
          // Records from before are dated 0: the first to go when the store is full.
          for (let c = await peers.openCursor(); c; c = await c.continue()) {
            if (typeof c.value.seenAt !== 'number') await c.update({ ...c.value, seenAt: 0 });
          }
          peers.createIndex('seenAt', 'seenAt');
        }
        if (oldVersion < 4) d.createObjectStore('trust').createIndex('changedAt', 'changedAt');
      },
      // A newer tab wants to upgrade the schema: let it, rather than block it.
      blocking() {
        db.close();
      },
    });
    return new OwnerStore(db);
  }

  job(id: string): Promise<StoredJob | undefined> {
    return this.db.get('jobs', id);
  }

  putJob(job: StoredJob): Promise<string> {
    return this.db.put('jobs', job);
  }

  /** Marks a job finished (it is not resumed again) and keeps how it ended for its history. */
  async finishJob(id: string, ended?: JobEnding): Promise<void> {
    const job = await this.db.get('jobs', id);
    if (job) await this.db.put('jobs', { ...job, finished: true, ...(ended ? { ended } : {}) });
  }

  /** Records a job's shard splits (see StoredJob.splits). */
  async putSplits(id: string, splits: number[]): Promise<void> {
    const job = await this.db.get('jobs', id);
    if (job) await this.db.put('jobs', { ...job, splits: [...splits] });
  }

  /** Deletes a job and every output kept for it, in one transaction (the researcher's Delete). */
  async deleteJob(id: string): Promise<void> {
    const tx = this.db.transaction(['jobs', 'results'], 'readwrite');
    await Promise.all([
      tx.objectStore('jobs').delete(id),
      tx.objectStore('results').delete(IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER])),
      tx.done,
    ]);
  }

  /** Finished and cancelled jobs, newest first, without their inputs (what the history lists);
   * a record that fails validation is skipped with a warning. */
  async finishedJobs(): Promise<HistoryRecord[]> {
    const out: HistoryRecord[] = [];
    for (let c = await this.db.transaction('jobs').store.openCursor(); c; c = await c.continue()) {
      const raw = c.value;
      if (!raw?.finished) continue;
      const checked = checkStoredJob(raw);
      if (typeof checked === 'string') {
        notice(`stored job ${String(raw?.id)} is unusable (${checked}); skipped`);
        continue;
      }
      const {
        spec: _,
        a: _a,
        b: _b,
        ...meta
      } = checked as typeof checked & { a?: unknown; b?: unknown };
      out.push({ ...meta, summary: describeJob(checked) });
    }
    return out.sort((x, y) => (y.ended?.at ?? y.createdAt) - (x.ended?.at ?? x.createdAt));
  }

  /** Unfinished jobs; a record that fails validation is skipped with a warning, not resumed. */
  async unfinishedJobs(): Promise<(StoredJob & JobSpec)[]> {
    const out: (StoredJob & JobSpec)[] = [];
    for (const raw of await this.db.getAll('jobs')) {
      const checked = checkStoredJob(raw);
      if (typeof checked === 'string') {
        notice(`stored job ${String(raw?.id)} is unusable (${checked}); skipped`);
      } else if (!raw.finished) {
        out.push(checked);
      }
    }
    return out;
  }

  /**
   * Keeps a settlement in one transaction: the shard's verified output (if it became final), the
   * verdicts owed to contributors, and the removal of outputs reopened because a caught
   * contributor had a part in them, so a reload keeps all or none.
   */
  async settle(jobId: string, s: DurableSettlement): Promise<void> {
    // Everything is encoded first: a failure then leaves nothing half written.
    const output = s.shard && encodeOutput(s.shard.output).slice().buffer;
    const owed = s.verdicts.map(({ peer, msg }) => ({
      key: msg.leaseId,
      value: { peer, frame: encodeShardMsg(msg).slice().buffer },
    }));
    // `strict`: on disk before any contributor hears its verdict, even if the tab is killed.
    const tx = this.db.transaction(['results', 'outbox'], 'readwrite', { durability: 'strict' });
    await Promise.all([
      ...(s.reopened ?? []).map((shardId) => tx.objectStore('results').delete([jobId, shardId])),
      ...(s.shard && output
        ? [tx.objectStore('results').put({ jobId, shardId: s.shard.shardId, output })]
        : []),
      ...owed.map((o) => tx.objectStore('outbox').put(o.value, o.key)),
      tx.done,
    ]);
  }

  /** A job's verified outputs; a record that fails the codec is skipped (recomputed later). */
  async results(jobId: string): Promise<{ shardId: number; output: Output }[]> {
    const rows = await this.db.getAll(
      'results',
      IDBKeyRange.bound([jobId, 0], [jobId, Number.MAX_SAFE_INTEGER]),
    );
    const out: { shardId: number; output: Output }[] = [];
    for (const r of rows) {
      try {
        if (!(r.output instanceof ArrayBuffer)) throw new WorkError('output', 'not bytes');
        out.push({ shardId: r.shardId, output: decodeOutput(new Uint8Array(r.output)) });
      } catch (e) {
        notice(`stored shard ${r.shardId} of ${jobId} is unusable: ${e}`);
      }
    }
    return out;
  }

  /** A job's verified shards to restore it from: with their outputs when the job holds its
   * answer in memory, by id alone when it does not (a data-set job, kinds.ts holdsAnswer). */
  async kept(js: StoredJob & JobSpec): Promise<{ shardId: number; output?: Output }[]> {
    if (holdsAnswer(js)) return this.results(js.id);
    return (await this.resultIds(js.id)).map((shardId) => ({ shardId }));
  }

  /** Ids of a job's verified shards, without reading their outputs (a data-set job's can
   * be gigabytes). */
  async resultIds(jobId: string): Promise<number[]> {
    const keys = await this.db.getAllKeys(
      'results',
      IDBKeyRange.bound([jobId, 0], [jobId, Number.MAX_SAFE_INTEGER]),
    );
    return keys.map((k) => (k as [string, number])[1]);
  }

  /** One verified shard's output; undefined when none is kept. Throws WorkError for a record
   * that fails the codec. */
  async result(jobId: string, shardId: number): Promise<Output | undefined> {
    const r = await this.db.get('results', [jobId, shardId]);
    if (!r) return undefined;
    if (!(r.output instanceof ArrayBuffer)) throw new WorkError('output', 'not bytes');
    return decodeOutput(new Uint8Array(r.output));
  }

  async deleteVerdict(leaseId: string): Promise<void> {
    await this.db.delete('outbox', leaseId);
  }

  /** Verdicts still owed to contributors; a record that fails the codec is dropped. */
  async verdicts(): Promise<[string, VerdictMsg][]> {
    const out: [string, VerdictMsg][] = [];
    for (const r of await this.db.getAll('outbox')) {
      try {
        const msg = decodeShardMsg(new Uint8Array(r.frame));
        if (msg.type === 'verdict' && typeof r.peer === 'string') out.push([r.peer, msg]);
      } catch (e) {
        notice(`a stored verdict is unusable: ${e}`);
      }
    }
    return out;
  }

  /** Keeps a peer's record; beyond MAX_PEERS_KEPT the longest unseen records go. */
  async putPeer(peer: string, record: PeerRecord, maxKept = MAX_PEERS_KEPT): Promise<void> {
    const tx = this.db.transaction('reputation', 'readwrite');
    await tx.store.put(record, peer);
    let extra = (await tx.store.count()) - maxKept;
    for (let c = await tx.store.index('seenAt').openCursor(); c && extra > 0; extra--) {
      await c.delete();
      c = await c.continue();
    }
    await tx.done;
  }

  /** Keeps a contributor's trust record; beyond `maxKept` the longest unchanged go. */
  async putTrust(peer: string, record: TrustRecord, maxKept = MAX_TRUST_RECORDS): Promise<void> {
    const tx = this.db.transaction('trust', 'readwrite');
    await tx.store.put(
      { passed: record.passed, caught: record.caught, changedAt: Date.now() },
      peer,
    );
    let extra = (await tx.store.count()) - maxKept;
    for (let c = await tx.store.index('changedAt').openCursor(); c && extra > 0; extra--) {
      await c.delete();
      c = await c.continue();
    }
    await tx.done;
  }

  /** The owner's trust records, oldest change first (`OwnerTrust.load` checks each). */
  async trust(): Promise<[string, TrustRecord][]> {
    const out: [string, TrustRecord][] = [];
    const tx = this.db.transaction('trust');
    for await (const c of tx.store.index('changedAt').iterate()) {
      out.push([c.primaryKey, { passed: c.value.passed, caught: c.value.caught }]);
    }
    return out;
  }

  async peers(): Promise<[string, PeerRecord][]> {
    const tx = this.db.transaction('reputation');
    const out: [string, PeerRecord][] = [];
    for await (const cursor of tx.store) out.push([cursor.key, cursor.value]);
    return out;
  }

  close(): void {
    this.db.close();
  }
}

/**
 * Why a job record read back from IndexedDB cannot be resumed (another version of tessel, a
 * browser extension or disk corruption may have written it), or the record, checked.
 */
export function checkStoredJob(j: unknown): (StoredJob & JobSpec) | string {
  if (typeof j !== 'object' || j === null) return 'not an object';
  const r = j as Record<string, unknown>;
  if (typeof r.id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(r.id)) return 'bad id';
  if (typeof r.finished !== 'boolean' || !Number.isFinite(r.createdAt)) return 'bad flags';
  if (r.splits !== undefined && !isIdList(r.splits)) return 'bad splits';
  if (r.ended !== undefined && !isEnding(r.ended)) return 'bad ending';
  try {
    return { ...(r as unknown as StoredJob), ...checkJobSpec(r.kind, r.spec) };
  } catch (e) {
    return (e as Error).message;
  }
}

function isIdList(v: unknown): v is number[] {
  return Array.isArray(v) && v.length <= 1e6 && v.every((x) => Number.isSafeInteger(x) && x >= 0);
}

/** A kept ending is shown as it is: its numbers must at least be numbers. */
function isEnding(v: unknown): v is JobEnding {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  const numbers = (o: unknown) =>
    typeof o === 'object' &&
    o !== null &&
    Object.values(o).every((x) => typeof x !== 'number' || !Number.isNaN(x));
  return (
    (e.state === 'done' || e.state === 'cancelled') &&
    Number.isFinite(e.at) &&
    Number.isFinite(e.spent) &&
    numbers(e.report) &&
    numbers(e.progress) &&
    Number.isSafeInteger((e.progress as JobProgress).verified) &&
    Number.isSafeInteger((e.progress as JobProgress).shards)
  );
}

/**
 * Version 1 → 2: a matmul job's fields move into a kind-tagged spec, and each verified block of
 * C becomes an encoded matmul Output (its shape from the job's block plan). Records that are
 * not sound version-1 jobs are left as they were, and skipped with a warning when read.
 */
async function upgradeToKinds(
  tx: IDBPTransaction<OwnerDB, StoreNames<OwnerDB>[], 'versionchange'>,
) {
  const jobs = tx.objectStore('jobs');
  const blocks = new Map<string, { rows: number; cols: number }[]>();
  for (let c = await jobs.openCursor(); c; c = await c.continue()) {
    const v1 = c.value as unknown as Record<string, unknown>;
    if ('kind' in v1) continue;
    const { id, m, k, n, a, b, blockRows, blockCols, createdAt, finished } = v1 as {
      id: string;
      m: number;
      k: number;
      n: number;
      a: unknown;
      b: unknown;
      blockRows: number;
      blockCols: number;
      createdAt: number;
      finished: boolean;
    };
    if (!(a instanceof ArrayBuffer) || !(b instanceof ArrayBuffer)) continue;
    const spec = {
      m,
      k,
      n,
      a: new Float32Array(a),
      b: new Float32Array(b),
      blockRows,
      blockCols,
    };
    try {
      checkJobSpec('matmul', spec);
    } catch {
      continue;
    }
    blocks.set(id, planBlocks(m, n, blockRows, blockCols));
    await c.update({ id, kind: 'matmul', spec, createdAt, finished });
  }
  const results = tx.objectStore('results');
  for (let c = await results.openCursor(); c; c = await c.continue()) {
    const v1 = c.value as unknown as { jobId: string; shardId: number; c?: unknown };
    const block = blocks.get(v1.jobId)?.[v1.shardId];
    if (
      !block ||
      !(v1.c instanceof ArrayBuffer) ||
      v1.c.byteLength !== block.rows * block.cols * 4
    ) {
      continue;
    }
    const output = encodeOutput({
      kind: 'matmul',
      rows: block.rows,
      cols: block.cols,
      c: new Float32Array(v1.c),
    });
    await c.update({ jobId: v1.jobId, shardId: v1.shardId, output: output.slice().buffer });
  }
}
