import { describe, expect, it } from 'vitest';
import { caseTiming, defaultTiming } from './protocol.js';

describe('caseTiming', () => {
  it('leaves the timing of cases that are not training steps alone', () => {
    const timing = defaultTiming(false);
    expect(caseTiming(timing, undefined)).toBe(timing);
    expect(caseTiming(timing, false)).toBe(timing);
  });

  it('warms training steps up for trainingWarmupMs and grows their budget by twice the extra warm-up', () => {
    const timing = defaultTiming(false);
    const training = caseTiming(timing, true);
    expect(training.warmupMs).toBe(timing.trainingWarmupMs);
    expect(training.budgetMs).toBe(timing.budgetMs + 2 * (timing.trainingWarmupMs - timing.warmupMs));
    expect(training.repeats).toBe(timing.repeats);
    // The warm-up loop stops at half the budget: the grown budget leaves the whole warm-up room.
    expect(training.budgetMs / 2).toBeGreaterThanOrEqual(training.warmupMs);
  });

  it('keeps quick runs quick', () => {
    const quick = defaultTiming(true);
    expect(caseTiming(quick, true).warmupMs).toBe(quick.warmupMs);
  });
});
