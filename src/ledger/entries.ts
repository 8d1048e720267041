import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Receipt } from '../jobs/job';
import { errorText, finite, id, int, peerId, text } from '../wire/fields';
import { WireError } from '../wire/wire-error';
import { LedgerError } from './errors';
import { leafHash, verifyInclusion } from './merkle';
import { openCheckpoint, type SignedCheckpoint } from './note';
import { LogEntry, Proposal, ReceiptBundle, Revocation, type Signed, Vote } from './pb/ledger';
import { verifyReceipt } from './receipts';

// The leaves of an owner's log and the bundles receipts travel in. A leaf is an encoded LogEntry;
// its hash is RFC 6962's leaf hash of exactly those bytes, so a served leaf is checked byte for
// byte against the signed root.

/** Largest leaf accepted. */
export const MAX_LEAF_BYTES = 2048;
/** Largest ReceiptBundle accepted (a leaf, a checkpoint with cosignatures, a 40-hash proof). */
export const MAX_BUNDLE_BYTES = 16 * 1024;

export interface ProposalBody {
  param: string;
  value: number;
  reason: string;
  createdAt: number; // ms since the epoch
}

export interface VoteBody {
  /** `<proposer peer id>:<leaf index of the proposal in the proposer's log>`. */
  proposal: string;
  yes: boolean;
  castAt: number; // ms since the epoch
}

/**
 * An owner's statement that it caught `contributor` cheating on `jobId`: every receipt of that
 * contributor for that job earlier in the owner's log pays nothing (audit.ts, docs/market.md).
 */
export interface RevocationBody {
  jobId: string;
  /** The peer id whose receipts for the job are void. */
  contributor: string;
  /** What the owner's check found (at most 280 characters). */
  reason: string;
  revokedAt: number; // ms since the epoch
}

/** A decoded, checked leaf of `peer`'s log. */
export type Entry =
  | { type: 'receipt'; receipt: Receipt; signed: Uint8Array }
  | { type: 'proposal'; proposal: ProposalBody }
  | { type: 'vote'; vote: VoteBody }
  | { type: 'revocation'; revocation: RevocationBody };

/** Checks a revocation's fields; throws WireError naming the field. */
export function checkRevocation(r: RevocationBody): RevocationBody {
  return {
    jobId: id(r.jobId, 'jobId'),
    contributor: peerId(r.contributor, 'contributor'),
    reason: text(r.reason, 280, 'reason'),
    revokedAt: int(r.revokedAt, 0, Number.MAX_SAFE_INTEGER, 'revokedAt'),
  };
}

export function receiptLeaf(signedReceipt: Uint8Array): Uint8Array {
  return LogEntry.encode({ receipt: signedReceipt });
}

async function signed(key: PrivateKey, body: Uint8Array) {
  return { body, signature: await key.sign(body) };
}

export async function proposalLeaf(key: PrivateKey, p: ProposalBody): Promise<Uint8Array> {
  return LogEntry.encode({ proposal: await signed(key, Proposal.encode(p)) });
}

export async function voteLeaf(key: PrivateKey, v: VoteBody): Promise<Uint8Array> {
  return LogEntry.encode({ vote: await signed(key, Vote.encode(v)) });
}

/** A revocation leaf; its fields are checked first, so an audit never finds it malformed. */
export async function revocationLeaf(key: PrivateKey, r: RevocationBody): Promise<Uint8Array> {
  return LogEntry.encode({ revocation: await signed(key, Revocation.encode(checkRevocation(r))) });
}

async function checkSigned(peer: string, s: Signed): Promise<Uint8Array> {
  const key = peerIdFromString(peer).publicKey;
  if (!key || s.signature.byteLength !== 64 || !(await key.verify(s.body, s.signature))) {
    throw new LedgerError('forged', `an entry not signed by ${peer}`);
  }
  return s.body;
}

/**
 * Decodes a leaf of `peer`'s log and checks its signature: a receipt must be signed by `peer` and
 * name it as owner; a proposal, vote or revocation must be signed by `peer`. Throws LedgerError
 * 'forged'.
 */
export async function openEntry(peer: string, leaf: Uint8Array): Promise<Entry> {
  if (leaf.byteLength > MAX_LEAF_BYTES) throw new LedgerError('forged', 'entry is too long');
  try {
    const e = LogEntry.decode(leaf);
    const set = [
      e.receipt.byteLength > 0,
      e.proposal != null,
      e.vote != null,
      e.revocation != null,
    ].filter(Boolean);
    if (set.length !== 1) throw new LedgerError('forged', 'an entry holds exactly one record');
    if (e.receipt.byteLength > 0) {
      const receipt = await verifyReceipt(e.receipt, { owner: peer });
      return { type: 'receipt', receipt, signed: e.receipt };
    }
    if (e.proposal) {
      const p = Proposal.decode(await checkSigned(peer, e.proposal));
      text(p.param, 40, 'param');
      finite(p.value, -1e9, 1e9, 'value');
      text(p.reason, 280, 'reason');
      return { type: 'proposal', proposal: p };
    }
    if (e.revocation) {
      const r = Revocation.decode(await checkSigned(peer, e.revocation));
      return { type: 'revocation', revocation: checkRevocation(r) };
    }
    const v = Vote.decode(await checkSigned(peer, e.vote as Signed));
    text(v.proposal, 120, 'proposal');
    return { type: 'vote', vote: v };
  } catch (e) {
    if (e instanceof LedgerError) throw e;
    throw new LedgerError('forged', `entry of ${peer}: ${errorText(e)}`, { cause: e });
  }
}

/** A receipt as a contributor holds it: checked against the owner's signed checkpoint. */
export interface HeldReceipt {
  receipt: Receipt;
  /** The encoded SignedReceipt inside the leaf. */
  signed: Uint8Array;
  leaf: Uint8Array;
  index: number;
  checkpoint: SignedCheckpoint;
  proof: Uint8Array[];
  /** The encoded bundle, as received. */
  bundle: Uint8Array;
}

export function encodeBundle(
  leaf: Uint8Array,
  index: number,
  checkpoint: string,
  proof: Uint8Array[],
): Uint8Array {
  return ReceiptBundle.encode({ leaf, index, checkpoint, proof });
}

/**
 * Checks a receipt bundle: the receipt is well formed and signed by its owner, and its leaf is in
 * the owner's log under a checkpoint the owner signed. `expect` pins who and what it is for.
 * Throws WireError (a bad frame) or LedgerError (a bad proof or signature).
 */
export async function openBundle(
  data: Uint8Array,
  expect: Partial<Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>> = {},
): Promise<HeldReceipt> {
  if (data.byteLength > MAX_BUNDLE_BYTES) throw new WireError('too-large', 'receipt bundle');
  let b: ReceiptBundle;
  try {
    b = ReceiptBundle.decode(data, { limits: { proof: 64 } });
  } catch (cause) {
    throw new WireError('malformed', `not a ReceiptBundle: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  const entry = LogEntry.decode(b.leaf);
  if (entry.receipt.byteLength === 0) throw new LedgerError('forged', 'the leaf is not a receipt');
  // Signed by the owner it names, and for the owner, contributor, job and shard expected.
  const receipt = await verifyReceipt(entry.receipt, expect);
  const checkpoint = await openCheckpoint(b.checkpoint, receipt.owner);
  verifyInclusion(b.index, checkpoint.size, leafHash(b.leaf), b.proof, checkpoint.root);
  return {
    receipt,
    signed: entry.receipt,
    leaf: b.leaf,
    index: b.index,
    checkpoint,
    proof: b.proof,
    bundle: data,
  };
}
