import { DEFAULT_FLOAT, type DType, isFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { type Shape, sizeOf } from '../core/shape.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { add, cos, less, log1p, mod, mul, neg, sin, sqrt } from '../ops/elementwise.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { floatDType, sampleShape, shapeArg } from './arguments.js';
import { checkKey } from './keys.js';

// Distributions as pure functions of a key. Every sample comes from the RandomBits/RandomUniform
// primitives, so the same key gives the same values on every backend.

function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return bind(Primitive.Reshape, [x], { shape: [...shape] });
}

export interface UniformOptions {
  /** Lower bound (inclusive), default 0. */
  readonly minval?: number;
  /** Upper bound (exclusive), default 1. */
  readonly maxval?: number;
  /** float32 (default) or float64. */
  readonly dtype?: DType;
}

/**
 * Floats uniform in [minval, maxval) (default [0, 1)).
 *
 * @example
 * random.uniform(random.key(0), [2, 3], { minval: -1, maxval: 1 });
 */
export function uniform(k: Tensor, shape: Shape | number = [], options: UniformOptions = {}): Tensor {
  const op = 'random.uniform';
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  const dtype = floatDType(op, options.dtype);
  const minval = options.minval ?? 0;
  const maxval = options.maxval ?? 1;
  if (!Number.isFinite(minval) || !Number.isFinite(maxval) || !(minval <= maxval)) {
    throw new ValueError(`${op}: need finite minval <= maxval, got minval ${minval} and maxval ${maxval}`);
  }
  const unit = bind(Primitive.RandomUniform, [k], { shape: dims, dtype });
  if (minval === 0 && maxval === 1) return unit;
  return tidy(() => add(mul(unit, maxval - minval), minval));
}

export interface NormalOptions {
  /** float32 (default) or float64. */
  readonly dtype?: DType;
}

/**
 * Standard normal samples (mean 0, variance 1), by the Box-Muller transform of uniform pairs.
 *
 * @example
 * random.normal(random.key(1), [1000]);
 */
export function normal(k: Tensor, shape: Shape | number = [], options: NormalOptions = {}): Tensor {
  const op = 'random.normal';
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  const dtype = floatDType(op, options.dtype);
  const size = sizeOf(dims);
  const half = Math.ceil(size / 2);
  return tidy(() => {
    // Each uniform pair (u1, u2) gives two independent normals r cos(theta) and r sin(theta).
    // log1p(-u1) = log(1 - u1) with 1 - u1 in (0, 1], so the logarithm never sees 0.
    const u = bind(Primitive.RandomUniform, [k], { shape: [2, half], dtype });
    const u1 = reshape(bind(Primitive.Slice, [u], { starts: [0, 0], stops: [1, half], steps: [1, 1] }), [half]);
    const u2 = reshape(bind(Primitive.Slice, [u], { starts: [1, 0], stops: [2, half], steps: [1, 1] }), [half]);
    const radius = sqrt(mul(neg(log1p(neg(u1))), 2));
    const theta = mul(u2, 2 * Math.PI);
    const both = bind(Primitive.Concat, [mul(radius, cos(theta)), mul(radius, sin(theta))], { axis: 0 });
    const first = size === 2 * half ? both : bind(Primitive.Slice, [both], { starts: [0], stops: [size], steps: [1] });
    return reshape(first, dims);
  });
}

/**
 * Integers uniform in [minval, maxval), int32. The modulo bias is below (maxval - minval) / 2^32.
 *
 * @example
 * random.randint(random.key(2), [10], 0, 6); // dice rolls minus one
 */
export function randint(k: Tensor, shape: Shape | number, minval: number, maxval: number): Tensor {
  const op = 'random.randint';
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  if (!Number.isInteger(minval) || !Number.isInteger(maxval) || minval >= maxval) {
    throw new ValueError(`${op}: need integers minval < maxval, got ${minval} and ${maxval}`);
  }
  const span = maxval - minval;
  if (minval < -(2 ** 31) || maxval > 2 ** 31 || span > 2 ** 31 - 1) {
    throw new ValueError(`${op}: the range [${minval}, ${maxval}) must lie in int32 and span at most 2^31 - 1 values`);
  }
  return tidy(() => {
    const bits = bind(Primitive.RandomBits, [k], { shape: dims });
    // Mod takes the sign of the divisor, so signed bits land in [0, span).
    const offset = mod(bits, span);
    return minval === 0 ? offset : add(offset, minval);
  });
}

/**
 * Booleans that are true with probability `p` (a number or a tensor of probabilities). The
 * shape defaults to `p`'s shape; a given shape must be one `p` broadcasts to.
 *
 * @example
 * random.bernoulli(random.key(3), 0.9, [5]);
 */
export function bernoulli(k: Tensor, p: TensorLike = 0.5, shape?: Shape | number): Tensor {
  const op = 'random.bernoulli';
  checkKey(op, k);
  const probability = toTensor(op, p, undefined, k);
  const dims = sampleShape(op, { p: probability.shape }, shape);
  const dtype = isFloating(probability.dtype) ? probability.dtype : DEFAULT_FLOAT;
  return tidy(() => {
    const u = bind(Primitive.RandomUniform, [k], { shape: dims, dtype });
    return less(u, broadcastTo(cast(probability, dtype), dims));
  });
}

/**
 * A random permutation: of 0 .. n-1 (int32) when given a number, or of a tensor's rows (along
 * axis 0) when given a tensor.
 *
 * @example
 * random.permutation(random.key(4), 5);          // e.g. [3, 0, 4, 1, 2]
 * random.permutation(random.key(4), dataset);    // rows shuffled
 */
export function permutation(k: Tensor, x: number | Tensor): Tensor {
  const op = 'random.permutation';
  checkKey(op, k);
  if (isTensor(x)) {
    if (x.shape.length === 0) throw new ValueError(`${op}: cannot permute a scalar tensor`);
    const order = permutationIndices(k, x.shape[0] as number);
    return tidy(() => bind(Primitive.Gather, [x, order], { axis: 0 }));
  }
  if (!Number.isInteger(x) || x < 0) throw new ValueError(`${op}: n must be a non-negative integer, got ${String(x)}`);
  return permutationIndices(k, x);
}

/**
 * Sorting independent random 32-bit keys gives a uniform permutation up to ties, which occur
 * with probability below n^2 / 2^33 and are broken by position (stable sort).
 */
function permutationIndices(k: Tensor, n: number): Tensor {
  return tidy(() => {
    const bits = bind(Primitive.RandomBits, [k], { shape: [n] });
    return bind(Primitive.Argsort, [bits], { axis: 0, descending: false });
  });
}
