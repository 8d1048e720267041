import { expect, test } from 'vitest';
import { checkStoredJob } from '../../src/mesh/store';

const good = {
  id: 'job_1',
  m: 2,
  k: 3,
  n: 4,
  a: new ArrayBuffer(2 * 3 * 4),
  b: new ArrayBuffer(3 * 4 * 4),
  blockRows: 2,
  blockCols: 4,
  createdAt: 1_800_000_000_000,
  finished: false,
};

test('a sound stored job passes; damaged records say what is wrong', () => {
  expect(checkStoredJob(good)).toBeUndefined();
  const cases: [unknown, RegExp][] = [
    [null, /object/],
    ['job', /object/],
    [{ ...good, id: '../../etc' }, /id/],
    [{ ...good, m: 0 }, /m/],
    [{ ...good, k: 2.5 }, /k/],
    [{ ...good, blockRows: -1 }, /blockRows/],
    [{ ...good, a: new ArrayBuffer(5) }, /A/],
    [{ ...good, b: [1, 2, 3] }, /B/],
    [{ ...good, finished: 'no' }, /flags/],
    [{ ...good, createdAt: Number.NaN }, /flags/],
  ];
  for (const [record, why] of cases) expect(checkStoredJob(record)).toMatch(why);
});
