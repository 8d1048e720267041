import { describe, expect, test } from 'vitest';
import { RedundancyVerifier, withinTolerance } from '../../src/jobs/redundancy';
import { seededRng } from '../../src/jobs/rng';

const honest = Float32Array.from([1, 2, 3, 4]);
const close = Float32Array.from([1 + 1e-6, 2, 3 - 1e-6, 4]); // another adapter's rounding
const wrong = Float32Array.from([1, 2, 3, 5]);
const agree = withinTolerance(1e-4, 1e-6);

function verifier(spotCheckRate = 0, canaries = new Map<number, Float32Array>()) {
  return new RedundancyVerifier(4, canaries, { agree, spotCheckRate, rng: seededRng(1) });
}

describe('RedundancyVerifier (inference shards)', () => {
  test('two honest copies on different adapters agree within tolerance: both credited', () => {
    const v = verifier();
    expect(v.canTake(0, 'a', 'gpu-x')).toBe(true);
    expect(v.submit(0, 'a', 'gpu-x', honest)).toEqual({ kind: 'wait' });
    expect(v.canTake(0, 'a', 'gpu-y')).toBe(false); // never the same contributor twice
    expect(v.canTake(0, 'b', 'gpu-x', true)).toBe(false); // another adapter is online: use it
    expect(v.canTake(0, 'b', 'gpu-y', true)).toBe(true);
    expect(v.submit(0, 'b', 'gpu-y', close)).toEqual({
      kind: 'settled',
      accepted: ['a', 'b'],
      rejected: [],
    });
    expect(v.result(0)).toEqual(honest);
    expect(v.extraCopies).toBe(1);
  });

  test('a disagreement asks a third copy; the odd one out is rejected', () => {
    const v = verifier();
    v.submit(1, 'honest', 'x', honest);
    expect(v.submit(1, 'cheat', 'y', wrong)).toEqual({ kind: 'wait' });
    expect(v.copiesWanted(1)).toBe(1);
    expect(v.submit(1, 'third', 'z', close)).toEqual({
      kind: 'settled',
      accepted: ['honest', 'third'],
      rejected: ['cheat'],
    });
  });

  test('three different answers: the owner spot-checks and decides', () => {
    const v = verifier();
    v.submit(2, 'a', 'x', wrong);
    v.submit(2, 'b', 'y', Float32Array.from([9, 9, 9, 9]));
    expect(v.submit(2, 'c', 'z', honest)).toEqual({ kind: 'spot-check' });
    expect(v.resolveSpotCheck(2, honest)).toEqual({
      kind: 'settled',
      accepted: ['c'],
      rejected: ['a', 'b'],
    });
  });

  test('canaries: a known answer decides a single copy; a wrong canary is a caught cheat', () => {
    const v = verifier(
      0,
      new Map([
        [4, honest],
        [5, honest],
      ]),
    );
    expect(v.copiesWanted(4)).toBe(1);
    expect(v.submit(4, 'good', 'x', close)).toEqual({
      kind: 'settled',
      accepted: ['good'],
      rejected: [],
    });
    expect(v.submit(5, 'liar', 'x', wrong)).toEqual({
      kind: 'settled',
      accepted: [],
      rejected: ['liar'],
    });
  });

  test('colluders agreeing on a wrong answer are caught by the owner’s spot-check', () => {
    const v = verifier(1); // spot-check every agreed shard
    v.submit(3, 'c1', 'x', wrong);
    expect(v.submit(3, 'c2', 'y', wrong)).toEqual({ kind: 'spot-check' });
    expect(v.resolveSpotCheck(3, honest)).toEqual({
      kind: 'settled',
      accepted: [],
      rejected: ['c1', 'c2'],
    });
    expect(v.spotChecks).toBe(1);
  });

  test('tolerance: NaN and wrong lengths never agree', () => {
    expect(agree(honest, Float32Array.from([1, 2, 3, Number.NaN]))).toBe(false);
    expect(agree(honest, honest.subarray(1))).toBe(false);
    expect(agree(honest, close)).toBe(true);
  });
});
