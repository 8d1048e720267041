import { expect, test } from 'vitest';
import { simulate } from '../../../src/jobs/simulate';

test('simulated mesh: 200 contributors, 5,000 shards, 5% dropping out, 5% cheating — every cheat caught', () => {
  const r = simulate({
    contributors: 200,
    shards: 5_000,
    dropoutRate: 0.05,
    cheatRate: 0.05,
    seed: 7,
  });
  expect(r.accepted).toBe(5_000);
  expect(r.cheaters).toBeGreaterThan(0);
  expect(r.cheatsSubmitted).toBeGreaterThan(0);
  expect(r.cheatsCaught).toBe(r.cheatsSubmitted);
  expect(r.cheatsAccepted).toBe(0);
  expect(r.honestRejected).toBe(0);
  expect(r.cheatersQuarantined).toBe(r.cheaters);
  expect(r.droppedOut).toBeGreaterThan(0);
  expect(r.reassignments).toBeGreaterThan(0); // dropped contributors' leases went back out
});
