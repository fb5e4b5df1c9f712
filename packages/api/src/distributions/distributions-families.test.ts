import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { distributions as D, grad, random, type Tensor, tensor, ValueError } from '@flint/api';

// Sampling of the families beyond the first twenty: sample moments against the closed-form
// mean and variance (whose values are compared with torch in distributions-torch.test.ts), and
// reparameterized gradients: per-sample derivatives of n identical distributions, whose mean is
// the derivative of the closed-form mean (within 4 standard errors; the keys are fixed, so each
// check is deterministic).

const N = 20_000;

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function meanAndStandardError(xs: readonly number[]): { mean: number; standardError: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance, standardError: Math.sqrt(variance / xs.length) };
}

/** Samples of a scalar distribution: their mean within 5 standard errors of d.mean, their variance within 10% of d.variance. */
function expectMoments(what: string, d: D.Distribution, seed: number): void {
  const xs = values(d.sample([N], { key: random.key(seed) }));
  const { mean, variance, standardError } = meanAndStandardError(xs);
  const expectedMean = d.mean.item() as number;
  const expectedVariance = d.variance.item() as number;
  expect(Math.abs(mean - expectedMean), `${what}: mean ${mean} vs ${expectedMean}`).toBeLessThan(5 * standardError);
  expect(Math.abs(variance / expectedVariance - 1), `${what}: variance ${variance} vs ${expectedVariance}`).toBeLessThan(0.1);
}

/** d E[x] / d theta from per-sample derivatives of rsample against the derivative of the closed-form mean. */
function expectReparameterized(what: string, make: (theta: Tensor) => D.Distribution, theta: number, seed: number): void {
  const n = 4000;
  const batch = tensor(new Array(n).fill(theta), { dtype: 'float64' });
  const perSample = values(
    grad((t: Tensor) =>
      make(t)
        .rsample([], { key: random.key(seed) })
        .sum(),
    )(batch),
  );
  const expected = grad((t: Tensor) => make(t).mean)(tensor(theta, { dtype: 'float64' })).item() as number;
  const { mean, standardError } = meanAndStandardError(perSample);
  expect(Math.abs(mean - expected), `${what}: ${mean} vs ${expected} (standard error ${standardError})`).toBeLessThan(4 * standardError);
}

describe('Weibull, Pareto, Kumaraswamy', () => {
  it('samples have the closed-form moments', () => {
    expectMoments('Weibull', new D.Weibull(2, 1.5), 1);
    expectMoments('Pareto', new D.Pareto(1, 5), 2);
    expectMoments('Kumaraswamy', new D.Kumaraswamy(2, 5), 3);
  });

  it('rsample is differentiable in every parameter', () => {
    expectReparameterized('Weibull scale', (t) => new D.Weibull(t, 1.5), 2, 4);
    expectReparameterized('Weibull concentration', (t) => new D.Weibull(2, t), 1.5, 5);
    expectReparameterized('Pareto alpha', (t) => new D.Pareto(1, t), 5, 6);
    expectReparameterized('Kumaraswamy concentration0', (t) => new D.Kumaraswamy(2, t), 5, 7);
  });

  it("Kumaraswamy's mode is where its density peaks (torch 1.13 gives NaN for concentration0 > 1)", () => {
    const d = new D.Kumaraswamy(tensor(2, { dtype: 'float64' }), 5);
    const mode = d.mode.item() as number;
    expect(mode).toBeCloseTo(1 / 3, 12);
    const [left, at, right] = values(d.logProb(tensor([mode - 1e-3, mode, mode + 1e-3], { dtype: 'float64' })));
    expect(at).toBeGreaterThan(left as number);
    expect(at).toBeGreaterThan(right as number);
    expect(Number.isNaN(new D.Kumaraswamy(3, 0.5).mode.item())).toBe(true);
  });

  it('check their parameters and support', () => {
    expect(() => new D.Weibull(-1, 1)).toThrow(ValueError);
    expect(() => new D.Pareto(2, 1).logProb(1.5)).toThrow(ValueError);
    expect(() => new D.Kumaraswamy(1, 1).logProb(1.5)).toThrow(ValueError);
    expect(new D.Pareto(2, 1, { validateArgs: false }).logProb(1.5).item()).toBeCloseTo(Math.log(2) - 2 * Math.log(1.5));
  });
});

describe('Binomial, NegativeBinomial, Multinomial', () => {
  it('samples have the closed-form moments', () => {
    expectMoments('Binomial', new D.Binomial(30, { probs: 0.7 }), 8);
    expectMoments('NegativeBinomial', new D.NegativeBinomial(3.5, { probs: 0.4 }), 9);
    const multinomial = new D.Multinomial(12, { probs: tensor([0.2, 0.3, 0.5]) });
    const counts = multinomial.sample([2000], { key: random.key(10) });
    expect(counts.shape).toEqual([2000, 3]);
    expect(values(counts.sum(-1)).every((total) => total === 12)).toBe(true);
    const means = values(counts.mean(0));
    [2.4, 3.6, 6].forEach((expected, i) => {
      expect(Math.abs((means[i] as number) - expected)).toBeLessThan(0.15);
    });
  });

  it('check their parameters and support', () => {
    expect(() => new D.Binomial(2.5, { probs: 0.5 })).toThrow(ValueError);
    expect(() => new D.Binomial(3, { probs: 0.5 }).logProb(4)).toThrow(ValueError);
    expect(() => new D.NegativeBinomial(3, { probs: 1 })).toThrow(ValueError);
    expect(() => new D.Multinomial(2.5, { probs: tensor([0.5, 0.5]) })).toThrow(ValueError);
    expect(() => new D.Multinomial(3, { probs: tensor([0.5, 0.5]) }).logProb(tensor([2, 2]))).toThrow(ValueError);
    expect(() => D.klDivergence(new D.Binomial(3, { probs: 0.5 }), new D.Binomial(5, { probs: 0.5 }))).toThrow(ValueError);
    expect(
      new D.Binomial(0, { probs: 0.5 })
        .sample([3], { key: random.key(0) })
        .sum()
        .item(),
    ).toBe(0);
  });
});

describe('RelaxedBernoulli, RelaxedOneHotCategorical', () => {
  it('P(x > 1/2) is p and argmax follows the categorical, at any temperature', () => {
    const bernoulli = values(new D.RelaxedBernoulli(0.7, { probs: 0.3 }).sample([N], { key: random.key(11) }));
    expect(bernoulli.every((x) => x > 0 && x < 1)).toBe(true);
    const above = bernoulli.filter((x) => x > 0.5).length / N;
    expect(Math.abs(above - 0.3)).toBeLessThan(5 * Math.sqrt((0.3 * 0.7) / N));
    const probs = [0.2, 0.3, 0.5];
    const soft = new D.RelaxedOneHotCategorical(2, { probs: tensor(probs) }).sample([N], { key: random.key(12) });
    expect(soft.shape).toEqual([N, 3]);
    expect(values(soft.sum(-1)).every((total) => Math.abs(total - 1) < 1e-5)).toBe(true);
    const winners = values(soft.argmax(-1));
    probs.forEach((p, i) => {
      const share = winners.filter((w) => w === i).length / N;
      expect(Math.abs(share - p)).toBeLessThan(5 * Math.sqrt((p * (1 - p)) / N));
    });
  });

  it('rsample is a smooth function of the logits for a fixed key: its gradient matches central differences', () => {
    const k = random.key(13);
    const weights = tensor([1, -2, 0.5], { dtype: 'float64' });
    const f = (logits: Tensor) => new D.RelaxedOneHotCategorical(0.5, { logits }).rsample([], { key: k }).mul(weights).sum();
    const g = (logits: Tensor) => new D.RelaxedBernoulli(tensor(0.5, { dtype: 'float64' }), { logits }).rsample([3], { key: k }).sum();
    const at = [0.3, -0.2, 1.1];
    for (const fn of [f, g]) {
      const analytic = values(grad(fn)(tensor(at, { dtype: 'float64' })));
      at.forEach((_, i) => {
        const shifted = (h: number) =>
          fn(
            tensor(
              at.map((a, j) => (j === i ? a + h : a)),
              { dtype: 'float64' },
            ),
          ).item() as number;
        const numeric = (shifted(1e-6) - shifted(-1e-6)) / 2e-6;
        expect(Math.abs((analytic[i] as number) - numeric)).toBeLessThan(1e-6);
      });
    }
  });
});

describe('LowRankMultivariateNormal', () => {
  it('samples have its mean and covariance; rsample is differentiable in the factor', () => {
    const w = tensor([
      [1, 0.2],
      [0.5, -0.3],
      [0, 0.8],
    ]);
    const d = new D.LowRankMultivariateNormal(tensor([0.5, -1, 2]), w, tensor([0.5, 1, 2]));
    const xs = d.sample([N], { key: random.key(14) });
    const centred = xs.sub(xs.mean(0));
    const covariance = values(centred.T.matmul(centred).div(N - 1));
    const expected = values(d.covarianceMatrix);
    covariance.forEach((c, i) => {
      expect(Math.abs(c - (expected[i] as number))).toBeLessThan(0.08);
    });
    expect(() => new D.LowRankMultivariateNormal(tensor([0, 0]), w, tensor([1, 1]))).toThrow();
    const g = grad((factor: Tensor) =>
      new D.LowRankMultivariateNormal(tensor([0, 0, 0]), factor, tensor([1, 1, 1]))
        .rsample([4], { key: random.key(15) })
        .square()
        .sum(),
    )(w);
    expect(g.shape).toEqual([3, 2]);
    expect(values(g).every(Number.isFinite)).toBe(true);
  });
});

describe('MixtureSameFamily', () => {
  it('samples pick components by the mixture weights, with the mixture moments; shapes follow batch and event', () => {
    const gmm = new D.MixtureSameFamily(
      new D.Categorical({ probs: tensor([0.2, 0.3, 0.5]) }),
      new D.Normal(tensor([-5, 0, 5]), tensor([0.5, 1, 0.5])),
    );
    expectMoments('MixtureSameFamily', gmm, 16);
    const xs = values(gmm.sample([N], { key: random.key(17) }));
    expect(Math.abs(xs.filter((x) => x < -2.5).length / N - 0.2)).toBeLessThan(0.015);
    const mvn = new D.MixtureSameFamily(
      new D.Categorical({
        logits: tensor([
          [0, 1],
          [1, 0],
        ]),
      }),
      new D.Independent(
        new D.Normal(
          tensor([
            [
              [-1, 1, 0],
              [1, -1, 0],
            ],
            [
              [0, 0, 0],
              [2, 2, 2],
            ],
          ]),
          1,
        ),
        1,
      ),
    );
    expect(mvn.batchShape).toEqual([2]);
    expect(mvn.eventShape).toEqual([3]);
    expect(mvn.sample([4], { key: random.key(18) }).shape).toEqual([4, 2, 3]);
    expect(mvn.logProb(tensor([0, 0, 0])).shape).toEqual([2]);
    expect(() => new D.MixtureSameFamily(new D.Categorical({ logits: tensor([0, 1]) }), new D.Normal(tensor([0, 1, 2]), 1))).toThrow();
  });
});

describe('ContinuousBernoulli, VonMises', () => {
  it('ContinuousBernoulli samples have its moments on both sides of 1/2 and inside the Taylor region; rsample has gradients', () => {
    expectMoments('ContinuousBernoulli p = 0.2', new D.ContinuousBernoulli({ probs: 0.2 }), 19);
    expectMoments('ContinuousBernoulli p = 0.5', new D.ContinuousBernoulli({ probs: 0.5 }), 20);
    expectMoments('ContinuousBernoulli logits = 3', new D.ContinuousBernoulli({ logits: 3 }), 21);
    expectReparameterized('ContinuousBernoulli logits', (t) => new D.ContinuousBernoulli({ logits: t }), 1.2, 22);
  });

  it('VonMises samples are angles in [-pi, pi) with E[cos(x - loc)] = I1/I0, for small and large concentrations', () => {
    for (const [k, seed] of [
      [0.01, 23],
      [2, 24],
      [60, 25],
    ] as const) {
      const d = new D.VonMises(2.5, k);
      const xs = values(d.sample([N], { key: random.key(seed) }));
      expect(xs.every((x) => x >= -Math.PI && x < Math.PI)).toBe(true);
      const cosines = xs.map((x) => Math.cos(x - 2.5));
      const { mean, standardError } = meanAndStandardError(cosines);
      const expected = 1 - (d.variance.item() as number);
      expect(Math.abs(mean - expected), `VonMises(${k}): ${mean} vs ${expected}`).toBeLessThan(5 * standardError + 1e-12);
      const sines = meanAndStandardError(xs.map((x) => Math.sin(x - 2.5)));
      expect(Math.abs(sines.mean)).toBeLessThan(5 * sines.standardError + 1e-12);
    }
    expect(() => new D.VonMises(0, 0)).toThrow(ValueError);
    expect(new D.VonMises(0, 1).hasRsample).toBe(false);
  });
});
