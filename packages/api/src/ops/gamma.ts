import { toFloating } from '../core/dtype.js';
import { ValueError } from '../core/errors.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { type TensorLike, toTensor } from './convert.js';
import {
  abs,
  add,
  div,
  equal,
  greaterEqual,
  less,
  lessEqual,
  log,
  logicalOr,
  mul,
  pow,
  reciprocal,
  round,
  sign,
  sin,
  sub,
  tan,
  where,
} from './elementwise.js';
import { unsqueeze } from './movement.js';
import { isinf } from './predicates.js';
import { sum } from './reduce.js';
import { factorial, hurwitzLeadingTerms, logReciprocalGammaNear, stirlingSeries } from './special-series.js';
import { chebyshev, computeSpecial, polynomial, withDerivative } from './special-support.js';
import { DIGAMMA_ASYMPTOTIC, DIGAMMA_OVER_ROOT, DIGAMMA_ZERO, EULER_MACLAURIN } from './special-tables.js';

// The gamma function's logarithm and derivatives (torch.lgamma, digamma, polygamma, mvlgamma),
// written in elementwise ops: series and recurrences selected by `where`, so every backend has
// them, with PyTorch's derivatives (lgamma' = digamma, digamma' = polygamma(1, x), ...) given by
// rule (special-support.ts). docs/dtypes.md, "Special functions", lists the accuracy.

const LOG_PI = Math.log(Math.PI);
const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);
/** Multiplications by 1 - x that the recurrences below apply at most (10 - 2.5 < 8). */
const RECURRENCE_STEPS = 8;

/** `x - round(x)`, in [-0.5, 0.5] and exact: sin(pi x) and tan(pi x) from it keep full precision at any x. */
function offsetFromInteger(x: Tensor): Tensor {
  return sub(x, round(x));
}

/**
 * cot(pi r) for r in [-0.5, 0.5]: 1 / tan(pi r) up to |r| = 1/4, then tan(pi (1/2 - |r|)) with the
 * sign of r, exactly 0 at ±1/2 (1 / tan(pi/2) is 6e-17, or 1e-8 in float32, and the relative error
 * of tan near pi/2 grows as tan itself).
 */
function cotangentOfPi(r: Tensor): Tensor {
  const magnitude = abs(r);
  const nearHalf = mul(tan(mul(sub(0.5, magnitude), Math.PI)), sign(r));
  return where(lessEqual(magnitude, 0.25), reciprocal(tan(mul(r, Math.PI))), nearHalf);
}

/**
 * log|Γ(x)|. Near 0, 1 and 2 from 1/Γ (entire, so its Chebyshev series converge quickly):
 * lgamma(1 + z) = -log1p(z q(z)) for |z| <= 1/2, which keeps full relative precision at the zeros
 * 1 and 2; [2.5, 10) is brought down to [1.5, 2.5) by Γ(x) = (x - 1) Γ(x - 1); from 10 on Stirling's
 * series; below -1/2 the reflection log(pi / |sin(pi x)|) - lgamma(1 - x).
 */
function lgammaValue(x: Tensor): Tensor {
  const reflect = less(x, -0.5);
  const s = where(reflect, sub(1, x), x);
  // [-0.5, 1.5): lgamma(1 + z) with z = s - 1, or z = s and lgamma(s) = lgamma(1 + s) - log|s|.
  const nearZero = lessEqual(s, 0.5);
  const z = where(nearZero, s, sub(s, 1));
  const onePlusZ = sub(0, logReciprocalGammaNear(1, z)); // +0 at z = 0, not -0
  const low = where(nearZero, sub(onePlusZ, log(abs(s))), onePlusZ);
  // [1.5, 10): lgamma(s) = log((s - 1) (s - 2) ... y) + lgamma(y), y in [1.5, 2.5); y - 1 is exact.
  let y = s;
  let product: Tensor | undefined;
  for (let i = 0; i < RECURRENCE_STEPS; i++) {
    const step = greaterEqual(y, 2.5);
    const factor = where(step, sub(y, 1), 1);
    product = product === undefined ? factor : mul(product, factor);
    y = where(step, sub(y, 1), y);
  }
  const w = sub(y, 2);
  const middle = sub(log(product as Tensor), logReciprocalGammaNear(2, w));
  // [10, inf): (s - 1/2)(log s - 1) + log(2 pi)/2 - 1/2 + sum B_2k / (2k (2k - 1) s^(2k - 1)), which
  // stays finite as far as lgamma does (no inf - inf at s = Infinity).
  const series = stirlingSeries(reciprocal(s));
  const high = add(mul(sub(s, 0.5), sub(log(s), 1)), add(series, HALF_LOG_TWO_PI - 0.5));
  const positive = where(less(s, 1.5), low, where(less(s, 10), middle, high));
  const offset = offsetFromInteger(x);
  const reflected = sub(sub(LOG_PI, log(abs(sin(mul(offset, Math.PI))))), positive);
  // Non-positive integers are poles; at -Infinity (offset NaN) lgamma is +Infinity, as glibc's.
  return where(reflect, where(logicalOr(equal(offset, 0), isinf(x)), Number.POSITIVE_INFINITY, reflected), positive);
}

/**
 * ψ(x) = Γ'(x)/Γ(x). On [1, 2) it is (x - x0) h(x), x0 its zero, so it keeps full relative
 * precision there; (0, 1) uses ψ(x) = ψ(x + 1) - 1/x, [2, 10) ψ(x) = ψ(x - 1) + 1/(x - 1) down to
 * [1, 2), from 10 on the asymptotic series; x <= 0 the reflection ψ(1 - x) - pi / tan(pi x).
 */
function digammaValue(x: Tensor): Tensor {
  const [zeroHead, zeroTail] = x.dtype === 'float64' ? DIGAMMA_ZERO.float64 : DIGAMMA_ZERO.float32;
  const reflect = lessEqual(x, 0);
  const s = where(reflect, sub(1, x), x);
  const below = less(s, 1);
  let y = where(below, add(s, 1), s);
  let harmonic: Tensor | undefined;
  for (let i = 0; i < RECURRENCE_STEPS; i++) {
    const step = greaterEqual(y, 2);
    const previous = sub(y, 1);
    const term = where(step, reciprocal(previous), 0);
    harmonic = harmonic === undefined ? term : add(harmonic, term);
    y = where(step, previous, y);
  }
  const nearZero = mul(sub(sub(y, zeroHead), zeroTail), chebyshev(sub(mul(y, 2), 3), DIGAMMA_OVER_ROOT));
  const middle = add(nearZero, harmonic as Tensor);
  const low = where(below, sub(middle, reciprocal(s)), middle);
  const r = reciprocal(s);
  const r2 = mul(r, r);
  const asymptotic = sub(sub(log(s), mul(r, 0.5)), mul(r2, polynomial(r2, DIGAMMA_ASYMPTOTIC.slice(0, x.dtype === 'float64' ? 8 : 3))));
  const positive = where(less(s, 10), low, asymptotic);
  const offset = offsetFromInteger(x);
  const reflected = sub(positive, mul(cotangentOfPi(offset), Math.PI));
  // Poles, as PyTorch: -Infinity at +0, +Infinity at -0 (-1/x), NaN at negative integers.
  const pole = where(equal(x, 0), div(-1, x), Number.NaN);
  return where(reflect, where(equal(offset, 0), pole, reflected), positive);
}

/** The Euler-Maclaurin coefficients of ζ(s, q): B_2j / (2j)! s (s + 1) ... (s + 2j - 2), j = 1.. */
function eulerMaclaurinCoefficients(s: number): number[] {
  return EULER_MACLAURIN.map((b, j) => {
    let rising = 1;
    for (let i = 0; i <= 2 * j; i++) rising *= s + i;
    return b * rising;
  });
}

/**
 * The Hurwitz zeta function ζ(s, q) = sum over k >= 0 of (q + k)^-s, for an integer s >= 2 and
 * q > 0: `shifts` terms summed, then the Euler-Maclaurin formula at a = q + shifts, with enough
 * shifts that its first omitted term is below the dtype's rounding (more for large s, where the
 * terms fall more slowly).
 */
function hurwitzZeta(s: number, q: Tensor): Tensor {
  const f64 = q.dtype === 'float64';
  const terms = f64 ? 12 : 5;
  const coefficients = eulerMaclaurinCoefficients(s);
  const tolerance = f64 ? 1e-17 : 3e-8;
  let shifts = f64 ? 9 : 6;
  // The omitted term relative to the tail a^(1 - s) / (s - 1), which bounds it.
  while (Math.abs((coefficients[terms] as number) * (s - 1)) * shifts ** (-2 * terms - 2) > tolerance) shifts += 1;
  const total = hurwitzLeadingTerms(q, -s, shifts);
  // a^(1-s) [1/(s - 1) + 1/(2a) + sum c_j a^-2j]: a^(1 - s) rather than a^-s a, which would
  // underflow to 0 first at large q.
  const a = add(q, shifts);
  const r = reciprocal(a);
  const w = mul(r, r);
  const bracket = add(add(mul(w, polynomial(w, coefficients.slice(0, terms))), mul(r, 0.5)), 1 / (s - 1));
  const tail = mul(pow(a, 1 - s), bracket);
  return add(total, tail);
}

/**
 * The coefficients of P_n with d^n/dx^n cot(x) = P_n(cot x): P_0(c) = c, P_(k+1) = -(1 + c²) P_k'.
 */
function cotangentDerivative(n: number): number[] {
  let p = [0, 1];
  for (let k = 0; k < n; k++) {
    const derivative = p.slice(1).map((c, i) => c * (i + 1));
    const next = new Array<number>(derivative.length + 2).fill(0);
    derivative.forEach((c, i) => {
      next[i] = (next[i] as number) - c;
      next[i + 2] = (next[i + 2] as number) - c;
    });
    p = next;
  }
  return p;
}

/**
 * ψ^(n)(x) for n >= 1: (-1)^(n+1) n! ζ(n + 1, x) for x > 0; for x <= 0 the reflection
 * ψ^(n)(x) = (-1)^n ψ^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)). Poles (x = 0, -1, ...) give +Infinity
 * for odd n and -Infinity for even n, as PyTorch; +Infinity gives 0, -Infinity NaN.
 */
function polygammaValue(n: number): (x: Tensor) => Tensor {
  const scale = (n % 2 === 1 ? 1 : -1) * factorial(n);
  const cotangentTerms = cotangentDerivative(n);
  return (x) => {
    const reflect = lessEqual(x, 0);
    const q = where(reflect, sub(1, x), x);
    const positive = mul(hurwitzZeta(n + 1, q), scale);
    const offset = offsetFromInteger(x);
    const cotangent = cotangentOfPi(offset);
    const reflected = sub(mul(positive, n % 2 === 0 ? 1 : -1), mul(polynomial(cotangent, cotangentTerms), Math.PI ** (n + 1)));
    const pole = n % 2 === 1 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    const value = where(reflect, where(equal(offset, 0), pole, reflected), positive);
    return where(equal(x, Number.POSITIVE_INFINITY), 0, value);
  };
}

const polygammaOfOrder = new Map<number, (x: Tensor) => Tensor>();

/** ψ^(n) as a function with derivative ψ^(n+1); n = 0 is digamma. */
function polygammaOf(n: number): (x: Tensor) => Tensor {
  if (n === 0) return digammaOf;
  let f = polygammaOfOrder.get(n);
  if (f === undefined) {
    f = withDerivative(`polygamma(${n})`, polygammaValue(n), (x) => polygammaOf(n + 1)(x));
    polygammaOfOrder.set(n, f);
  }
  return f;
}

const digammaOf = withDerivative('digamma', digammaValue, (x) => polygammaOf(1)(x));
const lgammaOf = withDerivative('lgamma', lgammaValue, (x) => digammaOf(x));

/**
 * The natural logarithm of the absolute value of the gamma function (torch.lgamma, also
 * `special.gammaln`). Poles (0, -1, -2, ...) and ±Infinity give +Infinity; integers compute in
 * float32, float16 and bfloat16 in float32. The derivative is `digamma`.
 *
 * @example
 * lgamma(tensor([1, 2, 0.5, -0.5])); // [0, 0, 0.5724, 1.2655]
 */
export function lgamma(x: TensorLike): Tensor {
  return computeSpecial('lgamma', x, lgammaOf);
}

/**
 * The digamma function ψ(x) = d/dx lgamma(x) (torch.digamma, also `special.psi`). At 0 it is
 * -Infinity (+Infinity at -0) and NaN at negative integers, as PyTorch. The derivative is
 * `polygamma(1, x)`.
 *
 * @example
 * digamma(tensor([1, 0.5])); // [-0.5772, -1.9635]
 */
export function digamma(x: TensorLike): Tensor {
  return computeSpecial('digamma', x, digammaOf);
}

/**
 * The n-th derivative of digamma (torch.polygamma(n, x)); n = 0 is `digamma`, n = 1 the trigamma
 * function. Non-positive integers are poles: +Infinity for odd n, -Infinity for even n (as
 * PyTorch). The derivative is `polygamma(n + 1, x)`. n! must fit the dtype (n <= 33 for float32).
 *
 * @example
 * polygamma(1, tensor([1, 0.5])); // [pi²/6, pi²/2] = [1.6449, 4.9348]
 */
export function polygamma(n: number, x: TensorLike): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new ValueError(`polygamma: n must be a non-negative integer, got ${n}`);
  return computeSpecial('polygamma', x, polygammaOf(n));
}

/**
 * The multivariate log-gamma function of dimension `p` (torch.mvlgamma, `special.multigammaln`):
 * `sum over i < p of lgamma(x - i/2) + p (p - 1)/4 log(pi)`, elementwise. Defined for x > (p - 1)/2;
 * below that it is what the sum gives (PyTorch's check would read the tensor back).
 *
 * @example
 * mvlgamma(tensor([2.5]), 3); // [1.8810]
 */
export function mvlgamma(x: TensorLike, p: number): Tensor {
  const op = 'mvlgamma';
  if (!Number.isInteger(p) || p < 1) throw new ValueError(`${op}: p must be a positive integer, got ${p}`);
  return tidy(() => {
    const t = toTensor(op, x);
    // Multiples of 1/2, exact in every floating dtype: the sum's arguments keep x's precision.
    const offsets = toTensor(
      op,
      Array.from({ length: p }, (_, i) => -i / 2),
      toFloating(t.dtype),
      t,
    );
    return add(sum(lgamma(add(unsqueeze(t, -1), offsets)), -1), (p * (p - 1) * LOG_PI) / 4);
  });
}
