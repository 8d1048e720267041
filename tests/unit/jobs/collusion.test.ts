import { describe, expect, test } from 'vitest';
import { runScenario, SCENARIOS } from '../../../bench/collusion';

// The targets for redundancy against sybils (issue 21, deliverable 3), on fewer jobs than
// the bench's 1,000: at the default logits policy, two colluding fresh ids faking ≥ 10% of their
// sequences are caught in ≥ 99% of jobs, no wrong sequence reaches an assembled answer, no wrong
// copy keeps its credit, and no honest peer (whose engines differ by honest rounding) is caught.

const byName = (name: string) => SCENARIOS.find((s) => s.name === name)!;

describe('collusion at the default logits policy (bench/collusion.ts)', () => {
  test('honest peers only: nobody caught, every answer right', async () => {
    const r = await runScenario(byName('honest peers only'), 15, 21);
    expect(r).toMatchObject({ honestCaught: 0, wrongSequencesAssembled: 0, unfinished: 0 });
    expect(r.catchRate).toBeNull();
  });

  test.each([
    ['one cheater, 10%', 20],
    ['pair, 10%', 40],
    ['pair, 100%', 20],
    ['pair outnumbering one honest peer, 10%', 20],
    ['pair, 10%, 64-sequence jobs', 60],
    // Standing farmed here first: caught by a canary or a disagreement, then everything the
    // pair returned in the job is redone.
    ['pair proven here before it cheats, 10%', 20],
  ])('%s over %i jobs', async (name, jobs) => {
    const r = await runScenario(byName(name), jobs, 21);
    expect(r.jobsWithFakes).toBeGreaterThan(0.9 * jobs);
    expect(r.catchRate).toBeGreaterThanOrEqual(0.99);
    expect(r.wrongSequencesAssembled).toBe(0);
    expect(r.wrongCopiesPaid).toBe(0);
    expect(r.honestCaught).toBe(0);
    expect(r.unfinished).toBe(0);
  });

  test('the limit, measured not hidden: a pair proven here before it cheats, alone', async () => {
    const r = await runScenario(byName(SCENARIOS.at(-1)!.name), 30, 21);
    // Canaries and spot-checks still catch it in most jobs, and what it was caught on is
    // redone; a job with no canary or check on a faked sequence keeps wrong answers.
    expect(r.catchRate).toBeGreaterThan(0.3);
    expect(r.honestCaught).toBe(0);
  });
});
