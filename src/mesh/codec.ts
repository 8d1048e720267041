import type { Uint8ArrayList } from 'uint8arraylist';
import {
  type Failure,
  JobAnnouncement,
  type Lease,
  type NoWork,
  Receipt,
  type Result,
  ShardFrame,
  SignedReceipt,
  type Verdict,
  type WorkRequest,
} from './wire';

/**
 * The one decoder for everything that arrives from the network. Every field, length and shape
 * is checked here; the rest of the code only ever sees the validated types below.
 */

export const WIRE_VERSION = 1;
/** Largest frame accepted on /tessel/shard/1.0.0: a 64 MiB shard plus its header. */
export const MAX_FRAME_BYTES = 64 * 1024 * 1024 + 4096;
/** Largest announcement accepted on the jobs topic. */
export const MAX_ANNOUNCEMENT_BYTES = 8 * 1024;
/** Largest matrix side a shard may have. */
export const MAX_DIM = 16_384;

export type WireErrorCode =
  | 'too-large' // the frame is over its size limit
  | 'malformed' // not a protobuf of the expected message
  | 'bad-version'
  | 'invalid-field'; // a field is missing, out of range, or inconsistent with another

/** A frame that failed validation. `field` names the first offending field. */
export class WireError extends Error {
  override readonly name = 'WireError';
  constructor(
    readonly code: WireErrorCode,
    message: string,
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

// ---- validated message types ----------------------------------------------------------------

export interface WorkRequestMsg {
  type: 'work-request';
  jobId: string;
  maxBufferBytes: number;
  gflops: number;
}
export interface LeaseMsg {
  type: 'lease';
  jobId: string;
  shardId: number;
  leaseId: string;
  deadlineMs: number;
  heartbeatMs: number;
  m: number;
  k: number;
  n: number;
  a: Float32Array;
  b: Float32Array;
}
export interface NoWorkMsg {
  type: 'no-work';
  jobId: string;
  retryAfterMs: number;
  finished: boolean;
}
export interface HeartbeatMsg {
  type: 'heartbeat';
  leaseId: string;
}
export interface ResultMsg {
  type: 'result';
  leaseId: string;
  rows: number;
  cols: number;
  c: Float32Array;
  computeMs: number;
}
export interface VerdictMsg {
  type: 'verdict';
  leaseId: string;
  accepted: boolean;
  reason: string;
  /** An encoded SignedReceipt for an accepted result; empty otherwise. */
  receipt: Uint8Array;
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

export interface AnnouncementMsg {
  jobId: string;
  owner: string;
  kind: 'matmul';
  shardCount: number;
  shardsLeft: number;
  kernelDigest: string;
  expiresAt: number; // ms since the epoch
  addrs: string[];
}

// ---- encoding ---------------------------------------------------------------------------------

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
      f.workRequest = {
        jobId: msg.jobId,
        maxBufferBytes: BigInt(msg.maxBufferBytes),
        gflops: msg.gflops,
      };
      break;
    case 'lease':
      f.lease = { ...msg, a: f32ToBytes(msg.a), b: f32ToBytes(msg.b) };
      break;
    case 'no-work':
      f.noWork = msg;
      break;
    case 'heartbeat':
      f.heartbeat = msg;
      break;
    case 'result':
      f.result = { ...msg, c: f32ToBytes(msg.c) };
      break;
    case 'verdict':
      f.verdict = msg;
      break;
    case 'failure':
      f.failure = msg;
      break;
  }
  return f;
}

export function encodeAnnouncement(a: AnnouncementMsg): Uint8Array {
  const bytes = JobAnnouncement.encode({
    version: WIRE_VERSION,
    ...a,
    expiresAt: BigInt(a.expiresAt),
  });
  decodeAnnouncement(bytes);
  return bytes;
}

// ---- decoding ---------------------------------------------------------------------------------

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
  if (f.version !== WIRE_VERSION) {
    throw new WireError(
      'bad-version',
      `wire version ${f.version}, expected ${WIRE_VERSION}`,
      'version',
    );
  }
  const bodies = [
    f.workRequest,
    f.lease,
    f.noWork,
    f.heartbeat,
    f.result,
    f.verdict,
    f.failure,
  ].filter((b) => b !== undefined);
  if (bodies.length !== 1) {
    throw new WireError(
      'invalid-field',
      `a frame carries exactly one message, got ${bodies.length}`,
    );
  }
  if (f.workRequest) return workRequest(f.workRequest);
  if (f.lease) return lease(f.lease);
  if (f.noWork) return noWork(f.noWork);
  if (f.heartbeat)
    return { type: 'heartbeat', leaseId: id(f.heartbeat.leaseId, 'heartbeat.leaseId') };
  if (f.result) return result(f.result);
  if (f.verdict) return verdict(f.verdict);
  return failure(f.failure!);
}

/** Decodes and validates a job announcement. `now` (ms) rejects ones already expired. */
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
  if (a.version !== WIRE_VERSION) {
    throw new WireError('bad-version', `wire version ${a.version}`, 'version');
  }
  if (a.kind !== 'matmul') throw new WireError('invalid-field', `unknown job kind`, 'kind');
  const shardCount = int(a.shardCount, 1, 1_000_000, 'shardCount');
  const expiresAt = Number(a.expiresAt);
  if (!Number.isSafeInteger(expiresAt))
    throw new WireError('invalid-field', 'bad expiry', 'expiresAt');
  if (now !== undefined && expiresAt <= now) {
    throw new WireError('invalid-field', 'announcement has expired', 'expiresAt');
  }
  if (!/^[0-9a-f]{64}$/.test(a.kernelDigest)) {
    throw new WireError('invalid-field', 'kernel digest must be 64 hex digits', 'kernelDigest');
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
    kind: 'matmul',
    shardCount,
    shardsLeft: int(a.shardsLeft, 0, shardCount, 'shardsLeft'),
    kernelDigest: a.kernelDigest,
    expiresAt,
    addrs: a.addrs,
  };
}

function workRequest(w: WorkRequest): WorkRequestMsg {
  const maxBufferBytes = Number(w.maxBufferBytes);
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
  };
}

function lease(l: Lease): LeaseMsg {
  const m = int(l.m, 1, MAX_DIM, 'lease.m');
  const k = int(l.k, 1, MAX_DIM, 'lease.k');
  const n = int(l.n, 1, MAX_DIM, 'lease.n');
  const deadlineMs = int(l.deadlineMs, 1_000, 3_600_000, 'lease.deadlineMs');
  return {
    type: 'lease',
    jobId: id(l.jobId, 'lease.jobId'),
    shardId: int(l.shardId, 0, 1_000_000, 'lease.shardId'),
    leaseId: id(l.leaseId, 'lease.leaseId'),
    deadlineMs,
    heartbeatMs: int(l.heartbeatMs, 100, deadlineMs, 'lease.heartbeatMs'),
    m,
    k,
    n,
    a: tensor(l.a, m * k, 'lease.a'),
    b: tensor(l.b, k * n, 'lease.b'),
  };
}

function noWork(w: NoWork): NoWorkMsg {
  return {
    type: 'no-work',
    jobId: id(w.jobId, 'noWork.jobId'),
    retryAfterMs: int(w.retryAfterMs, 0, 600_000, 'noWork.retryAfterMs'),
    finished: w.finished,
  };
}

function result(r: Result): ResultMsg {
  const rows = int(r.rows, 1, MAX_DIM, 'result.rows');
  const cols = int(r.cols, 1, MAX_DIM, 'result.cols');
  return {
    type: 'result',
    leaseId: id(r.leaseId, 'result.leaseId'),
    rows,
    cols,
    c: tensor(r.c, rows * cols, 'result.c'),
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
    accepted: v.accepted,
    reason: text(v.reason, 200, 'verdict.reason'),
    receipt: v.receipt,
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

// ---- receipts ---------------------------------------------------------------------------------

export const MAX_RECEIPT_BYTES = 1024;

/** Credit for one verified shard (see src/ledger/receipts.ts for signing and checking). */
export interface ReceiptMsg {
  jobId: string;
  shardId: number;
  owner: string;
  contributor: string;
  flops: number;
  method: 'freivalds' | 'redundancy' | 'spot-check';
  issuedAt: number; // ms since the epoch
}

export function encodeReceipt(r: ReceiptMsg): Uint8Array {
  const bytes = Receipt.encode({ version: WIRE_VERSION, ...r, issuedAt: BigInt(r.issuedAt) });
  decodeReceipt(bytes);
  return bytes;
}

export function decodeReceipt(data: Uint8Array): ReceiptMsg {
  let r: Receipt;
  try {
    r = Receipt.decode(data);
  } catch (cause) {
    throw new WireError('malformed', `not a Receipt: ${errorText(cause)}`, undefined, { cause });
  }
  if (r.version !== WIRE_VERSION) throw new WireError('bad-version', 'receipt version', 'version');
  if (!['freivalds', 'redundancy', 'spot-check'].includes(r.method)) {
    throw new WireError('invalid-field', 'unknown verification method', 'method');
  }
  const issuedAt = Number(r.issuedAt);
  if (!Number.isSafeInteger(issuedAt) || issuedAt <= 0) {
    throw new WireError('invalid-field', 'bad issue time', 'issuedAt');
  }
  return {
    jobId: id(r.jobId, 'jobId'),
    shardId: int(r.shardId, 0, 1_000_000, 'shardId'),
    owner: peerId(r.owner, 'owner'),
    contributor: peerId(r.contributor, 'contributor'),
    flops: finite(r.flops, 0, 1e18, 'flops'),
    method: r.method as ReceiptMsg['method'],
    issuedAt,
  };
}

export function encodeSignedReceipt(receipt: Uint8Array, signature: Uint8Array): Uint8Array {
  return SignedReceipt.encode({ receipt, signature });
}

/** Splits a SignedReceipt into the exact signed bytes, their decoded content and the signature. */
export function decodeSignedReceipt(data: Uint8Array): {
  receipt: ReceiptMsg;
  receiptBytes: Uint8Array;
  signature: Uint8Array;
} {
  if (data.byteLength > MAX_RECEIPT_BYTES) throw new WireError('too-large', 'receipt too long');
  let s: SignedReceipt;
  try {
    s = SignedReceipt.decode(data);
  } catch (cause) {
    throw new WireError('malformed', `not a SignedReceipt: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  if (s.signature.byteLength !== 64) {
    throw new WireError('invalid-field', 'an Ed25519 signature is 64 bytes', 'signature');
  }
  return { receipt: decodeReceipt(s.receipt), receiptBytes: s.receipt, signature: s.signature };
}

// ---- field checks -----------------------------------------------------------------------------

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function id(v: string, field: string): string {
  if (!ID.test(v)) throw new WireError('invalid-field', 'ids are 1-64 of [A-Za-z0-9_-]', field);
  return v;
}

function peerId(v: string, field: string): string {
  if (!/^[1-9A-HJ-NP-Za-km-z]{40,80}$/.test(v)) {
    throw new WireError('invalid-field', 'not a base58 peer id', field);
  }
  return v;
}

function text(v: string, max: number, field: string): string {
  if (v.length > max) throw new WireError('invalid-field', `longer than ${max} characters`, field);
  return v;
}

function int(v: number, min: number, max: number, field: string): number {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new WireError('invalid-field', `must be an integer in [${min}, ${max}], got ${v}`, field);
  }
  return v;
}

function finite(v: number, min: number, max: number, field: string): number {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new WireError('invalid-field', `must be a number in [${min}, ${max}]`, field);
  }
  return v;
}

function tensor(bytes: Uint8Array, elements: number, field: string): Float32Array {
  if (bytes.byteLength !== elements * 4) {
    throw new WireError(
      'invalid-field',
      `expected ${elements} f32 (${elements * 4} bytes), got ${bytes.byteLength} bytes`,
      field,
    );
  }
  return bytesToF32(bytes);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---- tensors: little-endian f32 on the wire ---------------------------------------------------

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a Float32Array (a view, not a copy, on little-endian hosts). */
export function f32ToBytes(f: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
  const out = new Uint8Array(f.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < f.length; i++) dv.setFloat32(i * 4, f[i]!, true);
  return out;
}

/** A fresh, aligned Float32Array from little-endian bytes. */
export function bytesToF32(b: Uint8Array): Float32Array {
  const out = new Float32Array(b.byteLength / 4);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(b);
  } else {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(i * 4, true);
  }
  return out;
}
