import type { Tensor } from '../tensor/tensor.js';
import type { TensorLike } from './convert.js';
import {
  abs,
  add,
  div,
  equal,
  erf,
  exp,
  greater,
  greaterEqual,
  less,
  log,
  log1p,
  minimum,
  mul,
  neg,
  round,
  sqrt,
  sub,
  where,
} from './elementwise.js';
import { chebyshev, computeSpecial, expOfSquare, withDerivative } from './special-support.js';
import { ERFCX_LOG } from './special-tables.js';

// The complementary error function and the normal distribution (torch.special.erfc, erfcx,
// ndtr, ndtri, log_ndtr) in elementwise ops, accurate where 1 - erf(x) and 1 - ndtr(x) would
// cancel: for x >= 0, erfc(x) = t exp(-x² + f(t)) with t = 2 / (2 + x) and f a Chebyshev series
// (Numerical Recipes' form, coefficients refitted, special-tables.ts), so the relative error stays
// a few ulps out to the underflow. docs/dtypes.md, "Special functions", lists the accuracy.

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const HALF_SQRT_PI = Math.sqrt(Math.PI) / 2;
const SQRT_TWO_OVER_PI = Math.sqrt(2 / Math.PI);
const INVERSE_SQRT_TWO_PI = 1 / Math.sqrt(2 * Math.PI);
/** Past this, exp(±x²) is 0 or Infinity in float64 (and so in float32): clamping keeps the splitting of x² finite. */
const SQUARE_LIMIT = 30;

/**
 * t = 2 / (2 + a) and f with erfcx(a) = t exp(f), for a >= 0 (Infinity included): f is (1 - u) g(u)
 * for u = 2t - 1, g a Chebyshev series, so that f is exactly 0 at a = 0 (erfc(0) = 1, ndtr(0) =
 * 1/2 exactly). 1 - u = 2a / (2 + a) is a t below 1, 2 - 2t above (finite at a = Infinity).
 */
function erfcxParts(a: Tensor): { t: Tensor; series: Tensor } {
  const t = div(2, add(a, 2));
  const oneMinusU = where(less(a, 1), mul(a, t), sub(2, mul(t, 2)));
  return { t, series: mul(oneMinusU, chebyshev(sub(mul(t, 2), 1), ERFCX_LOG)) };
}

/** erfcx(a) = exp(a²) erfc(a) for a >= 0. */
function erfcxNonNegative(a: Tensor): Tensor {
  const { t, series } = erfcxParts(a);
  return mul(t, exp(series));
}

/**
 * erfc(sign * x) or, `halved`, erfc(sign * x / √2), its exp(-(x scale)²) computed from x itself,
 * the square exact (see expOfSquare): ndtr's erfc(-x/√2) then keeps the accuracy that rounding
 * x/√2 first would lose (x² times the rounding error: 1e-5 relative at x = -12 in float32).
 */
function erfcScaled(x: Tensor, sign: 1 | -1, halved: boolean): Tensor {
  const scale = halved ? sign * Math.SQRT1_2 : sign;
  const z = mul(x, scale);
  const { t, series } = erfcxParts(abs(z));
  const squareFactor = halved ? 0.5 : 1;
  const clamped = minimum(abs(x), halved ? 2 * SQUARE_LIMIT : SQUARE_LIMIT);
  const high = mul(round(mul(clamped, 16)), 1 / 16);
  const low = sub(clamped, high);
  // exp(-z² + f) as exp(-c h²) exp(f - c l (|x| + h)), |x| = h + l, c = scale².
  const positive = mul(t, mul(exp(mul(mul(high, high), -squareFactor)), exp(sub(series, mul(mul(low, add(clamped, high)), squareFactor)))));
  return where(less(z, 0), sub(2, positive), positive);
}

function erfcValue(x: Tensor): Tensor {
  return erfcScaled(x, 1, false);
}

function erfcxValue(x: Tensor): Tensor {
  const a = abs(x);
  const positive = erfcxNonNegative(a);
  // erfcx(-a) = 2 exp(a²) - erfcx(a): Infinity once exp(a²) overflows, as PyTorch.
  const negative = sub(mul(expOfSquare(minimum(a, SQUARE_LIMIT), 1), 2), positive);
  return where(less(x, 0), negative, positive);
}

/** exp(-x²), accurate for large |x| and 0 at ±Infinity. */
function gaussian(x: Tensor): Tensor {
  return expOfSquare(minimum(abs(x), SQUARE_LIMIT), -1);
}

const erfcOf = withDerivative('erfc', erfcValue, (x) => mul(gaussian(x), -TWO_OVER_SQRT_PI));
const erfcxOf = withDerivative('erfcx', erfcxValue, (x, y) => sub(mul(mul(x, y), 2), TWO_OVER_SQRT_PI));

/**
 * log Φ(x): for x < -1, log(erfcx(-x/√2) / 2) - x²/2, which stays finite far into the tail
 * (-5e19 at x = -1e10); elsewhere log1p(-erfc(x/√2) / 2). PyTorch's formulas.
 */
function logNdtrValue(x: Tensor): Tensor {
  const lower = less(x, -1);
  const w = mul(x, -Math.SQRT1_2);
  const tail = sub(log(mul(erfcxNonNegative(abs(w)), 0.5)), mul(mul(x, x), 0.5));
  const body = log1p(mul(erfcScaled(x, 1, true), -0.5));
  return where(lower, tail, body);
}

/**
 * d/dx log Φ(x) = φ(x) / Φ(x): sqrt(2/pi) / erfcx(-x/√2) in the lower tail (no 0/0), else
 * exp(-x²/2 - log Φ(x)) / sqrt(2 pi). Each branch sees a safe input where it is not taken.
 */
function logNdtrDerivative(x: Tensor, y: Tensor): Tensor {
  const lower = less(x, -1);
  const tail = div(SQRT_TWO_OVER_PI, erfcxOf(mul(where(lower, x, -1), -Math.SQRT1_2)));
  const xBody = where(lower, 0, x);
  const body = mul(exp(sub(mul(mul(xBody, xBody), -0.5), where(lower, -Math.LN2, y))), INVERSE_SQRT_TWO_PI);
  return where(lower, tail, body);
}

const logNdtrOf = withDerivative('logNdtr', logNdtrValue, logNdtrDerivative);

/**
 * Φ^-1(p) by two Halley steps on erf (one in float32, whose precision the first already reaches)
 * from Abramowitz and Stegun's 26.2.23 (error < 4.5e-4). With q = min(p, 1 - p) (exact) and
 * z = x/√2 <= 0 the root of erfc(-z) = 2q: near the centre the step uses erf(z) - (2q - 1),
 * exact to the last bit, and in the tail erfcx(-z) - exp(log(2q) + z²), which neither underflows
 * nor overflows down to the smallest q.
 */
function ndtriValue(p: Tensor): Tensor {
  const upper = greater(p, 0.5);
  const q = where(upper, sub(1, p), p);
  const t = sqrt(mul(log(q), -2));
  const numerator = add(mul(add(mul(t, 0.010328), 0.802853), t), 2.515517);
  const denominator = add(mul(add(mul(add(mul(t, 0.001308), 0.189269), t), 1.432788), t), 1);
  let z = mul(sub(t, div(numerator, denominator)), -Math.SQRT1_2);
  const central = greaterEqual(q, 0.25);
  const target = sub(mul(q, 2), 1);
  const logTwoQ = log(mul(q, 2));
  const steps = p.dtype === 'float64' ? 2 : 1;
  for (let i = 0; i < steps; i++) {
    const centralStep = mul(mul(sub(erf(z), target), exp(mul(z, z))), HALF_SQRT_PI);
    const tailStep = mul(sub(erfcxNonNegative(neg(z)), exp(add(logTwoQ, mul(z, z)))), HALF_SQRT_PI);
    const u = where(central, centralStep, tailStep);
    z = sub(z, div(u, add(mul(z, u), 1)));
  }
  const lowerHalf = mul(z, Math.SQRT2);
  const value = where(upper, neg(lowerHalf), lowerHalf);
  const atEnds = where(upper, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
  return where(equal(q, 0), atEnds, where(equal(q, 0.5), 0, value));
}

const ndtriOf = withDerivative('ndtri', ndtriValue, (_p, x) =>
  mul(expOfSquare(minimum(abs(x), 2 * SQUARE_LIMIT), 0.5), Math.sqrt(2 * Math.PI)),
);
const ndtrOf = withDerivative(
  'ndtr',
  (x) => mul(erfcScaled(x, -1, true), 0.5),
  (x) => mul(expOfSquare(minimum(abs(x), 2 * SQUARE_LIMIT), -0.5), INVERSE_SQRT_TWO_PI),
);

/**
 * The complementary error function `1 - erf(x)` (torch.erfc, `special.erfc`), accurate where that
 * difference would cancel: relative error a few ulps out to the underflow (x ≈ 26.5 in float64,
 * 10 in float32). Integers compute in float32, float16 and bfloat16 in float32.
 *
 * @example
 * erfc(tensor([0, 1, 10])); // [1, 0.1573, 2.0885e-45]
 */
export function erfc(x: TensorLike): Tensor {
  return computeSpecial('erfc', x, erfcOf);
}

/**
 * The scaled complementary error function `exp(x²) erfc(x)` (torch.special.erfcx), finite for
 * large x (about 1 / (x sqrt(pi))); +Infinity below about -26.6 (float64) or -9.4 (float32),
 * where exp(x²) overflows, as PyTorch.
 *
 * @example
 * erfcx(tensor([0, 10])); // [1, 0.05614]
 */
export function erfcx(x: TensorLike): Tensor {
  return computeSpecial('erfcx', x, erfcxOf);
}

/**
 * The standard normal cumulative distribution function Φ(x) = erfc(-x/√2) / 2
 * (torch.special.ndtr), with `erfc`'s relative accuracy in the lower tail.
 *
 * @example
 * ndtr(tensor([0, 1.959964])); // [0.5, 0.975]
 */
export function ndtr(x: TensorLike): Tensor {
  return computeSpecial('ndtr', x, ndtrOf);
}

/**
 * The inverse of `ndtr` (torch.special.ndtri): the x with Φ(x) = p. 0 and 1 give ∓Infinity, p
 * outside [0, 1] gives NaN. The derivative is sqrt(2 pi) exp(x²/2).
 *
 * @example
 * ndtri(tensor([0.5, 0.975])); // [0, 1.96]
 */
export function ndtri(p: TensorLike): Tensor {
  return computeSpecial('ndtri', p, ndtriOf);
}

/**
 * log Φ(x) (torch.special.log_ndtr), accurate in both tails: about -x²/2 far below 0, about
 * -Φ(-x) far above.
 *
 * @example
 * logNdtr(tensor([0, -10])); // [-0.6931, -53.2313]
 */
export function logNdtr(x: TensorLike): Tensor {
  return computeSpecial('logNdtr', x, logNdtrOf);
}
