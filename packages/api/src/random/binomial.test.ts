import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { jit, random, tensor, ValueError, vmap } from '@flint/api';

// random.binomial against the binomial pmf: on both routes (inversion below mean 10, BTRS
// from 10), with p on both sides of 1/2 (sampled as n minus the count of the smaller p). Keys
// are fixed, so each check is deterministic; the bounds are those a correct sampler passes with
// probability above 99.9%.

function logPmf(n: number, p: number, k: number): number {
  let l = 0;
  for (let j = 1; j <= k; j++) l += Math.log(n - j + 1) - Math.log(j);
  return l + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** Pearson's chi-square statistic over the counts with at least 5 expected, and its degrees of freedom. */
function chiSquare(xs: readonly number[], n: number, p: number): { statistic: number; freedom: number } {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let statistic = 0;
  let freedom = -1;
  let restObserved = xs.length;
  let restExpected = xs.length;
  for (let k = 0; k <= n; k++) {
    const expected = Math.exp(logPmf(n, p, k)) * xs.length;
    if (expected < 5) continue;
    const observed = counts.get(k) ?? 0;
    statistic += (observed - expected) ** 2 / expected;
    restObserved -= observed;
    restExpected -= expected;
    freedom++;
  }
  if (restExpected >= 5) {
    statistic += (restObserved - restExpected) ** 2 / restExpected;
    freedom++;
  }
  return { statistic, freedom };
}

describe('random.binomial', () => {
  it.each([
    [6, 0.3],
    [40, 0.2],
    [25, 0.8],
    [200, 0.45],
    [1000, 0.7],
  ])('n = %d, p = %d: counts follow the pmf (chi-square below its 99.9% point)', (n, p) => {
    const xs = Array.from(random.binomial(random.key(n), n, p, [10_000], { dtype: 'float64' }).dataSync());
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x <= n)).toBe(true);
    const { statistic, freedom } = chiSquare(xs, n, p);
    // The 99.9% point of chi-square with f degrees of freedom is below f + 3.1 sqrt(2 f) + 10.
    expect(statistic).toBeLessThan(freedom + 3.1 * Math.sqrt(2 * freedom) + 10);
  });

  it('large counts in float32 keep their mean and variance; p = 0, p = 1 and n = 0 are exact', () => {
    const xs = Array.from(random.binomial(random.key(1), 1e6, 0.3, [4000]).dataSync());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
    expect(Math.abs(mean - 3e5)).toBeLessThan(5 * Math.sqrt(2.1e5 / 4000));
    expect(Math.abs(variance / 2.1e5 - 1)).toBeLessThan(0.1);
    expect(Array.from(random.binomial(random.key(2), tensor([7, 7, 0]), tensor([0, 1, 0.5])).dataSync())).toEqual([0, 7, 0]);
  });

  it('takes broadcast parameters, runs under jit and vmap, and checks its arguments', () => {
    const k = random.key(3);
    const draw = (key: typeof k) => random.binomial(key, tensor([[5], [50]]), tensor([0.1, 0.6]));
    expect(draw(k).shape).toEqual([2, 2]);
    expect(Array.from(jit(draw)(k).dataSync())).toEqual(Array.from(draw(k).dataSync()));
    expect(vmap(draw)(random.split(k, 3)).shape).toEqual([3, 2, 2]);
    expect(() => random.binomial(k, 2.5, 0.5)).toThrow(ValueError);
    expect(() => random.binomial(k, 3, 1.5)).toThrow(ValueError);
  });
});
