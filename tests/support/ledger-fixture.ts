import type { Receipt } from '../../src/jobs/job';
import type { CheckedLog } from '../../src/ledger/audit';
import type { Entry } from '../../src/ledger/entries';

// Logs as checkLog returns them, built directly: accounts() and tally() read only the decoded
// entries (signatures and trees are checked by checkLog, tested in ledger.test.ts), so property
// tests over thousands of networks need not sign every entry.

/** mulberry32: a seeded generator, so a failure can be replayed. */
export function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
export type Rand = ReturnType<typeof rng>;
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
/** A whole number in [0, n]. */
export const upTo = (r: Rand, n: number) => Math.floor(r() * (n + 1));

export function shuffle<T>(r: Rand, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = upTo(r, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

let serial = 0;
/** A decoded receipt entry; its `signed` bytes are unique (they identify the entry). */
export function receiptEntry(
  owner: string,
  contributor: string,
  credit: number,
  jobId = 'j',
  shardId = 0,
): Entry {
  const receipt: Receipt = {
    jobId,
    shardId,
    owner,
    contributor,
    flops: (credit % 1_000_003) * 1_000,
    method: 'freivalds',
    issuedAt: 1,
    credit,
  };
  const signed = new Uint8Array(8);
  new DataView(signed.buffer).setFloat64(0, ++serial);
  return { type: 'receipt', receipt, signed };
}

export const logOf = (peer: string, entries: Entry[]): CheckedLog => ({
  peer,
  size: entries.length,
  root: new Uint8Array(32),
  entries,
});
