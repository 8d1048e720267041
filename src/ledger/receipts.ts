import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Receipt, VerificationMethod } from '../jobs/job';
import { errorText, finite, id, int, peerId } from '../wire/fields';
import { WireError } from '../wire/wire-error';
import { Receipt as ReceiptFrame, SignedReceipt } from './pb/ledger';

/** Receipts' wire version: 2 adds the credit paid; version 1 receipts read as paying nothing. */
export const RECEIPT_VERSION = 2;
/** Largest encoded SignedReceipt accepted. */
export const MAX_RECEIPT_BYTES = 1024;

const METHODS: readonly VerificationMethod[] = ['freivalds', 'redundancy', 'canary', 'spot-check'];

/**
 * Encodes a receipt, checked as a decoder would check it. Throws WireError naming the field,
 * also for a value the encoding would change (a credit of 1.5 µcredits would be signed as 1).
 */
export function encodeReceipt(r: Receipt): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = ReceiptFrame.encode({ version: RECEIPT_VERSION, ...r });
  } catch (cause) {
    throw new WireError('invalid-field', `not encodable: ${errorText(cause)}`, undefined, {
      cause,
    });
  }
  const back = decodeReceipt(bytes);
  for (const k of Object.keys(back) as (keyof Receipt)[]) {
    if (!Object.is(back[k], r[k])) {
      throw new WireError('invalid-field', `${k} ${r[k]} does not survive encoding`, k);
    }
  }
  return bytes;
}

/** Decodes and validates a receipt. Throws WireError, never anything else. */
export function decodeReceipt(data: Uint8Array): Receipt {
  let r: ReceiptFrame;
  try {
    r = ReceiptFrame.decode(data);
  } catch (cause) {
    throw new WireError('malformed', `not a Receipt: ${errorText(cause)}`, undefined, { cause });
  }
  if (r.version !== RECEIPT_VERSION && r.version !== 1) {
    throw new WireError('bad-version', 'receipt version', 'version');
  }
  if (!Number.isSafeInteger(r.credit) || r.credit < 0 || (r.version === 1 && r.credit !== 0)) {
    throw new WireError('invalid-field', 'credit is a whole number of µcredits', 'credit');
  }
  if (!METHODS.includes(r.method as VerificationMethod)) {
    throw new WireError('invalid-field', 'unknown verification method', 'method');
  }
  const issuedAt = r.issuedAt;
  if (!Number.isSafeInteger(issuedAt) || issuedAt <= 0) {
    throw new WireError('invalid-field', 'bad issue time', 'issuedAt');
  }
  return {
    jobId: id(r.jobId, 'jobId'),
    shardId: int(r.shardId, 0, 1_000_000, 'shardId'),
    owner: peerId(r.owner, 'owner'),
    contributor: peerId(r.contributor, 'contributor'),
    flops: finite(r.flops, 0, 1e18, 'flops'),
    method: r.method as VerificationMethod,
    issuedAt,
    credit: r.credit,
  };
}

export function encodeSignedReceipt(receipt: Uint8Array, signature: Uint8Array): Uint8Array {
  return SignedReceipt.encode({ receipt, signature });
}

/** Splits a SignedReceipt into the exact signed bytes, their decoded content and the signature. */
export function decodeSignedReceipt(data: Uint8Array): {
  receipt: Receipt;
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

/** Signs a receipt with the owner's libp2p key; returns an encoded SignedReceipt. */
export async function signReceipt(owner: PrivateKey, receipt: Receipt): Promise<Uint8Array> {
  const bytes = encodeReceipt(receipt);
  const signature = await owner.sign(bytes);
  return encodeSignedReceipt(bytes, signature);
}

/**
 * Checks an encoded SignedReceipt: well formed, signed by the owner it names, and (when given)
 * about the expected owner, contributor, job and shard. Throws WireError otherwise.
 */
export async function verifyReceipt(
  signed: Uint8Array,
  expect: Partial<Pick<Receipt, 'owner' | 'contributor' | 'jobId' | 'shardId'>> = {},
): Promise<Receipt> {
  const { receipt, receiptBytes, signature } = decodeSignedReceipt(signed);
  for (const [k, v] of Object.entries(expect)) {
    if (receipt[k as keyof Receipt] !== v) {
      throw new WireError('invalid-field', `receipt is for another ${k}`, k);
    }
  }
  let ok = false;
  try {
    // Ed25519 peer ids embed the public key, so the receipt proves itself.
    const key = peerIdFromString(receipt.owner).publicKey;
    ok = key !== undefined && (await key.verify(receiptBytes, signature));
  } catch {
    ok = false;
  }
  if (!ok) throw new WireError('invalid-field', 'receipt signature does not verify', 'signature');
  return receipt;
}
