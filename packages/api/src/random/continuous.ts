import { type DType, isHalf } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { finfo } from '../core/type-info.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { add, clamp, exp, less, log, log1p, maximum, mul, neg, sub, tan, where } from '../ops/elementwise.js';
import { ndtr, ndtri } from '../ops/error-functions.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { floatDType, sampleShape, shapeArg } from './arguments.js';
import { normal } from './distributions.js';
import { checkKey } from './keys.js';

// Continuous distributions of JAX's jax.random beyond uniform and normal, as pure functions of a
// key. Each is a transform of uniform samples (RandomUniform), so a key gives the same values on
// every backend. The gamma family (gamma, beta, dirichlet, chisquare) is in random/gamma.ts.

/** Options of the samplers that take only a dtype. */
export interface SampleOptions {
  /** float32 (default), float64, float16 or bfloat16. */
  readonly dtype?: DType;
}

/**
 * @internal Uniform samples in the open interval (0, 1): RandomUniform's [0, 1) with 0 moved up to
 * the dtype's smallest normal number, so that logarithms and quantiles of them stay finite.
 */
export function openUnit(k: Tensor, dims: readonly number[], dtype: DType): Tensor {
  return maximum(bind(Primitive.RandomUniform, [k], { shape: [...dims], dtype }), finfo(dtype).tiny);
}

/** Samples of one parameterless distribution: `transform` of open-interval uniforms. */
function sampleOpenUnit(op: string, k: Tensor, shape: Shape | number, options: SampleOptions, transform: (u: Tensor) => Tensor): Tensor {
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  const dtype = floatDType(op, options.dtype);
  return tidy(() => transform(openUnit(k, dims, dtype)));
}

/**
 * Standard Gumbel samples (location 0, scale 1): -log(-log(u)). Adding them to logits and taking
 * the argmax samples a categorical (`random.categorical`).
 *
 * @example
 * random.gumbel(random.key(0), [3]);
 */
export function gumbel(k: Tensor, shape: Shape | number = [], options: SampleOptions = {}): Tensor {
  return sampleOpenUnit('random.gumbel', k, shape, options, (u) => neg(log(neg(log(u)))));
}

/**
 * Standard exponential samples (rate 1): -log(1 - u). Divide by a rate for others.
 *
 * @example
 * random.exponential(random.key(0), [1000]).div(2); // rate 2
 */
export function exponential(k: Tensor, shape: Shape | number = [], options: SampleOptions = {}): Tensor {
  return sampleOpenUnit('random.exponential', k, shape, options, (u) => neg(log1p(neg(u))));
}

/**
 * Standard Laplace samples (location 0, scale 1). Each half of the open interval maps to one
 * tail: log(2u) below 1/2 and -log(2(1 - u)) above, where 1 - u is exact.
 *
 * @example
 * random.laplace(random.key(0), [4]);
 */
export function laplace(k: Tensor, shape: Shape | number = [], options: SampleOptions = {}): Tensor {
  return sampleOpenUnit('random.laplace', k, shape, options, (u) => where(less(u, 0.5), log(mul(u, 2)), neg(log(mul(sub(1, u), 2)))));
}

/**
 * Standard logistic samples (location 0, scale 1): log(u / (1 - u)).
 *
 * @example
 * random.logistic(random.key(0), [4]);
 */
export function logistic(k: Tensor, shape: Shape | number = [], options: SampleOptions = {}): Tensor {
  return sampleOpenUnit('random.logistic', k, shape, options, (u) => sub(log(u), log1p(neg(u))));
}

/**
 * Standard Cauchy samples (location 0, scale 1): tan(pi (u - 1/2)).
 *
 * @example
 * random.cauchy(random.key(0), [4]);
 */
export function cauchy(k: Tensor, shape: Shape | number = [], options: SampleOptions = {}): Tensor {
  return sampleOpenUnit('random.cauchy', k, shape, options, (u) => tan(mul(sub(u, 0.5), Math.PI)));
}

/** Options of `random.lognormal`. */
export interface LognormalOptions extends SampleOptions {
  /** The standard deviation of the underlying normal (default 1). */
  readonly sigma?: TensorLike;
}

/**
 * Log-normal samples exp(sigma z), z standard normal (jax.random.lognormal).
 *
 * @example
 * random.lognormal(random.key(0), [4], { sigma: 0.5 });
 */
export function lognormal(k: Tensor, shape?: Shape | number, options: LognormalOptions = {}): Tensor {
  const op = 'random.lognormal';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  return tidy(() => {
    const sigma = toTensor(op, options.sigma ?? 1, dtype, k);
    const dims = sampleShape(op, { sigma: sigma.shape }, shape);
    return exp(mul(normal(k, dims, { dtype }), sigma));
  });
}

/**
 * Runs `sample` in float32 for a half dtype (whose 11 or 8 bits of mantissa would make the
 * quantile functions coarse) and casts the result back.
 */
function inWorkingPrecision(dtype: DType, sample: (working: DType) => Tensor): Tensor {
  if (!isHalf(dtype)) return sample(dtype);
  return cast(sample('float32'), dtype);
}

/**
 * Standard normal samples truncated to [lower, upper] (jax.random.truncated_normal), by the
 * inverse CDF: uniforms between ndtr(lower) and ndtr(upper) mapped back through ndtri. Bounds may
 * be tensors, broadcast together (and to `shape` when given); infinite bounds give a half or
 * whole normal. Where both bounds lie in the upper tail the interval is mirrored into the lower
 * one, whose CDF values keep their relative precision (ndtr(5) rounds to 1 in float32, ndtr(-5)
 * does not). Samples are clamped into [lower, upper] against the last rounding.
 *
 * @example
 * random.truncatedNormal(random.key(0), -2, 2, [1000]);
 */
export function truncatedNormal(
  k: Tensor,
  lower: TensorLike,
  upper: TensorLike,
  shape?: Shape | number,
  options: SampleOptions = {},
): Tensor {
  const op = 'random.truncatedNormal';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  return tidy(() => {
    const lo = toTensor(op, lower, dtype, k);
    const hi = toTensor(op, upper, dtype, k);
    const dims = sampleShape(op, { lower: lo.shape, upper: hi.shape }, shape);
    return inWorkingPrecision(dtype, (working) => {
      const a = broadcastTo(cast(lo, working), dims);
      const b = broadcastTo(cast(hi, working), dims);
      const mirrored = less(0, a);
      // In the mirrored frame the bounds are [-b, -a], both <= 0 where mirrored.
      const from = where(mirrored, neg(b), a);
      const to = where(mirrored, neg(a), b);
      const cdfFrom = ndtr(from);
      const cdfTo = ndtr(to);
      const u = add(cdfFrom, mul(bind(Primitive.RandomUniform, [k], { shape: dims, dtype: working }), sub(cdfTo, cdfFrom)));
      const z = ndtri(maximum(u, finfo(working).tiny));
      const sample = clamp(where(mirrored, neg(z), z), a, b);
      return sample;
    });
  });
}
