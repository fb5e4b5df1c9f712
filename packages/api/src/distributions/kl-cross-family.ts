import { broadcastShapes } from '../core/shape.js';
import { broadcastTo } from '../ops/broadcast.js';
import { fullLike } from '../ops/creation.js';
import { add, div, erf, exp, greater, less, lessEqual, log, logicalOr, mul, neg, pow, square, sub, where } from '../ops/elementwise.js';
import { digamma, lgamma } from '../ops/gamma.js';
import { xlogy } from '../ops/torch-elementwise.js';
import type { Tensor } from '../tensor/tensor.js';
import { ContinuousBernoulli } from './continuous-bernoulli.js';
import { Bernoulli, Poisson, softplus } from './discrete.js';
import type { Distribution } from './distribution.js';
import { Exponential } from './exponential.js';
import { Beta, Gamma } from './gamma-family.js';
import { Pareto } from './inverse-cdf.js';
import { registerKl } from './kl.js';
import { Gumbel, Laplace, Normal } from './location-scale.js';
import { Uniform } from './uniform.js';

// KL(p || q) between different families (the pairs torch.distributions.kl registers), written
// once per target family as KL = -H(p) - E_p[log q(X)]: each target's expected log-density needs
// a few expectations under p (its mean and variance, E[log X], a moment generating function),
// so one formula serves every source whose expectations are known in closed form. Where p puts
// mass outside q's support the divergence is infinite.

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
const EULER_GAMMA = 0.5772156649015329;

/** +Infinity over the broadcast batch of the two distributions' parameters. */
function infinite(p: Tensor, q: Tensor): Tensor {
  return fullLike(broadcastTo(p, broadcastShapes('klDivergence', p.shape, q.shape)), Number.POSITIVE_INFINITY);
}

/** `value`, or +Infinity where `outside` (p has mass outside q's support). */
const unlessOutside = (outside: Tensor, value: Tensor): Tensor => where(outside, Number.POSITIVE_INFINITY, value);

// ---- q Normal(μ, σ): E_p[log q] = -log σ - log(2π)/2 - (Var p + (E p - μ)²) / 2σ² ----

function toNormal(p: Distribution, q: Normal): Tensor {
  const spread = add(p.variance, square(sub(p.mean, q.loc)));
  return add(sub(add(log(q.scale), HALF_LOG_TWO_PI), p.entropy()), div(spread, mul(square(q.scale), 2)));
}

for (const P of [Laplace, Gumbel, Exponential, Gamma, Beta, Uniform, Pareto, ContinuousBernoulli]) registerKl(P, Normal, toNormal);

// ---- q Laplace(μ, b): E_p[log q] = -log 2b - E_p|X - μ| / b ----

registerKl(Normal, Laplace, (p, q) => {
  // E|X - μ| for X ~ Normal(m, s), d = m - μ: s sqrt(2/π) exp(-d²/2s²) + d erf(d / (s sqrt 2)).
  const d = sub(p.loc, q.loc);
  const z = div(d, p.scale);
  const meanDistance = add(mul(mul(p.scale, Math.sqrt(2 / Math.PI)), exp(mul(square(z), -0.5))), mul(d, erf(mul(z, Math.SQRT1_2))));
  return sub(add(log(mul(q.scale, 2)), div(meanDistance, q.scale)), p.entropy());
});

// ---- q Gumbel(μ, β): E_p[log q] = -log β - (E p - μ)/β - E_p[exp(-(X - μ)/β)] ----

/** KL(p || Gumbel) from E_p[exp(-X/β)] (p's moment generating function at -1/β). */
function toGumbel(p: Distribution, q: Gumbel, expectedDecay: Tensor): Tensor {
  const tail = mul(exp(div(q.loc, q.scale)), expectedDecay);
  return add(add(add(log(q.scale), div(sub(p.mean, q.loc), q.scale)), tail), neg(p.entropy()));
}

// A Gumbel(m, s): E[exp(-X/β)] = exp(-m/β) Γ(1 + s/β).
registerKl(Gumbel, Gumbel, (p, q) => toGumbel(p, q, exp(sub(lgamma(add(div(p.scale, q.scale), 1)), div(p.loc, q.scale)))));
registerKl(Normal, Gumbel, (p, q) => toGumbel(p, q, exp(add(neg(div(p.loc, q.scale)), mul(square(div(p.scale, q.scale)), 0.5)))));
registerKl(Exponential, Gumbel, (p, q) => toGumbel(p, q, div(p.rate, add(p.rate, div(1, q.scale)))));
registerKl(Gamma, Gumbel, (p, q) => toGumbel(p, q, pow(div(p.rate, add(p.rate, div(1, q.scale))), p.concentration)));
registerKl(Uniform, Gumbel, (p, q) => {
  const decay = div(mul(sub(exp(neg(div(p.low, q.scale))), exp(neg(div(p.high, q.scale)))), q.scale), sub(p.high, p.low));
  return toGumbel(p, q, decay);
});

// ---- q on [0, ∞): Exponential(λ) and Gamma(α, r) ----

/** E_p[log X] of the sources on [0, ∞) with a closed form. */
function expectedLog(p: Exponential | Gamma | Beta | Uniform | Pareto): Tensor {
  if (p instanceof Exponential) return sub(neg(log(p.rate)), EULER_GAMMA);
  if (p instanceof Gamma) return sub(digamma(p.concentration), log(p.rate));
  if (p instanceof Beta) return sub(digamma(p.concentration1), digamma(add(p.concentration1, p.concentration0)));
  if (p instanceof Uniform) return sub(div(sub(xlogy(p.high, p.high), xlogy(p.low, p.low)), sub(p.high, p.low)), 1);
  return add(log(p.scale), div(1, p.alpha));
}

// E_p[log q] = log λ - λ E p.
const toExponential = (p: Distribution, q: Exponential): Tensor => sub(sub(mul(q.rate, p.mean), log(q.rate)), p.entropy());
for (const P of [Gamma, Beta, ContinuousBernoulli]) registerKl(P, Exponential, toExponential);
/**
 * `divergence` of a Pareto, infinite where alpha <= 1 (no mean) and constant there: it is computed
 * with those alphas replaced by 2, so that no infinite mean meets a zero cotangent (a NaN).
 */
function withMean(p: Pareto, q: Distribution, divergence: (p: Pareto, q: Distribution) => Tensor): Tensor {
  const noMean = lessEqual(p.alpha, 1);
  return unlessOutside(noMean, divergence(new Pareto(p.scale, where(noMean, 2, p.alpha)), q));
}
registerKl(Pareto, Exponential, (p, q) => withMean(p, q, (safe) => toExponential(safe, q)));
registerKl(Uniform, Exponential, (p, q) => unlessOutside(less(p.low, 0), toExponential(p, q)));

// E_p[log q] = α log r - lgamma(α) + (α - 1) E_p[log X] - r E p.
function toGamma(p: Exponential | Beta | Uniform | Pareto, q: Gamma): Tensor {
  const expected = add(sub(mul(q.concentration, log(q.rate)), lgamma(q.concentration)), mul(sub(q.concentration, 1), expectedLog(p)));
  return sub(sub(mul(q.rate, p.mean), expected), p.entropy());
}
for (const P of [Exponential, Beta]) registerKl(P, Gamma, toGamma);
registerKl(Pareto, Gamma, (p, q) => withMean(p, q, (safe) => toGamma(safe, q)));
registerKl(Uniform, Gamma, (p, q) => unlessOutside(less(p.low, 0), toGamma(p, q)));

// ---- q Uniform(a, b): KL = -H(p) + log(b - a) where p lives inside [a, b] ----

const toUniform = (p: Distribution, q: Uniform, outside: Tensor): Tensor =>
  unlessOutside(outside, sub(log(sub(q.high, q.low)), p.entropy()));
const unitIntervalToUniform = (p: Distribution, q: Uniform): Tensor => toUniform(p, q, logicalOr(greater(q.low, 0), less(q.high, 1)));
registerKl(Beta, Uniform, unitIntervalToUniform);
registerKl(ContinuousBernoulli, Uniform, unitIntervalToUniform);

// ---- q ContinuousBernoulli(λ) on [0, 1]: E_p[log q] = E p · logit λ + log(1 - λ) + log C(λ) ----

const toContinuousBernoulli = (p: Distribution, q: ContinuousBernoulli): Tensor =>
  sub(neg(add(sub(mul(p.mean, q.logits), softplus(q.logits)), q.logNormalizer())), p.entropy());
registerKl(Beta, ContinuousBernoulli, toContinuousBernoulli);
registerKl(Uniform, ContinuousBernoulli, (p, q) =>
  unlessOutside(logicalOr(less(p.low, 0), greater(p.high, 1)), toContinuousBernoulli(p, q)),
);

// ---- q Beta(α, β) and Pareto(m, α) from a Uniform(lo, hi) ----

registerKl(Uniform, Beta, (p, q) => {
  const width = sub(p.high, p.low);
  // E[log X] and E[log(1 - X)] over [lo, hi].
  const logX = sub(div(sub(xlogy(p.high, p.high), xlogy(p.low, p.low)), width), 1);
  const oneMinus = (x: Tensor) => sub(1, x);
  const logOneMinusX = sub(div(sub(xlogy(oneMinus(p.low), oneMinus(p.low)), xlogy(oneMinus(p.high), oneMinus(p.high))), width), 1);
  const logBeta = sub(add(lgamma(q.concentration1), lgamma(q.concentration0)), lgamma(add(q.concentration1, q.concentration0)));
  const expected = sub(add(mul(sub(q.concentration1, 1), logX), mul(sub(q.concentration0, 1), logOneMinusX)), logBeta);
  return unlessOutside(logicalOr(less(p.low, 0), greater(p.high, 1)), sub(neg(expected), p.entropy()));
});

registerKl(Uniform, Pareto, (p, q) => {
  // E_p[log q] = log α + α log m - (α + 1) E_p[log X].
  const expected = sub(add(log(q.alpha), mul(q.alpha, log(q.scale))), mul(add(q.alpha, 1), expectedLog(p)));
  return unlessOutside(less(p.low, q.scale), sub(neg(expected), p.entropy()));
});

// ---- pairs where p always has mass outside q's support ----

const parameterOf = (d: Distribution): Tensor => d.mean;
const alwaysInfinite = (p: Distribution, q: Distribution): Tensor => infinite(parameterOf(p), parameterOf(q));

for (const [P, Qs] of [
  [Normal, [Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform]],
  [Laplace, [Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform]],
  [Gumbel, [Beta, ContinuousBernoulli, Exponential, Gamma, Pareto, Uniform]],
  [Exponential, [Beta, ContinuousBernoulli, Pareto, Uniform]],
  [Gamma, [Beta, ContinuousBernoulli, Pareto, Uniform]],
  [Pareto, [Beta, ContinuousBernoulli, Uniform]],
  [Beta, [Pareto]],
  [ContinuousBernoulli, [Pareto]],
  [Poisson, [Bernoulli]],
] as const) {
  for (const Q of Qs) registerKl(P, Q, alwaysInfinite);
}

// ---- q Poisson(λ) from a Bernoulli: on {0, 1}, log q(k) = k log λ - λ ----

registerKl(Bernoulli, Poisson, (p, q) => sub(sub(q.rate, mul(p.probs, log(q.rate))), p.entropy()));
