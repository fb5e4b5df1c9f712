import { describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import {
  distributions as D,
  grad,
  jit,
  LinAlgError,
  manualSeed,
  NotImplementedError,
  random,
  ShapeError,
  type Tensor,
  tensor,
  zeros,
} from '@flint/api';

// Sampling, shapes, gradients of rsample, validation and the KL registry. Values of logProb,
// entropy, moments and KL are compared with torch.distributions in distributions-torch.test.ts.

function values(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe('sampling', () => {
  it('samples have shape [...sampleShape, ...batchShape, ...eventShape] and the right moments', () => {
    const normal = new D.Normal(tensor([2, -1]), tensor([3, 0.5]));
    const draws = normal.sample([10_000], { key: random.key(0) });
    expect(draws.shape).toEqual([10_000, 2]);
    const columns = [0, 1].map((j) => (draws.arraySync() as number[][]).map((row) => row[j] as number));
    expect(Math.abs(mean(columns[0] as number[]) - 2)).toBeLessThan(0.15);
    expect(Math.abs(mean(columns[1] as number[]) + 1)).toBeLessThan(0.025);
    const dirichlet = new D.Dirichlet(tensor([[1, 2, 3]]));
    expect(dirichlet.batchShape).toEqual([1]);
    expect(dirichlet.eventShape).toEqual([3]);
    expect(dirichlet.sample([4, 5]).shape).toEqual([4, 5, 1, 3]);
    const mvn = new D.MultivariateNormal(zeros([3]), {
      covarianceMatrix: tensor([
        [2, 1, 0],
        [1, 2, 0],
        [0, 0, 1],
      ]),
    });
    expect(mvn.sample(7).shape).toEqual([7, 3]);
  });

  it('a multivariate normal sample has the given covariance', () => {
    const cov = [
      [2, 0.8],
      [0.8, 1],
    ];
    const d = new D.MultivariateNormal(tensor([1, -1]), { covarianceMatrix: tensor(cov) });
    const xs = d.sample([20_000], { key: random.key(1) }).arraySync() as number[][];
    const m = [0, 1].map((j) => mean(xs.map((r) => r[j] as number)));
    for (const [i, j] of [
      [0, 0],
      [0, 1],
      [1, 1],
    ] as const) {
      const c = mean(xs.map((r) => ((r[i] as number) - (m[i] as number)) * ((r[j] as number) - (m[j] as number))));
      expect(Math.abs(c - (cov[i]?.[j] as number))).toBeLessThan(0.07);
    }
  });

  it('discrete samples follow their parameters', () => {
    const categorical = new D.Categorical({ probs: tensor([0.2, 0.8, 0]) });
    const picks = values(categorical.sample([5000], { key: random.key(2) }));
    expect(picks.includes(2)).toBe(false);
    expect(Math.abs(picks.filter((p) => p === 1).length / 5000 - 0.8)).toBeLessThan(0.03);
    const bernoulli = new D.Bernoulli({ logits: tensor([-20, 20]) });
    expect(values(bernoulli.sample([], { key: random.key(3) }))).toEqual([0, 1]);
    const poisson = new D.Poisson(tensor([4]));
    expect(Math.abs(mean(values(poisson.sample([5000], { key: random.key(4) }))) - 4)).toBeLessThan(0.15);
  });

  it('the other families sample with their means', () => {
    const n = 20_000;
    const draw = (d: D.Distribution, seed: number) => values(d.sample([n], { key: random.key(seed) }));
    expect(Math.abs(mean(draw(new D.Gumbel(1, 2), 1)) - (1 + 2 * 0.5772156649015329))).toBeLessThan(0.06);
    expect(Math.abs(mean(draw(new D.HalfNormal(2), 2)) - 2 * Math.sqrt(2 / Math.PI))).toBeLessThan(0.03);
    expect(Math.abs(mean(draw(new D.StudentT(5, 1, 2), 3)) - 1)).toBeLessThan(0.06);
    expect(Math.abs(mean(draw(new D.Chi2(4), 4)) - 4)).toBeLessThan(0.1);
    const failures = draw(new D.Geometric({ probs: 0.25 }), 5);
    expect(failures.every((k) => Number.isInteger(k) && k >= 0)).toBe(true);
    expect(Math.abs(mean(failures) - 3)).toBeLessThan(0.12);
    const oneHot = new D.OneHotCategorical({ probs: tensor([0.2, 0.8]) }).sample([n], { key: random.key(6) });
    expect(oneHot.shape).toEqual([n, 2]);
    const rows = oneHot.arraySync() as number[][];
    expect(rows.every((r) => r[0]! + r[1]! === 1)).toBe(true);
    expect(Math.abs(mean(rows.map((r) => r[1] as number)) - 0.8)).toBeLessThan(0.02);
  });

  it('the global generator makes samples repeat after manualSeed; a key makes them a pure function', () => {
    const d = new D.Gamma(2, 1);
    manualSeed(5);
    const a = values(d.sample([4]));
    manualSeed(5);
    expect(values(d.sample([4]))).toEqual(a);
    const k = random.key(9);
    expect(values(d.sample([4], { key: k }))).toEqual(values(d.sample([4], { key: k })));
  });

  it('rsample is differentiable in the parameters; sample is not', () => {
    const k = random.key(6);
    const eps = values(random.normal(k, [3]));
    const viaRsample = grad((scale: Tensor) => new D.Normal(1, scale).rsample([3], { key: k }).sum())(tensor(2.5));
    expect(viaRsample.item()).toBeCloseTo(
      eps.reduce((x, y) => x + y, 0),
      5,
    );
    const viaSample = grad((scale: Tensor) => new D.Normal(1, scale).sample([3], { key: k }).sum())(tensor(2.5));
    expect(viaSample.item()).toBe(0);
    const uniform = grad((high: Tensor) => new D.Uniform(0, high).rsample([], { key: k }))(tensor(4.5));
    expect(uniform.item()).toBeGreaterThan(0);
    expect(uniform.item()).toBeLessThan(1);
    expect(() => new D.Bernoulli({ probs: 0.5 }).rsample()).toThrow(NotImplementedError);
    expect(new D.Independent(new D.Normal(zeros([2]), 1), 1).hasRsample).toBe(true);
  });

  it('the gamma family rsamples by implicit reparameterization: d E[x] / d parameter within 4 standard errors', () => {
    const k = random.key(11);
    const n = 2000;
    const batch = (value: number) => tensor(new Array(n).fill(value), { dtype: 'float64' });
    /** Per-sample derivatives of a batch of n identical distributions: their mean within 4 standard errors of `expected`. */
    const expectMeanDerivative = (what: string, derivatives: Tensor, expected: number) => {
      const d = values(derivatives);
      const m = mean(d);
      const standardError = Math.sqrt(d.reduce((s, x) => s + (x - m) ** 2, 0) / (n - 1) / n);
      expect(Math.abs(m - expected), `${what}: ${m} vs ${expected} (standard error ${standardError})`).toBeLessThan(4 * standardError);
    };
    const [rateGrad, concentrationGrad] = grad((rate: Tensor, c: Tensor) => new D.Gamma(c, rate).rsample([], { key: k }).sum(), {
      argnums: [0, 1],
    })(batch(2), batch(3)) as [Tensor, Tensor];
    expectMeanDerivative('Gamma: d/d rate of c / rate', rateGrad, -3 / 4);
    expectMeanDerivative('Gamma: d/dc of c / rate', concentrationGrad, 1 / 2);
    expectMeanDerivative('Chi2: d/d df of df', grad((df: Tensor) => new D.Chi2(df).rsample([], { key: k }).sum())(batch(0.7)), 1);
    expectMeanDerivative(
      'Beta: d/d c0 of c1 / (c1 + c0)',
      grad((c0: Tensor) => new D.Beta(0.5, c0).rsample([], { key: k }).sum())(batch(1.5)),
      -0.5 / 4,
    );
    const dirichlet = grad((c: Tensor) =>
      new D.Dirichlet(c)
        .rsample([n], { key: k })
        .mean(0)
        .mul(tensor([0, 0, 1], { dtype: 'float64' }))
        .sum(),
    )(tensor([1, 2, 5], { dtype: 'float64' }));
    // E[x_2] = c_2 / sum(c): gradient (-5, -5, 3) / 64.
    const dirichletExpected = [-5 / 64, -5 / 64, 3 / 64];
    const dirichletErrors = values(dirichlet).map((g, i) => Math.abs(g - (dirichletExpected[i] as number)));
    expect(Math.max(...dirichletErrors)).toBeLessThan(0.01);
    // StudentT: loc + scale z sqrt(df / chi2): d/d scale of E|x - loc| is E|t_df| = 2 sqrt(df) / ((df - 1) B(df/2, 1/2)) = 2 sqrt(3) / (2 pi / 2) for df = 3.
    const studentT = grad((scale: Tensor) => new D.StudentT(3, 1, scale).rsample([], { key: k }).sub(1).abs().sum())(batch(2));
    expectMeanDerivative('StudentT: d/d scale of E|x - loc|', studentT, (2 * Math.sqrt(3)) / Math.PI);
    expect(new D.Gamma(2, 1).sample([2], { key: k }).shape).toEqual([2]);
  });

  it('logProb runs under jit and vmap', () => {
    const x = tensor([0.5, 1.5]);
    const logProb = (loc: Tensor) => new D.Normal(loc, 2).logProb(x);
    expect(values(jit(logProb)(tensor(1)))).toEqual(values(logProb(tensor(1))));
  });
});

describe('TransformedDistribution', () => {
  it('rsample transforms the base sample, differentiably; logProb is the change of variables', () => {
    const k = random.key(12);
    const base = new D.Normal(tensor([0.5, -1]), tensor([1, 2]));
    const squashed = new D.TransformedDistribution(base, [new D.TanhTransform()]);
    const actions = squashed.rsample([3], { key: k });
    expect(actions.shape).toEqual([3, 2]);
    expect(values(actions)).toEqual(values(base.rsample([3], { key: k }).tanh()));
    expect(values(actions).every((a) => a > -1 && a < 1)).toBe(true);
    const g = grad((mu: Tensor) => new D.TransformedDistribution(new D.Normal(mu, 1), [new D.TanhTransform()]).rsample([], { key: k }))(
      tensor(0.3),
    );
    const z = (random.normal(k, []).item() as number) + 0.3;
    expect(g.item()).toBeCloseTo(1 - Math.tanh(z) ** 2, 5);
    // Over an event (Independent), the log-Jacobian is summed with the log-density.
    const vector = new D.TransformedDistribution(new D.Independent(base, 1), new D.ExpTransform());
    const y = tensor([0.5, 2]);
    expect(vector.logProb(y).item()).toBeCloseTo(
      values(new D.LogNormal(tensor([0.5, -1]), tensor([1, 2])).logProb(y)).reduce((a, b) => a + b, 0),
      5,
    );
    expect(() => new D.TransformedDistribution(base, [new D.TanhTransform()]).mean).toThrow(NotImplementedError);
  });
});

describe('validation', () => {
  it('names bad parameters', () => {
    expect(() => new D.Normal(0, tensor([1, -1]))).toThrow(/Normal: scale must be positive, got -1 at flat index 1/);
    expect(() => new D.Uniform(1, 1)).toThrow(/positive \(low < high\)/);
    expect(() => new D.Bernoulli({ probs: tensor([1.5]) })).toThrow(/probs must be in \[0, 1\]/);
    expect(() => new D.Bernoulli({ probs: 0.5, logits: 0 } as never)).toThrow(/exactly one of probs and logits/);
    expect(() => new D.Categorical({ logits: tensor(1) })).toThrow(/last axis of categories/);
    expect(() => new D.Normal(tensor([0, 0]), tensor([1, 1, 1]))).toThrow(ShapeError);
    expect(
      () =>
        new D.MultivariateNormal(zeros([2]), {
          covarianceMatrix: tensor([
            [1, 2],
            [2, 1],
          ]),
        }),
    ).toThrow(LinAlgError);
    expect(
      () =>
        new D.MultivariateNormal(zeros([3]), {
          scaleTril: tensor([
            [1, 0],
            [0, 1],
          ]),
        }),
    ).toThrow(/3 components/);
    expect(() => new D.Independent(new D.Normal(0, 1), 1)).toThrow(/reinterpretedBatchNdims must be an integer in \[0, 0\]/);
  });

  it('names values outside the support, unless validateArgs is off', () => {
    expect(() => new D.Exponential(1).logProb(tensor([1, -2]))).toThrow(
      /Exponential.logProb: value must be in the support \(non-negative reals\), got -2/,
    );
    expect(() => new D.Categorical({ logits: zeros([3]) }).logProb(tensor([3]))).toThrow(/integers 0 .. 2/);
    expect(() => new D.Uniform(0, 1).logProb(2)).toThrow(/\[low, high\)/);
    expect(values(new D.Uniform(0, 1, { validateArgs: false }).logProb(2))).toEqual([Number.NEGATIVE_INFINITY]);
    expect(values(new D.Normal(0, -1, { validateArgs: false }).logProb(0)).every(Number.isNaN)).toBe(true);
  });

  it('methods a distribution lacks say so', () => {
    expect(() => new D.Poisson(2).entropy()).toThrow(/Poisson.entropy: not implemented/);
    expect(() => new D.Gamma(2, 1).icdf(0.5)).toThrow(NotImplementedError);
  });
});

describe('klDivergence', () => {
  it('is zero between equal distributions and positive otherwise', () => {
    const p = new D.Normal(tensor([0, 1]), tensor([1, 2]));
    expect(values(D.klDivergence(p, p))).toEqual([0, 0]);
    expect(values(D.klDivergence(p, new D.Normal(0.5, 1))).every((x) => x > 0)).toBe(true);
  });

  it('is infinite across families where p has mass outside q, over both batches (torch.distributions.kl)', () => {
    const a = tensor([0.5, 1.2, 2], { dtype: 'float64' });
    const b = tensor([1.5, 0.7, 2.5], { dtype: 'float64' });
    const pairs: [D.Distribution, D.Distribution][] = [
      [new D.Normal(a, b), new D.Uniform(a, a.add(b))],
      [new D.Laplace(a, b), new D.Exponential(b)],
      [new D.Gumbel(a, b), new D.Beta(a, b)],
      [new D.Normal(0, 1), new D.Gamma(a, b)],
      [new D.Exponential(b), new D.Pareto(a, b)],
      [new D.Gamma(a, b), new D.Uniform(a, a.add(b))],
      [new D.Pareto(b, a), new D.Beta(a, b)],
      [new D.Beta(a, b), new D.Pareto(a, b)],
      [new D.ContinuousBernoulli({ probs: 0.3 }), new D.Pareto(a, b)],
      [new D.Uniform(a.sub(3), a), new D.Exponential(b)],
      [new D.Beta(a, b), new D.Uniform(a, a.add(2))],
      [new D.Poisson(b), new D.Bernoulli({ probs: 0.4 })],
    ];
    for (const [p, q] of pairs) expect(values(D.klDivergence(p, q))).toEqual([Infinity, Infinity, Infinity]);
    // Where only some of p's batch leaves q's support, only those entries are infinite.
    expect(values(D.klDivergence(new D.Uniform(tensor([-1, 0.5]), tensor([1, 2])), new D.Exponential(1)))).toEqual([
      Infinity,
      values(D.klDivergence(new D.Uniform(0.5, 2), new D.Exponential(1)))[0],
    ]);
  });

  it('takes user rules, the most specific registered pair winning, and names a missing one', () => {
    expect(() => D.klDivergence(new D.Normal(0, 1), new D.Cauchy(0, 1))).toThrow(/no closed form registered for Normal and Cauchy/);
    class Shifted extends D.Normal {}
    // Inherited: the Normal rule applies to a subclass.
    expect(values(D.klDivergence(new Shifted(0, 1), new D.Normal(0, 1)))).toEqual([0]);
    D.registerKl(Shifted, D.Normal, () => tensor(42));
    expect(values(D.klDivergence(new Shifted(0, 1), new D.Normal(0, 1)))).toEqual([42]);
    expect(values(D.klDivergence(new D.Normal(0, 1), new D.Normal(0, 1)))).toEqual([0]);
  });

  it('a Monte Carlo estimate agrees with the closed form (Gamma)', () => {
    const p = new D.Gamma(3, 2);
    const q = new D.Gamma(2, 1);
    const xs = p.sample([20_000], { key: random.key(8) });
    const estimate = mean(values(p.logProb(xs).sub(q.logProb(xs))));
    expect(Math.abs(estimate - (D.klDivergence(p, q).item() as number))).toBeLessThan(0.02);
  });
});
