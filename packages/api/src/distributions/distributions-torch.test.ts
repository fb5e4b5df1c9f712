import { beforeAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { distributions as D, eye, grad, stack, type Tensor, tensor } from '@flint/api';
import {
  expectValuesClose,
  runTorch,
  type TorchInput,
  type TorchResult,
  torchUnavailable,
} from '../../../../test/support/torch-oracle.test-support.js';

// Every distribution's logProb, entropy, moments, cdf/icdf and KL divergences against
// torch.distributions, values and gradients with respect to the parameters, in float64.

const reason = torchUnavailable();

interface Comparison {
  readonly name: string;
  /** A torch expression over the inputs, e.g. torch.distributions.Normal(loc, scale).log_prob(x). */
  readonly torch: string;
  readonly inputs: Readonly<Record<string, TorchInput>>;
  /** The inputs differentiated, in the order `flint` takes them first. */
  readonly gradients: readonly string[];
  /** Flint's computation, from the inputs as float64 tensors, differentiated ones first in `gradients` order. */
  readonly flint: (inputs: Readonly<Record<string, Tensor>>) => Tensor | Tensor[];
}

const v = (values: number[], shape?: number[]): TorchInput => ({ values, ...(shape === undefined ? {} : { shape }) });
const TD = 'torch.distributions';

const comparisons: Comparison[] = [
  {
    name: 'Normal logProb, cdf, icdf, entropy',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.entropy().expand(3), d.variance.expand(3)))(${TD}.Normal(loc, scale))`,
    inputs: { loc: v([0.5]), scale: v([1.5, 0.3, 2], [3]), x: v([-1, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x, p }) => {
      const d = new D.Normal(loc as Tensor, scale as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.entropy(), d.variance];
    },
  },
  {
    name: 'Laplace logProb, cdf, icdf, entropy',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.entropy(), d.variance))(${TD}.Laplace(loc, scale))`,
    inputs: { loc: v([0.5, -1, 0]), scale: v([1.5, 0.3, 2]), x: v([-1, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x, p }) => {
      const d = new D.Laplace(loc as Tensor, scale as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.entropy(), d.variance];
    },
  },
  {
    name: 'Cauchy logProb, cdf, icdf, entropy',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.entropy()))(${TD}.Cauchy(loc, scale))`,
    inputs: { loc: v([0.5, -1, 0]), scale: v([1.5, 0.3, 2]), x: v([-1, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x, p }) => {
      const d = new D.Cauchy(loc as Tensor, scale as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.entropy()];
    },
  },
  {
    name: 'LogNormal logProb, moments, entropy',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.mode, d.entropy(), d.cdf(x)))(${TD}.LogNormal(loc, scale))`,
    inputs: { loc: v([0.5, -1, 0]), scale: v([0.5, 0.3, 1.2]), x: v([0.2, 0.7, 3]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x }) => {
      const d = new D.LogNormal(loc as Tensor, scale as Tensor);
      return [d.logProb(x as Tensor), d.mean, d.variance, d.mode, d.entropy(), d.cdf(x as Tensor)];
    },
  },
  {
    name: 'Uniform logProb, cdf, icdf, entropy, moments',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.entropy(), d.mean, d.variance))(${TD}.Uniform(low, high))`,
    inputs: { low: v([0, -2, 1]), high: v([1, 3, 1.5]), x: v([0.5, 2.9, 1]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['low', 'high'],
    flint: ({ low, high, x, p }) => {
      const d = new D.Uniform(low as Tensor, high as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.entropy(), d.mean, d.variance];
    },
  },
  {
    name: 'Exponential logProb, cdf, icdf, entropy',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.entropy(), d.variance))(${TD}.Exponential(rate))`,
    inputs: { rate: v([0.5, 2, 7]), x: v([0, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['rate'],
    flint: ({ rate, x, p }) => {
      const d = new D.Exponential(rate as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.entropy(), d.variance];
    },
  },
  {
    name: 'Gamma logProb, entropy, moments',
    torch: `(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance, d.mode))(${TD}.Gamma(c, rate))`,
    inputs: { c: v([0.5, 2, 7]), rate: v([1.5, 0.3, 2]), x: v([0.1, 0.7, 3]) },
    gradients: ['c', 'rate'],
    flint: ({ c, rate, x }) => {
      const d = new D.Gamma(c as Tensor, rate as Tensor);
      return [d.logProb(x as Tensor), d.entropy(), d.mean, d.variance, d.mode];
    },
  },
  {
    name: 'Beta logProb, entropy, moments',
    torch: `(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(${TD}.Beta(a, b))`,
    inputs: { a: v([0.5, 2, 7]), b: v([1.5, 0.3, 2]), x: v([0.1, 0.7, 0.999]) },
    gradients: ['a', 'b'],
    flint: ({ a, b, x }) => {
      const d = new D.Beta(a as Tensor, b as Tensor);
      return [d.logProb(x as Tensor), d.entropy(), d.mean, d.variance];
    },
  },
  {
    name: 'Dirichlet logProb, entropy, moments',
    torch: `(lambda d: (d.log_prob(x), d.entropy(), d.mean, d.variance))(${TD}.Dirichlet(c))`,
    inputs: { c: v([0.5, 2, 7, 1, 1, 3], [2, 3]), x: v([0.1, 0.3, 0.6, 0.25, 0.25, 0.5], [2, 3]) },
    gradients: ['c'],
    flint: ({ c, x }) => {
      const d = new D.Dirichlet(c as Tensor);
      return [d.logProb(x as Tensor), d.entropy(), d.mean, d.variance];
    },
  },
  {
    name: 'Bernoulli (logits) logProb, entropy, variance',
    torch: `(lambda d: (d.log_prob(x), d.entropy(), d.variance))(${TD}.Bernoulli(logits=l))`,
    inputs: { l: v([-3, 0.2, 5]), x: v([1, 0, 1]) },
    gradients: ['l'],
    flint: ({ l, x }) => {
      const d = new D.Bernoulli({ logits: l as Tensor });
      return [d.logProb(x as Tensor), d.entropy(), d.variance];
    },
  },
  {
    name: 'Bernoulli (probs) logProb, entropy',
    torch: `(lambda d: (d.log_prob(x), d.entropy()))(${TD}.Bernoulli(probs=p))`,
    inputs: { p: v([0.1, 0.5, 0.93]), x: v([1, 0, 0]) },
    gradients: ['p'],
    flint: ({ p, x }) => {
      const d = new D.Bernoulli({ probs: p as Tensor });
      return [d.logProb(x as Tensor), d.entropy()];
    },
  },
  {
    name: 'Categorical (logits) logProb broadcast over the batch, entropy',
    torch: `(lambda d: (d.log_prob(x), d.entropy()))(${TD}.Categorical(logits=l))`,
    inputs: { l: v([1, 2, 3, -1, 0, 4], [2, 3]), x: v([2, 0, 1, 1], [2, 2]) },
    gradients: ['l'],
    flint: ({ l, x }) => {
      const d = new D.Categorical({ logits: l as Tensor });
      return [d.logProb(x as Tensor), d.entropy()];
    },
  },
  {
    name: 'Categorical (probs, with a zero) logProb and entropy',
    torch: `(lambda d: (d.log_prob(x), d.entropy()))(${TD}.Categorical(probs=p))`,
    inputs: { p: v([0.2, 0, 0.6, 1, 1, 2], [2, 3]), x: v([2, 1]) },
    gradients: ['p'],
    flint: ({ p, x }) => {
      const d = new D.Categorical({ probs: p as Tensor });
      return [d.logProb(x as Tensor), d.entropy()];
    },
  },
  {
    name: 'Poisson logProb',
    torch: `${TD}.Poisson(rate).log_prob(x)`,
    inputs: { rate: v([0.5, 3, 40]), x: v([0, 2, 37]) },
    gradients: ['rate'],
    flint: ({ rate, x }) => new D.Poisson(rate as Tensor).logProb(x as Tensor),
  },
  {
    name: 'MultivariateNormal (covariance) logProb, entropy, variance',
    torch: `(lambda d: (d.log_prob(x), d.entropy().expand(2), d.variance))(${TD}.MultivariateNormal(loc, covariance_matrix=cov))`,
    inputs: { loc: v([0.5, -1, 2]), cov: v([2, 0.5, 0.1, 0.5, 1, 0.3, 0.1, 0.3, 1.5], [3, 3]), x: v([1, 0, 2, -1, 1, 3], [2, 3]) },
    gradients: ['loc', 'cov'],
    flint: ({ loc, cov, x }) => {
      const d = new D.MultivariateNormal(loc as Tensor, { covarianceMatrix: cov as Tensor });
      return [d.logProb(x as Tensor), d.entropy().expand([2]), d.variance];
    },
  },
  {
    name: 'MultivariateNormal (precision) logProb',
    torch: `${TD}.MultivariateNormal(loc, precision_matrix=prec).log_prob(x)`,
    inputs: { loc: v([0.5, -1]), prec: v([2, 0.5, 0.5, 1], [2, 2]), x: v([1, 0]) },
    gradients: ['loc'],
    flint: ({ loc, prec, x }) => new D.MultivariateNormal(loc as Tensor, { precisionMatrix: prec as Tensor }).logProb(x as Tensor),
  },
  {
    name: 'Independent Normal logProb and entropy',
    torch: `(lambda d: (d.log_prob(x), d.entropy()))(${TD}.Independent(${TD}.Normal(loc, scale), 1))`,
    inputs: { loc: v([0, 1, 2, 3, 4, 5], [2, 3]), scale: v([1, 2, 3, 0.5, 0.25, 4], [2, 3]), x: v([0.5, 0.5, 0.5, 1, 1, 1], [2, 3]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x }) => {
      const d = new D.Independent(new D.Normal(loc as Tensor, scale as Tensor), 1);
      return [d.logProb(x as Tensor), d.entropy()];
    },
  },
  {
    name: 'TransformedDistribution: tanh-squashed, affine then exp, and logistic-normal logProb',
    torch: `(${TD}.TransformedDistribution(${TD}.Normal(loc, scale), [${TD}.transforms.TanhTransform()]).log_prob(y), ${TD}.TransformedDistribution(${TD}.Normal(loc, scale), [${TD}.transforms.AffineTransform(0.5, 2.0), ${TD}.transforms.ExpTransform()]).log_prob(y + 1.5), ${TD}.TransformedDistribution(${TD}.Normal(loc, scale), ${TD}.transforms.SigmoidTransform()).log_prob(y * 0.5 + 0.5))`,
    inputs: { loc: v([0.5, -1, 0]), scale: v([0.5, 0.3, 1.2]), y: v([0.2, -0.7, 0.95]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, y }) => {
      const normal = new D.Normal(loc as Tensor, scale as Tensor);
      const v = y as Tensor;
      return [
        new D.TransformedDistribution(normal, [new D.TanhTransform()]).logProb(v),
        new D.TransformedDistribution(normal, [new D.AffineTransform(0.5, 2), new D.ExpTransform()]).logProb(v.add(1.5)),
        new D.TransformedDistribution(normal, new D.SigmoidTransform()).logProb(v.mul(0.5).add(0.5)),
      ];
    },
  },
  {
    name: 'Gumbel logProb, moments, entropy, cdf, icdf',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.entropy(), d.cdf(x), d.icdf(p)))(${TD}.Gumbel(loc, scale))`,
    inputs: { loc: v([0.5, -1, 0]), scale: v([1.5, 0.3, 2]), x: v([-1, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['loc', 'scale'],
    flint: ({ loc, scale, x, p }) => {
      const d = new D.Gumbel(loc as Tensor, scale as Tensor);
      return [d.logProb(x as Tensor), d.mean, d.variance, d.entropy(), d.cdf(x as Tensor), d.icdf(p as Tensor)];
    },
  },
  {
    name: 'HalfNormal logProb, moments, entropy, cdf, icdf',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.entropy(), d.cdf(x), d.icdf(p)))(${TD}.HalfNormal(scale))`,
    inputs: { scale: v([1.5, 0.3, 2]), x: v([0, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['scale'],
    flint: ({ scale, x, p }) => {
      const d = new D.HalfNormal(scale as Tensor);
      return [d.logProb(x as Tensor), d.mean, d.variance, d.entropy(), d.cdf(x as Tensor), d.icdf(p as Tensor)];
    },
  },
  {
    name: 'StudentT and Chi2 logProb, moments, entropy',
    torch: `(lambda t, c: (t.log_prob(x), t.mean, t.variance, t.entropy(), c.log_prob(x.abs() + 0.1), c.entropy()))(${TD}.StudentT(df, loc, scale), ${TD}.Chi2(df))`,
    inputs: { df: v([0.8, 1.5, 6]), loc: v([0.5, -1, 0]), scale: v([1.5, 0.3, 2]), x: v([-1, 0.7, 3]) },
    gradients: ['df', 'loc', 'scale'],
    flint: ({ df, loc, scale, x }) => {
      const t = new D.StudentT(df as Tensor, loc as Tensor, scale as Tensor);
      const c = new D.Chi2(df as Tensor);
      return [t.logProb(x as Tensor), t.mean, t.variance, t.entropy(), c.logProb((x as Tensor).abs().add(0.1)), c.entropy()];
    },
  },
  {
    name: 'Geometric and OneHotCategorical logProb, moments, entropy',
    torch: `(lambda g, o: (g.log_prob(k), g.mean, g.variance, g.entropy(), o.log_prob(torch.eye(3)), o.entropy().expand(3), o.variance))(${TD}.Geometric(probs=p), ${TD}.OneHotCategorical(logits=p))`,
    inputs: { p: v([0.2, 0.5, 0.9]), k: v([0, 3, 1]) },
    gradients: ['p'],
    flint: ({ p, k }) => {
      const g = new D.Geometric({ probs: p as Tensor });
      const o = new D.OneHotCategorical({ logits: p as Tensor });
      return [
        g.logProb(k as Tensor),
        g.mean,
        g.variance,
        g.entropy(),
        o.logProb(eye(3, { dtype: 'float64' })),
        o.entropy().expand([3]),
        o.variance,
      ];
    },
  },
  {
    name: 'KL Normal-Normal, Laplace-Laplace, Exponential-Exponential',
    torch: `(${TD}.kl_divergence(${TD}.Normal(a, b), ${TD}.Normal(b, a)), ${TD}.kl_divergence(${TD}.Laplace(a, b), ${TD}.Laplace(b, a)), ${TD}.kl_divergence(${TD}.Exponential(a), ${TD}.Exponential(b)))`,
    inputs: { a: v([0.5, 2, 1]), b: v([1.5, 0.3, 1]) },
    gradients: ['a', 'b'],
    flint: ({ a, b }) => {
      const [x, y] = [a as Tensor, b as Tensor];
      return [
        D.klDivergence(new D.Normal(x, y), new D.Normal(y, x)),
        D.klDivergence(new D.Laplace(x, y), new D.Laplace(y, x)),
        D.klDivergence(new D.Exponential(x), new D.Exponential(y)),
      ];
    },
  },
  {
    name: 'KL across families, to a Normal: from Laplace, Gumbel, Exponential, Gamma, Beta, Uniform, Pareto, ContinuousBernoulli',
    torch: `(lambda q: tuple(${TD}.kl_divergence(p, q) for p in (${TD}.Laplace(a, b), ${TD}.Gumbel(a, b), ${TD}.Exponential(b), ${TD}.Gamma(a, b), ${TD}.Beta(a, b), ${TD}.Uniform(c, c + b), ${TD}.Pareto(b, a + 2), ${TD}.ContinuousBernoulli(a / 3))))(${TD}.Normal(c, b))`,
    inputs: { a: v([0.5, 1.2, 2]), b: v([1.5, 0.7, 2.5]), c: v([-0.3, 0.4, 1.1]) },
    gradients: ['a', 'b', 'c'],
    flint: ({ a, b, c }) => {
      const [x, y, z] = [a as Tensor, b as Tensor, c as Tensor];
      const q = new D.Normal(z, y);
      return [
        new D.Laplace(x, y),
        new D.Gumbel(x, y),
        new D.Exponential(y),
        new D.Gamma(x, y),
        new D.Beta(x, y),
        new D.Uniform(z, z.add(y)),
        new D.Pareto(y, x.add(2)),
        new D.ContinuousBernoulli({ probs: x.div(3) }),
      ].map((p) => D.klDivergence(p, q));
    },
  },
  {
    name: 'KL across families, to Laplace and Gumbel: from Normal; Exponential, Gamma, Uniform to Gumbel',
    torch: `(${TD}.kl_divergence(${TD}.Normal(a, b), ${TD}.Laplace(c, a)), ${TD}.kl_divergence(${TD}.Normal(a, b), ${TD}.Gumbel(c, a)), ${TD}.kl_divergence(${TD}.Exponential(b), ${TD}.Gumbel(c, a)), ${TD}.kl_divergence(${TD}.Gamma(a, b), ${TD}.Gumbel(c, a)), ${TD}.kl_divergence(${TD}.Uniform(c, c + b), ${TD}.Gumbel(c, a)))`,
    inputs: { a: v([0.5, 1.2, 2]), b: v([1.5, 0.7, 2.5]), c: v([-0.3, 0.4, 1.1]) },
    gradients: ['a', 'b', 'c'],
    flint: ({ a, b, c }) => {
      const [x, y, z] = [a as Tensor, b as Tensor, c as Tensor];
      return [
        D.klDivergence(new D.Normal(x, y), new D.Laplace(z, x)),
        D.klDivergence(new D.Normal(x, y), new D.Gumbel(z, x)),
        D.klDivergence(new D.Exponential(y), new D.Gumbel(z, x)),
        D.klDivergence(new D.Gamma(x, y), new D.Gumbel(z, x)),
        D.klDivergence(new D.Uniform(z, z.add(y)), new D.Gumbel(z, x)),
      ];
    },
  },
  {
    name: 'KL across families, to Exponential, Gamma, Uniform, Beta, Pareto and Poisson where the supports allow',
    torch: `(${TD}.kl_divergence(${TD}.Gamma(a, b), ${TD}.Exponential(c)), ${TD}.kl_divergence(${TD}.Beta(a, b), ${TD}.Exponential(c)), ${TD}.kl_divergence(${TD}.Pareto(b, a), ${TD}.Exponential(c)), ${TD}.kl_divergence(${TD}.ContinuousBernoulli(a / 3), ${TD}.Exponential(c)), ${TD}.kl_divergence(${TD}.Uniform(c, c + b), ${TD}.Exponential(a)), ${TD}.kl_divergence(${TD}.Exponential(b), ${TD}.Gamma(a, c)), ${TD}.kl_divergence(${TD}.Beta(a, b), ${TD}.Gamma(a, c)), ${TD}.kl_divergence(${TD}.Pareto(b, a), ${TD}.Gamma(a, c)), ${TD}.kl_divergence(${TD}.Uniform(c, c + b), ${TD}.Gamma(a, c)), ${TD}.kl_divergence(${TD}.Beta(a, b), ${TD}.Uniform(c - 1, c + 1)), ${TD}.kl_divergence(${TD}.ContinuousBernoulli(a / 3), ${TD}.Uniform(c - 1, c + 1)), ${TD}.kl_divergence(${TD}.Uniform(c / 4, c / 4 + 0.5), ${TD}.Beta(a, b)), ${TD}.kl_divergence(${TD}.Uniform(c + b, c + 2 * b), ${TD}.Pareto(c + b / 2, a)), ${TD}.kl_divergence(${TD}.Bernoulli(a / 3), ${TD}.Poisson(b)))`,
    inputs: { a: v([0.5, 1.2, 2]), b: v([1.5, 0.7, 2.5]), c: v([0.3, 0.4, 1.1]) },
    gradients: ['a', 'b', 'c'],
    flint: ({ a, b, c }) => {
      const [x, y, z] = [a as Tensor, b as Tensor, c as Tensor];
      const unit = new D.Uniform(z.sub(1), z.add(1));
      return [
        D.klDivergence(new D.Gamma(x, y), new D.Exponential(z)),
        D.klDivergence(new D.Beta(x, y), new D.Exponential(z)),
        D.klDivergence(new D.Pareto(y, x), new D.Exponential(z)),
        D.klDivergence(new D.ContinuousBernoulli({ probs: x.div(3) }), new D.Exponential(z)),
        D.klDivergence(new D.Uniform(z, z.add(y)), new D.Exponential(x)),
        D.klDivergence(new D.Exponential(y), new D.Gamma(x, z)),
        D.klDivergence(new D.Beta(x, y), new D.Gamma(x, z)),
        D.klDivergence(new D.Pareto(y, x), new D.Gamma(x, z)),
        D.klDivergence(new D.Uniform(z, z.add(y)), new D.Gamma(x, z)),
        D.klDivergence(new D.Beta(x, y), unit),
        D.klDivergence(new D.ContinuousBernoulli({ probs: x.div(3) }), unit),
        D.klDivergence(new D.Uniform(z.div(4), z.div(4).add(0.5)), new D.Beta(x, y)),
        D.klDivergence(new D.Uniform(z.add(y), z.add(y.mul(2))), new D.Pareto(z.add(y.div(2)), x)),
        D.klDivergence(new D.Bernoulli({ probs: x.div(3) }), new D.Poisson(y)),
      ];
    },
  },
  {
    name: 'KL Gumbel-Gumbel, HalfNormal-HalfNormal, Cauchy-Cauchy, Geometric-Geometric, OneHotCategorical, and to a ContinuousBernoulli from Beta and Uniform',
    torch: `(${TD}.kl_divergence(${TD}.Gumbel(c, a), ${TD}.Gumbel(a, b)), ${TD}.kl_divergence(${TD}.HalfNormal(a), ${TD}.HalfNormal(b)), ${TD}.kl_divergence(${TD}.Cauchy(c, a), ${TD}.Cauchy(a, b)), ${TD}.kl_divergence(${TD}.Geometric(a / 3), ${TD}.Geometric(b / 3)), ${TD}.kl_divergence(${TD}.OneHotCategorical(logits=c), ${TD}.OneHotCategorical(logits=a)).expand(3), ${TD}.kl_divergence(${TD}.Beta(a, b), ${TD}.ContinuousBernoulli(b / 3)), ${TD}.kl_divergence(${TD}.Uniform(c / 4, c / 4 + 0.5), ${TD}.ContinuousBernoulli(b / 3)))`,
    inputs: { a: v([0.5, 1.2, 2]), b: v([1.5, 0.7, 2.5]), c: v([0.3, 0.4, 1.1]) },
    gradients: ['a', 'b', 'c'],
    flint: ({ a, b, c }) => {
      const [x, y, z] = [a as Tensor, b as Tensor, c as Tensor];
      return [
        D.klDivergence(new D.Gumbel(z, x), new D.Gumbel(x, y)),
        D.klDivergence(new D.HalfNormal(x), new D.HalfNormal(y)),
        D.klDivergence(new D.Cauchy(z, x), new D.Cauchy(x, y)),
        D.klDivergence(new D.Geometric({ probs: x.div(3) }), new D.Geometric({ probs: y.div(3) })),
        D.klDivergence(new D.OneHotCategorical({ logits: z }), new D.OneHotCategorical({ logits: x })).expand([3]),
        D.klDivergence(new D.Beta(x, y), new D.ContinuousBernoulli({ probs: y.div(3) })),
        D.klDivergence(new D.Uniform(z.div(4), z.div(4).add(0.5)), new D.ContinuousBernoulli({ probs: y.div(3) })),
      ];
    },
  },
  {
    name: 'KL Gamma-Gamma, Beta-Beta, Poisson-Poisson',
    torch: `(${TD}.kl_divergence(${TD}.Gamma(a, b), ${TD}.Gamma(b, a)), ${TD}.kl_divergence(${TD}.Beta(a, b), ${TD}.Beta(b, a)), ${TD}.kl_divergence(${TD}.Poisson(a), ${TD}.Poisson(b)))`,
    inputs: { a: v([0.5, 2, 1]), b: v([1.5, 0.3, 1]) },
    gradients: ['a', 'b'],
    flint: ({ a, b }) => {
      const [x, y] = [a as Tensor, b as Tensor];
      return [
        D.klDivergence(new D.Gamma(x, y), new D.Gamma(y, x)),
        D.klDivergence(new D.Beta(x, y), new D.Beta(y, x)),
        D.klDivergence(new D.Poisson(x), new D.Poisson(y)),
      ];
    },
  },
  {
    name: 'KL Bernoulli-Bernoulli, Categorical-Categorical, Dirichlet-Dirichlet',
    torch: `(${TD}.kl_divergence(${TD}.Bernoulli(logits=a), ${TD}.Bernoulli(logits=b)), ${TD}.kl_divergence(${TD}.Categorical(logits=a), ${TD}.Categorical(logits=b)).expand(3), ${TD}.kl_divergence(${TD}.Dirichlet(a.exp()), ${TD}.Dirichlet(b.exp())).expand(3))`,
    inputs: { a: v([0.5, 2, -1]), b: v([1.5, 0.3, 1]) },
    gradients: ['a', 'b'],
    flint: ({ a, b }) => {
      const [x, y] = [a as Tensor, b as Tensor];
      return [
        D.klDivergence(new D.Bernoulli({ logits: x }), new D.Bernoulli({ logits: y })),
        D.klDivergence(new D.Categorical({ logits: x }), new D.Categorical({ logits: y })).expand([3]),
        D.klDivergence(new D.Dirichlet(x.exp()), new D.Dirichlet(y.exp())).expand([3]),
      ];
    },
  },
  {
    name: 'KL MultivariateNormal-MultivariateNormal and Independent-Independent',
    torch: `(${TD}.kl_divergence(${TD}.MultivariateNormal(m, scale_tril=L), ${TD}.MultivariateNormal(m.flip(0), scale_tril=L.T.flip(0).flip(1).tril() + torch.eye(2))), ${TD}.kl_divergence(${TD}.Independent(${TD}.Normal(m, m.exp()), 1), ${TD}.Independent(${TD}.Normal(m.flip(0), 1.0), 1)))`,
    inputs: { m: v([0.5, -1]), L: v([1.5, 0, 0.4, 0.7], [2, 2]) },
    gradients: ['m', 'L'],
    flint: ({ m, L }) => {
      const [mu, l] = [m as Tensor, L as Tensor];
      const other = l.T.flip([0])
        .flip([1])
        .tril()
        .add(
          tensor(
            [
              [1, 0],
              [0, 1],
            ],
            { dtype: 'float64' },
          ),
        );
      return [
        D.klDivergence(new D.MultivariateNormal(mu, { scaleTril: l }), new D.MultivariateNormal(mu.flip([0]), { scaleTril: other })),
        D.klDivergence(new D.Independent(new D.Normal(mu, mu.exp()), 1), new D.Independent(new D.Normal(mu.flip([0]), 1), 1)),
      ];
    },
  },
  {
    name: 'Weibull logProb, cdf, icdf, moments, entropy',
    torch: `(lambda d: (d.log_prob(x), d.cdf(x), d.icdf(p), d.mean, d.variance, d.mode, d.entropy()))(${TD}.Weibull(scale, k))`,
    inputs: { scale: v([1.5, 0.3, 2]), k: v([1.2, 3, 2]), x: v([0.4, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['scale', 'k'],
    flint: ({ scale, k, x, p }) => {
      const d = new D.Weibull(scale as Tensor, k as Tensor);
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.mean, d.variance, d.mode, d.entropy()];
    },
  },
  {
    name: 'Pareto logProb, cdf, icdf, moments, entropy, and KL Pareto-Pareto',
    torch: `(lambda d, e: (d.log_prob(x), d.cdf(x), d.icdf(p), d.mean, d.variance, d.entropy(), ${TD}.kl_divergence(d, e)))(${TD}.Pareto(scale, alpha), ${TD}.Pareto(scale * 0.5, alpha.flip(0)))`,
    inputs: { scale: v([1.5, 0.3, 2]), alpha: v([0.8, 1.5, 3]), x: v([1.6, 0.7, 3]), p: v([0.1, 0.5, 0.99]) },
    gradients: ['scale', 'alpha'],
    flint: ({ scale, alpha, x, p }) => {
      const d = new D.Pareto(scale as Tensor, alpha as Tensor);
      const e = new D.Pareto((scale as Tensor).mul(0.5), (alpha as Tensor).flip([0]));
      return [d.logProb(x as Tensor), d.cdf(x as Tensor), d.icdf(p as Tensor), d.mean, d.variance, d.entropy(), D.klDivergence(d, e)];
    },
  },
  {
    name: 'Kumaraswamy logProb, moments, entropy',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.entropy()))(${TD}.Kumaraswamy(a, b))`,
    inputs: { a: v([0.5, 2, 7]), b: v([1.5, 0.3, 2]), x: v([0.1, 0.7, 0.95]) },
    gradients: ['a', 'b'],
    flint: ({ a, b, x }) => {
      const d = new D.Kumaraswamy(a as Tensor, b as Tensor);
      return [d.logProb(x as Tensor), d.mean, d.variance, d.entropy()];
    },
  },
  {
    name: 'Binomial (probs and logits) logProb, moments, entropy, and KL Binomial-Binomial',
    torch: `(lambda d, e: (d.log_prob(x), d.mean, d.variance, d.mode, d.entropy(), e.log_prob(x), ${TD}.kl_divergence(d, e), ${TD}.kl_divergence(${TD}.Binomial(n + 2.0, probs=p), d)))(${TD}.Binomial(n, probs=p), ${TD}.Binomial(n, logits=p * 4.0 - 2.0))`,
    inputs: { n: v([7, 7, 7]), p: v([0.1, 0.5, 0.93]), x: v([0, 3, 7]) },
    gradients: ['p'],
    flint: ({ n, p, x }) => {
      const d = new D.Binomial(n as Tensor, { probs: p as Tensor });
      const e = new D.Binomial(n as Tensor, { logits: (p as Tensor).mul(4).sub(2) });
      return [
        d.logProb(x as Tensor),
        d.mean,
        d.variance,
        d.mode,
        d.entropy(),
        e.logProb(x as Tensor),
        D.klDivergence(d, e),
        D.klDivergence(new D.Binomial((n as Tensor).add(2), { probs: p as Tensor }), d),
      ];
    },
  },
  {
    name: 'NegativeBinomial logProb and moments',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.mode))(${TD}.NegativeBinomial(n, logits=l))`,
    inputs: { n: v([0.5, 3, 10]), l: v([-1, 0.3, 2]), x: v([0, 4, 37]) },
    gradients: ['n', 'l'],
    flint: ({ n, l, x }) => {
      const d = new D.NegativeBinomial(n as Tensor, { logits: l as Tensor });
      return [d.logProb(x as Tensor), d.mean, d.variance, d.mode];
    },
  },
  {
    name: 'Multinomial logProb, moments, entropy',
    torch: `(lambda d: (d.log_prob(x), d.mean, d.variance, d.entropy()))(${TD}.Multinomial(6, probs=p))`,
    inputs: { p: v([0.2, 0.3, 0.5, 0.6, 0.1, 0.3], [2, 3]), x: v([1, 2, 3, 6, 0, 0], [2, 3]) },
    gradients: ['p'],
    flint: ({ p, x }) => {
      const d = new D.Multinomial(6, { probs: p as Tensor });
      return [d.logProb(x as Tensor), d.mean, d.variance, d.entropy()];
    },
  },
  {
    name: 'RelaxedBernoulli and LogitRelaxedBernoulli logProb',
    torch: `(${TD}.RelaxedBernoulli(t, logits=l).log_prob(x), ${TD}.relaxed_bernoulli.LogitRelaxedBernoulli(t, probs=x).log_prob(l))`,
    inputs: { t: v([0.7]), l: v([-1, 0.3, 2]), x: v([0.1, 0.5, 0.97]) },
    gradients: ['t', 'l'],
    flint: ({ t, l, x }) => [
      new D.RelaxedBernoulli(t as Tensor, { logits: l as Tensor }).logProb(x as Tensor),
      new D.LogitRelaxedBernoulli(t as Tensor, { probs: x as Tensor }).logProb(l as Tensor),
    ],
  },
  {
    name: 'RelaxedOneHotCategorical and ExpRelaxedCategorical logProb',
    torch: `(${TD}.RelaxedOneHotCategorical(t, logits=l).log_prob(x), ${TD}.relaxed_categorical.ExpRelaxedCategorical(t, probs=x).log_prob(l))`,
    inputs: { t: v([0.7]), l: v([-1, 0.3, 2, 0.5, 0.5, -2], [2, 3]), x: v([0.1, 0.3, 0.6, 0.25, 0.7, 0.05], [2, 3]) },
    gradients: ['t', 'l'],
    flint: ({ t, l, x }) => [
      new D.RelaxedOneHotCategorical((t as Tensor).reshape([]), { logits: l as Tensor }).logProb(x as Tensor),
      new D.ExpRelaxedCategorical((t as Tensor).reshape([]), { probs: x as Tensor }).logProb(l as Tensor),
    ],
  },
  {
    name: 'LowRankMultivariateNormal logProb, entropy, moments, matrices, and its KL rules',
    torch: `(lambda d, e, f: (d.log_prob(x), d.entropy().expand(2), d.variance, d.covariance_matrix, d.precision_matrix, d.scale_tril, ${TD}.kl_divergence(d, e), ${TD}.kl_divergence(d, f), ${TD}.kl_divergence(f, d)))(${TD}.LowRankMultivariateNormal(loc, W, D), ${TD}.LowRankMultivariateNormal(loc.flip(0), W.flip(0), D + 0.5), ${TD}.MultivariateNormal(loc * 0.5, scale_tril=torch.diag(D) + 0.1 * torch.ones(3, 3).tril(-1)))`,
    inputs: {
      loc: v([0.5, -1, 2]),
      W: v([1, 0.2, 0.5, -0.3, 0, 0.8], [3, 2]),
      D: v([0.5, 1, 2]),
      x: v([1, 0, 2, -1, 1, 3], [2, 3]),
    },
    gradients: ['loc', 'W', 'D'],
    flint: ({ loc, W, D: diag, x }) => {
      const [l, w, d] = [loc as Tensor, W as Tensor, diag as Tensor];
      const p = new D.LowRankMultivariateNormal(l, w, d);
      const e = new D.LowRankMultivariateNormal(l.flip([0]), w.flip([0]), d.add(0.5));
      const tril = d.diag().add(
        tensor(
          [
            [0, 0, 0],
            [0.1, 0, 0],
            [0.1, 0.1, 0],
          ],
          { dtype: 'float64' },
        ),
      );
      const f = new D.MultivariateNormal(l.mul(0.5), { scaleTril: tril });
      return [
        p.logProb(x as Tensor),
        p.entropy().expand([2]),
        p.variance,
        p.covarianceMatrix,
        p.precisionMatrix,
        p.scaleTril,
        D.klDivergence(p, e),
        D.klDivergence(p, f),
        D.klDivergence(f, p),
      ];
    },
  },
  {
    name: 'MixtureSameFamily of Normals and of MultivariateNormals: logProb, moments, cdf',
    torch: `(lambda g, m: (g.log_prob(x), g.mean, g.variance, g.cdf(x), m.log_prob(y), m.mean, m.variance))(${TD}.MixtureSameFamily(${TD}.Categorical(logits=w), ${TD}.Normal(mu, s)), ${TD}.MixtureSameFamily(${TD}.Categorical(logits=w), ${TD}.MultivariateNormal(torch.stack([mu, mu.flip(0)], -1), scale_tril=torch.diag_embed(torch.stack([s, s * 2], -1)))))`,
    inputs: { w: v([0.2, -1, 1.5]), mu: v([-2, 0, 2]), s: v([0.5, 1, 0.7]), x: v([0.3, -1.5]), y: v([0.3, -1.5]) },
    gradients: ['w', 'mu', 's'],
    flint: ({ w, mu, s, x, y }) => {
      const weights = new D.Categorical({ logits: w as Tensor });
      const g = new D.MixtureSameFamily(weights, new D.Normal(mu as Tensor, s as Tensor));
      const locs = stack([mu as Tensor, (mu as Tensor).flip([0])], -1);
      const scales = stack([s as Tensor, (s as Tensor).mul(2)], -1);
      const m = new D.MixtureSameFamily(weights, new D.MultivariateNormal(locs, { scaleTril: scales.diagEmbed() }));
      return [g.logProb(x as Tensor), g.mean, g.variance, g.cdf(x as Tensor), m.logProb(y as Tensor), m.mean, m.variance];
    },
  },
  {
    name: 'ContinuousBernoulli logProb, moments, cdf, icdf, entropy (inside and outside the Taylor region), and KL',
    torch: `(lambda d, e: (d.log_prob(x), d.mean, d.variance, d.cdf(x), d.icdf(u), d.entropy(), e.log_prob(x), ${TD}.kl_divergence(d, e)))(${TD}.ContinuousBernoulli(probs=p), ${TD}.ContinuousBernoulli(logits=p * 3.0 - 1.5))`,
    inputs: { p: v([0.1, 0.4995, 0.5, 0.7, 0.99]), x: v([0.2, 0.5, 0, 0.9, 1]), u: v([0.3, 0.5, 0.1, 0.9, 0.99]) },
    gradients: ['p'],
    flint: ({ p, x, u }) => {
      const d = new D.ContinuousBernoulli({ probs: p as Tensor });
      const e = new D.ContinuousBernoulli({ logits: (p as Tensor).mul(3).sub(1.5) });
      return [
        d.logProb(x as Tensor),
        d.mean,
        d.variance,
        d.cdf(x as Tensor),
        d.icdf(u as Tensor),
        d.entropy(),
        e.logProb(x as Tensor),
        D.klDivergence(d, e),
      ];
    },
  },
  {
    name: 'VonMises logProb and variance (against log I0 from torch.special.i0e: torch 1.13 fits it by a polynomial)',
    torch: `(k * torch.cos(x - loc) - math.log(2 * math.pi) - torch.special.i0e(k).log() - k, 1 - torch.special.i1e(k) / torch.special.i0e(k))`,
    inputs: { loc: v([0.5, -1, 3]), k: v([0.01, 1.5, 40]), x: v([0.2, 2.7, -3]) },
    gradients: ['loc', 'k'],
    flint: ({ loc, k, x }) => {
      const d = new D.VonMises(loc as Tensor, k as Tensor);
      return [d.logProb(x as Tensor), d.variance];
    },
  },
];

/** All outputs flattened into one vector, so that one gradient of its sum covers them all. */
function flatten(outputs: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(outputs) ? outputs : [outputs];
}

describe.skipIf(reason !== '')('torch.distributions counterparts against PyTorch', () => {
  let results: TorchResult[] = [];
  beforeAll(() => {
    results = runTorch(
      comparisons.map((c) => ({
        expression: `(lambda outs: (torch.cat([o.reshape(-1) for o in outs]),) + tuple(outs))((lambda r: list(r) if isinstance(r, tuple) else [r])(${c.torch}))`,
        inputs: c.inputs,
        gradients: c.gradients,
      })),
    );
  });
  comparisons.forEach((c, index) => {
    it(`${c.name}: values and gradients agree`, () => {
      const expected = results[index] as TorchResult;
      const tensors = Object.fromEntries(
        Object.entries(c.inputs).map(([name, input]) => [name, tensor(input.values as number[], { dtype: 'float64', shape: input.shape })]),
      );
      const outputs = flatten(c.flint(tensors));
      outputs.forEach((out, i) => {
        const reference = expected.outputs[i + 1];
        expect(out.shape, `${c.name}: output ${i} shape`).toEqual(reference?.shape);
        expectValuesClose(`${c.name}: output ${i}`, Array.from(out.dataSync()), reference?.values ?? [], { rtol: 1e-10, atol: 1e-12 });
      });
      const rest = Object.keys(c.inputs).filter((name) => !c.gradients.includes(name));
      const differentiated = (...args: Tensor[]) => {
        const named = { ...Object.fromEntries(rest.map((name) => [name, tensors[name] as Tensor])) };
        c.gradients.forEach((name, i) => {
          named[name] = args[i] as Tensor;
        });
        return flatten(c.flint(named))
          .map((o) => o.sum())
          .reduce((a, b) => a.add(b));
      };
      const gradients = grad(differentiated, { argnums: c.gradients.map((_, i) => i) })(
        ...c.gradients.map((name) => tensors[name] as Tensor),
      );
      c.gradients.forEach((name, i) => {
        expectValuesClose(
          `${c.name}: gradient of ${name}`,
          Array.from((gradients[i] as Tensor).dataSync()),
          expected.gradients[name] ?? [],
          {
            rtol: 1e-8,
            atol: 1e-10,
          },
        );
      });
    });
  });
});

describe.skipIf(reason === '')('torch.distributions counterparts against PyTorch', () => {
  it(`is skipped: ${reason}`, () => {
    expect(reason).not.toBe('');
  });
});
