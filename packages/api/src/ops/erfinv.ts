import type { Tensor } from '../tensor/tensor.js';
import type { TensorLike } from './convert.js';
import { abs, add, div, equal, erf, exp, greater, less, log, log1p, minimum, mul, sign, sqrt, sub, where } from './elementwise.js';
import { erfcx } from './error-functions.js';
import { computeSpecial, expOfSquare, polynomial, withDerivative } from './special-support.js';

// The inverse error function (torch.erfinv, torch.special.erfinv) in elementwise ops: Giles'
// single-precision approximation, which float32 keeps as it is (2.3e-7 relative, measured), and
// for float64 two Newton steps from it (from an asymptotic start in the far tail, past the range
// Giles fitted), solved on erf near 0 and on log erfc beyond, where erf(z) - x would cancel.

const HALF_SQRT_PI = Math.sqrt(Math.PI) / 2;
const HALF_LOG_PI = 0.5 * Math.log(Math.PI);

/**
 * M. Giles, "Approximating the erfinv function" (GPU Computing Gems, 2011): erfinv(x) = x p(w)
 * with w = -log((1 - x)(1 + x)), p a polynomial in w - 2.5 below w = 5 and in sqrt(w) - 3 above
 * (lowest degree first).
 */
const GILES_CENTRAL = [
  1.50140941, 0.246640727, -0.00417768164, -0.00125372503, 0.00021858087, -4.39150654e-6, -3.5233877e-6, 3.43273939e-7, 2.81022636e-8,
];
const GILES_TAIL = [
  2.83297682, 1.00167406, 0.00943887047, -0.0076224613, 0.00573950773, -0.00367342844, 0.00134934322, 0.000100950558, -0.000200214257,
];
/** Past this w (1 - |x| < 5.6e-8, beyond float32's reach) Giles' tail polynomial extrapolates: the float64 start is asymptotic there. */
const GILES_RANGE = 16;

/** Giles' approximation of erfinv(a) for a = |x| in [0, 1), from w = -log((1 - a)(1 + a)). */
function gilesApproximation(a: Tensor, w: Tensor): Tensor {
  const central = polynomial(sub(w, 2.5), GILES_CENTRAL);
  const tail = polynomial(sub(sqrt(w), 3), GILES_TAIL);
  return mul(where(less(w, 5), central, tail), a);
}

/**
 * z with erfc(z) = c for tiny c: z² = L - log(z sqrt(pi)) + log(1 - 1/(2z²)), L = -log c (the
 * first terms of erfc's asymptotic series), iterated twice from z² = L; within 4e-5 relative
 * for 1 - |x| below 5.6e-8, which the Newton steps then take to full precision.
 */
function asymptoticTail(logC: Tensor): Tensor {
  const l = mul(logC, -1);
  let z = sqrt(l);
  for (let i = 0; i < 2; i++) z = sqrt(add(sub(l, add(log(z), HALF_LOG_PI)), log1p(div(-0.5, mul(z, z)))));
  return z;
}

/**
 * Newton's step for erf(z) = a, as Halley's: u = (erf(z) - a) / erf'(z), z - u / (1 + z u), exact
 * in its residual while a < 1/2.
 */
function centralStep(z: Tensor, a: Tensor): Tensor {
  const u = mul(mul(sub(erf(z), a), exp(mul(z, z))), HALF_SQRT_PI);
  return sub(z, div(u, add(mul(z, u), 1)));
}

/**
 * Newton's step for log erfc(z) = log c (c = 1 - a, exact for a >= 1/2): nearly linear in z², so
 * it converges from far; log erfc(z) = log erfcx(z) - z² and its derivative -2 / (sqrt(pi) erfcx(z)).
 */
function tailStep(z: Tensor, logC: Tensor): Tensor {
  const scaled = erfcx(z);
  return add(z, mul(mul(sub(sub(log(scaled), mul(z, z)), logC), scaled), HALF_SQRT_PI));
}

function erfinvValue(x: Tensor): Tensor {
  const a = abs(x);
  const c = sub(1, a);
  const w = mul(log(mul(c, add(a, 1))), -1);
  let z = gilesApproximation(a, w);
  if (x.dtype === 'float64') {
    const logC = log(c);
    z = where(less(w, GILES_RANGE), z, asymptoticTail(logC));
    const central = less(a, 0.5);
    for (let i = 0; i < 2; i++) z = where(central, centralStep(z, a), tailStep(z, logC));
  }
  // ±1 give ±Infinity and |x| > 1 NaN, as PyTorch; x * (z / a) keeps -0 (z / a is the polynomial at 0).
  const signed = mul(z, sign(x));
  return where(equal(a, 1), mul(x, Number.POSITIVE_INFINITY), where(greater(a, 1), Number.NaN, where(equal(a, 0), x, signed)));
}

/** Past this |erfinv(x)|, exp(y²) overflows in float64: clamping keeps expOfSquare's splitting finite. */
const SQUARE_LIMIT = 30;

const erfinvOf = withDerivative('erfinv', erfinvValue, (_x, y) => mul(expOfSquare(minimum(abs(y), SQUARE_LIMIT), 1), HALF_SQRT_PI));

/**
 * The inverse error function (torch.erfinv, `special.erfinv`): the y in (-Infinity, Infinity)
 * with erf(y) = x. ±1 give ±Infinity, |x| > 1 gives NaN, as PyTorch. Accurate to 9e-16 relative
 * in float64 (to 1 - |x| = 1.1e-16) and 2.3e-7 in float32; integers compute in float32, float16
 * and bfloat16 in float32. The derivative is sqrt(pi)/2 exp(erfinv(x)²).
 *
 * @example
 * erfinv(tensor([0, 0.5, -0.9])); // [0, 0.4769, -1.1631]
 */
export function erfinv(x: TensorLike): Tensor {
  return computeSpecial('erfinv', x, erfinvOf);
}
