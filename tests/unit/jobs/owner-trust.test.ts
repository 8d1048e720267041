import { describe, expect, test } from 'vitest';
import { OwnerTrust, PROVEN_AFTER } from '../../../src/jobs/owner-trust';

describe('OwnerTrust (who passed this owner’s own checks)', () => {
  test('proven only after PROVEN_AFTER sequences passed the owner’s checks', () => {
    const t = new OwnerTrust();
    expect(t.isProven('a')).toBe(false);
    t.passed('a', PROVEN_AFTER - 1);
    expect(t.isProven('a')).toBe(false);
    t.passed('a', 1);
    expect(t.isProven('a')).toBe(true);
    // Nonsense amounts count for nothing.
    for (const n of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) t.passed('b', n);
    expect(t.get('b')).toEqual({ passed: 0, caught: '' });
  });

  test('caught once: never proven again, and every listener hears it once', () => {
    const t = new OwnerTrust({ provenAfter: 2 });
    const heard: string[] = [];
    const stop = t.onCaught((c, why) => heard.push(`${c}: ${why}`));
    t.passed('x', 10);
    expect(t.isProven('x')).toBe(true);
    t.caught('x', 'canary on shard 3 of job j');
    t.caught('x', 'again');
    t.passed('x', 1_000);
    expect(t.isProven('x')).toBe(false);
    expect(t.isCaught('x')).toBe(true);
    expect(heard).toEqual(['x: canary on shard 3 of job j']);
    stop();
    t.caught('y', 'spot-check');
    expect(heard).toHaveLength(1);
  });

  test('persists and restores; malformed entries are skipped', () => {
    const t = new OwnerTrust({ provenAfter: 4 });
    t.passed('a', 4);
    t.passed('b', 1);
    t.caught('c', 'why');
    const json = JSON.parse(JSON.stringify(t));
    const back = OwnerTrust.from(json, { provenAfter: 4 });
    expect(back.toJSON()).toEqual(t.toJSON());
    expect(back.isProven('a') && !back.isProven('b') && back.isCaught('c')).toBe(true);
    const junk = [
      ['d', { passed: -1, caught: '' }],
      ['e', { passed: 1.5, caught: '' }],
      ['f', { passed: 9, caught: 3 }],
      [7, { passed: 9, caught: '' }],
      ['', { passed: 9, caught: '' }],
      ['g'],
      null,
      ['h', null],
      ['ok', { passed: 9, caught: '' }],
    ];
    expect(OwnerTrust.from(junk, { provenAfter: 4 }).toJSON()).toEqual([
      ['ok', { passed: 9, caught: '' }],
    ]);
    expect(OwnerTrust.from('not a list').size).toBe(0);
    expect(() => new OwnerTrust({ provenAfter: 0 })).toThrow(RangeError);
  });

  test('bounded: fresh ids cannot grow it past maxRecords; the longest unchanged go', () => {
    const t = new OwnerTrust({ maxRecords: 3, provenAfter: 1 });
    const changes: string[] = [];
    t.onChange = (p) => changes.push(p);
    for (const id of ['a', 'b', 'c']) t.passed(id, 1);
    t.passed('a', 1); // a is fresh again
    t.passed('d', 1);
    expect(t.size).toBe(3);
    expect(t.isProven('b')).toBe(false); // forgotten: it must prove itself again
    expect(t.isProven('a') && t.isProven('c') && t.isProven('d')).toBe(true);
    expect(changes).toEqual(['a', 'b', 'c', 'a', 'd']);
  });
});
