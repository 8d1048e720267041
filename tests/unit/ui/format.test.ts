import { describe, expect, test } from 'vitest';
import {
  boughtText,
  jobEta,
  nextPace,
  type Pace,
  textsJsonl,
  verifiedPart,
  WAITING_AFTER_MS,
} from '../../../src/ui/format';

// The pure helpers behind the jobs view: the time left, the JSONL of generated texts, the
// verified part of a cancelled job's answer, and what its credits bought.

/** Feeds progress samples (one a second, as the view redraws) and returns the last estimate. */
function run(
  samples: { at: number; verified: number; leased: number; awaiting?: number }[],
  shards = 10,
  stalled = false,
) {
  let pace: Pace | undefined;
  let eta = jobEta({ shards, verified: 0 }, { since: 0, verified: 0 }, 0, stalled);
  for (const s of samples) {
    const p = { shards, verified: s.verified, leased: s.leased, awaiting: s.awaiting ?? 0 };
    pace = nextPace(pace, p, s.at);
    eta = jobEta(p, pace, s.at, stalled);
  }
  return eta;
}

describe('time left', () => {
  test('from the pace of the work: 2 shards in 10 s leave 8 shards ≈ 40 s', () => {
    const eta = run([
      { at: 0, verified: 0, leased: 2 },
      { at: 10_000, verified: 2, leased: 2 },
    ]);
    expect(eta).toEqual({ kind: 'left', ms: 40_000 });
  });

  test('unknown until a shard is verified; 0 once every shard is', () => {
    expect(
      run([
        { at: 0, verified: 0, leased: 1 },
        { at: 5_000, verified: 0, leased: 1 },
      ]),
    ).toEqual({ kind: 'unknown' });
    expect(run([{ at: 0, verified: 3, leased: 0 }], 3)).toEqual({ kind: 'left', ms: 0 });
  });

  test('"waiting" while nothing is leased, instead of growing; the wait does not count later', () => {
    const working = [
      { at: 0, verified: 0, leased: 2 },
      { at: 10_000, verified: 2, leased: 2 },
    ];
    // Nothing out from 11 s on (2 shards in 11 s: 8 left ≈ 44 s): a short gap freezes the
    // estimate, a long one reads "waiting".
    const idle = { at: 11_000, verified: 2, leased: 0 };
    expect(run([...working, idle])).toEqual({ kind: 'left', ms: 44_000 });
    expect(run([...working, idle, { ...idle, at: 11_000 + WAITING_AFTER_MS - 1 }])).toEqual({
      kind: 'left',
      ms: 44_000,
    });
    expect(
      run([
        ...working,
        { at: 11_000, verified: 2, leased: 0 },
        { at: 11_000 + WAITING_AFTER_MS, verified: 2, leased: 0 },
      ]),
    ).toEqual({ kind: 'waiting' });
    const waitedAnHour = [
      ...working,
      { at: 11_000, verified: 2, leased: 0 },
      { at: 3_611_000, verified: 2, leased: 0 },
    ];
    expect(run(waitedAnHour)).toEqual({ kind: 'waiting' });
    // Work resumes: the hour of waiting is taken out: 11 s of work before it and 1 s after
    // made 3 shards in 12 s, so 7 left ≈ 28 s, not hours.
    const eta = run([
      ...waitedAnHour,
      { at: 3_611_000, verified: 2, leased: 1 },
      { at: 3_612_000, verified: 3, leased: 1 },
    ]);
    expect(eta).toEqual({ kind: 'left', ms: 28_000 });
  });

  test('a stalled job reads "waiting" at once, even with leases out', () => {
    expect(run([{ at: 0, verified: 1, leased: 3 }], 10, true)).toEqual({ kind: 'waiting' });
  });

  test('results awaiting verification are work in progress, not a wait', () => {
    expect(
      run([
        { at: 0, verified: 0, leased: 1 },
        { at: 10_000, verified: 5, leased: 0, awaiting: 2 },
        { at: 20_000, verified: 5, leased: 0, awaiting: 2 },
      ]),
    ).toEqual({ kind: 'left', ms: 20_000 });
  });
});

describe('generated texts as JSONL', () => {
  test('one object per line with prompt and continuation apart, any text escaped', () => {
    const texts = [
      { sequence: 0, prompt: 'And God said, ', continuation: 'let there' },
      { sequence: 3, prompt: 'a "quoted"\nline\\', continuation: '\u2028é\t' },
    ];
    const out = textsJsonl(texts);
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.slice(0, -1).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines.map((l) => JSON.parse(l))).toEqual(texts);
    expect(textsJsonl([])).toBe('');
  });
});

describe('the verified part of an answer', () => {
  test('unverified elements are 0, whatever the answer held there (NaN included)', () => {
    const c = Float32Array.of(1, Number.NaN, 3, 4, 5, 6);
    const mask = Uint8Array.of(1, 0, 1, 0, 0, 1);
    expect(Array.from(verifiedPart(c, mask))).toEqual([1, 0, 3, 0, 0, 6]);
    expect(Array.from(c)).toEqual([1, Number.NaN, 3, 4, 5, 6]); // the answer is not touched
  });

  test('rows per mask entry (logits: one entry per sequence)', () => {
    const logits = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(verifiedPart(logits, Uint8Array.of(0, 1, 1), 2))).toEqual([0, 0, 3, 4, 5, 6]);
  });

  test('a mask that does not cover the values is a RangeError, not a wrong file', () => {
    expect(() => verifiedPart(new Float32Array(6), new Uint8Array(5))).toThrow(RangeError);
    expect(() => verifiedPart(new Float32Array(6), new Uint8Array(4), 2)).toThrow(RangeError);
  });
});

describe('what the credits bought', () => {
  test('shards, GFLOP and the credits they cost', () => {
    expect(boughtText({ spent: 8_000_000, verified: 30, shards: 64, gflop: 4 })).toBe(
      '8.000 credits bought 30 of 64 shards verified (4.000 GFLOP), 2.000 credits per GFLOP.',
    );
    expect(boughtText({ spent: 2_500_000, verified: 0, shards: 4 })).toBe(
      '2.500 credits bought 0 of 4 shards verified.',
    );
    expect(boughtText({ spent: 0, verified: 0, shards: 4 })).toBe(
      'Nothing paid yet; 0 of 4 shards verified.',
    );
  });
});
