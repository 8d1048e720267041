import { expect, test } from 'vitest';
import { MinHeap } from '../../../src/jobs/heap';
import { seededRng } from '../../../src/model/rng';

test('MinHeap pops in key order, ties and all', () => {
  const rng = seededRng(3);
  const h = new MinHeap<number>();
  const keys = Array.from({ length: 5_000 }, () => rng.nextUint32() % 1_000);
  keys.forEach((k, i) => {
    h.push(k, i);
  });
  const out: number[] = [];
  while (h.size > 0) {
    const k = h.peekKey();
    expect(keys[h.pop()]).toBe(k);
    out.push(k);
  }
  expect(out).toEqual([...keys].sort((a, b) => a - b));
});
