import { describe, expect, test } from 'vitest';
import { RedundancyVerifier, withinTolerance } from '../../../src/jobs/redundancy';
import { seededRng } from '../../../src/model/rng';

const honest = Float32Array.from([1, 2, 3, 4]);
const close = Float32Array.from([1 + 1e-6, 2, 3 - 1e-6, 4]); // another adapter's rounding
const wrong = Float32Array.from([1, 2, 3, 5]);
const agree = withinTolerance(1e-4, 1e-6);

/** Contributors that passed the owner's own checks in these tests. */
const proven = new Set(['a', 'b', 'honest', 'third', 'good', 'c1', 'alone']);

function verifier(spotCheckRate = 0, canaries = new Set<number>()) {
  return new RedundancyVerifier(6, canaries, {
    agree,
    proven: (c) => proven.has(c),
    spotCheckRate,
    rng: seededRng(1),
  });
}
/** The owner's check against its own answer. */
const agreesWith = (answer: Float32Array) => (r: Float32Array) => agree(r, answer);

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

  test('a disagreement is checked by the owner, not put to a vote', () => {
    const v = verifier();
    v.submit(1, 'honest', 'x', honest);
    expect(v.submit(1, 'cheat', 'y', wrong)).toEqual({ kind: 'check', reason: 'disagreement' });
    expect(v.disagreements).toBe(1);
    expect(v.copiesWanted(1)).toBe(0);
    expect(v.resolveCheck(1, agreesWith(honest))).toEqual({
      kind: 'settled',
      accepted: ['honest'],
      rejected: ['cheat'],
    });
    expect(v.settledBy(1)).toBe('owner');
  });

  test('agreement counts only when an agreeing contributor is proven', () => {
    const v = verifier();
    v.submit(0, 'fresh-1', 'x', wrong);
    // Two unproven ids agreeing (one attacker, one cheaper model) are no evidence.
    expect(v.submit(0, 'fresh-2', 'y', wrong)).toEqual({ kind: 'check', reason: 'unproven' });
    expect(v.resolveCheck(0, agreesWith(honest), honest)).toEqual({
      kind: 'settled',
      accepted: [],
      rejected: ['fresh-1', 'fresh-2'],
    });
    // The owner's own answer settles the shard; nobody is credited.
    expect(v.result(0)).toEqual(honest);
    // One proven contributor among the agreeing ones is enough.
    v.submit(1, 'fresh-1', 'x', close);
    expect(v.submit(1, 'a', 'y', honest)).toEqual({
      kind: 'settled',
      accepted: ['fresh-1', 'a'],
      rejected: [],
    });
    expect(v.settledBy(1)).toBe('agreement');
  });

  test('a caught contributor: waiting copies dropped, agreed shards reopened, checked ones stand', () => {
    const v = verifier();
    v.submit(0, 'x', 'gpu-1', honest); // waiting for its twin
    v.submit(1, 'x', 'gpu-1', honest);
    v.submit(1, 'a', 'gpu-2', close); // agreed with a proven peer
    v.submit(2, 'x', 'gpu-1', wrong);
    v.submit(2, 'b', 'gpu-2', honest); // disagreement: the owner checked, x was wrong
    v.resolveCheck(2, agreesWith(honest));
    v.submit(3, 'x', 'gpu-1', honest);
    expect(v.submit(3, 'c', 'gpu-3', honest).kind).toBe('check'); // being checked
    expect(v.bar('x')).toEqual({ dropped: [0], agreed: [1] });
    expect(v.copies(0)).toEqual([]);
    expect(v.canTake(0, 'x', 'gpu-9')).toBe(false); // barred from the job
    expect(v.submit(4, 'x', 'gpu-1', honest)).toEqual({ kind: 'stale' });
    expect(v.reopen(1)).toEqual({ kind: 'check', reason: 'revoked' });
    expect(v.reopen(2)).toEqual({ kind: 'stale' }); // decided by the owner: it stands
    // The check of shard 3 never accepts the barred copy, right or not.
    expect(v.resolveCheck(3, agreesWith(honest))).toEqual({
      kind: 'settled',
      accepted: ['c'],
      rejected: ['x'],
    });
    // Re-verifying shard 1: a's copy is right; x's is not counted.
    expect(v.resolveCheck(1, agreesWith(honest), honest)).toEqual({
      kind: 'settled',
      accepted: ['a'],
      rejected: ['x'],
    });
    expect(v.result(1)).toEqual(close);
  });

  test('outputs forgotten after settling: a re-verification judges nobody it cannot see', () => {
    const v = verifier();
    v.submit(0, 'x', 'gpu-1', wrong);
    v.submit(0, 'a', 'gpu-2', wrong); // colluded, or an honest mistake: no way to tell now
    expect(v.settledBy(0)).toBe('agreement');
    v.forget(0); // the owner stored the output; a data-set job keeps none in memory
    expect(v.result(0)).toBeUndefined();
    expect(v.results(0)).toEqual([]);
    expect(v.bar('x')).toEqual({ dropped: [], agreed: [0] }); // who sent it is kept
    expect(v.reopen(0)).toEqual({ kind: 'check', reason: 'revoked' });
    // The owner's own answer settles it; a's copy is gone, so a is neither credited nor caught.
    expect(v.resolveCheck(0, agreesWith(honest), honest)).toEqual({
      kind: 'settled',
      accepted: [],
      rejected: [],
    });
    expect(v.result(0)).toEqual(honest);
  });

  test('a shard settled on a sample of its rows is reopened when its contributor is caught', () => {
    const v = verifier(1);
    expect(v.submit(0, 'a', 'gpu-1', honest)).toEqual({ kind: 'wait' });
    expect(v.ownerCheck(0)).toEqual({ kind: 'check', reason: 'no-second-copy' });
    expect(v.resolveCheck(0, () => true, undefined, true)).toMatchObject({ accepted: ['a'] });
    expect(v.settledBy(0)).toBe('sample');
    expect(v.bar('a')).toEqual({ dropped: [], agreed: [0] });
    expect(v.reopen(0)).toEqual({ kind: 'check', reason: 'revoked' });
  });

  test('three copies: all must agree; any odd one out sends the shard to the owner', () => {
    const v = new RedundancyVerifier(6, new Set(), {
      agree,
      proven: (c) => proven.has(c),
      copies: 3,
      spotCheckRate: 0,
      rng: seededRng(1),
    });
    v.submit(2, 'a', 'x', wrong);
    expect(v.submit(2, 'b', 'y', Float32Array.from([9, 9, 9, 9]))).toEqual({ kind: 'wait' });
    expect(v.submit(2, 'c', 'z', honest)).toEqual({ kind: 'check', reason: 'disagreement' });
    expect(v.disagreements).toBe(1);
    expect(v.resolveCheck(2, agreesWith(honest))).toEqual({
      kind: 'settled',
      accepted: ['c'],
      rejected: ['a', 'b'],
    });
    expect(v.result(2)).toEqual(honest);
    for (const [c, x] of [
      ['a', honest],
      ['b', close],
      ['x', honest],
    ] as const)
      v.submit(3, c, c, x);
    expect(v.result(3)).toEqual(honest);
  });

  test('canaries: every copy is checked against the known answer; a wrong one is caught', () => {
    const v = verifier(0, new Set([4, 5]));
    expect(v.copiesWanted(4)).toBe(1);
    expect(v.submit(4, 'good', 'x', close)).toEqual({ kind: 'check', reason: 'canary' });
    expect(v.resolveCheck(4, agreesWith(honest))).toEqual({
      kind: 'settled',
      accepted: ['good'],
      rejected: [],
    });
    expect(v.submit(5, 'liar', 'x', wrong)).toEqual({ kind: 'check', reason: 'canary' });
    // Nobody was right: the canary goes out again, and the liar is rejected.
    expect(v.resolveCheck(5, agreesWith(honest))).toEqual({ kind: 'retry', rejected: ['liar'] });
    expect(v.copiesWanted(5)).toBe(1);
    expect(v.canTake(5, 'other', 'x')).toBe(true);
  });

  test('colluders agreeing on a wrong answer are caught by the owner’s spot-check', () => {
    const v = verifier(1); // spot-check every agreed shard
    v.submit(3, 'c1', 'x', wrong);
    expect(v.submit(3, 'c2', 'y', wrong)).toEqual({ kind: 'check', reason: 'spot-check' });
    expect(v.isChecking(3)).toBe(true);
    // While the owner checks, a late copy is stale and none is wanted.
    expect(v.copiesWanted(3)).toBe(0);
    expect(v.submit(3, 'c3', 'z', honest)).toEqual({ kind: 'stale' });
    expect(v.resolveCheck(3, agreesWith(honest))).toEqual({
      kind: 'retry',
      rejected: ['c1', 'c2'],
    });
    expect(v.isSettled(3)).toBe(false);
  });

  test('a lone contributor: the owner checks the copy nobody else could make', () => {
    const v = verifier();
    expect(v.ownerCheck(0)).toEqual({ kind: 'wait' }); // nothing to check yet
    v.submit(0, 'alone', 'x', honest);
    expect(v.ownerCheck(0)).toEqual({ kind: 'check', reason: 'no-second-copy' });
    expect(v.resolveCheck(0, agreesWith(close))).toEqual({
      kind: 'settled',
      accepted: ['alone'],
      rejected: [],
    });
    // A second copy after the shard is decided is stale, not a reason to reopen it.
    expect(v.submit(0, 'late', 'y', honest)).toEqual({ kind: 'stale' });
  });

  test('a check that could not run leaves the copies waiting', () => {
    const v = verifier(1);
    v.submit(1, 'a', 'x', honest);
    expect(v.submit(1, 'b', 'y', close).kind).toBe('check');
    v.abandonCheck(1);
    expect(v.isChecking(1)).toBe(false);
    expect(v.results(1)).toHaveLength(2);
  });

  test('tolerance: NaN and wrong lengths never agree', () => {
    expect(agree(honest, Float32Array.from([1, 2, 3, Number.NaN]))).toBe(false);
    expect(agree(honest, honest.subarray(1))).toBe(false);
    expect(agree(honest, close)).toBe(true);
  });
});
