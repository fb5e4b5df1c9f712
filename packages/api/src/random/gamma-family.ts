import type { DType } from '../core/dtype.js';
import { ShapeError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import { finfo } from '../core/type-info.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { add, div, exp, greater, less, log, logicalAnd, maximum, mul, rsqrt, sigmoid, sub, where } from '../ops/elementwise.js';
import { takeAlongAxis } from '../ops/indexing.js';
import { reshape } from '../ops/movement.js';
import { argmax, logSumExp } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { stopGradient } from '../transforms/custom.js';
import { checkEntries, floatDType, sampleShape } from './arguments.js';
import { openUnit, type SampleOptions } from './continuous.js';
import { normal } from './distributions.js';
import { withGammaSampleGradient } from './gamma-gradient.js';
import { checkKey, splitKeys } from './keys.js';

// Gamma samples by Marsaglia and Tsang's method ("A simple method for generating gamma
// variables", 2000), and the distributions built from them: beta, dirichlet, chisquare.
//
// The method is a rejection sampler. A data-dependent loop cannot run on every backend, under vmap
// and jit, with a shape known in advance, so each sample gets REJECTION_ROUNDS proposals at once
// and keeps the first accepted one. A proposal is accepted with probability above 0.95 for every
// shape parameter, so all rounds fail with probability below 0.05^10 (about 1e-13) per sample;
// such a sample keeps its first proposal's value, clamped positive.
//
// Samples are made in log space, so that small shape parameters (whose samples underflow: Gamma(0.01)
// is below 1e-30 a third of the time) still give beta and dirichlet samples through ratios of logs.

const REJECTION_ROUNDS = 10;

/** The working dtype of the sampler: float32 for the half dtypes, whose mantissas are too short for the acceptance test. */
function workingDType(dtype: DType): DType {
  return dtype === 'float64' ? 'float64' : 'float32';
}

/**
 * log of Gamma(alpha, 1) samples of shape `dims` (alpha broadcast to it, in `dtype`). Shape
 * parameters below 1 are boosted: Gamma(a) = Gamma(a + 1) u^(1/a). Differentiable in alpha by
 * implicit reparameterization (gamma-gradient.ts), not through the rejection sampler's ops.
 */
function logGammaSamples(k: Tensor, alpha: Tensor, dims: readonly number[], dtype: DType): Tensor {
  const concentration = broadcastTo(cast(alpha, dtype), dims);
  return withGammaSampleGradient(concentration, proposeLogGamma(k, stopGradient(concentration), dims, dtype));
}

/** The sampler itself: log Gamma(a, 1) samples, a already of shape `dims`, not differentiated. */
function proposeLogGamma(k: Tensor, a: Tensor, dims: readonly number[], dtype: DType): Tensor {
  const [proposalKey, acceptKey, boostKey] = splitKeys(k, 3) as [Tensor, Tensor, Tensor];
  const boosted = less(a, 1);
  const shape = where(boosted, add(a, 1), a);
  const d = sub(shape, 1 / 3);
  const c = rsqrt(mul(d, 9));
  const rounds = [REJECTION_ROUNDS, ...dims];
  const x = normal(proposalKey, rounds, { dtype });
  const u = openUnit(acceptKey, rounds, dtype);
  const cubeRoot = add(mul(x, c), 1); // v = (1 + c x)^3
  const v = mul(mul(cubeRoot, cubeRoot), cubeRoot);
  const logV = log(maximum(v, finfo(dtype).tiny));
  // Accept when log(u) < x^2 / 2 + d - d v + d log(v), for v > 0.
  const bound = add(sub(add(mul(mul(x, x), 0.5), d), mul(d, v)), mul(d, logV));
  const accepted = logicalAnd(greater(v, 0), less(log(u), bound));
  // argmax returns the first maximum: the first accepted round, or round 0 when none was.
  const first = reshape(argmax(cast(accepted, 'int32'), 0), [1, ...dims]);
  const logSample = add(log(d), reshape(takeAlongAxis(logV, first, 0), dims));
  const boost = div(log(openUnit(boostKey, dims, dtype)), a);
  return where(boosted, add(logSample, boost), logSample);
}

/** The shape parameter as a tensor in the working dtype, checked positive where it can be read. */
function shapeParameter(op: string, name: string, value: TensorLike, k: Tensor, working: DType): Tensor {
  const t = toTensor(op, value, working, k);
  checkEntries(op, name, t, (v) => v > 0, 'positive');
  return cast(t, working);
}

/**
 * Gamma(a, 1) samples (jax.random.gamma; divide by a rate, or multiply by a scale, for others).
 * `a` (the concentration, > 0) may be a tensor; the samples take its shape, or `shape`, to which
 * it must broadcast. Differentiable with respect to `a` by implicit reparameterization (as
 * jax.random.gamma and torch's rsample): d sample / d a = -(dP/da) / density, P the regularized
 * incomplete gamma function at the sample, with the key held fixed.
 *
 * @example
 * random.gamma(random.key(0), 2, [1000]); // mean 2, variance 2
 */
export function gamma(k: Tensor, a: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  return tidy(() => exp(loggamma(k, a, shape, options)));
}

/**
 * The logarithm of Gamma(a, 1) samples (jax.random.loggamma), finite even where the sample itself
 * underflows (small `a`).
 *
 * @example
 * random.loggamma(random.key(0), 0.01, [4]);
 */
export function loggamma(k: Tensor, a: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  const op = 'random.loggamma';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  const working = workingDType(dtype);
  return tidy(() => {
    const alpha = shapeParameter(op, 'a', a, k, working);
    const dims = sampleShape(op, { a: alpha.shape }, shape);
    return cast(logGammaSamples(k, alpha, dims, working), dtype);
  });
}

/**
 * Beta(a, b) samples (jax.random.beta): X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b), computed as
 * sigmoid(log X - log Y) so that small parameters do not give 0 / 0.
 *
 * @example
 * random.beta(random.key(0), 2, 5, [1000]); // mean 2/7
 */
export function beta(k: Tensor, a: TensorLike, b: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  const op = 'random.beta';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  const working = workingDType(dtype);
  return tidy(() => {
    const alpha = shapeParameter(op, 'a', a, k, working);
    const betaParameter = shapeParameter(op, 'b', b, k, working);
    const dims = sampleShape(op, { a: alpha.shape, b: betaParameter.shape }, shape);
    const [ka, kb] = splitKeys(k) as [Tensor, Tensor];
    const logX = logGammaSamples(ka, alpha, dims, working);
    const logY = logGammaSamples(kb, betaParameter, dims, working);
    return cast(sigmoid(sub(logX, logY)), dtype);
  });
}

/**
 * Dirichlet(alpha) samples (jax.random.dirichlet): points on the simplex along the last axis,
 * normalized Gamma(alpha_i) samples (a softmax of their logs). `alpha` is [..., K]; the samples
 * are `[...shape, K]`, where `shape` (default alpha's batch shape) is one alpha's batch shape
 * broadcasts to.
 *
 * @example
 * random.dirichlet(random.key(0), [1, 1, 1], [5]); // 5 points uniform on the 2-simplex
 */
export function dirichlet(k: Tensor, alpha: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  const op = 'random.dirichlet';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  const working = workingDType(dtype);
  return tidy(() => {
    const concentration = shapeParameter(op, 'alpha', alpha, k, working);
    if (concentration.ndim === 0) throw new ShapeError(`${op}: alpha must have a last axis of categories, got a scalar`);
    const categories = concentration.shape[concentration.ndim - 1] as number;
    const batch = sampleShape(op, { 'alpha (without its last axis)': concentration.shape.slice(0, -1) }, shape);
    const dims = [...batch, categories];
    const logG = logGammaSamples(k, concentration, dims, working);
    return cast(exp(sub(logG, logSumExp(logG, -1, true))), dtype);
  });
}

/**
 * Chi-squared samples with `df` degrees of freedom (jax.random.chisquare): 2 Gamma(df / 2).
 *
 * @example
 * random.chisquare(random.key(0), 3, [1000]); // mean 3
 */
export function chisquare(k: Tensor, df: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  const op = 'random.chisquare';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  const working = workingDType(dtype);
  return tidy(() => {
    const freedom = shapeParameter(op, 'df', df, k, working);
    const dims = sampleShape(op, { df: freedom.shape }, shape);
    return cast(mul(exp(logGammaSamples(k, mul(freedom, 0.5), dims, working)), 2), dtype);
  });
}

/** @internal For the tests: how many proposals each gamma sample gets. */
export const GAMMA_REJECTION_ROUNDS = REJECTION_ROUNDS;
