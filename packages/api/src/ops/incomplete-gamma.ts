import type { Tensor } from '../tensor/tensor.js';
import { type TensorLike, toTensor } from './convert.js';
import {
  abs,
  add,
  div,
  equal,
  exp,
  expm1,
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
  pow,
  sign,
  sqrt,
  sub,
  where,
} from './elementwise.js';
import { erfc } from './error-functions.js';
import { lgamma } from './gamma.js';
import { unsqueeze } from './movement.js';
import { isinf, isnan } from './predicates.js';
import { cumprod, sum } from './reduce.js';
import { logReciprocalGammaNear, stirlingSeries } from './special-series.js';
import { computeBinarySpecial, withSecondDerivative } from './special-support.js';
import { TEMME } from './special-tables.js';

// The regularized incomplete gamma functions P(a, x) = γ(a, x) / Γ(a) and Q(a, x) = 1 - P
// (torch.special.gammainc and gammaincc, torch.igamma and igammac) in elementwise ops, by
// PyTorch's (Cephes') regions, each with a fixed number of terms (measured against mpmath to hold
// the dtype's precision over the region): Temme's uniform expansion for a >= 10 near the
// transition x ≈ a; the continued fraction for Q where x >= max(a, 2); the series of Q for small
// x where P is not small; the series of P elsewhere. The series are products of ratios (cumprod
// along a new axis) summed, so they cost a few ops whatever their length. Differentiable in x by
// rule; PyTorch's derivative with respect to a is not implemented, nor is it here.

/** The terms each method keeps, per dtype. */
const TERMS = {
  float64: { series: 40, upperSeries: 22, continuedFraction: 48 },
  float32: { series: 20, upperSeries: 16, continuedFraction: 12 },
} as const;
/** Temme's expansion from this a, within this relative distance of x from a. */
const TEMME_FROM = 10;
const TEMME_WITHIN = 0.5;
/** The continued fraction from this x (where x >= a). */
const CONTINUED_FRACTION_FROM = 2;
const LOG_SQRT_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** The constant vector [from, from + 1, ..., from + n - 1] in `like`'s dtype, on its backend. */
function range(n: number, from: number, like: Tensor): Tensor {
  return toTensor(
    'gammainc',
    Array.from({ length: n }, (_, i) => from + i),
    like.dtype,
    like,
  );
}

/** log Γ(1 + a), accurate for small a (1 + a would lose a's digits): by its series up to 1/2. */
function lgammaOnePlus(a: Tensor): Tensor {
  const small = lessEqual(a, 0.5);
  const z = where(small, a, 0);
  return where(small, neg(logReciprocalGammaNear(1, z)), lgamma(add(a, 1)));
}

/**
 * x^a e^-x / Γ(a + 1). From a = 10 as exp(a (log(x/a) - σ)) / (sqrt(2 pi a) Γ*(a)), σ = x/a - 1,
 * Γ* Stirling's correction: the large terms a log x, x and log Γ(a + 1) cancel there, and their
 * rounding would be magnified (a ε log a relative); below 10, directly.
 */
function powerOverGamma(a: Tensor, x: Tensor, logGammaOnePlus: Tensor = lgammaOnePlus(a)): Tensor {
  const sigma = div(sub(x, a), a);
  const logRatio = where(less(abs(sigma), 0.5), log1p(sigma), log(div(x, a)));
  const stirling = stirlingSeries(div(1, maximum(a, TEMME_FROM)));
  const large = exp(sub(sub(mul(a, sub(logRatio, sigma)), stirling), add(mul(log(a), 0.5), LOG_SQRT_TWO_PI)));
  // exp(-x) apart, so that x's part of the exponent is not rounded with the rest (to 1e-13 at
  // x = 700), while exp(-x) is a normal number (to 708, float32 to 87).
  const rest = sub(mul(a, log(x)), logGammaOnePlus);
  const small = where(less(x, a.dtype === 'float64' ? 708 : 87), mul(exp(neg(x)), exp(rest)), exp(sub(rest, x)));
  return where(greaterEqual(a, TEMME_FROM), large, small);
}

/** P by its series x^a e^-x / Γ(a + 1) (1 + x/(a + 1) + x²/((a + 1)(a + 2)) + ...), for x below about a. */
function lowerSeries(a: Tensor, x: Tensor, prefactor: Tensor, terms: number): Tensor {
  const ratios = div(unsqueeze(x, -1), add(unsqueeze(a, -1), range(terms, 1, a)));
  return mul(prefactor, add(sum(cumprod(ratios, -1), -1), 1));
}

/**
 * Q for small x (below 2) where P is not small: 1 - x^a / Γ(a + 1) - x^a / Γ(a) sum over n >= 1 of
 * (-x)^n / (n! (a + n)), its first part as -expm1(a log x - log Γ(1 + a)), exact as a -> 0.
 */
function upperSeries(a: Tensor, x: Tensor, terms: number, logGammaOnePlus: Tensor): Tensor {
  const n = range(terms, 1, a);
  const powers = cumprod(div(neg(unsqueeze(x, -1)), n), -1);
  const series = sum(div(powers, add(unsqueeze(a, -1), n)), -1);
  const logX = log(x);
  const leading = neg(expm1(sub(mul(a, logX), logGammaOnePlus)));
  // x^a / Γ(a) = exp(a log x - log Γ(1 + a) + log a).
  return sub(leading, mul(exp(add(sub(mul(a, logX), logGammaOnePlus), log(a))), series));
}

/**
 * Q by Legendre's continued fraction, a x^a e^-x / Γ(a + 1) / (x + 1 - a - 1 (1 - a) / (x + 3 - a -
 * 2 (2 - a) / (x + 5 - a - ...))), evaluated from its tail, for x >= max(a, 2). The tail past the
 * depth is not 0 but the fixed point of its last level, t = m (a - m) / (x - a + 2m + 1 + t): at
 * x = 2, where the fraction converges most slowly, that saves a tenth of the levels.
 */
function continuedFraction(a: Tensor, x: Tensor, prefactor: Tensor, depth: number): Tensor {
  const gap = sub(x, a);
  const m = depth + 1;
  const base = add(gap, 2 * m + 1);
  const product = mul(sub(a, m), m);
  // The root of t² + base t - product = 0 near 0, in the form that does not cancel (base > 0).
  let tail = div(mul(product, 2), add(base, sqrt(add(mul(base, base), mul(product, 4)))));
  for (let n = depth; n >= 1; n--) tail = div(mul(sub(a, n), n), add(add(gap, 2 * n + 1), tail));
  return div(mul(prefactor, a), add(add(gap, 1), tail));
}

/**
 * P and Q by Temme's uniform expansion (DLMF 8.12.3-8.12.6): Q = erfc(η sqrt(a/2)) / 2 + S,
 * P = erfc(-η sqrt(a/2)) / 2 - S, S = exp(-a η²/2) / sqrt(2 pi a) sum over k of c_k(η) a^-k, with
 * η²/2 = σ - log(1 + σ) (the sign of σ = x/a - 1). The c_k(η) are polynomials (special-tables.ts),
 * all evaluated at once along a new axis.
 */
function temme(a: Tensor, x: Tensor): { p: Tensor; q: Tensor } {
  const table = a.dtype === 'float64' ? TEMME.float64 : TEMME.float32;
  const sigma = minimum(maximum(div(sub(x, a), a), -TEMME_WITHIN), TEMME_WITHIN);
  const halfEtaSquared = sub(sigma, log1p(sigma));
  const eta = mul(sqrt(mul(halfEtaSquared, 2)), sign(sigma));
  const columns = (table[0] as readonly number[]).length;
  const column = (n: number): Tensor =>
    toTensor(
      'gammainc',
      table.map((row) => row[n] as number),
      a.dtype,
      a,
    );
  const etaAxis = unsqueeze(eta, -1);
  let c = column(columns - 1);
  for (let n = columns - 2; n >= 0; n--) c = add(mul(c, etaAxis), column(n));
  const inversePowers = pow(unsqueeze(div(1, a), -1), range(table.length, 0, a));
  const expansion = sum(mul(c, inversePowers), -1);
  const s = mul(exp(sub(mul(mul(a, halfEtaSquared), -1), mul(log(mul(a, 2 * Math.PI)), 0.5))), expansion);
  const z = mul(eta, sqrt(mul(a, 0.5)));
  const tail = erfc(abs(z));
  const positive = greaterEqual(z, 0);
  return {
    q: add(mul(where(positive, tail, sub(2, tail)), 0.5), s),
    p: sub(mul(where(positive, sub(2, tail), tail), 0.5), s),
  };
}

/** P(a, x) and Q(a, x) for a > 0, x > 0 (finite), each method where it holds its precision. */
function incompleteGamma(a: Tensor, x: Tensor): { p: Tensor; q: Tensor } {
  const terms = a.dtype === 'float64' ? TERMS.float64 : TERMS.float32;
  const logGammaOnePlus = lgammaOnePlus(a);
  const prefactor = powerOverGamma(a, x, logGammaOnePlus);
  const byTemme = logicalAnd(greaterEqual(a, TEMME_FROM), less(abs(div(sub(x, a), a)), TEMME_WITHIN));
  const byFraction = logicalAnd(greaterEqual(x, a), greaterEqual(x, CONTINUED_FRACTION_FROM));
  // PyTorch's choice: Q's own series where x is small and P is not (a small, or a below 1.1 x).
  const byUpperSeries = logicalOr(
    logicalAnd(less(x, 0.5), lessEqual(mul(a, neg(log(x))), 0.4)),
    logicalAnd(logicalAnd(greaterEqual(x, 0.5), less(x, CONTINUED_FRACTION_FROM)), lessEqual(a, mul(x, 1.1))),
  );
  const fraction = continuedFraction(a, x, prefactor, terms.continuedFraction);
  const upper = upperSeries(a, x, terms.upperSeries, logGammaOnePlus);
  const lower = lowerSeries(a, x, prefactor, terms.series);
  const expansion = temme(a, x);
  const q = where(byFraction, fraction, where(byUpperSeries, upper, sub(1, lower)));
  const p = where(byFraction, sub(1, fraction), where(byUpperSeries, sub(1, upper), lower));
  return { p: where(byTemme, expansion.p, p), q: where(byTemme, expansion.q, q) };
}

/**
 * PyTorch's (SciPy's) values on the boundary: NaN for a < 0 or x < 0, and where both a and x are
 * 0 or both infinite; at a = 0 (x > 0) P = 1; at x = 0 P = 0; at a = Infinity P = 0; at
 * x = Infinity P = 1. `upper` gives Q's (1 - each).
 */
function withBoundary(a: Tensor, x: Tensor, upper: boolean): Tensor {
  const safeA = where(logicalOr(lessEqual(a, 0), isinf(a)), 1, a);
  const safeX = where(logicalOr(lessEqual(x, 0), isinf(x)), 1, x);
  const { p, q } = incompleteGamma(safeA, safeX);
  const [zero, one] = upper ? [1, 0] : [0, 1];
  const undefinedHere = logicalOr(
    logicalOr(less(a, 0), less(x, 0)),
    logicalOr(logicalAnd(equal(a, 0), equal(x, 0)), logicalAnd(isinf(a), isinf(x))),
  );
  const value = where(equal(a, 0), one, where(equal(x, 0), zero, where(isinf(a), zero, where(isinf(x), one, upper ? q : p))));
  return where(logicalOr(undefinedHere, logicalOr(isnan(a), isnan(x))), Number.NaN, value);
}

/**
 * d/dx P(a, x) = x^(a - 1) e^-x / Γ(a) = (a / x) x^a e^-x / Γ(a + 1), accurate for large a; at x = 0
 * its limits (Infinity for a < 1, 1 at 1, 0 above).
 */
function density(a: Tensor, x: Tensor): Tensor {
  const positive = where(lessEqual(x, 0), 1, x);
  const value = mul(powerOverGamma(a, positive), div(a, positive));
  const atZero = where(less(a, 1), Number.POSITIVE_INFINITY, where(equal(a, 1), 1, 0));
  return where(equal(x, 0), atZero, where(less(x, 0), Number.NaN, value));
}

const NOT_DIFFERENTIABLE_IN_A =
  'the derivative with respect to a (the first argument) is not implemented (as in PyTorch); only x is differentiable';

const gammaincOf = withSecondDerivative(
  'gammainc',
  (a, x) => withBoundary(a, x, false),
  (a, x) => density(a, x),
  `gammainc: ${NOT_DIFFERENTIABLE_IN_A}`,
);
const gammainccOf = withSecondDerivative(
  'gammaincc',
  (a, x) => withBoundary(a, x, true),
  (a, x) => neg(density(a, x)),
  `gammaincc: ${NOT_DIFFERENTIABLE_IN_A}`,
);

/**
 * The regularized lower incomplete gamma function P(a, x) = γ(a, x) / Γ(a) (torch.special.
 * gammainc, torch.igamma): the CDF of a Gamma(a, 1) variable at x. Elementwise with broadcasting;
 * NaN for a < 0 or x < 0, PyTorch's values on the boundary (P(0, x > 0) = 1, P(a, 0) = 0, 1 at
 * x = Infinity). Differentiable in x (x^(a-1) e^-x / Γ(a)); differentiating in a is a
 * NotImplementedError, as in PyTorch. Integers compute in float32, float16 and bfloat16 in
 * float32.
 *
 * @example
 * gammainc(tensor([1, 2, 0.5]), tensor([1, 2, 0.5])); // [0.6321, 0.5940, 0.6827]
 */
export function gammainc(a: TensorLike, x: TensorLike): Tensor {
  return computeBinarySpecial('gammainc', a, x, gammaincOf);
}

/**
 * The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a) = 1 - P(a, x)
 * (torch.special.gammaincc, torch.igammac), computed directly where it is small (the survival
 * function far in the tail keeps its relative precision). Differentiable in x, not in a, as
 * `gammainc`.
 *
 * @example
 * gammaincc(tensor([1, 2]), tensor([1, 30])); // [0.3679, 2.87e-12]
 */
export function gammaincc(a: TensorLike, x: TensorLike): Tensor {
  return computeBinarySpecial('gammaincc', a, x, gammainccOf);
}
