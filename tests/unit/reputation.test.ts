import { describe, expect, test } from 'vitest';
import { Reputation } from '../../src/jobs/reputation';

describe('Reputation', () => {
  test('a newcomer returning two bad results is quarantined', () => {
    const r = new Reputation();
    r.record('cheat', 'rejected');
    expect(r.isQuarantined('cheat')).toBe(false);
    r.record('cheat', 'rejected');
    expect(r.isQuarantined('cheat')).toBe(true);
    expect(r.get('cheat')).toMatchObject({ rejected: 2, quarantined: true });
  });

  test('malformed frames count like bad results; honest GPU failures barely count', () => {
    const r = new Reputation();
    r.record('fuzzer', 'malformed');
    r.record('fuzzer', 'malformed');
    expect(r.isQuarantined('fuzzer')).toBe(true);
    for (let i = 0; i < 20; i++) r.record('flaky', 'failure');
    expect(r.isQuarantined('flaky')).toBe(false);
  });

  test('a long honest record survives one mistake but is capped, so it cannot buy many', () => {
    const r = new Reputation();
    for (let i = 0; i < 1_000; i++) r.record('veteran', 'accepted');
    expect(r.get('veteran').score).toBe(20);
    r.record('veteran', 'rejected');
    expect(r.isQuarantined('veteran')).toBe(false);
    r.record('veteran', 'rejected');
    r.record('veteran', 'rejected');
    r.record('veteran', 'rejected');
    expect(r.isQuarantined('veteran')).toBe(true);
    // Quarantine sticks even if the peer behaves afterwards.
    for (let i = 0; i < 100; i++) r.record('veteran', 'accepted');
    expect(r.isQuarantined('veteran')).toBe(true);
  });

  test('missed deadlines add up; records persist through restore', () => {
    const r = new Reputation();
    const seen: string[] = [];
    r.onChange = (peer) => seen.push(peer);
    for (let i = 0; i < 8; i++) r.record('sleepy', 'missed-deadline');
    expect(r.isQuarantined('sleepy')).toBe(true);
    expect(seen).toHaveLength(8);
    const copy = new Reputation();
    copy.restore(r.entries());
    expect(copy.get('sleepy')).toEqual(r.get('sleepy'));
    expect(copy.isQuarantined('nobody')).toBe(false);
  });

  test('damaged stored records are skipped, not trusted', () => {
    const r = new Reputation();
    const ok = {
      score: -20,
      accepted: 0,
      rejected: 2,
      missedDeadlines: 0,
      malformed: 0,
      failures: 0,
      quarantined: true,
      seenAt: 5,
    };
    r.restore([
      ['good', ok],
      ['nan', { ...ok, score: Number.NaN }],
      ['flag', { ...ok, quarantined: 'yes' as unknown as boolean }],
      ['count', { ...ok, rejected: -1 }],
      ['null', null as unknown as typeof ok],
    ]);
    expect(r.entries().map(([p]) => p)).toEqual(['good']);
  });

  test('records are bounded: the longest unseen go first (ids are free to make)', () => {
    let t = 0;
    const r = new Reputation({ maxPeers: 100, now: () => ++t });
    r.record('regular', 'accepted');
    for (let i = 0; i < 1_000; i++) {
      r.record(`sybil-${i}`, 'malformed');
      if (i % 50 === 0) r.record('regular', 'accepted'); // seen again: kept
    }
    expect(r.size).toBe(100);
    expect(r.get('regular').accepted).toBe(21);
    expect(r.get('sybil-999').malformed).toBe(1);
    expect(r.get('sybil-0').malformed).toBe(0); // forgotten
  });
});
