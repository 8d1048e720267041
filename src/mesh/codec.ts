import type { Uint8ArrayList } from 'uint8arraylist';
import {
  decodeOutput,
  decodeWork,
  type Output,
  outputBytes,
  type Work,
  WorkError,
  workBytes,
} from '../jobs/codec';
import { errorText, finite, id, int, line, text } from '../wire/fields';
import { WireError } from '../wire/wire-error';
import {
  type Failure,
  type Lease,
  type NoWork,
  type Result,
  ShardFrame,
  type Verdict,
  type WorkRequest,
} from './pb/wire';
import { one, version, WIRE_VERSION } from './wire-version';

export { WireError, type WireErrorCode } from '../wire/wire-error';
export * from './announcement-codec';
export * from './model-codec';
export { WIRE_VERSION } from './wire-version';

/**
 * The one entry point for decoding everything that arrives from the network: the shard
 * protocol's frames here, model frames (model-codec.ts) and job announcements
 * (announcement-codec.ts) re-exported. Every field, length and shape is checked in these files
 * (kind-specific bodies by src/jobs/codec.ts, called from here); the rest of the code only
 * ever sees the validated types, and imports them from this module.
 */

/** Largest frame accepted on the shard protocol: a 64 MiB shard plus its header. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 4096;
/** Largest receipt a verdict may carry: a bundle of the receipt, a checkpoint and a proof. */
export const MAX_RECEIPT_BYTES = 16 * 1024;
/** Longest reason a NoWork frame may give (characters, one line). */
export const MAX_REASON_CHARS = 200;
/**
 * Any text as a valid NoWork reason: control and bidirectional-override characters become
 * spaces, whitespace runs one space, and it is cut to MAX_REASON_CHARS (never inside a
 * surrogate pair), so an owner can pass on a verdict's words without the frame being refused.
 */
export function clipReason(s: string): string {
  const clean = s
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it replaces
    .replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, ' ')
    .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd')
    .replace(/\s+/g, ' ')
    .trim();
  if (clean.length <= MAX_REASON_CHARS) return clean;
  const cut = MAX_REASON_CHARS - 1;
  const end = /[\ud800-\udbff]/.test(clean[cut - 1]!) ? cut - 1 : cut;
  return `${clean.slice(0, end)}…`;
}

// ---- validated message types ----------------------------------------------------------------

export interface WorkRequestMsg {
  type: 'work-request';
  jobId: string;
  maxBufferBytes: number;
  gflops: number;
  adapter: string;
}
export interface LeaseMsg {
  type: 'lease';
  jobId: string;
  shardId: number;
  leaseId: string;
  deadlineMs: number;
  heartbeatMs: number;
  /** The lease's whole life from now (ms), heartbeats or not: a contributor still computing
   * then abandons the shard. 0 when the owner did not say (an older owner). */
  lifetimeMs: number;
  work: Work;
}
export interface NoWorkMsg {
  type: 'no-work';
  jobId: string;
  retryAfterMs: number;
  /** Stop asking: the job is complete, or over for this contributor (see `reason`). */
  finished: boolean;
  /** Why, when there is more to say (e.g. "quarantined by this owner: …"): one line of at
   * most MAX_REASON_CHARS characters; absent when the owner gave none. */
  reason?: string;
}
export interface HeartbeatMsg {
  type: 'heartbeat';
  leaseId: string;
}
export interface ResultMsg {
  type: 'result';
  jobId: string;
  leaseId: string;
  output: Output;
  computeMs: number;
}
export interface VerdictMsg {
  type: 'verdict';
  leaseId: string;
  jobId: string;
  shardId: number;
  accepted: boolean;
  reason: string;
  /** An encoded ReceiptBundle (receipt, checkpoint, inclusion proof) when accepted; else empty. */
  receipt: Uint8Array;
  /** Not accepted, yet no fault: another copy of the shard was settled first. */
  stale?: boolean;
}
export interface FailureMsg {
  type: 'failure';
  leaseId: string;
  code: string;
  message: string;
}
export type ShardMsg =
  | WorkRequestMsg
  | LeaseMsg
  | NoWorkMsg
  | HeartbeatMsg
  | ResultMsg
  | VerdictMsg
  | FailureMsg;

/** Encodes a shard-protocol message (after checking it as the decoder would). */
export function encodeShardMsg(msg: ShardMsg): Uint8Array {
  const bytes = ShardFrame.encode(toFrame(msg));
  if (bytes.length > MAX_FRAME_BYTES) {
    throw new WireError('too-large', `frame of ${bytes.length} bytes exceeds ${MAX_FRAME_BYTES}`);
  }
  decodeShardMsg(bytes); // never send what a peer would reject
  return bytes;
}

function toFrame(msg: ShardMsg): ShardFrame {
  const f: ShardFrame = { version: WIRE_VERSION };
  switch (msg.type) {
    case 'work-request':
      f.workRequest = msg;
      break;
    case 'lease':
      // Unchecked here: encodeShardMsg checks the whole frame, nested body included.
      f.lease = { ...msg, work: workBytes(msg.work) };
      break;
    case 'no-work':
      f.noWork = { ...msg, reason: msg.reason ?? '' };
      break;
    case 'heartbeat':
      f.heartbeat = msg;
      break;
    case 'result':
      f.result = { ...msg, output: outputBytes(msg.output) };
      break;
    case 'verdict':
      f.verdict = { ...msg, stale: msg.stale === true };
      break;
    case 'failure':
      f.failure = msg;
      break;
  }
  return f;
}

/** Decodes and validates one shard-protocol frame. Throws WireError, never anything else. */
export function decodeShardMsg(data: Uint8Array | Uint8ArrayList): ShardMsg {
  if (data.byteLength > MAX_FRAME_BYTES) {
    throw new WireError(
      'too-large',
      `frame of ${data.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`,
    );
  }
  let f: ShardFrame;
  try {
    f = ShardFrame.decode(data, { limits: {} });
  } catch (cause) {
    throw new WireError('malformed', `not a ShardFrame: ${errorText(cause)}`, undefined, { cause });
  }
  version(f.version);
  one([f.workRequest, f.lease, f.noWork, f.heartbeat, f.result, f.verdict, f.failure]);
  if (f.workRequest) return workRequest(f.workRequest);
  if (f.lease) return lease(f.lease);
  if (f.noWork) return noWork(f.noWork);
  if (f.heartbeat)
    return { type: 'heartbeat', leaseId: id(f.heartbeat.leaseId, 'heartbeat.leaseId') };
  if (f.result) return result(f.result);
  if (f.verdict) return verdict(f.verdict);
  return failure(f.failure!);
}

/**
 * The job id of a version-1 work request (its fields are where version 2 keeps them), so an
 * owner can answer an old contributor "finished" in the old format; undefined for anything else.
 */
export function v1WorkRequestJob(data: Uint8Array | Uint8ArrayList): string | undefined {
  try {
    const f = ShardFrame.decode(data, { limits: {} });
    return f.version === 1 && f.workRequest ? id(f.workRequest.jobId, 'jobId') : undefined;
  } catch {
    return undefined;
  }
}

/** A version-1 "no work, the job is finished" frame: what an old contributor stops on. */
export function v1Finished(jobId: string): Uint8Array {
  // Version 1 kept NoWork in the same field with the same layout.
  return ShardFrame.encode({
    version: 1,
    noWork: { jobId, retryAfterMs: 0, finished: true, reason: '' },
  });
}

function workRequest(w: WorkRequest): WorkRequestMsg {
  const maxBufferBytes = w.maxBufferBytes;
  if (!Number.isSafeInteger(maxBufferBytes) || maxBufferBytes < 1024) {
    throw new WireError(
      'invalid-field',
      'maxBufferBytes must be ≥ 1 KiB',
      'workRequest.maxBufferBytes',
    );
  }
  return {
    type: 'work-request',
    jobId: id(w.jobId, 'workRequest.jobId'),
    maxBufferBytes,
    gflops: finite(w.gflops, 0, 1e6, 'workRequest.gflops'),
    adapter: text(w.adapter, 128, 'workRequest.adapter'),
  };
}

/** A kind body that failed the jobs codec becomes a WireError naming the field in the frame. */
function body<T>(decode: (b: Uint8Array) => T, bytes: Uint8Array, at: string): T {
  try {
    return decode(bytes);
  } catch (e) {
    if (e instanceof WorkError) {
      throw new WireError('invalid-field', e.message, `${at}.${e.field}`, { cause: e });
    }
    throw e;
  }
}

function lease(l: Lease): LeaseMsg {
  const deadlineMs = int(l.deadlineMs, 1_000, 3_600_000, 'lease.deadlineMs');
  return {
    type: 'lease',
    jobId: id(l.jobId, 'lease.jobId'),
    shardId: int(l.shardId, 0, 1_000_000, 'lease.shardId'),
    leaseId: id(l.leaseId, 'lease.leaseId'),
    deadlineMs,
    heartbeatMs: int(l.heartbeatMs, 100, deadlineMs, 'lease.heartbeatMs'),
    lifetimeMs:
      l.lifetimeMs === 0 ? 0 : int(l.lifetimeMs, deadlineMs, 86_400_000, 'lease.lifetimeMs'),
    work: body(decodeWork, l.work, 'lease.work'),
  };
}

function noWork(w: NoWork): NoWorkMsg {
  return {
    type: 'no-work',
    jobId: id(w.jobId, 'noWork.jobId'),
    retryAfterMs: int(w.retryAfterMs, 0, 600_000, 'noWork.retryAfterMs'),
    finished: w.finished,
    ...(w.reason !== '' ? { reason: line(w.reason, MAX_REASON_CHARS, 'noWork.reason') } : {}),
  };
}

function result(r: Result): ResultMsg {
  return {
    type: 'result',
    jobId: id(r.jobId, 'result.jobId'),
    leaseId: id(r.leaseId, 'result.leaseId'),
    output: body(decodeOutput, r.output, 'result.output'),
    computeMs: finite(r.computeMs, 0, 86_400_000, 'result.computeMs'),
  };
}

function verdict(v: Verdict): VerdictMsg {
  if (v.receipt.byteLength > MAX_RECEIPT_BYTES) {
    throw new WireError('invalid-field', 'receipt too long', 'verdict.receipt');
  }
  if (!v.accepted && v.receipt.byteLength > 0) {
    throw new WireError('invalid-field', 'a rejected result gets no receipt', 'verdict.receipt');
  }
  return {
    type: 'verdict',
    leaseId: id(v.leaseId, 'verdict.leaseId'),
    jobId: id(v.jobId, 'verdict.jobId'),
    shardId: int(v.shardId, 0, 1_000_000, 'verdict.shardId'),
    accepted: v.accepted,
    reason: text(v.reason, 200, 'verdict.reason'),
    receipt: v.receipt,
    ...(v.stale && !v.accepted ? { stale: true } : {}),
  };
}

function failure(f: Failure): FailureMsg {
  return {
    type: 'failure',
    leaseId: id(f.leaseId, 'failure.leaseId'),
    code: text(f.code, 64, 'failure.code'),
    message: text(f.message, 500, 'failure.message'),
  };
}
