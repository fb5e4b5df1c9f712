import { NotImplementedError, ValueError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { broadcastTo } from '../ops/broadcast.js';
import { fullLike } from '../ops/creation.js';
import { abs, add, div, equal, exp, greater, less, log, log1p, logicalOr, mul, neg, square, sub, where } from '../ops/elementwise.js';
import { digamma, lgamma } from '../ops/gamma.js';
import { solveTriangular } from '../ops/linalg-solvers.js';
import { squeeze, unsqueeze } from '../ops/movement.js';
import { sum } from '../ops/reduce.js';
import { xlogy } from '../ops/torch-elementwise.js';
import { diagonal } from '../ops/triangular.js';
import { checkEntries } from '../random/arguments.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { ContinuousBernoulli } from './continuous-bernoulli.js';
import { Binomial } from './counts.js';
import { Bernoulli, Categorical, Geometric, OneHotCategorical, Poisson, softplus } from './discrete.js';
import type { Distribution } from './distribution.js';
import { Exponential } from './exponential.js';
import { Beta, Dirichlet, Gamma } from './gamma-family.js';
import { Independent } from './independent.js';
import { Pareto } from './inverse-cdf.js';
import { Cauchy, HalfNormal, Laplace, Normal } from './location-scale.js';
import { LowRankMultivariateNormal } from './low-rank-multivariate-normal.js';
import { MultivariateNormal } from './multivariate-normal.js';
import { Uniform } from './uniform.js';

// KL(p || q) in closed form for pairs of distributions, in a registry as torch's
// register_kl: the most specific registered pair (by class distance) wins, and users add their own.

// biome-ignore lint/suspicious/noExplicitAny: constructors of any signature identify the classes.
type DistributionClass<D extends Distribution> = abstract new (...args: any[]) => D;
type KlRule = (p: Distribution, q: Distribution) => Tensor;

const RULES: { readonly p: DistributionClass<Distribution>; readonly q: DistributionClass<Distribution>; readonly rule: KlRule }[] = [];

/**
 * Registers the closed form of KL(p || q) for distributions of classes `P` and `Q` (torch's
 * register_kl). A later registration of the same pair replaces the earlier one.
 *
 * @example
 * registerKl(MyDistribution, distributions.Normal, (p, q) => ...);
 */
export function registerKl<P extends Distribution, Q extends Distribution>(
  P: DistributionClass<P>,
  Q: DistributionClass<Q>,
  rule: (p: P, q: Q) => Tensor,
): void {
  const existing = RULES.findIndex((r) => r.p === P && r.q === Q);
  const entry = { p: P, q: Q, rule: rule as KlRule };
  if (existing >= 0) RULES[existing] = entry;
  else RULES.push(entry);
}

/** How many prototype steps from `object`'s class up to `Class` (Infinity when not an instance). */
function classDistance(object: Distribution, Class: DistributionClass<Distribution>): number {
  let distance = 0;
  for (let proto = Object.getPrototypeOf(object); proto !== null; proto = Object.getPrototypeOf(proto), distance++) {
    if (proto === Class.prototype) return distance;
  }
  return Number.POSITIVE_INFINITY;
}

/**
 * KL(p || q), the Kullback-Leibler divergence of q from p, for each distribution of the batch
 * (torch.distributions.kl_divergence). Differentiable in both distributions' parameters.
 *
 * @example
 * klDivergence(new distributions.Normal(mu, sigma), new distributions.Normal(0, 1)); // a VAE's KL term
 */
export function klDivergence(p: Distribution, q: Distribution): Tensor {
  let best: KlRule | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const entry of RULES) {
    const distance = classDistance(p, entry.p) + classDistance(q, entry.q);
    if (distance < bestDistance) {
      best = entry.rule;
      bestDistance = distance;
    }
  }
  if (best === undefined) {
    throw new NotImplementedError(
      `klDivergence: no closed form registered for ${p.constructor.name} and ${q.constructor.name}; add one with registerKl`,
    );
  }
  const rule = best;
  return tidy(() => rule(p, q));
}

registerKl(Normal, Normal, (p, q) => {
  const varianceRatio = square(div(p.scale, q.scale));
  const meanTerm = square(div(sub(p.loc, q.loc), q.scale));
  return mul(sub(add(varianceRatio, meanTerm), add(log(varianceRatio), 1)), 0.5);
});

// Both centred at 0: the Normals' divergence without its mean term.
registerKl(HalfNormal, HalfNormal, (p, q) => {
  const varianceRatio = square(div(p.scale, q.scale));
  return mul(sub(varianceRatio, add(log(varianceRatio), 1)), 0.5);
});

registerKl(Cauchy, Cauchy, (p, q) =>
  sub(log(add(square(add(p.scale, q.scale)), square(sub(p.loc, q.loc)))), log(mul(mul(p.scale, q.scale), 4))),
);

// -H(p) - E_p[log q], with E_p[failures] = 1/p - 1: log q(k) = k log(1 - q) + log q.
registerKl(Geometric, Geometric, (p, q) => sub(neg(p.entropy()), add(div(log1p(neg(q.probs)), p.probs), q.logits)));

registerKl(Bernoulli, Bernoulli, (p, q) => {
  const ones = mul(p.probs, sub(softplus(neg(q.logits)), softplus(neg(p.logits))));
  const zeros = mul(sub(1, p.probs), sub(softplus(q.logits), softplus(p.logits)));
  return add(where(equal(p.probs, 0), 0, ones), where(equal(p.probs, 1), 0, zeros));
});

/** KL between two distributions over the same categories (the last axis of their probs and logits). */
function categoriesKl(p: Categorical | OneHotCategorical, q: Categorical | OneHotCategorical, name: string): Tensor {
  const pCount = p.probs.shape.at(-1);
  const qCount = q.probs.shape.at(-1);
  if (pCount !== qCount) throw new ValueError(`klDivergence: ${name}s over ${pCount} and ${qCount} categories`);
  const terms = mul(p.probs, sub(p.logits, q.logits));
  const impossible = where(equal(q.probs, 0), Number.POSITIVE_INFINITY, terms);
  return sum(where(equal(p.probs, 0), 0, impossible), -1);
}
registerKl(Categorical, Categorical, (p, q) => categoriesKl(p, q, 'Categorical'));
registerKl(OneHotCategorical, OneHotCategorical, (p, q) => categoriesKl(p, q, 'OneHotCategorical'));

registerKl(Exponential, Exponential, (p, q) => {
  const ratio = div(q.rate, p.rate);
  return sub(sub(ratio, log(ratio)), 1);
});

registerKl(Gamma, Gamma, (p, q) => {
  const t1 = mul(q.concentration, log(div(p.rate, q.rate)));
  const t2 = sub(lgamma(q.concentration), lgamma(p.concentration));
  const t3 = mul(sub(p.concentration, q.concentration), digamma(p.concentration));
  const t4 = mul(sub(q.rate, p.rate), div(p.concentration, p.rate));
  return add(add(add(t1, t2), t3), t4);
});

registerKl(Beta, Beta, (p, q) => {
  const totalP = add(p.concentration1, p.concentration0);
  const totalQ = add(q.concentration1, q.concentration0);
  const t1 = add(add(lgamma(q.concentration1), lgamma(q.concentration0)), lgamma(totalP));
  const t2 = add(add(lgamma(p.concentration1), lgamma(p.concentration0)), lgamma(totalQ));
  const t3 = mul(sub(p.concentration1, q.concentration1), digamma(p.concentration1));
  const t4 = mul(sub(p.concentration0, q.concentration0), digamma(p.concentration0));
  const t5 = mul(sub(totalQ, totalP), digamma(totalP));
  return add(add(add(sub(t1, t2), t3), t4), t5);
});

registerKl(Dirichlet, Dirichlet, (p, q) => {
  const totalP = sum(p.concentration, -1);
  const totalQ = sum(q.concentration, -1);
  const t1 = sub(lgamma(totalP), lgamma(totalQ));
  const t2 = sum(sub(lgamma(p.concentration), lgamma(q.concentration)), -1);
  const t3 = sub(p.concentration, q.concentration);
  const t4 = sub(digamma(p.concentration), unsqueeze(digamma(totalP), -1));
  return add(sub(t1, t2), sum(mul(t3, t4), -1));
});

registerKl(Laplace, Laplace, (p, q) => {
  const scaleRatio = div(p.scale, q.scale);
  const distance = abs(sub(p.loc, q.loc));
  const t3 = mul(scaleRatio, exp(neg(div(distance, p.scale))));
  return sub(add(add(neg(log(scaleRatio)), div(distance, q.scale)), t3), 1);
});

registerKl(Poisson, Poisson, (p, q) => sub(sub(xlogy(p.rate, p.rate), xlogy(p.rate, q.rate)), sub(p.rate, q.rate)));

registerKl(Uniform, Uniform, (p, q) => {
  const ratio = log(div(sub(q.high, q.low), sub(p.high, p.low)));
  return where(logicalOr(greater(q.low, p.low), less(q.high, p.high)), Number.POSITIVE_INFINITY, ratio);
});

registerKl(MultivariateNormal, MultivariateNormal, (p, q) => {
  const n = p.eventShape[0] as number;
  if (q.eventShape[0] !== n) throw new ValueError(`klDivergence: MultivariateNormals of ${n} and ${q.eventShape[0]} components`);
  const halfLogDet = (L: Tensor) => sum(log(diagonal(L, 0, -2, -1)), -1);
  const diff = sub(q.loc, p.loc);
  const Lq = broadcastTo(q.scaleTril, [...diff.shape, n]);
  const Lp = broadcastTo(p.scaleTril, Lq.shape);
  // tr(Σq⁻¹ Σp) = |Lq⁻¹ Lp|²_F and the Mahalanobis term |Lq⁻¹ (μq - μp)|².
  const trace = sum(square(solveTriangular(Lq, Lp, { upper: false })), [-2, -1]);
  const mahalanobis = sum(square(squeeze(solveTriangular(Lq, unsqueeze(diff, -1), { upper: false }), -1)), -1);
  return add(sub(halfLogDet(Lq), halfLogDet(Lp)), mul(sub(add(trace, mahalanobis), n), 0.5));
});

registerKl(Independent, Independent, (p, q) => {
  if (p.reinterpretedBatchNdims !== q.reinterpretedBatchNdims) {
    throw new NotImplementedError('klDivergence: Independent distributions that reinterpret different numbers of batch axes');
  }
  const k = p.reinterpretedBatchNdims;
  const inner = klDivergence(p.base, q.base);
  return k === 0
    ? inner
    : sum(
        inner,
        Array.from({ length: k }, (_, i) => -1 - i),
      );
});

registerKl(Pareto, Pareto, (p, q) => {
  const alphaRatio = div(q.alpha, p.alpha);
  const value = sub(add(sub(mul(q.alpha, log(div(p.scale, q.scale))), log(alphaRatio)), alphaRatio), 1);
  // p puts mass below q's minimum: infinite.
  return where(less(p.scale, q.scale), Number.POSITIVE_INFINITY, value);
});

registerKl(Binomial, Binomial, (p, q) => {
  if (p.validateArgs || q.validateArgs) {
    checkEntries(
      'klDivergence',
      "p's totalCount minus q's",
      sub(p.totalCount, q.totalCount),
      (d) => d >= 0,
      'non-negative (torch: not implemented where q has more trials)',
    );
  }
  const value = mul(p.totalCount, add(mul(p.probs, sub(p.logits, q.logits)), sub(log1p(neg(p.probs)), log1p(neg(q.probs)))));
  return where(greater(p.totalCount, q.totalCount), Number.POSITIVE_INFINITY, value);
});

registerKl(Poisson, Binomial, (p, q) =>
  fullLike(broadcastTo(p.rate, broadcastShapes('klDivergence', p.rate.shape, q.probs.shape)), Number.POSITIVE_INFINITY),
);

// The low-rank normals through their full Cholesky factors: O(n³) where torch's forms are O(n m²),
// the same values.
registerKl(LowRankMultivariateNormal, LowRankMultivariateNormal, (p, q) =>
  klDivergence(p.toMultivariateNormal(), q.toMultivariateNormal()),
);
registerKl(MultivariateNormal, LowRankMultivariateNormal, (p, q) => klDivergence(p, q.toMultivariateNormal()));
registerKl(LowRankMultivariateNormal, MultivariateNormal, (p, q) => klDivergence(p.toMultivariateNormal(), q));

registerKl(ContinuousBernoulli, ContinuousBernoulli, (p, q) => {
  const t1 = mul(p.mean, sub(p.logits, q.logits));
  const t2 = add(p.logNormalizer(), log1p(neg(p.probs)));
  const t3 = neg(add(q.logNormalizer(), log1p(neg(q.probs))));
  return add(add(t1, t2), t3);
});
