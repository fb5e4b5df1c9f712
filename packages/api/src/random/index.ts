/**
 * Counter-based random numbers in the manner of JAX: every function takes an explicit key and is
 * a pure function of it. For PyTorch-style code with a global seed, see `manualSeed`, `randn`,
 * `rand`, `randint` and `randperm` at the package's top level.
 *
 * @example
 * import { random } from '@flint/api';
 * const [initKey, dataKey] = random.splitKeys(random.key(0));
 * const w = random.normal(initKey, [3, 3]);
 */

export { binomial } from './binomial.js';
export {
  cauchy,
  exponential,
  gumbel,
  type LognormalOptions,
  laplace,
  logistic,
  lognormal,
  type SampleOptions,
  truncatedNormal,
} from './continuous.js';
export { type CategoricalOptions, type ChoiceOptions, categorical, choice, type PoissonOptions, poisson, rademacher } from './discrete.js';
export { bernoulli, type NormalOptions, normal, permutation, randint, type UniformOptions, uniform } from './distributions.js';
export { beta, chisquare, dirichlet, gamma, loggamma } from './gamma-family.js';
export { foldIn, type KeyOptions, key, keyAt, split, splitKeys } from './keys.js';
