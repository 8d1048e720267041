import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { LedgerError } from '../../../src/ledger/errors';
import {
  EMPTY_ROOT,
  leafHash,
  MerkleTree,
  nodeHash,
  rootFromInclusion,
  verifyConsistency,
  verifyInclusion,
} from '../../../src/ledger/merkle';
import vectors from '../../fixtures/rfc6962-vectors.json';

const hex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
const toHex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** RFC 6962 §2.1 MTH, straight from the definition: the reference the fast tree must match. */
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256(new Uint8Array(0));
  if (leaves.length === 1) return leafHash(leaves[0] as Uint8Array);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

function treeOf(n: number, seed = 1): { tree: MerkleTree; leaves: Uint8Array[] } {
  const tree = new MerkleTree();
  const leaves = Array.from({ length: n }, (_, i) => new TextEncoder().encode(`leaf ${seed}/${i}`));
  for (const l of leaves) tree.append(l);
  return { tree, leaves };
}

function flipped(proof: Uint8Array[], i: number): Uint8Array[] {
  return proof.map((h, j) => (j === i ? Uint8Array.from(h, (b, k) => (k === 0 ? b ^ 8 : b)) : h));
}

describe('RFC 6962 test vectors (transparency-dev)', () => {
  const leaves = vectors.leaves.map(hex);
  const tree = new MerkleTree();

  it('hashes leaves and roots of every size as published', () => {
    expect(toHex(EMPTY_ROOT)).toBe(vectors.roots[0]);
    leaves.forEach((l, i) => {
      tree.append(l);
      expect(toHex(tree.leaf(i))).toBe(vectors.leafHashes[i]);
      expect(toHex(tree.root())).toBe(vectors.roots[i + 1]);
    });
    for (let n = 0; n <= 8; n++) expect(toHex(tree.root(n))).toBe(vectors.roots[n]);
  });

  it('builds and verifies the published inclusion proofs; every corruption is refused', () => {
    for (const v of vectors.inclusion) {
      const proof = tree.inclusionProof(v.index, v.size);
      expect(proof.map(toHex)).toEqual(v.proof);
      const root = hex(vectors.roots[v.size] as string);
      const leaf = tree.leaf(v.index);
      verifyInclusion(v.index, v.size, leaf, proof, root);
      const bad: [number, number, Uint8Array, Uint8Array[], string][] = [
        [v.index + 1, v.size, leaf, proof, 'index + 1'],
        [v.index, v.size * 2, leaf, proof, 'size * 2'],
        [v.index, v.size, leafHash(new Uint8Array([9])), proof, 'wrong leaf'],
        [v.index, v.size, leaf, [...proof, root], 'trailing root'],
        [v.index, v.size, leaf, [root, ...proof], 'preceding root'],
        ...proof.map(
          (_, i) =>
            [v.index, v.size, leaf, flipped(proof, i), `bit in ${i}`] as [
              number,
              number,
              Uint8Array,
              Uint8Array[],
              string,
            ],
        ),
      ];
      if (proof.length > 0) bad.push([v.index, v.size, leaf, proof.slice(0, -1), 'removed']);
      if (v.index > 0) bad.push([v.index - 1, v.size, leaf, proof, 'index - 1']);
      for (const [i, n, l, p, what] of bad) {
        expect(() => verifyInclusion(i, n, l, p, root), what).toThrow(LedgerError);
      }
    }
  });

  it('builds and verifies the published consistency proofs; every corruption is refused', () => {
    for (const v of vectors.consistency) {
      const proof = tree.consistencyProof(v.size1, v.size2);
      expect(proof.map(toHex)).toEqual(v.proof);
      const r1 = hex(vectors.roots[v.size1] as string);
      const r2 = hex(vectors.roots[v.size2] as string);
      verifyConsistency(v.size1, v.size2, proof, r1, r2);
      if (proof.length === 0) continue;
      const bad: [number, number, Uint8Array[], Uint8Array, Uint8Array][] = [
        [v.size1 - 1, v.size2, proof, r1, r2],
        [v.size1 + 1, v.size2, proof, r1, r2],
        [v.size1, v.size2 * 2, proof, r1, r2],
        [v.size1, v.size2, proof, r2, r1],
        [v.size1, v.size2, [], r1, r2],
        [v.size1, v.size2, [...proof, r1], r1, r2],
        [v.size1, v.size2, [r2, ...proof], r1, r2],
        [v.size1, v.size2, proof.slice(0, -1), r1, r2],
        ...proof.map(
          (_, i) =>
            [v.size1, v.size2, flipped(proof, i), r1, r2] as [
              number,
              number,
              Uint8Array[],
              Uint8Array,
              Uint8Array,
            ],
        ),
      ];
      for (const [a, b, p, x, y] of bad) {
        expect(() => verifyConsistency(a, b, p, x, y)).toThrow(LedgerError);
      }
    }
  });
});

describe('MerkleTree', () => {
  it('matches the definition for every size up to 70, with every proof verifying', () => {
    const { tree, leaves } = treeOf(70);
    for (let n = 1; n <= 70; n++) {
      const root = mth(leaves.slice(0, n));
      expect(toHex(tree.root(n))).toBe(toHex(root));
      for (let i = 0; i < n; i++) {
        verifyInclusion(i, n, tree.leaf(i), tree.inclusionProof(i, n), root);
      }
      for (let m = 0; m <= n; m++) {
        verifyConsistency(m, n, tree.consistencyProof(m, n), tree.root(m), root);
      }
    }
  });

  it('names a proof of the wrong length', () => {
    const { tree } = treeOf(13);
    const proof = tree.inclusionProof(4, 13);
    expect(() => rootFromInclusion(4, 13, tree.leaf(4), proof.slice(1))).toThrow(/too short/);
    expect(() =>
      rootFromInclusion(4, 13, tree.leaf(4), [...proof, proof[0] as Uint8Array]),
    ).toThrow(/too long/);
    expect(() => verifyConsistency(9, 5, [], tree.root(9), tree.root(5))).toThrow(/cannot shrink/);
  });

  it('a rewritten history fails the consistency proof from the old head', () => {
    const { tree: a } = treeOf(20, 1);
    const { tree: b } = treeOf(30, 2); // a different history of which a is not a prefix
    expect(() =>
      verifyConsistency(20, 30, b.consistencyProof(20, 30), a.root(20), b.root(30)),
    ).toThrow(LedgerError);
  });
});
