import { describe, expect, test } from 'vitest';
import { CopyPlacement, ONLINE_MS } from '../../../src/jobs/copy-placement';
import { RedundancyVerifier, withinTolerance } from '../../../src/jobs/redundancy';
import { seededRng } from '../../../src/model/rng';

const answer = Float32Array.from([1, 2, 3]);

function setup(proven: string[]) {
  const v = new RedundancyVerifier<Float32Array>(4, new Set(), {
    agree: withinTolerance(1e-4, 1e-6),
    proven: (c) => proven.includes(c),
    spotCheckRate: 0,
    rng: seededRng(1),
  });
  return { v, p: new CopyPlacement(v, (c) => proven.includes(c)) };
}

describe('CopyPlacement (who may take the next copy of a shard)', () => {
  test('an unproven first copy is confirmed by a proven contributor while one is online', () => {
    const { v, p } = setup(['vet']);
    for (const id of ['fresh-1', 'fresh-2', 'vet']) p.saw(id, `gpu-${id}`, 0);
    v.submit(0, 'fresh-1', 'gpu-fresh-1', answer);
    expect(p.canTake(0, 'fresh-2', 'gpu-fresh-2', 1)).toBe(false); // a sybil twin may not
    expect(p.canTake(0, 'vet', 'gpu-vet', 1)).toBe(true);
    expect(p.anyoneCan(0, 1)).toBe(true);
    // Any first copy, and any copy after a proven one, may go to anyone.
    expect(p.canTake(1, 'fresh-2', 'gpu-fresh-2', 1)).toBe(true);
    v.submit(2, 'vet', 'gpu-vet', answer);
    expect(p.canTake(2, 'fresh-2', 'gpu-fresh-2', 1)).toBe(true);
  });

  test('with no proven contributor online (or none that may take it), anyone may', () => {
    const { v, p } = setup(['vet']);
    p.saw('fresh-1', 'gpu-a', 0);
    p.saw('fresh-2', 'gpu-b', 0);
    p.saw('vet', 'gpu-v', 0);
    v.submit(0, 'fresh-1', 'gpu-a', answer);
    // The proven one went quiet: it no longer counts as online.
    p.saw('fresh-2', 'gpu-b', ONLINE_MS);
    expect(p.canTake(0, 'fresh-2', 'gpu-b', ONLINE_MS)).toBe(true);
    // A proven one on the adapter that already computed it, while others are online, cannot
    // take it: it does not hold the shard up.
    const q = setup(['vet']);
    q.p.saw('fresh-1', 'gpu-a', 0);
    q.p.saw('fresh-2', 'gpu-b', 0);
    q.p.saw('vet', 'gpu-a', 0);
    q.v.submit(0, 'fresh-1', 'gpu-a', answer);
    expect(q.p.canTake(0, 'vet', 'gpu-a', 1)).toBe(false);
    expect(q.p.canTake(0, 'fresh-2', 'gpu-b', 1)).toBe(true);
    expect(q.p.adapterOf('vet')).toBe('gpu-a');
  });
});
