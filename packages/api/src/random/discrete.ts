import { isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis, type Shape, sizeOf } from '../core/shape.js';
import { finfo } from '../core/type-info.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import {
  abs,
  add,
  div,
  equal,
  exp,
  floor,
  greaterEqual,
  less,
  lessEqual,
  log,
  logicalAnd,
  logicalNot,
  logicalOr,
  maximum,
  mul,
  neg,
  sqrt,
  sub,
  where,
} from '../ops/elementwise.js';
import { lgamma } from '../ops/gamma.js';
import { take, takeAlongAxis } from '../ops/indexing.js';
import { moveaxis, reshape, slice, unsqueeze } from '../ops/movement.js';
import { argmax, cumsum, sum } from '../ops/reduce.js';
import { topk } from '../ops/sort.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkEntries, sampleShape, shapeArg } from './arguments.js';
import { gumbel, openUnit, type SampleOptions } from './continuous.js';
import { permutation, randint } from './distributions.js';
import { checkKey, splitKeys } from './keys.js';

// Discrete distributions of jax.random beyond bernoulli, randint and permutation.

/** Options of `random.categorical`. */
export interface CategoricalOptions {
  /** The axis of `logits` that indexes the categories (default -1). */
  readonly axis?: number;
  /** The shape of the samples: logits' batch shape (all axes but `axis`) when omitted, else one it broadcasts to. */
  readonly shape?: Shape | number;
}

/**
 * Category indices (int32) drawn with probabilities softmax(logits) along `axis`
 * (jax.random.categorical), by the Gumbel-max trick: argmax(logits + Gumbel noise). Logits of
 * -Infinity are never drawn.
 *
 * @example
 * random.categorical(random.key(0), tensor([[0, 1, 2], [5, 0, 0]]));        // one draw per row
 * random.categorical(random.key(0), tensor([0, 1, 2]), { shape: [1000] });  // 1000 draws
 */
export function categorical(k: Tensor, logits: TensorLike, options: CategoricalOptions = {}): Tensor {
  const op = 'random.categorical';
  checkKey(op, k);
  return tidy(() => {
    const given = toTensor(op, logits, undefined, k);
    if (given.ndim === 0) throw new ShapeError(`${op}: logits must have an axis of categories, got a scalar`);
    if (given.dtype === 'bool') throw new DTypeError(`${op}: logits must be numbers, got bool`);
    // Integer logits (tensor([0, 1, 2]) infers int32) are read as float32 ones.
    const l = isFloating(given.dtype) ? given : cast(given, 'float32');
    const axis = normalizeAxis(op, options.axis ?? -1, l.ndim);
    const last = moveaxis(l, axis, -1);
    const categories = last.shape[last.ndim - 1] as number;
    const batch = sampleShape(op, { 'logits (without the category axis)': last.shape.slice(0, -1) }, options.shape);
    const noise = gumbel(k, [...batch, categories], { dtype: l.dtype });
    return argmax(add(last, noise), -1);
  });
}

/** Options of `random.choice`. */
export interface ChoiceOptions {
  /** Draw with replacement (default true). */
  readonly replace?: boolean;
  /** Probabilities of the n candidates (1-D, non-negative; normalized here). Uniform when omitted. */
  readonly p?: TensorLike;
  /** The axis of a tensor `a` to choose along (default 0). */
  readonly axis?: number;
}

/**
 * A random sample of `shape` from `a` (jax.random.choice): from 0 .. a-1 when `a` is a number,
 * else from a tensor's slices along `axis`, whose result has that axis replaced by `shape`. With
 * `replace: false` the picks are distinct (at most n of them): uniform by a random permutation,
 * weighted by the Gumbel-top-k trick (the k largest log p + Gumbel are a weighted sample without
 * replacement).
 *
 * @example
 * random.choice(random.key(0), 10, [3], { replace: false });             // 3 distinct of 0..9
 * random.choice(random.key(0), tensor([1, 2, 3]), [5], { p: [0.1, 0.1, 0.8] });
 */
export function choice(k: Tensor, a: number | Tensor, shape: Shape | number = [], options: ChoiceOptions = {}): Tensor {
  const op = 'random.choice';
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  const count = sizeOf(dims);
  const replace = options.replace ?? true;
  if (typeof replace !== 'boolean') throw new ValueError(`${op}: replace must be a boolean, got ${String(replace)}`);
  let n: number;
  let axis = 0;
  if (isTensor(a)) {
    if (a.ndim === 0) throw new ShapeError(`${op}: a must be a number or a tensor with at least one axis, got a scalar tensor`);
    axis = normalizeAxis(op, options.axis ?? 0, a.ndim);
    n = a.shape[axis] as number;
  } else {
    if (!Number.isInteger(a) || a < 0) throw new ValueError(`${op}: a must be a non-negative integer or a tensor, got ${String(a)}`);
    n = a;
  }
  if (n === 0 && count > 0) throw new ValueError(`${op}: cannot draw ${count} samples from an empty population`);
  if (!replace && count > n) {
    throw new ValueError(`${op}: cannot draw ${count} samples without replacement from a population of ${n}`);
  }
  return tidy(() => {
    const picks = reshape(choiceIndices(op, k, n, count, replace, options.p), dims);
    if (!isTensor(a)) return picks;
    const flat = take(a, reshape(picks, [count]), axis);
    return reshape(flat, [...a.shape.slice(0, axis), ...dims, ...a.shape.slice(axis + 1)]);
  });
}

/** `count` indices into 0 .. n-1, [count]. */
function choiceIndices(op: string, k: Tensor, n: number, count: number, replace: boolean, p: TensorLike | undefined): Tensor {
  if (p === undefined || p === null) {
    if (replace) return randint(k, [count], 0, Math.max(n, 1));
    return slice(permutation(k, n), [0], [count]);
  }
  const weights = toTensor(op, p, undefined, k);
  if (weights.ndim !== 1 || weights.shape[0] !== n) {
    throw new ShapeError(`${op}: p must be 1-D with one probability per candidate (${n}), got shape ${formatShape(weights.shape)}`);
  }
  const logits = log(cast(weights, isFloating(weights.dtype) ? weights.dtype : 'float32'));
  if (replace) return categorical(k, logits, { shape: [count] });
  return topk(add(logits, gumbel(k, [n], { dtype: logits.dtype })), count).indices;
}

/**
 * Rademacher samples: -1 or 1 with equal probability (jax.random.rademacher), int32 unless
 * `dtype` says otherwise.
 *
 * @example
 * random.rademacher(random.key(0), [8]);
 */
export function rademacher(k: Tensor, shape: Shape | number = [], options: { readonly dtype?: SampleOptions['dtype'] } = {}): Tensor {
  const op = 'random.rademacher';
  checkKey(op, k);
  const dims = shapeArg(op, shape);
  return tidy(() => {
    const coin = cast(less(bind(Primitive.RandomUniform, [k], { shape: dims, dtype: 'float32' }), 0.5), 'int32');
    return cast(sub(mul(coin, 2), 1), options.dtype ?? 'int32');
  });
}

// Poisson samples take two routes, as NumPy's and JAX's do. Below SMALL_RATE, inversion: the
// CDF at 0 .. INVERSION_TERMS - 1, counted below a uniform (the mass beyond the last term is below
// 1e-13 at rate 10, under float64's resolution). From SMALL_RATE up, Hörmann's transformed
// rejection with squeeze (PTRS, "The transformed rejection method for generating Poisson random
// variables", 1993), whose acceptance rate is above 0.89: each sample gets REJECTION_ROUNDS
// proposals and keeps the first accepted (all fail with probability below 1e-9).
const SMALL_RATE = 10;
const INVERSION_TERMS = 48;
const REJECTION_ROUNDS = 10;

/** log(k!) for k = 0 .. INVERSION_TERMS - 1, on the host. */
const LOG_FACTORIALS = (() => {
  const out = new Float64Array(INVERSION_TERMS);
  for (let i = 1; i < INVERSION_TERMS; i++) out[i] = (out[i - 1] as number) + Math.log(i);
  return out;
})();

/** Poisson samples by inversion, for rates below SMALL_RATE: [...dims] float counts. */
function poissonByInversion(k: Tensor, rate: Tensor, dims: readonly number[]): Tensor {
  const dtype = rate.dtype;
  // Constants on the rate's backend (toTensor looks through a traced rate for it).
  const terms = toTensor(
    'random.poisson',
    Float64Array.from({ length: INVERSION_TERMS }, (_, i) => i),
    dtype,
    rate,
  );
  const logFactorials = toTensor('random.poisson', LOG_FACTORIALS, dtype, rate);
  const r = unsqueeze(rate, -1);
  // log pmf(i) = i log(rate) - rate - log(i!); the rate-0 row is all mass at 0 (log pmf(0) = 0).
  const logPmf = sub(sub(mul(terms, log(maximum(r, finfo(dtype).tiny))), r), logFactorials);
  const cdf = cumsum(exp(logPmf), -1);
  const u = unsqueeze(openUnit(k, dims, dtype), -1);
  return sum(cast(lessEqual(cdf, u), dtype), -1);
}

/** Poisson samples by transformed rejection (PTRS), for rates of SMALL_RATE and more. */
function poissonByRejection(k: Tensor, rate: Tensor, dims: readonly number[]): Tensor {
  const dtype = rate.dtype;
  const [uKey, vKey] = splitKeys(k) as [Tensor, Tensor];
  const rounds = [REJECTION_ROUNDS, ...dims];
  const lam = maximum(rate, SMALL_RATE); // rates below it take the other route; keep this one finite
  const rootLam = sqrt(lam);
  const logLam = log(lam);
  const b = add(mul(rootLam, 2.53), 0.931);
  const a = add(mul(b, 0.02483), -0.059);
  const invAlpha = add(div(1.1328, sub(b, 3.4)), 1.1239);
  const vr = sub(0.9277, div(3.6224, sub(b, 2)));
  const u = sub(openUnit(uKey, rounds, dtype), 0.5);
  const v = openUnit(vKey, rounds, dtype);
  const us = sub(0.5, abs(u));
  const count = floor(add(add(mul(add(div(mul(a, 2), us), b), u), lam), 0.43));
  const quick = logicalAnd(greaterEqual(us, 0.07), lessEqual(v, vr));
  const rejected = logicalOr(less(count, 0), logicalAnd(less(us, 0.013), less(us, v)));
  const logAcceptance = add(add(log(v), log(invAlpha)), neg(log(add(div(a, mul(us, us)), b))));
  const logTarget = sub(sub(mul(count, logLam), lam), lgamma(add(maximum(count, 0), 1)));
  const accepted = logicalOr(quick, logicalAnd(logicalNot(rejected), lessEqual(logAcceptance, logTarget)));
  const first = unsqueeze(argmax(cast(accepted, 'int32'), 0), 0);
  return maximum(reshape(takeAlongAxis(count, first, 0), [...dims]), 0);
}

/** Options of `random.poisson`. */
export interface PoissonOptions {
  /** int32 (default) or a floating dtype. */
  readonly dtype?: SampleOptions['dtype'];
}

/**
 * Poisson samples with rate `lam` (>= 0; jax.random.poisson), int32 unless `dtype` says
 * otherwise. `lam` may be a tensor; the samples take its shape, or `shape`, to which it must
 * broadcast. Rates below 10 use inversion, larger ones Hörmann's transformed rejection.
 *
 * @example
 * random.poisson(random.key(0), 3, [1000]);           // mean 3
 * random.poisson(random.key(0), tensor([0.5, 50]));   // one draw per rate
 */
export function poisson(k: Tensor, lam: TensorLike, shape?: Shape | number, options: PoissonOptions = {}): Tensor {
  const op = 'random.poisson';
  checkKey(op, k);
  const dtype = options.dtype ?? 'int32';
  return tidy(() => {
    const rate = toTensor(op, lam, undefined, k);
    checkEntries(op, 'lam', rate, (v) => v >= 0 && Number.isFinite(v), 'finite and non-negative');
    const dims = sampleShape(op, { lam: rate.shape }, shape);
    const working = rate.dtype === 'float64' ? 'float64' : 'float32';
    const r = broadcastTo(cast(rate, working), dims);
    const [smallKey, largeKey] = splitKeys(k) as [Tensor, Tensor];
    const samples = where(less(r, SMALL_RATE), poissonByInversion(smallKey, r, dims), poissonByRejection(largeKey, r, dims));
    return cast(where(equal(r, 0), 0, samples), dtype);
  });
}

/** @internal For the tests. */
export const POISSON_SMALL_RATE = SMALL_RATE;
