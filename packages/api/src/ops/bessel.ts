import type { Tensor } from '../tensor/tensor.js';
import type { TensorLike } from './convert.js';
import { abs, add, div, equal, exp, lessEqual, mul, reciprocal, sign, sqrt, sub, where } from './elementwise.js';
import { isinf } from './predicates.js';
import { chebyshev, computeSpecial, withDerivative } from './special-support.js';
import { I0E_LARGE, I0E_SMALL, I1E_LARGE, I1E_SMALL } from './special-tables.js';

// The modified Bessel functions of the first kind of orders 0 and 1 and their exponentially
// scaled forms (torch.i0, torch.special.i0e, i1, i1e), as Cephes computes them: a Chebyshev series
// of exp(-|x|) I(x) on [0, 8] and of sqrt(|x|) exp(-|x|) I(x) beyond (coefficients refitted,
// special-tables.ts), in elementwise ops. Derivatives as PyTorch's: i0' = i1, and so on.

const SMALL = 8;

/** The series of `small` at |x| / 4 - 1 for |x| <= 8, of `large` at 16 / |x| - 1 over sqrt(|x|) beyond. */
function scaledBessel(
  x: Tensor,
  small: typeof I0E_SMALL,
  large: typeof I0E_LARGE,
): { a: Tensor; inside: Tensor; near: Tensor; far: Tensor } {
  const a = abs(x);
  const near = chebyshev(sub(mul(a, 0.25), 1), small);
  const far = div(chebyshev(sub(div(16, a), 1), large), sqrt(a));
  return { a, inside: lessEqual(a, SMALL), near, far };
}

function i0eValue(x: Tensor): Tensor {
  const { inside, near, far } = scaledBessel(x, I0E_SMALL, I0E_LARGE);
  return where(inside, near, far);
}

function i1eValue(x: Tensor): Tensor {
  // Odd: the small series is exp(-|x|) I1(x) / x, so multiplying by x gives the sign.
  const { inside, near, far } = scaledBessel(x, I1E_SMALL, I1E_LARGE);
  return where(inside, mul(near, x), mul(far, sign(x)));
}

/**
 * `scaled * exp(|x|)`, as `(scaled * h) * h` with h = exp(|x| / 2), finite wherever the result is
 * (exp(|x|) alone would overflow first: float32 i0 from 88.7 instead of 91.9); Infinity (with x's
 * sign for i1) at ±Infinity rather than 0 * Infinity.
 */
function unscaled(x: Tensor, scaled: Tensor, atInfinity: Tensor | number): Tensor {
  const half = exp(mul(abs(x), 0.5));
  return where(isinf(x), atInfinity, mul(mul(scaled, half), half));
}

/** x, with 1 in place of 0: a divisor for the i1 derivatives, whose value at 0 is their limit 1/2. */
function nonZero(x: Tensor): Tensor {
  return where(equal(x, 0), 1, x);
}

const i1Of: (x: Tensor) => Tensor = withDerivative(
  'i1',
  (x) => unscaled(x, i1eValue(x), x),
  (x, y) => where(equal(x, 0), 0.5, sub(i0Of(x), div(y, nonZero(x)))),
);
const i0Of: (x: Tensor) => Tensor = withDerivative(
  'i0',
  (x) => unscaled(x, i0eValue(x), Number.POSITIVE_INFINITY),
  (x) => i1Of(x),
);
const i1eOf: (x: Tensor) => Tensor = withDerivative('i1e', i1eValue, (x, y) =>
  where(equal(x, 0), 0.5, sub(i0eOf(x), mul(y, add(sign(x), reciprocal(nonZero(x)))))),
);
const i0eOf: (x: Tensor) => Tensor = withDerivative('i0e', i0eValue, (x, y) => sub(i1eOf(x), mul(sign(x), y)));

/**
 * The modified Bessel function of the first kind of order 0 (torch.i0, `special.i0`). Overflows
 * to Infinity past |x| ≈ 713 (float64) or 88.7 (float32), as PyTorch's; ±Infinity gives
 * Infinity (PyTorch: NaN). The derivative is `i1`.
 *
 * @example
 * i0(tensor([0, 1])); // [1, 1.2661]
 */
export function i0(x: TensorLike): Tensor {
  return computeSpecial('i0', x, i0Of);
}

/**
 * `exp(-|x|) i0(x)` (torch.special.i0e), finite for every x.
 *
 * @example
 * i0e(tensor([0, 100])); // [1, 0.03994]
 */
export function i0e(x: TensorLike): Tensor {
  return computeSpecial('i0e', x, i0eOf);
}

/**
 * The modified Bessel function of the first kind of order 1 (torch.special.i1), odd in x; ±Infinity
 * gives ±Infinity (PyTorch: NaN). The derivative is `i0(x) - i1(x) / x` (1/2 at 0).
 *
 * @example
 * i1(tensor([0, 1, -1])); // [0, 0.5652, -0.5652]
 */
export function i1(x: TensorLike): Tensor {
  return computeSpecial('i1', x, i1Of);
}

/**
 * `exp(-|x|) i1(x)` (torch.special.i1e), finite for every x.
 *
 * @example
 * i1e(tensor([1, 100])); // [0.2079, 0.03974]
 */
export function i1e(x: TensorLike): Tensor {
  return computeSpecial('i1e', x, i1eOf);
}
