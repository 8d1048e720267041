import { describe, expect, test } from 'vitest';
import { REPUTATION_DEFAULTS, Reputation } from '../../../src/jobs/reputation';

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

  test('slow is not dishonest: 100 lapses and failures lower the score, never quarantine', () => {
    const r = new Reputation();
    const seen: string[] = [];
    r.onChange = (peer) => seen.push(peer);
    for (let i = 0; i < 100; i++) r.record('sleepy', 'missed-deadline', `lease ${i} lapsed`);
    for (let i = 0; i < 100; i++) r.record('sleepy', 'failure');
    expect(r.isQuarantined('sleepy')).toBe(false);
    expect(r.get('sleepy')).toMatchObject({ missedDeadlines: 100, failures: 100 });
    expect(r.get('sleepy').score).toBe(REPUTATION_DEFAULTS.slowFloor);
    expect(r.get('sleepy').reason).toBeUndefined();
    expect(seen).toHaveLength(200);
    // Slowness does not bring it nearer quarantine than a newcomer: one rejection is not
    // enough, a second is.
    r.record('sleepy', 'rejected', 'result for shard 1 of job j rejected: residual');
    expect(r.isQuarantined('sleepy')).toBe(false);
    r.record('sleepy', 'rejected', 'result for shard 3 of job j rejected: residual');
    expect(r.get('sleepy')).toMatchObject({
      quarantined: true,
      reason: 'result for shard 3 of job j rejected: residual',
    });
    // Even weights that would sink it past the line do not quarantine without evidence.
    const harsh = new Reputation({ weights: { 'missed-deadline': -100 }, slowFloor: -1_000 });
    for (let i = 0; i < 100; i++) harsh.record('slow', 'missed-deadline');
    expect(harsh.isQuarantined('slow')).toBe(false);
  });

  test('two rejections quarantine with the reason and the time; the owner can lift it', () => {
    let t = 1_000;
    const r = new Reputation({ now: () => t });
    r.record('cheat', 'accepted');
    r.record('cheat', 'rejected', 'result for shard 2 of job X rejected: residual');
    t = 2_000;
    r.record('cheat', 'rejected', 'result for shard 3 of job X rejected: residual');
    expect(r.get('cheat')).toMatchObject({
      quarantined: true,
      reason: 'result for shard 3 of job X rejected: residual',
      quarantinedAt: 2_000,
    });
    // Without a detail the reason still says what happened.
    r.record('fuzzer', 'malformed');
    r.record('fuzzer', 'malformed');
    expect(r.get('fuzzer').reason).toMatch(/malformed/);
    // A later event does not rewrite why it was quarantined.
    r.record('cheat', 'rejected', 'something else');
    expect(r.get('cheat').reason).toBe('result for shard 3 of job X rejected: residual');
    const lifted = r.lift('cheat');
    expect(lifted).toMatchObject({ quarantined: false, score: 0, accepted: 1, rejected: 3 });
    expect(lifted.reason).toBeUndefined();
    expect(lifted.quarantinedAt).toBeUndefined();
    expect(r.isQuarantined('cheat')).toBe(false);
    // Lifted, it starts over like a newcomer: two more rejections quarantine it again.
    r.record('cheat', 'rejected', 'a');
    expect(r.isQuarantined('cheat')).toBe(false);
    r.record('cheat', 'rejected', 'b');
    expect(r.get('cheat')).toMatchObject({ quarantined: true, reason: 'b' });
  });

  test('an explicit quarantine needs no score and keeps its first reason', () => {
    const r = new Reputation({ now: () => 7 });
    r.quarantine('liar', 'equivocated at size 12');
    r.quarantine('liar', 'caught canary');
    expect(r.get('liar')).toMatchObject({
      quarantined: true,
      reason: 'equivocated at size 12',
      quarantinedAt: 7,
      score: 0,
    });
  });

  test('records persist through restore, old ones without reasons included', () => {
    const r = new Reputation();
    for (let i = 0; i < 8; i++) r.record('sleepy', 'missed-deadline');
    r.quarantine('liar', 'caught canary on shard 4 of job Y');
    const copy = new Reputation();
    copy.restore(r.entries());
    expect(copy.get('sleepy')).toEqual(r.get('sleepy'));
    expect(copy.get('liar')).toEqual(r.get('liar'));
    expect(copy.isQuarantined('nobody')).toBe(false);
    // A record kept before reasons existed (no reason, no quarantinedAt) is sound.
    const old = {
      score: -20,
      accepted: 0,
      rejected: 2,
      missedDeadlines: 3,
      malformed: 0,
      failures: 0,
      quarantined: true,
      seenAt: 5,
    };
    const later = new Reputation();
    later.restore([
      ['old', old],
      ['bad-reason', { ...old, reason: 42 as unknown as string }],
      ['bad-time', { ...old, quarantinedAt: Number.NaN }],
    ]);
    expect(later.entries().map(([p]) => p)).toEqual(['old']);
    expect(later.isQuarantined('old')).toBe(true);
    expect(later.lift('old')).toMatchObject({ quarantined: false, score: 0, rejected: 2 });
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
