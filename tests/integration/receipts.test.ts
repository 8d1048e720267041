import '../../src/relay/polyfills';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, test } from 'vitest';
import type { Receipt } from '../../src/jobs/job';
import {
  decodeReceipt,
  decodeSignedReceipt,
  encodeReceipt,
  encodeSignedReceipt,
  signReceipt,
  verifyReceipt,
} from '../../src/ledger/receipts';
import { WireError } from '../../src/mesh/codec';

const ownerKey = await generateKeyPair('Ed25519');
const otherKey = await generateKeyPair('Ed25519');
const owner = peerIdFromPrivateKey(ownerKey).toString();
const contributor = peerIdFromPrivateKey(otherKey).toString();
const receipt: Receipt = {
  jobId: 'job-1',
  shardId: 3,
  owner,
  contributor,
  flops: 2 * 64 * 64 * 256,
  method: 'freivalds',
  issuedAt: 1_800_000_000_000,
  credit: 8_389,
};

describe('signed receipts', () => {
  test('an owner-signed receipt verifies against the owner’s peer id alone', async () => {
    const signed = await signReceipt(ownerKey, receipt);
    expect(await verifyReceipt(signed, { owner, contributor, jobId: 'job-1', shardId: 3 })).toEqual(
      receipt,
    );
  });

  test('a receipt signed by anyone but the owner it names is refused', async () => {
    const forged = await signReceipt(otherKey, receipt); // contributor signs its own credit
    await expect(verifyReceipt(forged)).rejects.toMatchObject({
      name: 'WireError',
      field: 'signature',
    });
  });

  test('a contributor who doubles its credit breaks the owner’s signature', async () => {
    const signed = await signReceipt(ownerKey, receipt);
    const { signature } = decodeSignedReceipt(signed);
    const inflated = encodeReceipt({ ...receipt, flops: receipt.flops * 2 });
    await expect(verifyReceipt(encodeSignedReceipt(inflated, signature))).rejects.toMatchObject({
      field: 'signature',
    });
  });

  test('a valid receipt for someone or something else is refused', async () => {
    const signed = await signReceipt(ownerKey, receipt);
    await expect(verifyReceipt(signed, { contributor: owner })).rejects.toMatchObject({
      field: 'contributor',
    });
    await expect(verifyReceipt(signed, { shardId: 4 })).rejects.toMatchObject({ field: 'shardId' });
    await expect(verifyReceipt(signed, { jobId: 'job-2' })).rejects.toMatchObject({
      field: 'jobId',
    });
  });

  test('garbage, truncations and bad signatures are typed errors', async () => {
    const signed = await signReceipt(ownerKey, receipt);
    for (let cut = 0; cut < signed.length; cut += 7) {
      await expect(verifyReceipt(signed.subarray(0, cut))).rejects.toThrow(WireError);
    }
    const { receiptBytes } = decodeSignedReceipt(signed);
    await expect(
      verifyReceipt(encodeSignedReceipt(receiptBytes, new Uint8Array(12))),
    ).rejects.toMatchObject({
      field: 'signature',
    });
    await expect(verifyReceipt(new Uint8Array(2000))).rejects.toMatchObject({ code: 'too-large' });
  });

  test('a credit that is not a safe whole number of µcredits is refused as it is decoded', () => {
    // Field 9 (credit) as a raw varint after a valid receipt: the last value of a field wins.
    const withCredit = (v: bigint) => {
      const bytes = [0x48];
      for (; v >= 0x80n; v >>= 7n) bytes.push(Number(v & 0x7fn) | 0x80);
      bytes.push(Number(v));
      return Uint8Array.from([...encodeReceipt({ ...receipt, credit: 0 }), ...bytes]);
    };
    expect(decodeReceipt(withCredit(2n ** 53n - 1n)).credit).toBe(2 ** 53 - 1);
    for (const v of [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n + 3n, 2n ** 64n - 1n]) {
      // The varint reader itself refuses an unsafe number ('malformed'): never a rounded credit.
      expect(() => decodeReceipt(withCredit(v)), String(v)).toThrow(WireError);
    }
    for (const credit of [1.5, -1, Number.NaN, 2 ** 60]) {
      expect(() => encodeReceipt({ ...receipt, credit }), String(credit)).toThrow(WireError);
    }
  });
});
