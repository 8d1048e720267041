import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import {
  decodeSignedReceipt,
  encodeReceipt,
  encodeSignedReceipt,
  type ReceiptMsg,
  WireError,
} from '../mesh/codec';

/** Signs a receipt with the owner's libp2p key; returns an encoded SignedReceipt. */
export async function signReceipt(owner: PrivateKey, receipt: ReceiptMsg): Promise<Uint8Array> {
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
  expect: Partial<Pick<ReceiptMsg, 'owner' | 'contributor' | 'jobId' | 'shardId'>> = {},
): Promise<ReceiptMsg> {
  const { receipt, receiptBytes, signature } = decodeSignedReceipt(signed);
  for (const [k, v] of Object.entries(expect)) {
    if (receipt[k as keyof ReceiptMsg] !== v) {
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
