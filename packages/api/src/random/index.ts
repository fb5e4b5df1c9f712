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

export { bernoulli, type NormalOptions, normal, permutation, randint, type UniformOptions, uniform } from './distributions.js';
export { foldIn, type KeyOptions, key, keyAt, split, splitKeys } from './keys.js';
