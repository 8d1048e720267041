import type { Uint8ArrayList } from 'uint8arraylist';
import { errorText, int } from '../wire/fields';
import type { FrameCodec } from '../wire/framed';
import { WireError } from '../wire/wire-error';
import { CheckpointGossip, LedgerRequest, LedgerResponse } from './pb/ledger';

/** The most queued work one market report may state (GFLOP); more is refused. */
export const MAX_QUEUED_GFLOP = 1e9; // GFLOP

// The ledger's frames: /tessel/ledger/1.0.0 requests and responses, and checkpoint gossip.
// Every decoder validates and throws WireError; nothing else escapes.

export const LEDGER_PROTOCOL = '/tessel/ledger/1.0.0';
export const CHECKPOINTS_TOPIC = 'tessel/checkpoints/1';
export const LEDGER_WIRE_VERSION = 1;
/** Most leaves, or earned bundles, one response carries. */
export const MAX_PAGE = 1024;
export const MAX_REQUEST_BYTES = 256;
/** A page of 1,024 leaves of ≤ 2 KiB, or of bundles of a few KiB. */
export const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
export const MAX_GOSSIP_BYTES = 20 * 1024;

export type LedgerRequestMsg =
  | { type: 'checkpoint' }
  | { type: 'entries' | 'earned'; from: number; to: number }
  | { type: 'consistency'; from: number; to: number }
  | { type: 'inclusion'; index: number; size: number };

export interface LedgerResponseMsg {
  error: string;
  checkpoint: string;
  entries: Uint8Array[];
  proof: Uint8Array[];
  earned: Uint8Array[];
}

export function encodeRequest(r: LedgerRequestMsg): Uint8Array {
  const from = 'from' in r ? r.from : 'index' in r ? r.index : 0;
  const to = 'to' in r ? r.to : 'size' in r ? r.size : 0;
  return LedgerRequest.encode({ version: LEDGER_WIRE_VERSION, type: r.type, from, to });
}

export function decodeRequest(data: Uint8Array): LedgerRequestMsg {
  if (data.byteLength > MAX_REQUEST_BYTES) throw new WireError('too-large', 'ledger request');
  let r: LedgerRequest;
  try {
    r = LedgerRequest.decode(data);
  } catch (cause) {
    throw new WireError('malformed', `not a LedgerRequest: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  if (r.version !== LEDGER_WIRE_VERSION) throw new WireError('bad-version', 'ledger version');
  const from = int(r.from, 0, Number.MAX_SAFE_INTEGER, 'from');
  const to = int(r.to, 0, Number.MAX_SAFE_INTEGER, 'to');
  switch (r.type) {
    case 'checkpoint':
      return { type: 'checkpoint' };
    case 'entries':
    case 'earned':
      if (to < from || to - from > MAX_PAGE) {
        throw new WireError('invalid-field', `a page is at most ${MAX_PAGE}`, 'to');
      }
      return { type: r.type, from, to };
    case 'consistency':
      if (to < from) throw new WireError('invalid-field', 'a log does not shrink', 'to');
      return { type: 'consistency', from, to };
    case 'inclusion':
      return { type: 'inclusion', index: from, size: to };
    default:
      throw new WireError('invalid-field', 'unknown ledger request', 'type');
  }
}

export function encodeResponse(r: Partial<LedgerResponseMsg>): Uint8Array {
  return LedgerResponse.encode({
    version: LEDGER_WIRE_VERSION,
    error: r.error ?? '',
    checkpoint: r.checkpoint ?? '',
    entries: r.entries ?? [],
    proof: r.proof ?? [],
    earned: r.earned ?? [],
  });
}

export function decodeResponse(data: Uint8Array): LedgerResponseMsg {
  if (data.byteLength > MAX_RESPONSE_BYTES) throw new WireError('too-large', 'ledger response');
  try {
    const r = LedgerResponse.decode(data, {
      limits: { entries: MAX_PAGE, earned: MAX_PAGE, proof: 128 },
    });
    if (r.version !== LEDGER_WIRE_VERSION) throw new WireError('bad-version', 'ledger version');
    return r;
  } catch (cause) {
    if (cause instanceof WireError) throw cause;
    throw new WireError('malformed', `not a LedgerResponse: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
}

/** A frame of one ledger exchange: the asker's request, then the answerer's response. */
export type LedgerFrame = LedgerRequestMsg | LedgerResponseMsg;

/** A response with every field present (those not given empty). */
export function ledgerResponse(r: Partial<LedgerResponseMsg>): LedgerResponseMsg {
  return { error: '', checkpoint: '', entries: [], proof: [], earned: [], ...r };
}

/** Whether a frame is a request (a response has no `type`). */
export function isLedgerRequest(f: LedgerFrame): f is LedgerRequestMsg {
  return 'type' in f;
}

function encodeFrame(f: LedgerFrame): Uint8Array {
  return isLedgerRequest(f) ? encodeRequest(f) : encodeResponse(f);
}

/** The asking side's frames (src/wire's Framed): it writes requests and reads responses. */
export const ASKER_CODEC: FrameCodec<LedgerFrame> = {
  encode: encodeFrame,
  decode: (b: Uint8ArrayList | Uint8Array) => decodeResponse(b.subarray()),
  maxFrameBytes: MAX_RESPONSE_BYTES,
};

/** The answering side's frames: it reads requests and writes responses. */
export const ANSWERER_CODEC: FrameCodec<LedgerFrame> = {
  encode: encodeFrame,
  decode: (b: Uint8ArrayList | Uint8Array) => decodeRequest(b.subarray()),
  maxFrameBytes: MAX_REQUEST_BYTES,
};

export interface GossipMsg {
  note: string;
  conflicting: string;
  addr: string;
  gflops: number;
  idle: boolean;
  /** When the publisher sent it (ms since the Unix epoch, its clock; 0: not stated). */
  at: number;
  /** Work left in the publisher's own announced jobs (GFLOP): the price rule's demand. */
  queuedGflop: number;
}

export function encodeGossip(g: GossipMsg): Uint8Array {
  return CheckpointGossip.encode({ version: LEDGER_WIRE_VERSION, ...g });
}

export function decodeGossip(data: Uint8Array): GossipMsg {
  if (data.byteLength > MAX_GOSSIP_BYTES) throw new WireError('too-large', 'checkpoint gossip');
  let g: CheckpointGossip;
  try {
    g = CheckpointGossip.decode(data);
  } catch (cause) {
    throw new WireError('malformed', `not a CheckpointGossip: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  if (g.version !== LEDGER_WIRE_VERSION) throw new WireError('bad-version', 'gossip version');
  if (g.addr !== '' && (g.addr.length > 512 || !g.addr.startsWith('/'))) {
    throw new WireError('invalid-field', 'multiaddr expected', 'addr');
  }
  if (!(Number.isFinite(g.gflops) && g.gflops >= 0 && g.gflops <= 1e6)) {
    throw new WireError('invalid-field', 'gflops out of range', 'gflops');
  }
  if (!(Number.isSafeInteger(g.at) && g.at >= 0)) {
    throw new WireError('invalid-field', 'time out of range', 'at');
  }
  if (
    !(Number.isFinite(g.queuedGflop) && g.queuedGflop >= 0 && g.queuedGflop <= MAX_QUEUED_GFLOP)
  ) {
    throw new WireError('invalid-field', 'queued work out of range', 'queuedGflop');
  }
  return {
    note: g.note,
    conflicting: g.conflicting,
    addr: g.addr,
    gflops: g.gflops,
    idle: g.idle,
    at: g.at,
    queuedGflop: g.queuedGflop,
  };
}
