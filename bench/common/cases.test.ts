/** The shared case scaffolding: when a batch waits for results, and how a training check is laid out. */
import { describe, expect, it } from 'vitest';
import { repeatedCase, trainingCheck } from './cases.js';

describe('repeatedCase', () => {
  const counting = (settleEvery: boolean) => {
    const log: string[] = [];
    let n = 0;
    const prepared = repeatedCase({
      note: 'test',
      run: () => ++n,
      output: async (r) => [r],
      settle: (r) => log.push(`settle ${r}`),
      settleEvery,
      release: (r) => log.push(`release ${r}`),
    });
    return { prepared, log };
  };

  it('settles only the last iteration of a batch unless told to settle each', async () => {
    const last = counting(false);
    await last.prepared.batch(3);
    expect(last.log).toEqual(['release 1', 'release 2', 'settle 3', 'release 3']);
    const each = counting(true);
    await each.prepared.batch(2);
    expect(each.log).toEqual(['settle 1', 'release 1', 'settle 2', 'release 2']);
  });

  it('runs synchronously where nothing needs settling', () => {
    const released: number[] = [];
    const prepared = repeatedCase({ note: 'sync', run: () => 7, output: async (r) => [r], release: (r) => released.push(r) });
    expect(prepared.batch(2)).toBeUndefined();
    expect(released).toEqual([7, 7]);
  });

  it('checks a training case as initial gradients, then one loss per check step', async () => {
    let step = 0;
    const values = await trainingCheck({ checkSteps: 3 } as never, [[1, 2]], async () => [10 + ++step]);
    expect(Array.from(values)).toEqual([1, 2, 11, 12, 13]);
  });
});
