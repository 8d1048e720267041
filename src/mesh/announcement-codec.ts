import type { JobKind } from '../jobs/codec';
import { isJobKind } from '../jobs/kinds';
import { digest, errorText, finite, id, int, peerId } from '../wire/fields';
import { WireError } from '../wire/wire-error';
import { MAX_MODEL_BYTES } from './model-codec';
import { JobAnnouncement } from './pb/wire';
import { version, WIRE_VERSION } from './wire-version';

/** Job announcements on the jobs topic, validated (src/mesh/codec.ts re-exports them). */

/** Largest announcement accepted on the jobs topic. */
export const MAX_ANNOUNCEMENT_BYTES = 8 * 1024;

export interface AnnouncementMsg {
  jobId: string;
  owner: string;
  kind: JobKind;
  shardCount: number;
  shardsLeft: number;
  kernelDigest: string;
  expiresAt: number; // ms since the epoch
  addrs: string[];
  /** The model the job runs ('' when it runs none), and its size in bytes. */
  modelDigest: string;
  modelBytes: number;
  /** Credits per GFLOP of verified work the job pays, and the work in one shard (GFLOP). */
  price: number;
  shardGflop: number;
  /** The job is over (finished or cancelled): boards drop it at once and forget it. */
  ended?: boolean;
  /** Nothing is leased for now (budget or balance spent); `shardsLeft` still counts what
   * remains, so the progress shown stays the owner's. */
  paused?: boolean;
}

export function encodeAnnouncement(a: AnnouncementMsg): Uint8Array {
  const bytes = JobAnnouncement.encode({
    version: WIRE_VERSION,
    ...a,
    ended: a.ended === true,
    paused: a.paused === true,
  });
  decodeAnnouncement(bytes);
  return bytes;
}

/** Decodes and validates a job announcement. `now` (ms) rejects ones already expired (but
 * for an end). */
export function decodeAnnouncement(data: Uint8Array, now?: number): AnnouncementMsg {
  if (data.byteLength > MAX_ANNOUNCEMENT_BYTES) {
    throw new WireError('too-large', `announcement of ${data.byteLength} bytes`);
  }
  let a: JobAnnouncement;
  try {
    a = JobAnnouncement.decode(data, { limits: { addrs: 16 } });
  } catch (cause) {
    throw new WireError('malformed', `not a JobAnnouncement: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  version(a.version);
  if (!isJobKind(a.kind)) throw new WireError('invalid-field', `unknown job kind`, 'kind');
  const shardCount = int(a.shardCount, 1, 1_000_000, 'shardCount');
  const expiresAt = a.expiresAt;
  if (!Number.isSafeInteger(expiresAt))
    throw new WireError('invalid-field', 'bad expiry', 'expiresAt');
  // An end is taken however late: it only ever takes a job off a board.
  if (now !== undefined && expiresAt <= now && !a.ended) {
    throw new WireError('invalid-field', 'announcement has expired', 'expiresAt');
  }
  digest(a.kernelDigest, 'kernelDigest');
  if (a.modelDigest !== '') digest(a.modelDigest, 'modelDigest');
  const modelBytes = int(a.modelBytes, 0, MAX_MODEL_BYTES, 'modelBytes');
  if ((a.modelDigest === '') !== (modelBytes === 0)) {
    throw new WireError('invalid-field', 'a model has a digest and a size', 'modelBytes');
  }
  peerId(a.owner, 'owner');
  a.addrs.forEach((addr, i) => {
    if (addr.length > 512 || !addr.startsWith('/')) {
      throw new WireError('invalid-field', 'multiaddr expected', `addrs[${i}]`);
    }
  });
  return {
    jobId: id(a.jobId, 'jobId'),
    owner: a.owner,
    kind: a.kind,
    shardCount,
    shardsLeft: int(a.shardsLeft, 0, shardCount, 'shardsLeft'),
    kernelDigest: a.kernelDigest,
    expiresAt,
    addrs: a.addrs,
    modelDigest: a.modelDigest,
    modelBytes,
    price: finite(a.price, 0, 1_000, 'price'),
    shardGflop: finite(a.shardGflop, 0, 1e9, 'shardGflop'),
    ...(a.ended ? { ended: true } : {}),
    ...(a.paused ? { paused: true } : {}),
  };
}
