import { type DType, isFloating, isInteger, toFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindStopGradient } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import {
  abs,
  add,
  clamp,
  div,
  equal,
  exp,
  greater,
  less,
  log,
  log1p,
  logicalAnd,
  logicalNot,
  logicalOr,
  maximum,
  mod,
  mul,
  neg,
  pow,
  reciprocal,
  sign,
  sin,
  sqrt,
  sub,
  where,
} from './elementwise.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { isfinite, isinf, isnan } from './predicates.js';
import { polynomial } from './special-support.js';

// PyTorch's elementwise conveniences that Flint writes as composites of its elementwise ops
// (torch.logaddexp, xlogy, hypot, copysign, heaviside, sinc, logit, fmod, nan_to_num, ...), so
// every backend has them and grad, vmap and jit come free. Each handles the special values as
// PyTorch does; where PyTorch's derivative is NaN or infinite at a point (hypot at the origin,
// entr at 0), the composite's is 0, as documented with each.

/** `a` and `b` as tensors of their promoted dtype lifted to floating (integers and bools: float32). */
function floatOperands(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  const dtype = toFloating(resultDType(a, b));
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  return [cast(toTensor(op, a, dtype, like), dtype), cast(toTensor(op, b, dtype, like), dtype)];
}

/** `x` as the floating tensor a transcendental function computes it in (integers: float32). */
function floating(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  return cast(t, toFloating(t.dtype));
}

/** Where the sign bit of a floating `x` is set, -0 included (NaN counts as positive). */
function negativeSign(x: Tensor): Tensor {
  return logicalOr(less(x, 0), logicalAnd(equal(x, 0), less(reciprocal(x), 0)));
}

/**
 * `larger + log1p(exp(-|x - y|))` in the base `exp` takes, written without `abs` or `maximum`:
 * the branch of `where` picks the larger operand and the difference's sign, so the derivative
 * at x == y is 1/2 to each and the second derivative is right there too.
 */
function logAddExpBase(op: string, a: TensorLike, b: TensorLike, base: 'e' | '2'): Tensor {
  return tidy(() => {
    const [x, y] = floatOperands(op, a, b);
    // Equal infinities: the result is that infinity (x - y would be NaN).
    const bothInfinite = logicalAnd(equal(x, y), isinf(x));
    const difference = where(bothInfinite, 0, sub(x, y));
    const xLarger = greater(difference, 0);
    const larger = where(xLarger, x, y);
    const negativeGap = where(xLarger, neg(difference), difference);
    const correction = base === 'e' ? log1p(exp(negativeGap)) : mul(log1p(exp(mul(negativeGap, Math.LN2))), 1 / Math.LN2);
    return where(bothInfinite, x, add(larger, correction));
  });
}

/**
 * `log(exp(a) + exp(b))` (torch.logaddexp), without overflow for large operands; equal infinities
 * give that infinity. Integers compute in float32.
 *
 * @example
 * logaddexp(tensor([1000, 0]), tensor([1000, 0])); // [1000.6931, 0.6931]
 */
export function logaddexp(a: TensorLike, b: TensorLike): Tensor {
  return logAddExpBase('logaddexp', a, b, 'e');
}

/**
 * `log2(2 ** a + 2 ** b)` (torch.logaddexp2).
 *
 * @example
 * logaddexp2(tensor([1, 3]), tensor([1, 0])); // [2, 3.1699]
 */
export function logaddexp2(a: TensorLike, b: TensorLike): Tensor {
  return logAddExpBase('logaddexp2', a, b, '2');
}

/**
 * `x * f(y)`, 0 where x == 0 (whatever y), NaN where y is NaN: torch.xlogy's rule. Where x == 0
 * and f(y) is finite the product itself is 0, so the derivative with respect to x is f(y) there
 * too (PyTorch's is 0); where f(y) is not finite y is replaced by `neutral` (f = 0), so that no
 * derivative is NaN.
 */
function timesLogarithm(op: string, a: TensorLike, b: TensorLike, f: (y: Tensor) => Tensor, neutral: number): Tensor {
  return tidy(() => {
    const [x, y] = floatOperands(op, a, b);
    const zero = equal(x, 0);
    const product = mul(x, f(where(logicalAnd(zero, logicalNot(isfinite(f(y)))), neutral, y)));
    // +0 at x == 0, as PyTorch (0 * log y may be -0).
    const value = where(zero, add(product, 0), product);
    return where(isnan(y), Number.NaN, value);
  });
}

/**
 * `x * log(y)`, 0 where x == 0 even if y is 0 or Infinity, NaN where y is NaN (torch.xlogy,
 * `special.xlogy`): the terms of an entropy or a log-likelihood without 0 * -Infinity. At x == 0
 * the gradient is log(y) for x (PyTorch: 0) where that is finite, else 0, and 0 for y (PyTorch:
 * x / y, NaN at y == 0).
 *
 * @example
 * xlogy(tensor([0, 2]), tensor([0, Math.E])); // [0, 2]
 */
export function xlogy(x: TensorLike, y: TensorLike): Tensor {
  return timesLogarithm('xlogy', x, y, log, 1);
}

/**
 * `x * log1p(y)`, with xlogy's rule at x == 0 and NaN y (torch.special.xlog1py).
 *
 * @example
 * xlog1py(tensor([0, 2]), tensor([-1, 0])); // [0, 0]
 */
export function xlog1py(x: TensorLike, y: TensorLike): Tensor {
  return timesLogarithm('xlog1py', x, y, log1p, 0);
}

/**
 * `sqrt(a² + b²)` (torch.hypot) without overflow or underflow: both are divided by the larger
 * magnitude first. An infinite operand gives Infinity, even with NaN (as C's hypot). The gradient
 * is `a / hypot(a, b)`, and 0 at the origin (PyTorch: NaN).
 *
 * @example
 * hypot(tensor([3, 1e300]), tensor([4, 1e300])); // [5, 1.4142e300]
 */
export function hypot(a: TensorLike, b: TensorLike): Tensor {
  return tidy(() => {
    const [x, y] = floatOperands('hypot', a, b);
    // The scale carries no derivative: hypot is homogeneous, so for any fixed scale m,
    // m sqrt((x/m)² + (y/m)²) is hypot itself, derivatives of every order included.
    const scale = bindStopGradient(maximum(abs(x), abs(y)));
    const origin = equal(scale, 0);
    const safeScale = where(logicalOr(origin, isinf(scale)), 1, scale);
    const u = div(x, safeScale);
    const v = div(y, safeScale);
    const squares = add(mul(u, u), mul(v, v));
    const value = where(origin, 0, mul(safeScale, sqrt(where(origin, 1, squares))));
    return where(logicalOr(isinf(x), isinf(y)), Number.POSITIVE_INFINITY, value);
  });
}

/**
 * `|a|` with the sign of `b` (torch.copysign); `b = -0` counts as negative. NaN in `b` counts as
 * positive (PyTorch reads its sign bit, which no Flint op can see). The gradient with respect to
 * `a` is ±1 (0 at a == 0, as PyTorch); `b` gets none. Integers compute in float32.
 *
 * @example
 * copysign(tensor([1, 2, 3]), tensor([-1, 0, -0])); // [-1, 2, -3]
 */
export function copysign(a: TensorLike, b: TensorLike): Tensor {
  return tidy(() => {
    const [x, y] = floatOperands('copysign', a, b);
    const magnitude = abs(x);
    return where(negativeSign(y), neg(magnitude), magnitude);
  });
}

/**
 * The Heaviside step (torch.heaviside): 0 where x < 0 (and where x is NaN, as PyTorch), `values`
 * where x == 0, 1 where x > 0, in the promoted dtype of x and `values`. The gradient reaches
 * `values` where x == 0.
 *
 * @example
 * heaviside(tensor([-1, 0, 2]), 0.5); // [0, 0.5, 1]
 */
export function heaviside(x: TensorLike, values: TensorLike): Tensor {
  const op = 'heaviside';
  return tidy(() => {
    const dtype = resultDType(x, values);
    const like = isTensor(x) ? x : isTensor(values) ? values : undefined;
    const t = toTensor(op, x, undefined, like);
    const v = cast(toTensor(op, values, dtype, like), dtype);
    return where(equal(t, 0), v, cast(greater(t, 0), dtype));
  });
}

/** 1/3!, 1/5!, ...: sin(u)/u = 1 - u²/3! + u⁴/5! - ..., to rounding for |u| < 0.1. */
const SINC_SERIES = [1, -1 / 6, 1 / 120, -1 / 5040, 1 / 362880];

/**
 * The normalized sinc function `sin(pi x) / (pi x)` (torch.sinc), 1 at 0. Near 0 it is its
 * Taylor series, so its derivatives are right there to every order (the first is 0, as
 * PyTorch's; the second -pi²/3, where PyTorch's is 0). Integers compute in float32.
 *
 * @example
 * sinc(tensor([0, 0.5, 1])); // [1, 0.6366, 0]
 */
export function sinc(x: TensorLike): Tensor {
  return tidy(() => {
    const u = mul(floating('sinc', x), Math.PI);
    const small = less(abs(u), 0.1);
    // Each branch sees a harmless u where it is not taken (sin(u)/u at 0 would be NaN).
    const near = where(small, u, 0);
    const series = polynomial(mul(near, near), SINC_SERIES);
    const safe = where(small, 1, u);
    return where(small, series, div(sin(safe), safe));
  });
}

/**
 * `log(x / (1 - x))` (torch.logit, `special.logit`), with x first clamped to [eps, 1 - eps] when
 * `eps` is given (the gradient is then 0 outside those bounds, bounds included in the inside, as
 * PyTorch). Without eps, 0 and 1 give ∓Infinity and values outside [0, 1] NaN.
 *
 * @example
 * logit(tensor([0.5, 0.75])); // [0, 1.0986]
 * logit(tensor([0, 1]), 1e-6); // [-13.8155, 13.8155]
 */
export function logit(x: TensorLike, eps?: number): Tensor {
  if (eps !== undefined && (typeof eps !== 'number' || !Number.isFinite(eps))) {
    throw new ValueError(`logit: eps must be a finite number or omitted, got ${JSON.stringify(eps)}`);
  }
  return tidy(() => {
    const t = floating('logit', x);
    const z = eps === undefined ? t : clamp(t, eps, 1 - eps);
    return log(div(z, sub(1, z)));
  });
}

/**
 * Degrees to radians (torch.deg2rad); integers compute in float32.
 *
 * @example
 * deg2rad(tensor([180, 90])); // [3.1416, 1.5708]
 */
export function deg2rad(x: TensorLike): Tensor {
  return tidy(() => mul(floating('deg2rad', x), Math.PI / 180));
}

/**
 * Radians to degrees (torch.rad2deg); integers compute in float32.
 *
 * @example
 * rad2deg(tensor([Math.PI])); // [180]
 */
export function rad2deg(x: TensorLike): Tensor {
  return tidy(() => mul(floating('rad2deg', x), 180 / Math.PI));
}

/**
 * Where the sign bit is set, as bool (torch.signbit): true for negative numbers, -0 and
 * -Infinity. NaN gives false whatever its sign bit (no Flint op reads it). Integers: x < 0.
 *
 * @example
 * signbit(tensor([-1, -0, 0, 2])); // [true, true, false, false]
 */
export function signbit(x: TensorLike): Tensor {
  const t = toTensor('signbit', x);
  if (t.dtype === 'bool') return tidy(() => logicalAnd(t, false));
  if (!isFloating(t.dtype)) return less(t, 0);
  return tidy(() => negativeSign(t));
}

/**
 * The sign of x (torch.sgn): the same as `sign` for real tensors, which are all Flint has.
 *
 * @example
 * sgn(tensor([-2, 0, 3])); // [-1, 0, 1]
 */
export function sgn(x: TensorLike): Tensor {
  return sign(x);
}

/** Options of `nanToNum`. */
export interface NanToNumOptions {
  /** What NaN becomes (default 0). */
  readonly nan?: number;
  /** What +Infinity becomes (default: the largest finite value of the dtype). */
  readonly posinf?: number;
  /** What -Infinity becomes (default: the most negative finite value of the dtype). */
  readonly neginf?: number;
}

/** The largest finite value of a floating dtype. */
function largestFinite(dtype: DType): number {
  if (dtype === 'float64') return Number.MAX_VALUE;
  if (dtype === 'float16') return 65504;
  if (dtype === 'bfloat16') return 3.3895313892515355e38;
  return 3.4028234663852886e38;
}

/**
 * NaN, +Infinity and -Infinity replaced with finite numbers (torch.nan_to_num): 0 and the dtype's
 * largest and most negative finite values unless given. Integer and bool tensors are returned
 * as they are. The gradient passes where x is finite and is 0 at the replaced elements.
 *
 * @example
 * nanToNum(tensor([NaN, Infinity, -Infinity, 1]), { posinf: 100 }); // [0, 100, -3.4028e38, 1]
 */
export const nanToNum = withCheckedOptions(
  'nanToNum',
  optionsSignature<NanToNumOptions>(2, { nan: true, posinf: true, neginf: true }),
  (x: TensorLike, options: NanToNumOptions = {}): Tensor => {
    const op = 'nanToNum';
    const t = toTensor(op, x);
    for (const key of ['nan', 'posinf', 'neginf'] as const) {
      const v = options[key];
      if (v !== undefined && typeof v !== 'number') throw new ValueError(`${op}: ${key} must be a number, got ${JSON.stringify(v)}`);
    }
    if (!isFloating(t.dtype)) return t;
    const largest = largestFinite(t.dtype);
    return tidy(() =>
      where(
        isnan(t),
        options.nan ?? 0,
        where(
          equal(t, Number.POSITIVE_INFINITY),
          options.posinf ?? largest,
          where(equal(t, Number.NEGATIVE_INFINITY), options.neginf ?? -largest, t),
        ),
      ),
    );
  },
);

/**
 * The remainder of truncated division, with the sign of the dividend (torch.fmod, C's fmod):
 * exact, as `sign(a) * mod(|a|, |b|)`. Compare `remainder` (`mod`), whose result takes the sign of
 * the divisor. Floats: `fmod(x, 0)` and `fmod(±Infinity, y)` are NaN, `fmod(x, ±Infinity)` is x.
 * Integer `fmod(x, 0)` is 0 (PyTorch raises). The gradient is 1 for `a` and `-trunc(a / b)` for
 * `b`, as PyTorch's.
 *
 * @example
 * fmod(tensor([-3, 3]), 2);  // [-1, 1]
 * mod(tensor([-3, 3]), 2);   // [1, 1]
 */
export function fmod(a: TensorLike, b: TensorLike): Tensor {
  const op = 'fmod';
  return tidy(() => {
    // The dtype `mod` computes in (two bools: int32), found by mod itself on the operands.
    const dtype = resultDType(a, b) === 'bool' ? 'int32' : resultDType(a, b);
    const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
    const x = cast(toTensor(op, a, dtype, like), dtype);
    const y = cast(toTensor(op, b, dtype, like), dtype);
    if (dtype === 'uint8') return mod(x, y);
    if (isInteger(dtype)) {
      const m = mod(abs(x), abs(y));
      return where(less(x, 0), neg(m), m);
    }
    // |a| and |b| as selects rather than abs, whose derivative at 0 would be 0.
    const negativeX = negativeSign(x);
    const m = mod(where(negativeX, neg(x), x), where(negativeSign(y), neg(y), y));
    return where(negativeX, neg(m), m);
  });
}

/**
 * The remainder of floored division, with the sign of the divisor (torch.remainder, Python's
 * `%`): the same as `mod`.
 *
 * @example
 * remainder(tensor([-3, 3]), 2); // [1, 1]
 */
export function remainder(a: TensorLike, b: TensorLike): Tensor {
  return mod(a, b);
}

/**
 * `a ** b` computed in float64 whatever the operands (torch.float_power): the result is float64,
 * so the backend must support it (WebGPU does not). Negative integer powers of integers are fine.
 *
 * @example
 * floatPower(tensor([2, 3]), -1); // float64 [0.5, 0.3333]
 */
export function floatPower(a: TensorLike, b: TensorLike): Tensor {
  const op = 'floatPower';
  return tidy(() => {
    const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
    return pow(cast(toTensor(op, a, 'float64', like), 'float64'), cast(toTensor(op, b, 'float64', like), 'float64'));
  });
}

/**
 * The elementwise entropy term `-x log(x)` (torch.special.entr): 0 at 0, -Infinity for x < 0,
 * NaN stays NaN. The gradient is `-(1 + log x)` for x > 0 and 0 elsewhere (PyTorch: Infinity at
 * 0).
 *
 * @example
 * entr(tensor([0, 0.5, 1])); // [0, 0.3466, 0]
 */
export function entr(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floating('entr', x);
    const positive = greater(t, 0);
    const safe = where(positive, t, 1);
    const value = where(positive, neg(mul(safe, log(safe))), where(equal(t, 0), 0, Number.NEGATIVE_INFINITY));
    return where(isnan(t), t, value);
  });
}
