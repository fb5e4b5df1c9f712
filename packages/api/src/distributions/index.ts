/**
 * Probability distributions in the manner of torch.distributions: batches of distributions with
 * `sample` (from the global generator, or a key), `rsample` (differentiable in the parameters),
 * `logProb`, `entropy`, moments, `cdf`/`icdf` where closed, and `klDivergence` between them.
 *
 * @example
 * import { distributions, tensor } from '@flint/api';
 * const policy = new distributions.Categorical({ logits });
 * const action = policy.sample();
 * const loss = policy.logProb(action).mul(advantage).neg().mean();
 */

export { ContinuousBernoulli } from './continuous-bernoulli.js';
export { Binomial, Multinomial, NegativeBinomial } from './counts.js';
export { Bernoulli, Categorical, Geometric, OneHotCategorical, Poisson, type ProbsOrLogits } from './discrete.js';
export { Distribution, type DistributionOptions, type DistributionSampleOptions } from './distribution.js';
export { Exponential } from './exponential.js';
export { Beta, Chi2, Dirichlet, Gamma, StudentT } from './gamma-family.js';
export { Independent } from './independent.js';
export { Kumaraswamy, Pareto, Weibull } from './inverse-cdf.js';
export { klDivergence, registerKl } from './kl.js';

import './kl-cross-family.js';

export { Cauchy, Gumbel, HalfNormal, Laplace, LogNormal, Normal } from './location-scale.js';
export { LowRankMultivariateNormal } from './low-rank-multivariate-normal.js';
export { MixtureSameFamily } from './mixture.js';
export { MultivariateNormal, type MultivariateNormalParameters } from './multivariate-normal.js';
export { ExpRelaxedCategorical, LogitRelaxedBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical } from './relaxed.js';
export { TransformedDistribution } from './transformed.js';
export { AffineTransform, ComposeTransform, ExpTransform, SigmoidTransform, TanhTransform, Transform } from './transforms.js';
export { Uniform } from './uniform.js';
export { VonMises } from './von-mises.js';
