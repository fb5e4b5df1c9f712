import type { Tensor } from '../tensor/tensor.js';
import type { TensorLike } from './convert.js';
import { abs, add, cos, div, equal, less, lessEqual, log, mul, neg, reciprocal, sign, sin, sqrt, sub, where } from './elementwise.js';
import { isinf } from './predicates.js';
import { factorial } from './special-series.js';
import { chebyshev, computeWithoutDerivative, polynomial, type Series } from './special-support.js';
import {
  BESSEL_P0,
  BESSEL_P1,
  BESSEL_Q0,
  BESSEL_Q1,
  J0_OVER_ZEROS,
  J0_ZEROS,
  J1_OVER_ZEROS,
  J1_ZEROS,
  Y0_REGULAR,
  Y1_REGULAR,
} from './special-tables.js';

// The Bessel functions of the first and second kind of orders 0 and 1 and the spherical j0
// (torch.special.bessel_j0, bessel_j1, bessel_y0, bessel_y1, spherical_bessel_j0), in elementwise
// ops: below 8, series in x² (J0 and J1 with their first two zeros factored out, so that they keep
// relative precision there; Y0 and Y1 as J log(x/2) plus a series), beyond 8 the Hankel form
// sqrt(2/(pi x)) (P cos(chi) - Q sin(chi)) with P and x Q series in 64/x² (special-tables.ts).
// PyTorch defines no derivatives for them: their gradients are zero (computeWithoutDerivative).

/** Below this |x| the series in x², beyond it the Hankel form. */
const SMALL = 8;
const TWO_OVER_PI = 2 / Math.PI;

/** A positive zero of J0 or J1 as a head and the rest (special-tables.ts), for x's dtype. */
type Zero = { readonly float64: readonly [number, number]; readonly float32: readonly [number, number] };

/** x² - j² as (x - j)(x + j), x - j from j's head and rest: exact near the zero, where x² - j² would cancel. */
function besideZero(a: Tensor, zero: Zero): Tensor {
  const [head, rest] = a.dtype === 'float64' ? zero.float64 : zero.float32;
  return mul(sub(sub(a, head), rest), add(a, head + rest));
}

/** The series of `s` at t = x² / 32 - 1, for |x| <= 8 (x² / 32 is exact). */
function smallSeries(square: Tensor, s: Series): Tensor {
  return chebyshev(sub(mul(square, 1 / 32), 1), s);
}

/**
 * J and Y of order 0 or 1 beyond 8 by the Hankel form sqrt(2/(pi a)) (P cos χ - Q sin χ) and
 * sqrt(2/(pi a)) (P sin χ + Q cos χ), χ = a - pi/4 (order 0) or a - 3pi/4 (order 1), with cos χ and
 * sin χ expanded in cos a and sin a, so that no rounding of χ enters: √2 cos χ is cos a + sin a and
 * √2 sin χ is sin a - cos a for order 0, sin a - cos a and -(sin a + cos a) for order 1.
 */
function hankel(a: Tensor, order: 0 | 1): { j: Tensor; y: Tensor } {
  const t = sub(div(128, mul(a, a)), 1);
  const p = chebyshev(t, order === 0 ? BESSEL_P0 : BESSEL_P1);
  const q = div(chebyshev(t, order === 0 ? BESSEL_Q0 : BESSEL_Q1), a);
  // sqrt(2/(pi a)) / √2, the √2 of the expanded cos χ and sin χ.
  const scale = reciprocal(sqrt(mul(a, Math.PI)));
  const sum = add(cos(a), sin(a));
  const difference = sub(sin(a), cos(a));
  const [cosChi, sinChi] = order === 0 ? [sum, difference] : [difference, neg(sum)];
  return { j: mul(sub(mul(p, cosChi), mul(q, sinChi)), scale), y: mul(add(mul(p, sinChi), mul(q, cosChi)), scale) };
}

/**
 * J and Y of order 0 or 1 on a = |x| (Y meaningful for x > 0): below 8 J from its factored series
 * and Y from J log(x/2) and its own series, the Hankel form beyond, and Infinity's limit 0.
 */
function bessel(a: Tensor, order: 0 | 1): { j: Tensor; y: Tensor } {
  const square = mul(a, a);
  const logHalf = log(mul(a, 0.5));
  let jNear: Tensor;
  let yNear: Tensor;
  if (order === 0) {
    // Exactly 1 at 0 (the factored series rounds to within an ulp of it).
    const series = mul(mul(besideZero(a, J0_ZEROS[0]), besideZero(a, J0_ZEROS[1])), smallSeries(square, J0_OVER_ZEROS));
    jNear = where(equal(a, 0), 1, series);
    yNear = add(mul(mul(logHalf, series), TWO_OVER_PI), smallSeries(square, Y0_REGULAR));
  } else {
    jNear = mul(mul(mul(besideZero(a, J1_ZEROS[0]), besideZero(a, J1_ZEROS[1])), smallSeries(square, J1_OVER_ZEROS)), a);
    yNear = add(mul(sub(mul(logHalf, jNear), reciprocal(a)), TWO_OVER_PI), mul(smallSeries(square, Y1_REGULAR), a));
  }
  const far = hankel(a, order);
  const near = lessEqual(a, SMALL);
  const infinite = isinf(a);
  return { j: where(near, jNear, where(infinite, 0, far.j)), y: where(near, yNear, where(infinite, 0, far.y)) };
}

/** Y's value where x <= 0: -Infinity at ±0, NaN below (PyTorch's). */
function secondKindDomain(x: Tensor, y: Tensor): Tensor {
  return where(equal(x, 0), Number.NEGATIVE_INFINITY, where(less(x, 0), Number.NaN, y));
}

/**
 * The Bessel function of the first kind of order 0 (torch.special.bessel_j0), even in x. Below
 * |x| = 8 relative precision holds at its zeros there; beyond, the error is absolute (about
 * 1e-16 of the envelope sqrt(2/(pi x))), as in PyTorch. ±Infinity gives 0 (PyTorch: NaN).
 * PyTorch defines no derivative: the gradient is zero.
 *
 * @example
 * besselJ0(tensor([0, 1, 2.404825557695773])); // [1, 0.7652, ~0]
 */
export function besselJ0(x: TensorLike): Tensor {
  return computeWithoutDerivative('besselJ0', x, (t) => bessel(abs(t), 0).j);
}

/**
 * The Bessel function of the first kind of order 1 (torch.special.bessel_j1), odd in x, with
 * `besselJ0`'s accuracy; ±Infinity gives 0 (PyTorch: NaN). The gradient is zero, as PyTorch
 * defines none.
 *
 * @example
 * besselJ1(tensor([0, 1, -1])); // [0, 0.4401, -0.4401]
 */
export function besselJ1(x: TensorLike): Tensor {
  return computeWithoutDerivative('besselJ1', x, (t) => mul(bessel(abs(t), 1).j, sign(t)));
}

/**
 * The Bessel function of the second kind of order 0 (torch.special.bessel_y0): -Infinity at 0,
 * NaN for x < 0 (as PyTorch), 0 at Infinity (PyTorch: NaN). The error is absolute (near its
 * zeros relative precision is lost, as in PyTorch). The gradient is zero, as PyTorch defines none.
 *
 * @example
 * besselY0(tensor([1, 10])); // [0.0883, 0.0557]
 */
export function besselY0(x: TensorLike): Tensor {
  return computeWithoutDerivative('besselY0', x, (t) => secondKindDomain(t, bessel(abs(t), 0).y));
}

/**
 * The Bessel function of the second kind of order 1 (torch.special.bessel_y1), about -2/(pi x)
 * near 0; -Infinity at 0, NaN for x < 0, 0 at Infinity (PyTorch: NaN). The gradient is zero, as
 * PyTorch defines none.
 *
 * @example
 * besselY1(tensor([1, 10])); // [-0.7812, 0.2490]
 */
export function besselY1(x: TensorLike): Tensor {
  return computeWithoutDerivative('besselY1', x, (t) => secondKindDomain(t, bessel(abs(t), 1).y));
}

/** sin(x)/x's Taylor coefficients in x²: (-1)^k / (2k + 1)!, enough for |x| < 1/2 in float64. */
const SINC_SERIES = Array.from({ length: 9 }, (_, k) => (k % 2 === 0 ? 1 : -1) / factorial(2 * k + 1));

/**
 * The spherical Bessel function of the first kind of order 0, sin(x)/x (torch.special.
 * spherical_bessel_j0): 1 at 0, its Taylor series below |x| = 1/2, 0 at ±Infinity. The gradient
 * is zero, as PyTorch defines none.
 *
 * @example
 * sphericalBesselJ0(tensor([0, Math.PI / 2])); // [1, 0.6366]
 */
export function sphericalBesselJ0(x: TensorLike): Tensor {
  return computeWithoutDerivative('sphericalBesselJ0', x, (t) => {
    const series = polynomial(mul(t, t), SINC_SERIES);
    const quotient = div(sin(t), t);
    return where(less(abs(t), 0.5), series, where(isinf(t), 0, quotient));
  });
}
