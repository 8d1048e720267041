import type { Block } from './freivalds';
import { JobSpecError } from './job';
import { type Lease, Scheduler, type SchedulerOptions } from './scheduler';
import { blockBytes, smallestPiece, splitBlock } from './shard-size';

/** Leases of one shard that may lapse before it is split into smaller shards: one lapse can
 * be bad luck (a tab closed), a second says the shard is too big for the mesh. */
export const SPLIT_AFTER_LAPSES = 2;

/** Ended leases remembered to tell a late result why it is stale (ids are free to make, so
 * the memory is bounded). */
const MAX_ENDED_KEPT = 4_096;

/**
 * A matmul job's blocks as shards: the plan, the splits made since (a split shard is retired
 * for good and its pieces appended with new ids, ahead of the queue), the scheduler that leases
 * them, and what became of leases that ended without a result. Ids are never reused, so a
 * stored output and a receipt always name one block; replaying the splits in order (the
 * `splits` option) rebuilds the same ids.
 */
export class MatmulShards {
  /** Every block by shard id, retired ones included. */
  readonly blocks: Block[];
  readonly book: Scheduler;
  /** Parents split so far, in order. */
  readonly #splits: number[] = [];
  /** Leases that lapsed or ended in a split, oldest first: why a late result is stale. */
  readonly #ended = new Map<string, { shardId: number; contributor: string }>();
  /** Shards with a lease that lapsed since the last look, to check SPLIT_AFTER_LAPSES. */
  readonly #lapsed: number[] = [];

  /**
   * @param onSplit told the whole list of splits after each split made after construction
   * @throws JobSpecError ('splits') when `options.splits` names a shard that cannot be split
   *   as listed (a damaged record: the ids after it would not match the stored outputs)
   */
  constructor(
    blocks: readonly Block[],
    readonly k: number,
    options: SchedulerOptions & { splits?: readonly number[] },
    readonly onSplit: (splits: number[]) => void,
  ) {
    this.blocks = [...blocks];
    this.book = new Scheduler(blocks.length, {
      shardFlops: (s) => this.flops(s),
      shardBytes: (s) => this.bytes(s),
      ...options,
      onExpire: (l) => {
        this.#lapsed.push(l.shardId);
        this.#remember(l);
        options.onExpire?.(l);
      },
    });
    for (const parent of options.splits ?? []) {
      if (!this.#split(parent)) {
        throw new JobSpecError('splits', `shard ${parent} cannot be split here`);
      }
    }
  }

  /** Neither done nor split. */
  live(shardId: number): boolean {
    return !this.book.isDone(shardId) && !this.book.isRetired(shardId);
  }

  /** FLOPs of a shard's block (2·rows·cols·K). */
  flops(shardId: number): number {
    const b = this.blocks[shardId];
    return b ? 2 * b.rows * b.cols * this.k : 0;
  }

  /** Bytes a contributor binds for a shard (its A rows, B columns and C block), which is also
   * what its lease and result carry; without an id, the largest shard still to do. */
  bytes(shardId?: number): number {
    if (shardId !== undefined) {
      const b = this.blocks[shardId];
      return b ? blockBytes(b.rows, b.cols, this.k) : 0;
    }
    let max = 0;
    for (const [s, b] of this.blocks.entries()) {
      if (this.live(s)) max = Math.max(max, blockBytes(b.rows, b.cols, this.k));
    }
    return max;
  }

  splits(): number[] {
    return [...this.#splits];
  }

  /** Splits a live shard into smaller blocks (splitBlock); returns the new ids, none when it
   * cannot be split. Its current leases end. */
  split(shardId: number): number[] {
    const ids = this.#split(shardId);
    if (ids) this.onSplit(this.splits());
    return ids ?? [];
  }

  /** Splits every shard waiting in the queue or whose lease ever lapsed; returns how many. */
  splitPending(): number {
    const stuck = new Set(this.book.pendingShards());
    for (let s = 0; s < this.blocks.length; s++) {
      if (this.book.lapses(s) > 0 && this.live(s)) stuck.add(s);
    }
    return this.#splitAll(stuck);
  }

  /** Splits the shards whose leases lapsed SPLIT_AFTER_LAPSES times (after an expiry). */
  splitLapsed(): void {
    const twice = this.#lapsed.splice(0).filter((s) => this.book.lapses(s) >= SPLIT_AFTER_LAPSES);
    this.#splitAll(twice);
  }

  /**
   * For a contributor that can hold no shard waiting (`fits`): splits the next one it may take
   * until a piece fits. 'split' when one does now, 'too-big' when even the smallest piece of
   * every shard left would not, 'none' when there is nothing waiting to split.
   */
  splitToFit(
    fits: (b: Pick<Block, 'rows' | 'cols'>) => boolean,
    mayTake: (shardId: number) => boolean,
  ): 'split' | 'too-big' | 'none' {
    const big = this.book.pendingShards().find((s) => !fits(this.blocks[s]!) && mayTake(s));
    if (big === undefined) {
      // Nothing waiting that it cannot hold: too big if nothing left would fit it at all.
      for (const [s, b] of this.blocks.entries()) if (this.live(s) && fits(b)) return 'none';
      return 'too-big';
    }
    if (!fits(smallestPiece(this.blocks[big]!))) return 'too-big';
    let piece: number | undefined = big;
    while (piece !== undefined && !fits(this.blocks[piece]!)) piece = this.#split(piece)?.[0];
    this.onSplit(this.splits());
    return 'split';
  }

  /** Why a result on a lease the scheduler no longer holds is stale, when this job ended it. */
  whyStale(leaseId: string, contributor: string): { shardId: number; reason: string } | undefined {
    const ended = this.#ended.get(leaseId);
    if (ended?.contributor !== contributor) return undefined;
    this.#ended.delete(leaseId);
    const reason = this.book.isRetired(ended.shardId)
      ? 'split into smaller shards'
      : 'the lease lapsed before the result came';
    return { shardId: ended.shardId, reason };
  }

  #splitAll(shards: Iterable<number>): number {
    let n = 0;
    for (const s of shards) if (this.#split(s)) n++;
    if (n > 0) this.onSplit(this.splits());
    return n;
  }

  #split(shardId: number): number[] | undefined {
    const block = this.blocks[shardId];
    if (!block || !this.live(shardId)) return undefined;
    const pieces = splitBlock(block);
    if (pieces.length === 0) return undefined;
    for (const l of this.book.retire(shardId) ?? []) this.#remember(l);
    this.blocks.push(...pieces);
    this.#splits.push(shardId);
    return this.book.addShards(pieces.length);
  }

  #remember(l: Lease) {
    this.#ended.set(l.leaseId, { shardId: l.shardId, contributor: l.contributor });
    if (this.#ended.size > MAX_ENDED_KEPT) this.#ended.delete(this.#ended.keys().next().value!);
  }
}
