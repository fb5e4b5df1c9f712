import { type DType, toFloating } from '../core/dtype.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindStopGradient } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import {
  abs,
  add,
  div,
  equal,
  exp,
  expm1,
  greater,
  less,
  log,
  log1p,
  logicalAnd,
  mul,
  neg,
  pow,
  round,
  sqrt,
  sub,
  where,
} from './elementwise.js';

// Transcendental functions PyTorch has as kernels and Flint writes as composites of exp, expm1,
// log, log1p, sqrt and pow, so every backend has them and their derivatives come from those
// primitives. Like exp and log they compute integer and bool inputs in float32 (docs/dtypes.md).

/** `x` as the floating tensor a transcendental function computes it in. */
function floating(op: string, x: TensorLike): Tensor {
  const t = toTensor(op, x);
  return cast(t, toFloating(t.dtype));
}

/**
 * `log(x) / log(base)`, exact where `x` is an exact power of `base` (so that `log2(8)` is 3, as
 * PyTorch's and NumPy's kernels give, not 2.9999998). The correction is at most a rounding error
 * and carries no derivative: the gradient is `1 / (x log(base))` everywhere.
 */
function logBase(op: string, x: TensorLike, base: number): Tensor {
  return tidy(() => {
    const t = floating(op, x);
    const y = mul(log(t), 1 / Math.log(base));
    const nearest = round(y);
    // Finite y only: at 0 and Infinity, `nearest - y` would be NaN.
    const exact = logicalAnd(less(abs(y), Number.POSITIVE_INFINITY), equal(pow(base, nearest), t));
    return add(y, bindStopGradient(where(exact, sub(nearest, y), 0)));
  });
}

/**
 * Base-2 logarithm (torch.log2); exact at powers of two. `log2(0)` is -Infinity, negative inputs
 * give NaN; integers compute in float32.
 *
 * @example
 * log2(tensor([1, 8, 0.5])); // [0, 3, -1]
 */
export function log2(x: TensorLike): Tensor {
  return logBase('log2', x, 2);
}

/**
 * Base-10 logarithm (torch.log10); exact at the powers of ten the dtype holds exactly.
 *
 * @example
 * log10(tensor([1, 1000, 0.1])); // [0, 3, -1]
 */
export function log10(x: TensorLike): Tensor {
  return logBase('log10', x, 10);
}

/**
 * `2 ** x` (torch.exp2), exact at integers; integers compute in float32.
 *
 * @example
 * exp2(tensor([0, 3, -1])); // [1, 8, 0.5]
 */
export function exp2(x: TensorLike): Tensor {
  return tidy(() => pow(2, floating('exp2', x)));
}

/**
 * Hyperbolic sine (torch.sinh). Written as `2 sinh(x/2) cosh(x/2)` with `sinh(x/2)` from
 * `expm1`, so that it is accurate near 0 (no cancellation of `exp(x) - exp(-x)`) and overflows
 * only where the result itself does (float32: |x| > 89.4), not where `exp(x)` does.
 *
 * @example
 * sinh(tensor([0, 1])); // [0, 1.1752]
 */
export function sinh(x: TensorLike): Tensor {
  return tidy(() => {
    const half = mul(floating('sinh', x), 0.5);
    const negated = neg(half);
    // sinh(u) = (expm1(u) - expm1(-u)) / 2 and cosh(u) = (exp(u) + exp(-u)) / 2, for u = x / 2;
    // halving before the product keeps it in range until the result overflows.
    return mul(mul(sub(expm1(half), expm1(negated)), 0.5), add(exp(half), exp(negated)));
  });
}

/**
 * Hyperbolic cosine (torch.cosh), as `h * (h / 2) + (1/2 / h) / h` with `h = exp(x / 2)`: it
 * overflows only where the result does (float32: |x| > 89.4), not where `exp(x)` or `exp(-x)`
 * does. (No `abs`: its derivative's sign(0) = 0 would lose cosh's second derivative at 0.)
 *
 * @example
 * cosh(tensor([0, 1])); // [1, 1.5431]
 */
export function cosh(x: TensorLike): Tensor {
  return tidy(() => {
    const h = exp(mul(floating('cosh', x), 0.5));
    return add(mul(h, mul(h, 0.5)), div(div(0.5, h), h));
  });
}

/**
 * Where asinh and acosh switch to `log(x) + log(2)`: past it the dropped `1 / (4 x^2)` is below
 * the dtype's rounding, and below it `x^2` does not overflow (float16's largest value is 65504).
 */
function largeArgument(dtype: DType): number {
  return dtype === 'float16' ? 2 ** 7 : 2 ** 28;
}

/**
 * Inverse hyperbolic sine (torch.asinh). Odd, so computed on |x| as
 * `log1p(a (1 + a / (1 + sqrt(1 + a^2))))`, which keeps relative accuracy near 0 (and the sign of
 * -0), and as `log(a) + log(2)` for large |x|, where `a^2` would overflow. |x| is taken by a select,
 * not `abs`, whose derivative sign(0) = 0 would lose asinh'(0) = 1.
 *
 * @example
 * asinh(tensor([0, 1, -1e30])); // [0, 0.8814, -69.7777]
 */
export function asinh(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floating('asinh', x);
    const negative = less(t, 0);
    const a = where(negative, neg(t), t);
    const large = greater(a, largeArgument(t.dtype));
    // Each branch reads a harmless stand-in where the other is taken, so that neither puts an
    // infinity or NaN into the gradient through the select.
    const small = where(large, 1, a);
    const near = log1p(mul(small, add(div(small, add(sqrt(add(mul(small, small), 1)), 1)), 1)));
    const far = add(log(where(large, a, 1)), Math.LN2);
    const magnitude = where(large, far, near);
    return where(negative, neg(magnitude), magnitude);
  });
}

/**
 * Inverse hyperbolic cosine (torch.acosh), NaN below 1. With `u = x - 1` (exact near 1) it is
 * `log1p(u + sqrt(u (u + 2)))`, accurate near 1 where `log(x + sqrt(x^2 - 1))` cancels, and
 * `log(x) + log(2)` for large x, where `x^2` would overflow.
 *
 * @example
 * acosh(tensor([1, 2, 0.5])); // [0, 1.3170, NaN]
 */
export function acosh(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floating('acosh', x);
    const large = greater(t, largeArgument(t.dtype));
    const u = sub(where(large, 2, t), 1);
    const near = log1p(add(u, sqrt(mul(u, add(u, 2)))));
    const far = add(log(where(large, t, 2)), Math.LN2);
    // Below -1, u (u + 2) is positive again: the domain is decided here, not by the sqrt.
    return where(less(t, 1), Number.NaN, where(large, far, near));
  });
}

/**
 * Inverse hyperbolic tangent (torch.atanh): ±Infinity at ±1, NaN outside [-1, 1]. Odd, so computed
 * on |x| as `log1p(2a / (1 - a)) / 2`, accurate near 0 (keeping the sign of -0) and near 1, where
 * `1 - a` is exact.
 *
 * @example
 * atanh(tensor([0, 0.5, 1])); // [0, 0.5493, Infinity]
 */
export function atanh(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floating('atanh', x);
    const negative = less(t, 0);
    const a = where(negative, neg(t), t);
    const magnitude = mul(log1p(div(mul(a, 2), sub(1, a))), 0.5);
    return where(negative, neg(magnitude), magnitude);
  });
}
