import { describe, expect, it } from 'vitest';
import type { CaseResult } from '../common/protocol.js';
import { poolRounds } from './main.js';

const ok = (samplesMs: number[], extra: Partial<CaseResult> = {}): CaseResult => ({
  id: 'a',
  status: 'ok',
  output: 'x/a.f32',
  samplesMs,
  ...extra,
});

describe('poolRounds', () => {
  it("pools every round's samples, the largest peak and the mean core use", () => {
    const pooled = poolRounds([
      new Map([['a', ok([1, 2], { peakStepBytes: 10, coresUsed: 2 })]]),
      new Map([['a', ok([3], { peakStepBytes: 30, coresUsed: 1 })]]),
    ]).get('a');
    expect(pooled?.samplesMs).toEqual([1, 2, 3]);
    expect(pooled?.peakStepBytes).toBe(30);
    expect(pooled?.coresUsed).toBe(1.5);
    expect(pooled?.output).toBe('x/a.f32');
  });

  it("keeps the first round's failure, and ignores later failed rounds", () => {
    const failed: CaseResult = { id: 'a', status: 'error', reason: 'boom' };
    expect(poolRounds([new Map([['a', failed]]), new Map([['a', ok([1])]])]).get('a')).toEqual(failed);
    expect(poolRounds([new Map([['a', ok([1])]]), new Map([['a', failed]]), new Map([['a', ok([2])]])]).get('a')?.samplesMs).toEqual([
      1, 2,
    ]);
  });
});
