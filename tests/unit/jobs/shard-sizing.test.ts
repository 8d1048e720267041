import { describe, expect, test } from 'vitest';
import { chooseBlockSize as chooseFromJob, planBlocks } from '../../../src/jobs/matmul-job';
import {
  blockBytes,
  blockMs,
  chooseBlockSize,
  leaseFrameBytes,
  MIN_SHARDS,
  sizeShards,
  splitBlock,
  TARGET_SHARD_MS,
  TILE,
  UNKNOWN_CONTRIBUTOR,
} from '../../../src/jobs/shard-size';

const GiB = 2 ** 30;
const tab = (gflops: number, bytesPerSec: number, maxBufferBytes = 2 * GiB) => ({
  gflops,
  bytesPerSec,
  maxBufferBytes,
});

/** Every block of the plan within the limits and the target, or as small as blocks go. */
function checkPlan(m: number, k: number, n: number, s: ReturnType<typeof sizeShards>) {
  const blocks = planBlocks(m, n, s.blockRows, s.blockCols);
  for (const b of blocks) {
    expect(blockBytes(b.rows, b.cols, k)).toBeLessThanOrEqual(s.basis.maxBufferBytes);
    expect(leaseFrameBytes(b.rows, b.cols, k)).toBeLessThanOrEqual(s.basis.maxFrameBytes);
  }
  if (s.blockRows < m) expect(s.blockRows % TILE).toBe(0);
  if (s.blockCols < n) expect(s.blockCols % TILE).toBe(0);
  return blocks;
}

describe('sizing the 2048³ job to the mesh', () => {
  test('(a) fast CPU-engine tabs at ~27 GFLOP/s on a ~5 MB/s link: four 1024² shards, ~4.4 s each', () => {
    const s = sizeShards(2048, 2048, 2048, [tab(27, 5e6), tab(26, 4.8e6), tab(28, 5.2e6)]);
    expect(s).toMatchObject({ blockRows: 1024, blockCols: 1024 });
    expect(s.basis).toMatchObject({ gflops: 27, bytesPerSec: 5e6 });
    // 21 MB over 5 MB/s is most of it; the compute is 0.16 s.
    expect(s.expectedMs).toBeCloseTo(blockMs(1024, 1024, 2048, 27, 5e6), 6);
    expect(s.expectedMs).toBeGreaterThan(4_000);
    expect(s.expectedMs).toBeLessThanOrEqual(TARGET_SHARD_MS);
    expect(checkPlan(2048, 2048, 2048, s)).toHaveLength(MIN_SHARDS);
  });

  test('(b) SwiftShader tabs at ~1 GFLOP/s: 704² blocks, nine shards within the target', () => {
    const s = sizeShards(2048, 2048, 2048, [tab(1, 5e6), tab(0.9, 5e6), tab(1.1, 5e6)]);
    expect(s).toMatchObject({ blockRows: 704, blockCols: 704 });
    expect(s.expectedMs).toBeLessThanOrEqual(TARGET_SHARD_MS);
    // The next size up would overrun the target.
    expect(blockMs(768, 768, 2048, 1, 5e6)).toBeGreaterThan(TARGET_SHARD_MS);
    expect(checkPlan(2048, 2048, 2048, s)).toHaveLength(9);
  });

  test('(c) nothing known: the conservative defaults give 256² blocks, 64 shards', () => {
    const s = sizeShards(2048, 2048, 2048, []);
    expect(s.basis).toEqual(UNKNOWN_CONTRIBUTOR);
    expect(s).toMatchObject({ blockRows: 256, blockCols: 256 });
    expect(s.expectedMs).toBeLessThanOrEqual(TARGET_SHARD_MS);
    expect(blockMs(320, 320, 2048, 1, UNKNOWN_CONTRIBUTOR.bytesPerSec)).toBeGreaterThan(
      TARGET_SHARD_MS,
    );
    expect(checkPlan(2048, 2048, 2048, s)).toHaveLength(64);
    // Contributors whose figures are all unknown (0) count as nothing known.
    expect(sizeShards(2048, 2048, 2048, [tab(0, 0, 0)])).toEqual(s);
  });

  test('the median contributor decides: one outlier either way changes nothing', () => {
    const mesh = [tab(27, 5e6), tab(27, 5e6), tab(27, 5e6)];
    const base = sizeShards(2048, 2048, 2048, mesh);
    // One tab claiming 10,000 GFLOP/s, or one crawling at 0.01: the median stays 27.
    const liar = sizeShards(2048, 2048, 2048, [...mesh, tab(10_000, 1e9)]);
    const crawler = sizeShards(2048, 2048, 2048, [...mesh, tab(0.01, 1e4)]);
    expect(liar.blockRows).toBe(base.blockRows);
    expect(crawler.blockRows).toBe(base.blockRows);
  });

  test('never above the smallest buffer or frame limit among them', () => {
    const small = sizeShards(2048, 2048, 2048, [tab(27, 5e6), tab(27, 5e6, 8 * 2 ** 20)]);
    expect(small.blockRows).toBe(448); // 512² would bind 9 MiB
    expect(blockBytes(512, 512, 2048)).toBeGreaterThan(8 * 2 ** 20);
    checkPlan(2048, 2048, 2048, small);
    const framed = sizeShards(2048, 2048, 2048, [{ ...tab(27, 5e6), maxFrameBytes: 4 * 2 ** 20 }]);
    expect(leaseFrameBytes(framed.blockRows, framed.blockCols, 2048)).toBeLessThanOrEqual(
      4 * 2 ** 20,
    );
    expect(() => sizeShards(64, 1_000_000, 64, [tab(27, 5e6, 2 ** 20)])).toThrow(RangeError);
  });

  test('small matrices keep their own sides; shards stay at least MIN_SHARDS when they can', () => {
    expect(sizeShards(10, 5, 7, [])).toMatchObject({ blockRows: 10, blockCols: 7 });
    const s = sizeShards(256, 32, 256, [tab(1_000, 1e9)]);
    expect(planBlocks(256, 256, s.blockRows, s.blockCols).length).toBeGreaterThanOrEqual(
      MIN_SHARDS,
    );
  });

  test('chooseBlockSize moved here and is still exported from matmul-job', () => {
    expect(chooseFromJob).toBe(chooseBlockSize);
  });
});

describe('splitBlock', () => {
  const tiles = (b: { row0: number; rows: number; col0: number; cols: number }) => {
    const pieces = splitBlock(b);
    const area = pieces.reduce((s, p) => s + p.rows * p.cols, 0);
    expect(area).toBe(pieces.length ? b.rows * b.cols : 0);
    for (const p of pieces) {
      expect(p.row0).toBeGreaterThanOrEqual(b.row0);
      expect(p.col0).toBeGreaterThanOrEqual(b.col0);
      expect(p.row0 + p.rows).toBeLessThanOrEqual(b.row0 + b.rows);
      expect(p.col0 + p.cols).toBeLessThanOrEqual(b.col0 + b.cols);
    }
    return pieces;
  };

  test('quarters when both sides are two tiles or more, on tile edges', () => {
    expect(tiles({ row0: 1024, rows: 1024, col0: 0, cols: 1024 })).toEqual([
      { row0: 1024, rows: 512, col0: 0, cols: 512 },
      { row0: 1024, rows: 512, col0: 512, cols: 512 },
      { row0: 1536, rows: 512, col0: 0, cols: 512 },
      { row0: 1536, rows: 512, col0: 512, cols: 512 },
    ]);
    // 704 cuts at 320 or 384 (both tile edges); no piece below a tile.
    for (const p of tiles({ row0: 0, rows: 704, col0: 1408, cols: 640 })) {
      expect(p.rows % TILE).toBe(0);
      expect(p.cols % TILE).toBe(0);
    }
  });

  test('halves of the longer side when only it is two tiles or more; nothing under that', () => {
    expect(tiles({ row0: 0, rows: 100, col0: 0, cols: 300 })).toEqual([
      { row0: 0, rows: 100, col0: 0, cols: 128 },
      { row0: 0, rows: 100, col0: 128, cols: 172 },
    ]);
    // A matrix edge of 130 rows: 64 + 66, never a sliver.
    expect(tiles({ row0: 0, rows: 130, col0: 0, cols: 64 })).toEqual([
      { row0: 0, rows: 64, col0: 0, cols: 64 },
      { row0: 64, rows: 66, col0: 0, cols: 64 },
    ]);
    expect(tiles({ row0: 0, rows: 127, col0: 0, cols: 127 })).toEqual([]);
    expect(tiles({ row0: 0, rows: 64, col0: 0, cols: 64 })).toEqual([]);
  });
});
