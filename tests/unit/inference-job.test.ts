import { describe, expect, test } from 'vitest';
import { blockTokens, InferenceAssembly, planSequenceBlocks } from '../../src/jobs/inference-job';

describe('batched inference as work', () => {
  const job = {
    modelDigest: 'ab'.repeat(32),
    vocab: 3,
    seq: 2,
    sequences: 5,
    tokens: Uint32Array.from({ length: 10 }, (_, i) => i),
  };

  test('blocks of sequences cover the job once; tokens and logits land in place', () => {
    const blocks = planSequenceBlocks(5, 2);
    expect(blocks).toEqual([
      { start: 0, count: 2 },
      { start: 2, count: 2 },
      { start: 4, count: 1 },
    ]);
    expect(Array.from(blockTokens(job, blocks[1]!))).toEqual([4, 5, 6, 7]);
    const asm = new InferenceAssembly(job, blocks);
    for (const [i, b] of blocks.entries()) {
      expect(
        asm.place(
          i,
          Float32Array.from({ length: b.count * 3 }, (_, j) => 100 * i + j),
        ),
      ).toBe(true);
    }
    expect(asm.place(0, new Float32Array(6))).toBe(false); // a late copy changes nothing
    expect(asm.done).toBe(true);
    expect(Array.from(asm.logits.subarray(12))).toEqual([200, 201, 202]);
  });

  test('wrong sizes are refused', () => {
    expect(() => planSequenceBlocks(0, 2)).toThrow(RangeError);
    expect(() => planSequenceBlocks(3, 0)).toThrow(RangeError);
    const asm = new InferenceAssembly(job, planSequenceBlocks(5, 2));
    expect(() => asm.place(0, new Float32Array(5))).toThrow(RangeError);
    expect(() => asm.place(7, new Float32Array(6))).toThrow(RangeError);
  });
});
