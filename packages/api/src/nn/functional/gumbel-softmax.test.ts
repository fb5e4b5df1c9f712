import '@flint/backend-cpu';
import { grad, manualSeed, random, type Tensor, tensor, ValueError } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';
import { maxDifference, randomValues, seededRandom, softmaxRow } from '../testing.test-support.js';

const F = nn.functional;
const f64 = { dtype: 'float64' } as const;

describe('gumbelSoftmax', () => {
  const logits = randomValues(seededRandom(41), 8, -2, 2);
  const x = tensor(logits, { shape: [2, 4], ...f64 });
  const key = random.key(3);
  const noise = Array.from(random.uniform(key, [2, 4], { dtype: 'float64' }).dataSync()).map((u) => -Math.log(-Math.log(u)));
  const soft = (tau: number) =>
    [0, 1].flatMap((r) => softmaxRow(logits.slice(4 * r, 4 * r + 4).map((v, c) => (v + (noise[4 * r + c] as number)) / tau)));

  it('is softmax((logits + g) / tau) with Gumbel noise g = -log(-log(u)) from the key', () => {
    for (const tau of [1, 0.5, 3]) {
      expect(maxDifference(F.gumbelSoftmax(x, { tau, key }).dataSync(), soft(tau))).toBeLessThan(1e-12);
    }
  });

  it('hard samples are the one-hot of the argmax, with the soft sample’s gradient (straight-through)', () => {
    const expected = soft(0.5);
    const hard = Array.from(F.gumbelSoftmax(x, { tau: 0.5, hard: true, key }).dataSync());
    for (const r of [0, 1]) {
      const row = expected.slice(4 * r, 4 * r + 4);
      const best = row.indexOf(Math.max(...row));
      expect(hard.slice(4 * r, 4 * r + 4)).toEqual([0, 1, 2, 3].map((c) => (c === best ? 1 : 0)));
    }
    const weights = tensor([1, -2, 3, 0.5, 2, 1, -1, 4], { shape: [2, 4], ...f64 });
    const gradOf = (hardSample: boolean) =>
      grad((v: Tensor) => F.gumbelSoftmax(v, { tau: 0.5, hard: hardSample, key }).mul(weights).sum())(x).dataSync();
    expect(maxDifference(gradOf(true), gradOf(false))).toBeLessThan(1e-12);
  });

  it('samples along another axis, and draws from the global generator without a key', () => {
    const transposed = F.gumbelSoftmax(x.transpose(), { axis: 0, key: random.key(4), hard: true });
    expect(Array.from(transposed.sum(0).dataSync())).toEqual([1, 1]);
    manualSeed(7);
    const a = F.gumbelSoftmax(x).dataSync();
    manualSeed(7);
    const b = F.gumbelSoftmax(x).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    const sums = F.gumbelSoftmax(x).sum(-1).dataSync();
    expect(maxDifference(sums, [1, 1])).toBeLessThan(1e-12);
  });

  it('checks its options, naming the op', () => {
    expect(() => F.gumbelSoftmax(x, { tau: 0 })).toThrow(/^gumbelSoftmax: tau must be > 0/);
    expect(() => F.gumbelSoftmax(x, { hard: 1 as never })).toThrow(ValueError);
    expect(() => F.gumbelSoftmax(x, { axis: 2 })).toThrow(/gumbelSoftmax/);
    expect(() => F.gumbelSoftmax(tensor(1, f64))).toThrow(/^gumbelSoftmax: logits must have a class axis/);
  });
});
