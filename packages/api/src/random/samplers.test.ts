import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { digamma, grad, jit, random, ShapeError, type Tensor, tensor, ValueError, vmap } from '@flint/api';

// The samplers of random/continuous.ts, gamma-family.ts and discrete.ts, checked against their
// distributions: Kolmogorov-Smirnov distances where the CDF has a closed form, moments elsewhere.
// Keys are fixed, so each check is deterministic; the bounds are those a correct sampler passes
// with probability above 99.9% (an error in a transform moves them far outside).

const N = 20_000;

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function moments(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

/** The Kolmogorov-Smirnov distance between the samples and a continuous CDF. */
function ksDistance(xs: readonly number[], cdf: (x: number) => number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  let d = 0;
  sorted.forEach((x, i) => {
    const f = cdf(x);
    d = Math.max(d, Math.abs(f - i / sorted.length), Math.abs(f - (i + 1) / sorted.length));
  });
  return d;
}

/** The KS distance a correct sampler stays under with probability 99.9% (Smirnov's asymptotic bound). */
const KS_BOUND = 1.95 / Math.sqrt(N);

/** Whether a sample mean is within `sigmas` standard errors of `mean` for a distribution of `variance`. */
function expectMean(xs: readonly number[], mean: number, variance: number, sigmas = 5): void {
  const m = moments(xs).mean;
  expect(Math.abs(m - mean), `sample mean ${m}, expected ${mean}`).toBeLessThan(sigmas * Math.sqrt(variance / xs.length));
}

function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc: fractional error below 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

describe('continuous samplers', () => {
  const cases: [string, (k: Tensor) => Tensor, (x: number) => number][] = [
    ['gumbel', (k) => random.gumbel(k, [N]), (x) => Math.exp(-Math.exp(-x))],
    ['exponential', (k) => random.exponential(k, [N]), (x) => (x < 0 ? 0 : 1 - Math.exp(-x))],
    ['laplace', (k) => random.laplace(k, [N]), (x) => (x < 0 ? 0.5 * Math.exp(x) : 1 - 0.5 * Math.exp(-x))],
    ['logistic', (k) => random.logistic(k, [N]), (x) => 1 / (1 + Math.exp(-x))],
    ['cauchy', (k) => random.cauchy(k, [N]), (x) => 0.5 + Math.atan(x) / Math.PI],
    ['lognormal', (k) => random.lognormal(k, [N], { sigma: 0.5 }), (x) => (x <= 0 ? 0 : normalCdf(Math.log(x) / 0.5))],
    [
      'truncatedNormal on [-1, 2]',
      (k) => random.truncatedNormal(k, -1, 2, [N]),
      (x) => (normalCdf(Math.min(Math.max(x, -1), 2)) - normalCdf(-1)) / (normalCdf(2) - normalCdf(-1)),
    ],
    [
      'truncatedNormal in the far upper tail [4, 6]',
      (k) => random.truncatedNormal(k, 4, 6, [N]),
      (x) => (erfc(4 / Math.SQRT2) - erfc(Math.min(Math.max(x, 4), 6) / Math.SQRT2)) / (erfc(4 / Math.SQRT2) - erfc(6 / Math.SQRT2)),
    ],
  ];
  for (const [name, sample, cdf] of cases) {
    it(`${name} follows its CDF (Kolmogorov-Smirnov), finite, deterministic per key`, () => {
      const xs = values(sample(random.key(11)));
      expect(xs.every(Number.isFinite)).toBe(true);
      expect(ksDistance(xs, cdf)).toBeLessThan(KS_BOUND);
      expect(values(sample(random.key(11)))).toEqual(xs);
      expect(values(sample(random.key(12)))).not.toEqual(xs);
    });
  }

  it('truncatedNormal stays inside tensor bounds broadcast to the shape, in every dtype', () => {
    const lower = tensor([-3, 0, 5]);
    const upper = tensor([-2, 0.1, Number.POSITIVE_INFINITY]);
    const xs = random.truncatedNormal(random.key(1), lower, upper, [1000, 3]);
    expect(xs.shape).toEqual([1000, 3]);
    const rows = xs.arraySync() as number[][];
    for (const row of rows) {
      expect(row[0]).toBeGreaterThanOrEqual(-3);
      expect(row[0]).toBeLessThanOrEqual(-2);
      expect(row[1]).toBeGreaterThanOrEqual(0);
      expect(row[1]).toBeLessThanOrEqual(0.1);
      expect(row[2]).toBeGreaterThanOrEqual(5);
      expect(Number.isFinite(row[2])).toBe(true);
    }
    const half = random.truncatedNormal(random.key(1), -1, 1, [100], { dtype: 'bfloat16' });
    expect(half.dtype).toBe('bfloat16');
    expect(values(half).every((x) => x >= -1 && x <= 1)).toBe(true);
    expect(() => random.truncatedNormal(random.key(1), tensor([0, 1]), 2, [3])).toThrow(ShapeError);
  });

  it('parameterless samplers check their key, shape and dtype', () => {
    expect(() => random.gumbel(tensor([1, 2, 3]), [2])).toThrow(/expected a random key/);
    expect(() => random.exponential(random.key(0), [-1])).toThrow();
    expect(() => random.laplace(random.key(0), [2], { dtype: 'int32' })).toThrow(/dtype must be floating/);
    expect(random.logistic(random.key(0), [2, 3], { dtype: 'float64' }).dtype).toBe('float64');
  });
});

describe('gamma family', () => {
  const gammaCdfs: [number, (x: number) => number][] = [
    [0.5, (x) => (x <= 0 ? 0 : 1 - erfc(Math.sqrt(x)))],
    [2, (x) => (x <= 0 ? 0 : 1 - Math.exp(-x) * (1 + x))],
  ];
  for (const [a, cdf] of gammaCdfs) {
    it(`gamma(${a}) follows its CDF (Kolmogorov-Smirnov)`, () => {
      expect(ksDistance(values(random.gamma(random.key(13), a, [N])), cdf)).toBeLessThan(KS_BOUND);
    });
  }

  for (const a of [0.1, 0.7, 1, 4.5, 300]) {
    it(`gamma(${a}) has mean and variance a, and E[log X] = digamma(a)`, () => {
      const xs = values(random.gamma(random.key(3), a, [N], { dtype: 'float64' }));
      expect(xs.every((x) => x > 0 && Number.isFinite(x))).toBe(true);
      expectMean(xs, a, a);
      const { variance } = moments(xs);
      expect(Math.abs(variance / a - 1)).toBeLessThan(a < 1 ? 0.15 : 0.08);
      const logs = values(random.loggamma(random.key(3), a, [N], { dtype: 'float64' }));
      const expectedLog = digamma(tensor(a, { dtype: 'float64' })).item() as number;
      // Var[log X] = trigamma(a) <= 1/a + 1/a^2.
      expectMean(logs, expectedLog, 1 / a + 1 / (a * a));
    });
  }

  it('loggamma stays finite where gamma underflows (a = 0.01)', () => {
    const logs = values(random.loggamma(random.key(4), 0.01, [2000]));
    expect(logs.every(Number.isFinite)).toBe(true);
    expect(Math.min(...logs)).toBeLessThan(-100);
  });

  it('gamma takes tensor shape parameters, broadcast to a shape; rejects non-positive ones', () => {
    const xs = random.gamma(random.key(5), tensor([1, 100]), [N / 2, 2]);
    const rows = xs.arraySync() as number[][];
    expectMean(
      rows.map((r) => r[1] as number),
      100,
      100,
    );
    expect(() => random.gamma(random.key(5), tensor([1, 0]))).toThrow(/a must be positive, got 0 at flat index 1/);
    expect(() => random.gamma(random.key(5), tensor([1, 2]), [3])).toThrow(ShapeError);
  });

  it('beta(a, b) has mean a / (a + b), also for small parameters', () => {
    for (const [a, b] of [
      [2, 5],
      [0.05, 0.05],
    ] as const) {
      const xs = values(random.beta(random.key(6), a, b, [N]));
      expect(xs.every((x) => x >= 0 && x <= 1)).toBe(true);
      const variance = (a * b) / ((a + b) ** 2 * (a + b + 1));
      expectMean(xs, a / (a + b), variance);
    }
  });

  it('dirichlet samples lie on the simplex with mean alpha / sum(alpha)', () => {
    const alpha = [1, 2, 7];
    const xs = random.dirichlet(random.key(7), alpha, [N]);
    expect(xs.shape).toEqual([N, 3]);
    const rows = xs.arraySync() as number[][];
    for (const row of rows.slice(0, 100)) expect(row.reduce((s, x) => s + x, 0)).toBeCloseTo(1, 5);
    for (let j = 0; j < 3; j++) {
      const column = rows.map((r) => r[j] as number);
      const mean = (alpha[j] as number) / 10;
      expectMean(column, mean, (mean * (1 - mean)) / 11);
    }
    expect(
      random.dirichlet(random.key(7), [
        [1, 1],
        [2, 2],
      ]).shape,
    ).toEqual([2, 2]);
    expect(() => random.dirichlet(random.key(7), 1)).toThrow(/last axis of categories/);
  });

  it('chisquare(df) has mean df and variance 2 df', () => {
    const xs = values(random.chisquare(random.key(8), 3, [N]));
    expectMean(xs, 3, 6);
  });
});

describe('discrete samplers', () => {
  it('categorical draws in proportion to softmax(logits), never a -Infinity logit', () => {
    const logits = tensor([Math.log(0.2), Math.log(0.5), Math.log(0.3), Number.NEGATIVE_INFINITY]);
    const draws = random.categorical(random.key(9), logits, { shape: [N] });
    expect(draws.dtype).toBe('int32');
    const counts = [0, 0, 0, 0];
    for (const d of values(draws)) counts[d]! += 1;
    expect(counts[3]).toBe(0);
    for (const [i, p] of [0.2, 0.5, 0.3].entries())
      expect(Math.abs((counts[i] as number) / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
  });

  it('categorical draws one sample per row of a batch, along any axis', () => {
    const logits = tensor([
      [0, 50, 0],
      [50, 0, 0],
    ]);
    expect(values(random.categorical(random.key(1), logits))).toEqual([1, 0]);
    expect(values(random.categorical(random.key(1), logits.T, { axis: 0 }))).toEqual([1, 0]);
    expect(random.categorical(random.key(1), logits, { shape: [5, 2] }).shape).toEqual([5, 2]);
    expect(() => random.categorical(random.key(1), logits, { shape: [3] })).toThrow(ShapeError);
    expect(() => random.categorical(random.key(1), tensor(1))).toThrow(/axis of categories/);
  });

  it('choice with and without replacement, uniform and weighted, from numbers and tensor slices', () => {
    const distinct = values(random.choice(random.key(2), 10, [10], { replace: false }));
    expect([...distinct].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const weighted = values(random.choice(random.key(2), 3, [N], { p: [0.1, 0, 0.9] }));
    expect(weighted.filter((x) => x === 1)).toEqual([]);
    expect(Math.abs(weighted.filter((x) => x === 2).length / N - 0.9)).toBeLessThan(0.011);
    const weightedDistinct = values(random.choice(random.key(3), 4, [3], { replace: false, p: [0.25, 0.25, 0.25, 0.25] }));
    expect(new Set(weightedDistinct).size).toBe(3);
    const rows = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    const picked = random.choice(random.key(4), rows, [2, 2], { axis: 1 });
    expect(picked.shape).toEqual([3, 2, 2]);
    expect(() => random.choice(random.key(2), 3, [4], { replace: false })).toThrow(/without replacement from a population of 3/);
    expect(() => random.choice(random.key(2), 3, [4], { p: [0.5, 0.5] })).toThrow(ShapeError);
    expect(() => random.choice(random.key(2), -1)).toThrow(ValueError);
  });

  it('rademacher is -1 or 1, evenly', () => {
    const xs = values(random.rademacher(random.key(5), [N]));
    expect(xs.every((x) => x === -1 || x === 1)).toBe(true);
    expectMean(xs, 0, 1);
  });

  for (const lam of [0.3, 4, 9.5, 10, 37, 2500]) {
    it(`poisson(${lam}) has mean and variance lam`, () => {
      const xs = values(random.poisson(random.key(6), lam, [N]));
      expect(xs.every((x) => Number.isInteger(x) && x >= 0)).toBe(true);
      expectMean(xs, lam, lam);
      expect(Math.abs(moments(xs).variance / lam - 1)).toBeLessThan(0.08);
    });
  }

  it('poisson follows the pmf at a small rate, is 0 at rate 0, and takes tensor rates', () => {
    const xs = values(random.poisson(random.key(7), 2, [N]));
    for (let k = 0; k < 6; k++) {
      let factorial = 1;
      for (let i = 2; i <= k; i++) factorial *= i;
      const p = (Math.exp(-2) * 2 ** k) / factorial;
      expect(Math.abs(xs.filter((x) => x === k).length / N - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    }
    const mixed = random.poisson(random.key(8), tensor([0, 1, 100]), [1000, 3], { dtype: 'float32' });
    expect(mixed.dtype).toBe('float32');
    const rows = mixed.arraySync() as number[][];
    expect(rows.every((r) => r[0] === 0)).toBe(true);
    expect(() => random.poisson(random.key(8), tensor([1, -1]))).toThrow(/lam must be finite and non-negative, got -1 at flat index 1/);
  });
});

describe('samplers under the transforms', () => {
  it('jit and vmap over keys give the eager values', () => {
    const k = random.key(21);
    const eager = values(random.gamma(k, 2, [8]));
    expect(values(jit((key: Tensor) => random.gamma(key, 2, [8]))(k))).toEqual(eager);
    const keys = random.split(k, 3);
    const batched = vmap((key: Tensor) => random.categorical(key, tensor([0, 1, 2]), { shape: [4] }))(keys);
    expect(batched.shape).toEqual([3, 4]);
    const rows = batched.arraySync() as number[][];
    for (let i = 0; i < 3; i++)
      expect(rows[i]).toEqual(values(random.categorical(random.keyAt(keys, i), tensor([0, 1, 2]), { shape: [4] })));
  });

  it('location-scale transforms of the samples are differentiable in their parameters', () => {
    const k = random.key(22);
    const noise = random.gumbel(k, [5]);
    const g = grad((scale: Tensor) => random.gumbel(k, [5]).mul(scale).sum())(tensor(2.5));
    expect(g.item()).toBeCloseTo(
      values(noise).reduce((a, b) => a + b, 0),
      4,
    );
  });
});
