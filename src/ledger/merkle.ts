import { sha256 } from '@noble/hashes/sha2.js';
import { LedgerError } from './errors';

// RFC 6962 / RFC 9162 Merkle trees: leaves hashed as SHA-256(0x00 || data), interior nodes as
// SHA-256(0x01 || left || right), a tree of n leaves split at the largest power of two below n.
// Proof generation follows RFC 6962 §2.1 (PATH, SUBPROOF); verification follows RFC 9162
// §2.1.3.2 and §2.1.4.2, which also reject proofs of the wrong length.

/** Bytes in a hash. */
export const HASH_BYTES = 32;

export function leafHash(data: Uint8Array): Uint8Array {
  const b = new Uint8Array(data.byteLength + 1);
  b.set(data, 1);
  return sha256(b);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(1 + 2 * HASH_BYTES);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + HASH_BYTES);
  return sha256(b);
}

/** The root of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** Largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * An append-only tree that keeps the hash of every complete aligned subtree, one flat buffer per
 * level (32 bytes a node: 10⁶ leaves take 64 MB), so roots and proofs for any earlier size are a
 * logarithmic number of lookups and hashes.
 */
export class MerkleTree {
  /** levels[h] holds the hashes of the complete subtrees of 2^h leaves, left to right. */
  readonly #levels: Uint8Array[] = [];
  readonly #counts: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Appends a leaf's data; returns its index. */
  append(data: Uint8Array): number {
    return this.appendHash(leafHash(data));
  }

  /** Appends an already hashed leaf; returns its index. */
  appendHash(hash: Uint8Array): number {
    const index = this.#size;
    let h = hash;
    for (let level = 0; ; level++) {
      this.#push(level, h);
      const count = this.#counts[level] as number;
      if (count % 2 === 1) break; // a left child: its parent is not complete yet
      h = nodeHash(this.#node(level, count - 2), h);
    }
    this.#size++;
    return index;
  }

  /** The hash of leaf `index`. */
  leaf(index: number): Uint8Array {
    this.#check(index, 0, this.#size - 1, 'index');
    return this.#node(0, index);
  }

  /** The tree head of the first `size` leaves (default: all). */
  root(size = this.#size): Uint8Array {
    this.#check(size, 0, this.#size, 'size');
    return size === 0 ? EMPTY_ROOT : this.#subtree(0, size);
  }

  /** The audit path of leaf `index` in the tree of the first `size` leaves (RFC 6962 PATH). */
  inclusionProof(index: number, size = this.#size): Uint8Array[] {
    this.#check(size, 1, this.#size, 'size');
    this.#check(index, 0, size - 1, 'index');
    const proof: Uint8Array[] = [];
    // PATH(m, D[lo:hi]) unrolled: the sibling subtrees from the leaf up, bottom first.
    const walk = (m: number, lo: number, hi: number): void => {
      if (hi - lo <= 1) return;
      const k = split(hi - lo);
      if (m < k) {
        walk(m, lo, lo + k);
        proof.push(this.#subtree(lo + k, hi));
      } else {
        walk(m - k, lo + k, hi);
        proof.push(this.#subtree(lo, lo + k));
      }
    };
    walk(index, 0, size);
    return proof;
  }

  /** The proof that the tree of `from` leaves is a prefix of the tree of `to` (RFC 6962 PROOF). */
  consistencyProof(from: number, to = this.#size): Uint8Array[] {
    this.#check(to, 0, this.#size, 'to');
    this.#check(from, 0, to, 'from');
    if (from === 0 || from === to) return [];
    const proof: Uint8Array[] = [];
    const sub = (m: number, lo: number, hi: number, whole: boolean): void => {
      const n = hi - lo;
      if (m === n) {
        if (!whole) proof.push(this.#subtree(lo, hi));
        return;
      }
      const k = split(n);
      if (m <= k) {
        sub(m, lo, lo + k, whole);
        proof.push(this.#subtree(lo + k, hi));
      } else {
        sub(m - k, lo + k, hi, false);
        proof.push(this.#subtree(lo, lo + k));
      }
    };
    sub(from, 0, to, true);
    return proof;
  }

  /** MTH(D[lo:hi]); every left part of the recursion is a complete aligned subtree. */
  #subtree(lo: number, hi: number): Uint8Array {
    const n = hi - lo;
    if ((n & (n - 1)) === 0 && lo % n === 0) return this.#node(Math.log2(n), lo / n);
    const k = split(n);
    return nodeHash(this.#subtree(lo, lo + k), this.#subtree(lo + k, hi));
  }

  #node(level: number, i: number): Uint8Array {
    return (this.#levels[level] as Uint8Array).subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  #push(level: number, h: Uint8Array) {
    const count = this.#counts[level] ?? 0;
    let buf = this.#levels[level] ?? new Uint8Array(64 * HASH_BYTES);
    if ((count + 1) * HASH_BYTES > buf.byteLength) {
      const bigger = new Uint8Array(buf.byteLength * 2);
      bigger.set(buf);
      buf = bigger;
    }
    buf.set(h, count * HASH_BYTES);
    this.#levels[level] = buf;
    this.#counts[level] = count + 1;
  }

  #check(v: number, min: number, max: number, what: string) {
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new RangeError(`${what} ${v} is outside [${min}, ${max}]`);
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let d = 0;
  for (let i = 0; i < a.byteLength; i++) d |= (a[i] as number) ^ (b[i] as number);
  return d === 0;
}

function hashes(proof: readonly Uint8Array[]): void {
  for (const h of proof) {
    if (h.byteLength !== HASH_BYTES) throw new LedgerError('bad-proof', 'a proof hash is 32 bytes');
  }
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2). Throws LedgerError 'bad-proof' when
 * the proof has the wrong length for the index and size.
 */
export function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new LedgerError('bad-proof', `leaf ${index} is not in a tree of ${size}`);
  }
  hashes(proof);
  // BigInt-free bit walk: sizes stay below 2^53, so plain division by 2 is exact.
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new LedgerError('bad-proof', 'inclusion proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new LedgerError('bad-proof', 'inclusion proof is too short');
  return r;
}

/** Throws LedgerError unless `proof` shows leaf `index` with hash `leaf` in the tree `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  if (!equal(rootFromInclusion(index, size, leaf, proof), root)) {
    throw new LedgerError('bad-proof', `leaf ${index} is not in this tree of ${size}`);
  }
}

/**
 * Throws LedgerError unless `proof` shows the tree (size1, root1) is a prefix of (size2, root2)
 * (RFC 9162 §2.1.4.2).
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  const bad = (why: string) => new LedgerError('inconsistent', why);
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 < 0) {
    throw bad('sizes must be whole numbers');
  }
  if (size2 < size1) throw bad(`a log cannot shrink from ${size1} to ${size2}`);
  hashes(proof);
  if (size1 === size2) {
    if (proof.length > 0) throw bad('a proof between equal sizes is empty');
    if (!equal(root1, root2)) throw bad(`two different roots at size ${size1}`);
    return;
  }
  if (size1 === 0) {
    if (proof.length > 0) throw bad('a proof from the empty tree is empty');
    return;
  }
  if (proof.length === 0) throw bad('consistency proof is empty');
  const path = (size1 & (size1 - 1)) === 0 ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) throw bad('consistency proof is too long');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw bad('consistency proof is too short');
  if (!equal(fr, root1)) throw bad(`the proof does not lead to the old root at ${size1}`);
  if (!equal(sr, root2)) throw bad(`the proof does not lead to the new root at ${size2}`);
}

export { equal as sameHash };
