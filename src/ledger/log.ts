import type { PrivateKey } from '@libp2p/interface';
import type { Receipt } from '../jobs/job';
import {
  encodeBundle,
  MAX_LEAF_BYTES,
  type ProposalBody,
  proposalLeaf,
  type RevocationBody,
  receiptLeaf,
  revocationLeaf,
  type VoteBody,
  voteLeaf,
} from './entries';
import { LedgerError } from './errors';
import { MerkleTree, sameHash } from './merkle';
import { noteOf, openCheckpoint, type SignedCheckpoint, signCheckpoint } from './note';
import { LogEntry } from './pb/ledger';
import { decodeSignedReceipt, signReceipt } from './receipts';

/** Where a log's leaves are kept: IndexedDB in a tab (LedgerStore), memory in tests. */
export interface LogPersistence {
  /** Every leaf kept, in order. */
  leaves(): Promise<Uint8Array[]>;
  /** Keeps leaf `index`; resolves once it is durable. */
  putLeaf(index: number, leaf: Uint8Array): Promise<void>;
}

export class MemoryLogPersistence implements LogPersistence {
  readonly kept: Uint8Array[] = [];
  async leaves() {
    return [...this.kept];
  }
  async putLeaf(index: number, leaf: Uint8Array) {
    this.kept[index] = leaf;
  }
}

/** Where a new leaf went: its index, the checkpoint that includes it and the proof. */
export interface Appended {
  index: number;
  /** The owner's signed checkpoint note at the size that first includes the leaf. */
  checkpoint: string;
  proof: Uint8Array[];
}

/**
 * An owner's append-only transparency log (RFC 6962 tree, C2SP checkpoints). Appends are
 * serialized and each resolves only once its leaf is durable and a checkpoint covering it is
 * signed, so a receipt can be handed out with its proof and never be lost to a reload.
 */
export class OwnerLog {
  readonly #tree: MerkleTree;
  readonly #leaves: Uint8Array[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #latest: SignedCheckpoint;
  /** The largest checkpoint with the most cosignatures seen so far, by size. */
  readonly #cosigned = new Map<number, SignedCheckpoint>();
  /** µcredits this log's receipts paid, in all and per job (for budgets and the balance): exact
   * integers, however many receipts are summed. */
  #spent = 0n;
  readonly #spentOn = new Map<string, bigint>();
  readonly #paid = new Set<string>();
  /** Called after each append with the new checkpoint (to gossip it). */
  onCheckpoint?: (note: string) => void;

  private constructor(
    readonly peer: string,
    readonly key: PrivateKey,
    readonly persistence: LogPersistence,
    latest: SignedCheckpoint,
    tree: MerkleTree,
  ) {
    this.#latest = latest;
    this.#tree = tree;
  }

  static async open(key: PrivateKey, peer: string, persistence: LogPersistence): Promise<OwnerLog> {
    const tree = new MerkleTree();
    const leaves = await persistence.leaves();
    for (const l of leaves) tree.append(l);
    const note = await signCheckpoint(key, peer, tree.size, tree.root());
    const log = new OwnerLog(peer, key, persistence, await openCheckpoint(note, peer), tree);
    log.#leaves.push(...leaves);
    for (const l of leaves) {
      const r = receiptIn(l);
      if (r) log.#charge(r);
    }
    return log;
  }

  get size(): number {
    return this.#tree.size;
  }

  /** The latest checkpoint note, with whatever cosignatures it has gathered. */
  checkpoint(): string {
    return noteOf(this.#cosigned.get(this.#latest.size) ?? this.#latest);
  }

  /** The newest checkpoint with at least `k` cosignatures (undefined when none has). */
  trusted(k: number): SignedCheckpoint | undefined {
    if (k === 0) return this.#latest;
    let best: SignedCheckpoint | undefined;
    for (const c of this.#cosigned.values()) {
      if (c.cosignatures.length >= k && (!best || c.size > best.size)) best = c;
    }
    return best;
  }

  /** Keeps witnesses' cosignatures on one of this log's checkpoints (checked). */
  async addCosignatures(note: string): Promise<number> {
    const c = await openCheckpoint(note, this.peer);
    if (c.size > this.size || !sameHash(c.root, this.#tree.root(c.size))) {
      throw new LedgerError(
        'inconsistent',
        `a cosigned checkpoint this log never signed (${c.size})`,
      );
    }
    const known = this.#cosigned.get(c.size) ?? (c.size === this.#latest.size ? this.#latest : c);
    const merged = await openCheckpoint(noteOf(known, c.cosignatures), this.peer);
    this.#cosigned.set(c.size, merged);
    // Older sizes with fewer cosignatures are of no more use.
    for (const [size, old] of this.#cosigned) {
      if (size < c.size && old.cosignatures.length <= merged.cosignatures.length)
        this.#cosigned.delete(size);
    }
    return merged.cosignatures.length;
  }

  /** Appends a signed receipt; resolves with the bundle the contributor is sent. */
  async issue(r: Receipt): Promise<Uint8Array> {
    const leaf = receiptLeaf(await signReceipt(this.key, r));
    const a = await this.append(leaf);
    return encodeBundle(leaf, a.index, a.checkpoint, a.proof);
  }

  /** µcredits paid by this log's receipts: in all, or for one job (exact below 2⁵³ µcredits,
   * nine billion credits; revoked receipts stay paid: their credit is burned, not refunded). */
  spent(jobId?: string): number {
    return Number(jobId === undefined ? this.#spent : (this.#spentOn.get(jobId) ?? 0n));
  }

  /** Counts a receipt as audits do (audit.ts): one to this log's owner, or repeating an earlier
   * one for the same job, shard and contributor, pays nothing. */
  #charge(r: Receipt) {
    const key = `${r.jobId}/${r.shardId}/${r.contributor}`;
    if (r.contributor === this.peer || this.#paid.has(key)) return;
    this.#paid.add(key);
    this.#spent += BigInt(r.credit);
    this.#spentOn.set(r.jobId, (this.#spentOn.get(r.jobId) ?? 0n) + BigInt(r.credit));
  }

  async propose(p: ProposalBody): Promise<Appended> {
    return this.append(await proposalLeaf(this.key, p));
  }

  async vote(v: VoteBody): Promise<Appended> {
    return this.append(await voteLeaf(this.key, v));
  }

  /**
   * Voids `contributor`'s receipts for `jobId` that precede it in this log (the owner caught it
   * cheating), stating why. Resolves once the entry is durable and covered by a signed
   * checkpoint, like `issue`. Throws WireError for a malformed field, before anything is written.
   * The credit of the voided receipts is burned, not refunded (docs/market.md).
   */
  async revoke(r: RevocationBody): Promise<Appended> {
    return this.append(await revocationLeaf(this.key, r));
  }

  /** Appends a leaf; resolves once it is durable and covered by a signed checkpoint. */
  append(leaf: Uint8Array): Promise<Appended> {
    if (leaf.byteLength > MAX_LEAF_BYTES) throw new RangeError('leaf too long');
    const next = this.#queue.then(async () => {
      const index = this.size;
      await this.persistence.putLeaf(index, leaf);
      this.#tree.append(leaf);
      this.#leaves.push(leaf);
      const r = receiptIn(leaf);
      if (r) this.#charge(r);
      const note = await signCheckpoint(this.key, this.peer, this.size, this.#tree.root());
      this.#latest = await openCheckpoint(note, this.peer);
      this.onCheckpoint?.(note);
      return { index, checkpoint: note, proof: this.#tree.inclusionProof(index) };
    });
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Leaves [from, to). */
  entries(from: number, to: number): Uint8Array[] {
    if (!(0 <= from && from <= to && to <= this.size))
      throw new LedgerError('unknown', 'no such entries');
    return this.#leaves.slice(from, to);
  }

  inclusionProof(index: number, size = this.size): Uint8Array[] {
    if (!(0 <= index && index < size && size <= this.size))
      throw new LedgerError('unknown', 'no such leaf');
    return this.#tree.inclusionProof(index, size);
  }

  consistencyProof(from: number, to = this.size): Uint8Array[] {
    if (!(0 <= from && from <= to && to <= this.size))
      throw new LedgerError('unknown', 'no such sizes');
    return this.#tree.consistencyProof(from, to);
  }
}

/** The receipt in one of this log's own leaves, if it holds one (its own writes: not re-verified). */
function receiptIn(leaf: Uint8Array): Receipt | undefined {
  try {
    const e = LogEntry.decode(leaf);
    return e.receipt.byteLength > 0 ? decodeSignedReceipt(e.receipt).receipt : undefined;
  } catch {
    return undefined;
  }
}
