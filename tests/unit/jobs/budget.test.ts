import { describe, expect, it } from 'vitest';
import {
  BUDGET_MAX,
  BUDGET_MIN,
  clampBudget,
  DEFAULT_BUDGET,
  isBudget,
} from '../../../src/jobs/budget';

// The GPU budget's one set of bounds, as the page's slider, its remembered choice and the
// `--budget` flag all read them.
describe('budget bounds', () => {
  it('accepts BUDGET_MIN to BUDGET_MAX, nothing outside, no NaN', () => {
    expect(BUDGET_MIN).toBeGreaterThan(0);
    expect(BUDGET_MAX).toBe(1);
    for (const b of [BUDGET_MIN, DEFAULT_BUDGET, BUDGET_MAX]) expect(isBudget(b)).toBe(true);
    for (const b of [0, BUDGET_MIN - 1e-9, BUDGET_MAX + 1e-9, Number.NaN, -1, Infinity]) {
      expect(isBudget(b)).toBe(false);
    }
  });

  it('clamps into the bounds, a non-number to the default', () => {
    expect(clampBudget(0)).toBe(BUDGET_MIN);
    expect(clampBudget(7)).toBe(BUDGET_MAX);
    expect(clampBudget(0.3)).toBe(0.3);
    expect(clampBudget(Number.NaN)).toBe(DEFAULT_BUDGET);
    expect(clampBudget(Infinity)).toBe(DEFAULT_BUDGET);
  });
});
