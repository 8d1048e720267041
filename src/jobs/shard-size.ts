import type { Block } from './freivalds';
import { DEFAULT_LINK_BYTES_PER_SEC, transferTimeMs } from './lease-timing';

/**
 * How big a matmul's shards are: cut to a target duration from the contributors the owner
 * sees, never above what their buffers and frames hold, and split smaller when a shard turns
 * out too big after all (it lapsed twice, or a contributor cannot hold it).
 */

/** The duration a shard is sized to (ms): long enough that a lease's fixed costs (a round
 * trip, a dispatch) stay small beside it, short enough that a lapse or a slow tab costs
 * seconds, not minutes. Within 2–10 s. */
export const TARGET_SHARD_MS = 5_000; // ms

/** The kernel's tile: block sides are multiples of it unless the matrix is smaller, and a
 * split never cuts below it. */
export const TILE = 64;

/** Fewest shards a job is cut into when the matrix allows: a job of one shard cannot use a
 * second contributor. */
export const MIN_SHARDS = 4;

/** Room a frame leaves for its header (ids, shapes) beside the tensors: the wire's frame
 * limits allow this much beyond them. */
export const FRAME_HEADER_BYTES = 4_096;

/** What the owner knows of one contributor, to size shards for it. */
export interface ContributorCapacity {
  /** Measured matmul speed (GFLOP/s); 0 when unknown. */
  gflops: number;
  /** The owner-measured throughput of the link to it (bytes/s); 0 when unknown. */
  bytesPerSec: number;
  /** Its adapter's largest binding (bytes); 0 when unknown. */
  maxBufferBytes: number;
  /** The largest lease frame it accepts (bytes), when it said. */
  maxFrameBytes?: number;
}

/**
 * Assumed for a mesh the owner knows nothing of: SwiftShader-class speed (a browser without a
 * GPU), a slow WebRTC link, WebGPU's default storage binding limit (128 MiB) and frames no
 * larger than the largest result frame an owner reads (16 MiB and a header).
 */
export const UNKNOWN_CONTRIBUTOR: Required<ContributorCapacity> = {
  gflops: 1, // GFLOP/s
  bytesPerSec: DEFAULT_LINK_BYTES_PER_SEC, // bytes/s
  maxBufferBytes: 128 * 2 ** 20, // bytes
  maxFrameBytes: 16 * 2 ** 20 + FRAME_HEADER_BYTES, // bytes
};

/** Bytes a contributor binds for a block: its A rows, B columns and C block (float32). */
export function blockBytes(rows: number, cols: number, k: number): number {
  return 4 * ((rows + cols) * k + rows * cols);
}

/** Bytes a lease's frame carries for a block: its A rows and B columns (float32) and a
 * header. */
export function leaseFrameBytes(rows: number, cols: number, k: number): number {
  return 4 * (rows + cols) * k + FRAME_HEADER_BYTES;
}

/** Whether a block fits a contributor's buffer and frame limits (absent: no frame limit). */
export function blockFits(
  b: Pick<Block, 'rows' | 'cols'>,
  k: number,
  limits: { maxBufferBytes: number; maxFrameBytes?: number },
): boolean {
  return (
    blockBytes(b.rows, b.cols, k) <= limits.maxBufferBytes &&
    leaseFrameBytes(b.rows, b.cols, k) <= (limits.maxFrameBytes ?? Number.POSITIVE_INFINITY)
  );
}

/** Splits an m×n result into blocks of at most blockRows × blockCols, row-major order. */
export function planBlocks(m: number, n: number, blockRows: number, blockCols: number): Block[] {
  const blocks: Block[] = [];
  for (let row0 = 0; row0 < m; row0 += blockRows) {
    for (let col0 = 0; col0 < n; col0 += blockCols) {
      blocks.push({
        row0,
        rows: Math.min(blockRows, m - row0),
        col0,
        cols: Math.min(blockCols, n - col0),
      });
    }
  }
  return blocks;
}

/** The largest side (a multiple of TILE, at least TILE) that still leaves `minShards` shards
 * of an m×n result when it can. */
function sideForShards(m: number, n: number, minShards: number): number {
  return TILE * Math.max(1, Math.ceil(Math.sqrt((m * n) / minShards) / TILE));
}

/**
 * A square-ish block size such that one shard's inputs and output fit in `maxShardBytes` and the
 * job has at least `minShards` shards when it can. (Sizes by bytes alone; sizeShards also sizes
 * by time.)
 */
export function chooseBlockSize(
  m: number,
  k: number,
  n: number,
  { maxShardBytes = 16 * 2 ** 20, minShards = MIN_SHARDS } = {},
): { blockRows: number; blockCols: number } {
  // Sides are multiples of 64 (the kernel's tile) unless the matrix is smaller than that.
  let side = sideForShards(m, n, minShards);
  const bytes = (s: number) => blockBytes(s, s, k);
  while (side > TILE && bytes(side) > maxShardBytes) side -= TILE;
  if (bytes(Math.min(side, m, n)) > maxShardBytes) {
    throw new RangeError(`K = ${k} is too deep for ${maxShardBytes}-byte shards`);
  }
  return { blockRows: Math.min(side, m), blockCols: Math.min(side, n) };
}

/** A block size chosen for the mesh, and why. */
export interface ShardSize {
  blockRows: number;
  blockCols: number;
  /** Expected time of one full block for the median contributor (ms): its transfer both ways
   * plus its compute. */
  expectedMs: number;
  /** The figures it was sized from: the median contributor's speed and link, and the smallest
   * buffer and frame limit seen. */
  basis: { gflops: number; bytesPerSec: number; maxBufferBytes: number; maxFrameBytes: number };
}

function median(xs: number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Expected time of a rows×cols block (ms) at `gflops` over a link of `bytesPerSec`. */
export function blockMs(
  rows: number,
  cols: number,
  k: number,
  gflops: number,
  bytesPerSec: number,
): number {
  return (
    transferTimeMs(blockBytes(rows, cols, k), bytesPerSec) + (2 * rows * cols * k) / (gflops * 1e6)
  );
}

/**
 * Sizes an m×k×n matmul's blocks so one shard takes about `targetMs` for the median of the
 * `contributors` the owner sees (UNKNOWN_CONTRIBUTOR's figures for any not known, or when none
 * is): the largest square side, a multiple of TILE, whose expected time (transfer both ways +
 * compute) is within the target, that fits the smallest buffer and frame limit among them, and
 * leaves at least `minShards` shards when the matrix allows.
 *
 * The median, not the mean or the fastest: one tab with a GPU (or one peer lying about its
 * speed) would size shards that everyone else lets lapse, and one dead-slow tab would shred the
 * job for all; sized to the median, half the mesh finishes a shard within the target, and a
 * shard too slow for its contributor lapses and is split (MatmulOwnerJob).
 *
 * Throws RangeError when even a TILE-sided block does not fit the smallest limit.
 */
export function sizeShards(
  m: number,
  k: number,
  n: number,
  contributors: readonly ContributorCapacity[],
  { targetMs = TARGET_SHARD_MS, minShards = MIN_SHARDS } = {},
): ShardSize {
  const known = (f: (c: ContributorCapacity) => number | undefined) =>
    contributors.map(f).filter((x): x is number => x !== undefined && x > 0 && Number.isFinite(x));
  const smallest = (xs: number[]) => (xs.length > 0 ? Math.min(...xs) : undefined);
  const u = UNKNOWN_CONTRIBUTOR;
  const basis = {
    gflops: median(known((c) => c.gflops)) ?? u.gflops,
    bytesPerSec: median(known((c) => c.bytesPerSec)) ?? u.bytesPerSec,
    maxBufferBytes: smallest(known((c) => c.maxBufferBytes)) ?? u.maxBufferBytes,
    maxFrameBytes: smallest(known((c) => c.maxFrameBytes)) ?? u.maxFrameBytes,
  };
  const fits = (s: number) => blockFits({ rows: Math.min(s, m), cols: Math.min(s, n) }, k, basis);
  const ms = (s: number) =>
    blockMs(Math.min(s, m), Math.min(s, n), k, basis.gflops, basis.bytesPerSec);
  if (!fits(TILE)) {
    throw new RangeError(
      `K = ${k} is too deep: a ${TILE}-sided block does not fit ${basis.maxBufferBytes}-byte buffers and ${basis.maxFrameBytes}-byte frames`,
    );
  }
  let side = TILE;
  const most = sideForShards(m, n, minShards);
  while (side + TILE <= most && fits(side + TILE) && ms(side + TILE) <= targetMs) side += TILE;
  const blockRows = Math.min(side, m);
  const blockCols = Math.min(side, n);
  return { blockRows, blockCols, expectedMs: ms(side), basis };
}

/** Where to cut a side in two: near the middle, on a TILE boundary, neither piece below TILE. */
function cut(side: number): number {
  return Math.min(side - TILE, Math.max(TILE, TILE * Math.round(side / 2 / TILE)));
}

/**
 * A block cut into smaller ones: quarters when both sides are at least 2·TILE, else halves of
 * the longer side when it is; pieces keep TILE-aligned edges and never go below TILE. Empty
 * when the block cannot be split (both sides under 2·TILE).
 */
export function splitBlock(b: Block): Block[] {
  const rowCuts = b.rows >= 2 * TILE ? [0, cut(b.rows), b.rows] : [0, b.rows];
  const colCuts = b.cols >= 2 * TILE ? [0, cut(b.cols), b.cols] : [0, b.cols];
  // Quarters when both sides cut, halves of the one that does (the longer: the shorter is
  // under 2·TILE), nothing when neither does.
  return rowCuts.length + colCuts.length > 4 ? pieces(b, rowCuts, colCuts) : [];
}

function pieces(b: Block, rowCuts: number[], colCuts: number[]): Block[] {
  const out: Block[] = [];
  for (let i = 0; i + 1 < rowCuts.length; i++) {
    for (let j = 0; j + 1 < colCuts.length; j++) {
      out.push({
        row0: b.row0 + rowCuts[i]!,
        rows: rowCuts[i + 1]! - rowCuts[i]!,
        col0: b.col0 + colCuts[j]!,
        cols: colCuts[j + 1]! - colCuts[j]!,
      });
    }
  }
  return out;
}

/** The smallest block splitting `b` can reach: TILE on each side that can be split. */
export function smallestPiece(b: Pick<Block, 'rows' | 'cols'>): { rows: number; cols: number } {
  return { rows: b.rows >= 2 * TILE ? TILE : b.rows, cols: b.cols >= 2 * TILE ? TILE : b.cols };
}
