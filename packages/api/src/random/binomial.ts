import type { Shape } from '../core/shape.js';
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
  greater,
  greaterEqual,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  logicalOr,
  maximum,
  minimum,
  mul,
  neg,
  reciprocal,
  sqrt,
  square,
  sub,
  where,
} from '../ops/elementwise.js';
import { take, takeAlongAxis } from '../ops/indexing.js';
import { reshape, unsqueeze } from '../ops/movement.js';
import { argmax, cumsum, sum } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkEntries, floatDType, sampleShape } from './arguments.js';
import { openUnit, type SampleOptions } from './continuous.js';
import { checkKey, splitKeys } from './keys.js';

// Binomial samples (jax.random.binomial, torch.binomial), by the two routes NumPy, TensorFlow and
// JAX take, on the smaller of p and 1 - p (the count of the other outcome is n minus it):
// - a mean n p below SMALL_MEAN: inversion, the CDF at 0 .. INVERSION_TERMS - 1 counted below a
//   uniform (the mass past the last term is below 1e-13 at mean 10);
// - from SMALL_MEAN up: Hörmann's transformed rejection with squeeze (BTRS, "The generation of
//   binomial random variates", 1993), whose acceptance rate is above 0.9 there. As the other
//   rejection samplers here, each sample gets REJECTION_ROUNDS proposals and keeps the first
//   accepted one (all fail with probability below 1e-10), so that the shape is known in advance
//   and the sampler runs under vmap and jit; such a sample keeps its first proposal, clamped into
//   [0, n]. The acceptance test is TensorFlow's, with Stirling's series for the log-factorials'
//   tails, which stays accurate in float32 for counts in the millions.

const SMALL_MEAN = 10;
const INVERSION_TERMS = 48;
const REJECTION_ROUNDS = 10;

/** log(k!) - (Stirling's approximation (k + 1/2) log(k + 1) - (k + 1) + log(2 pi) / 2) for k = 0 .. 9. */
const STIRLING_TAILS_BELOW_10 = [
  0.0810614667953272, 0.0413406959554092, 0.0276779256849983, 0.02079067210376509, 0.0166446911898211, 0.0138761288230707,
  0.0118967099458917, 0.010411265261972, 0.00925546218271273, 0.00833056343336287,
];

/** The error of Stirling's approximation of log(k!), from the table below 10 and its series above. */
function stirlingTail(k: Tensor): Tensor {
  const table = toTensor('random.binomial', STIRLING_TAILS_BELOW_10, k.dtype, k);
  const small = take(table, cast(minimum(maximum(k, 0), 9), 'int32'));
  const next = add(k, 1);
  const inverseSquare = reciprocal(square(next));
  const series = div(sub(1 / 12, mul(sub(1 / 360, mul(inverseSquare, 1 / 1260)), inverseSquare)), next);
  return where(less(k, 10), small, series);
}

/** Counts by inversion, for means n p below SMALL_MEAN (p <= 1/2). */
function byInversion(key: Tensor, n: Tensor, p: Tensor, dims: readonly number[]): Tensor {
  const dtype = n.dtype;
  const terms = toTensor(
    'random.binomial',
    Float64Array.from({ length: INVERSION_TERMS }, (_, i) => i),
    dtype,
    n,
  );
  const nAxis = unsqueeze(n, -1);
  const pAxis = unsqueeze(maximum(p, finfo(dtype).tiny), -1);
  // log(n! / (n - i)!) = sum over 1 <= j <= i of log(n - j + 1) (0 for i = 0): -Infinity past n,
  // which masks those terms.
  const factors = where(equal(terms, 0), 0, log(maximum(add(sub(nAxis, terms), 1), 0)));
  const logFalling = cumsum(factors, -1);
  const logFactorial = cumsum(log(maximum(terms, 1)), -1);
  const logPmf = add(sub(logFalling, logFactorial), add(mul(terms, log(pAxis)), mul(sub(nAxis, terms), log1p(neg(pAxis)))));
  const cdf = cumsum(exp(logPmf), -1);
  const u = unsqueeze(openUnit(key, dims, dtype), -1);
  return minimum(sum(cast(lessEqual(cdf, u), dtype), -1), n);
}

/** Counts by BTRS, for means n p of SMALL_MEAN and more (p <= 1/2). */
function byRejection(key: Tensor, n: Tensor, p: Tensor, dims: readonly number[]): Tensor {
  const dtype = n.dtype;
  const [uKey, vKey] = splitKeys(key) as [Tensor, Tensor];
  const rounds = [REJECTION_ROUNDS, ...dims];
  const q = sub(1, p);
  const stddev = sqrt(mul(mul(n, p), q));
  const b = add(mul(stddev, 2.53), 1.15);
  const a = add(add(mul(b, 0.0248), -0.0873), mul(p, 0.01));
  const c = add(mul(n, p), 0.5);
  const vr = sub(0.92, div(4.2, b));
  const r = div(p, q);
  const alpha = mul(add(div(5.1, b), 2.83), stddev);
  const m = floor(mul(add(n, 1), p));
  const u = sub(openUnit(uKey, rounds, dtype), 0.5);
  const v = openUnit(vKey, rounds, dtype);
  const us = sub(0.5, abs(u));
  const count = floor(add(mul(add(div(mul(a, 2), us), b), u), c));
  const quick = logicalAnd(greaterEqual(us, 0.07), lessEqual(v, vr));
  const inRange = logicalAnd(greaterEqual(count, 0), lessEqual(count, n));
  const k = minimum(maximum(count, 0), n);
  const logV = log(div(mul(v, alpha), add(div(a, mul(us, us)), b)));
  const nm = add(sub(n, m), 1);
  const nk = add(sub(n, k), 1);
  const bound = add(
    add(
      add(mul(add(m, 0.5), log(div(add(m, 1), mul(r, nm)))), mul(add(n, 1), log(div(nm, nk)))),
      mul(add(k, 0.5), log(div(mul(r, nk), add(k, 1)))),
    ),
    sub(add(stirlingTail(m), stirlingTail(sub(n, m))), add(stirlingTail(k), stirlingTail(sub(n, k)))),
  );
  const accepted = logicalOr(quick, logicalAnd(inRange, lessEqual(logV, bound)));
  const first = unsqueeze(argmax(cast(accepted, 'int32'), 0), 0);
  return reshape(takeAlongAxis(k, first, 0), [...dims]);
}

/**
 * Binomial samples: the number of successes in `n` trials with success probability `p`
 * (jax.random.binomial, torch.binomial), as floats of `dtype` (float32 by default). `n` (a
 * non-negative integer) and `p` (in [0, 1]) may be tensors; the samples take their broadcast
 * shape, or `shape`, to which they must broadcast. Not differentiable (counts).
 *
 * @example
 * random.binomial(random.key(0), 10, 0.3, [1000]); // mean 3
 */
export function binomial(k: Tensor, n: TensorLike, p: TensorLike, shape?: Shape | number, options: SampleOptions = {}): Tensor {
  const op = 'random.binomial';
  checkKey(op, k);
  const dtype = floatDType(op, options.dtype);
  const working = dtype === 'float64' ? 'float64' : 'float32';
  return tidy(() => {
    const trials = toTensor(op, n, working, k);
    const probability = toTensor(op, p, working, k);
    checkEntries(op, 'n', trials, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
    checkEntries(op, 'p', probability, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    const dims = sampleShape(op, { n: trials.shape, p: probability.shape }, shape);
    const total = broadcastTo(cast(trials, working), dims);
    const given = broadcastTo(cast(probability, working), dims);
    const flipped = greater(given, 0.5);
    const smaller = where(flipped, sub(1, given), given);
    const small = less(mul(total, smaller), SMALL_MEAN);
    const [inversionKey, rejectionKey] = splitKeys(k) as [Tensor, Tensor];
    // Each route gets parameters it is defined for where the other route is taken.
    const inverted = byInversion(inversionKey, where(small, total, 0), where(small, smaller, 0), dims);
    const rejected = byRejection(rejectionKey, where(small, 2 * SMALL_MEAN, total), where(small, 0.5, smaller), dims);
    const count = where(small, inverted, rejected);
    return cast(where(flipped, sub(total, count), count), dtype);
  });
}

/** @internal For the tests. */
export const BINOMIAL_SMALL_MEAN = SMALL_MEAN;
