import { isHalf, toFloating } from '../core/dtype.js';
import { ConcretizationError, ValueError } from '../core/errors.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindStopGradient, concreteOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { onesLike, zerosLike } from './creation.js';
import { abs, acos, add, cos, div, equal, greater, less, lessEqual, maximum, minimum, mod, mul, sin, sub, where } from './elementwise.js';
import { isinf } from './predicates.js';
import { trunc } from './torch-functions.js';
import { acosh, cosh, sinh } from './transcendental.js';

// The classical orthogonal polynomials of torch.special (chebyshev_polynomial_t/u/v/w,
// hermite_polynomial_h/he, laguerre_polynomial_l, legendre_polynomial_p) at (x, n), by their
// three-term recurrences as PyTorch computes them: n is truncated toward zero, a negative n gives
// 0. A number n unrolls n steps; a tensor n runs to its largest degree (read on the host) and
// each element keeps the step of its own degree. The Chebyshev polynomials past degree 8 take
// their trigonometric (|x| < 1, as PyTorch) or hyperbolic (|x| > 1) closed forms instead, so they
// cost the same at every degree and never read n. PyTorch defines no derivatives: the gradients
// are zero, as a constant's.

/** Past this degree the Chebyshev polynomials take their closed forms (PyTorch: 6 for T, 8 for U, V, W). */
const CHEBYSHEV_RECURRENCE_LIMIT = 8;
/** The largest degree a recurrence is unrolled to: its ops grow with the degree. */
const MAX_DEGREE = 10_000;

/** A degree: a number, or a tensor of them broadcasting with x. */
export type PolynomialDegree = number | TensorLike;

/** P_1 and the step to P_(k+1) from P_k and P_(k-1) (P_0 = 1). */
interface Recurrence {
  readonly first: (x: Tensor) => Tensor;
  readonly next: (x: Tensor, current: Tensor, previous: Tensor, k: number) => Tensor;
  /** Whether the leading coefficient alternates in sign with the degree (Laguerre's (-1)^n / n!). */
  readonly alternatingLeader?: boolean;
}

const twoX = (x: Tensor): Tensor => mul(x, 2);
const chebyshevNext = (x: Tensor, current: Tensor, previous: Tensor): Tensor => sub(mul(twoX(x), current), previous);

const CHEBYSHEV_T: Recurrence = { first: (x) => x, next: chebyshevNext };
const CHEBYSHEV_U: Recurrence = { first: twoX, next: chebyshevNext };
const CHEBYSHEV_V: Recurrence = { first: (x) => sub(twoX(x), 1), next: chebyshevNext };
const CHEBYSHEV_W: Recurrence = { first: (x) => add(twoX(x), 1), next: chebyshevNext };
const HERMITE_H: Recurrence = { first: twoX, next: (x, h, previous, k) => sub(mul(twoX(x), h), mul(previous, 2 * k)) };
const HERMITE_HE: Recurrence = { first: (x) => x, next: (x, h, previous, k) => sub(mul(x, h), mul(previous, k)) };
const LAGUERRE_L: Recurrence = {
  first: (x) => sub(1, x),
  next: (x, l, previous, k) => div(sub(mul(sub(2 * k + 1, x), l), mul(previous, k)), k + 1),
  alternatingLeader: true,
};
const LEGENDRE_P: Recurrence = {
  first: (x) => x,
  next: (x, p, previous, k) => div(sub(mul(mul(x, p), 2 * k + 1), mul(previous, k)), k + 1),
};

/** x and n (truncated toward zero) in the dtype the result takes, float16 and bfloat16 as float32. */
function operands(op: string, x: TensorLike, n: PolynomialDegree): { x: Tensor; degree: Tensor | number; resultDType: Tensor['dtype'] } {
  const numeric = typeof n === 'number';
  if (numeric && !Number.isFinite(n)) throw new ValueError(`${op}: the degree n must be finite, got ${n}`);
  const like = isTensor(x) ? x : isTensor(n) ? n : undefined;
  const dtype = toFloating(numeric ? toTensor(op, x).dtype : resultDType(x, n));
  const compute = isHalf(dtype) ? 'float32' : dtype;
  const t = bindStopGradient(cast(toTensor(op, x, dtype, like), compute));
  const degree = numeric ? Math.trunc(n) : trunc(bindStopGradient(cast(toTensor(op, n, dtype, like), compute)));
  return { x: t, degree, resultDType: dtype };
}

/**
 * The largest degree in the tensor `degree`, read on the host: the length of the recurrence. Under
 * grad and vmap the values underneath are read (vmap: the largest over the batch); under jit they
 * do not exist yet.
 */
function largestDegree(op: string, degree: Tensor): number {
  const concrete = concreteOf(degree);
  if (concrete === undefined) {
    throw new ConcretizationError(
      `${op}: the recurrence runs to the largest degree in n, whose values do not exist yet while jit traces; pass n as a number, or call ${op} outside the jit-compiled function`,
    );
  }
  const backend = concrete.concreteBackend(op);
  if (backend.readSync === undefined) {
    throw new ValueError(
      `${op}: the recurrence runs to the largest degree in n, which backend '${backend.name}' cannot read synchronously; pass n as a number`,
    );
  }
  let largest = 0;
  for (const d of Array.from(concrete.dataSync() as ArrayLike<number>)) if (d > largest) largest = d;
  if (largest > MAX_DEGREE) throw new ValueError(`${op}: degree ${largest} is past ${MAX_DEGREE}, the longest recurrence this op unrolls`);
  return largest;
}

/** 1 where the degree is even, -1 where it is odd (x's sign applied to an odd or even polynomial). */
function parity(degree: Tensor | number): Tensor | number {
  return typeof degree === 'number' ? (degree % 2 === 0 ? 1 : -1) : where(equal(mod(degree, 2), 1), -1, 1);
}

/**
 * P_n(x) by the recurrence, to `steps` steps: for a number n the last one, for a tensor the step
 * equal to each element's degree (0 where none is: the negative degrees).
 */
function recur(family: Recurrence, x: Tensor, degree: Tensor | number, steps: number): Tensor {
  // P_0 is 1 whatever x is, NaN included (PyTorch returns it before looking at x).
  let previous = onesLike(x);
  if (typeof degree === 'number' && degree <= 0) return degree === 0 ? previous : zerosLike(x);
  let current = family.first(x);
  if (typeof degree === 'number') {
    for (let k = 1; k < degree; k++) [previous, current] = [current, family.next(x, current, previous, k)];
    return current;
  }
  let result = where(equal(degree, 0), previous, where(equal(degree, 1), current, 0));
  for (let k = 1; k < steps; k++) {
    [previous, current] = [current, family.next(x, current, previous, k)];
    result = where(equal(degree, k + 1), current, result);
  }
  return result;
}

/** The limit at x = ±Infinity: 1 for degree 0, else Infinity with the leading term's sign (PyTorch's recurrence gives Infinity - Infinity = NaN from degree 3). */
function atInfinity(family: Recurrence, x: Tensor, degree: Tensor | number): Tensor {
  const sign = where(less(x, 0), parity(degree), 1);
  const signed = family.alternatingLeader === true ? mul(sign, parity(degree)) : sign;
  const infinite = mul(signed, Number.POSITIVE_INFINITY);
  return typeof degree === 'number' ? (degree === 0 ? onesLike(x) : infinite) : where(equal(degree, 0), 1, infinite);
}

/** Runs `compute` on the operands, with ±Infinity's limits and negative degrees' 0, rounded to the result dtype. */
function evaluate(
  op: string,
  family: Recurrence,
  x: TensorLike,
  n: PolynomialDegree,
  compute: (x: Tensor, degree: Tensor | number) => Tensor,
): Tensor {
  return tidy(() => {
    const { x: t, degree, resultDType } = operands(op, x, n);
    const value = where(isinf(t), atInfinity(family, t, degree), compute(t, degree));
    const result = typeof degree === 'number' ? (degree < 0 ? zerosLike(value) : value) : where(less(degree, 0), 0, value);
    return cast(result, resultDType);
  });
}

/** A polynomial computed by its recurrence alone: a tensor degree reads its largest value. */
function byRecurrence(op: string, family: Recurrence, x: TensorLike, n: PolynomialDegree): Tensor {
  return evaluate(op, family, x, n, (t, degree) =>
    recur(family, t, degree, typeof degree === 'number' ? Math.max(degree, 0) : largestDegree(op, degree)),
  );
}

/** The angle acos(a) (|x| <= 1) and the hyperbolic acosh(a) (|x| > 1) of a = |x|, with where a lies. */
function angles(x: Tensor): { a: Tensor; inside: Tensor; theta: Tensor; tau: Tensor } {
  const a = abs(x);
  return { a, inside: lessEqual(a, 1), theta: acos(minimum(a, 1)), tau: acosh(maximum(a, 1)) };
}

/**
 * A Chebyshev polynomial: the recurrence up to degree 8, beyond it `closed(a, degree)`, the value
 * at a = |x| of the polynomial and of its reflection (`reflected`: its value at -a is parity times
 * that, for T and U the same polynomial, for V and W each other's).
 */
function chebyshevPolynomial(
  op: string,
  family: Recurrence,
  x: TensorLike,
  n: PolynomialDegree,
  closed: (x: Tensor, degree: Tensor | number) => { value: Tensor; reflected: Tensor },
): Tensor {
  return evaluate(op, family, x, n, (t, degree) => {
    const closedForm = (): Tensor => {
      const { value, reflected } = closed(t, degree);
      return where(less(t, 0), mul(reflected, parity(degree)), value);
    };
    if (typeof degree === 'number') return degree > CHEBYSHEV_RECURRENCE_LIMIT ? closedForm() : recur(family, t, degree, degree);
    return where(greater(degree, CHEBYSHEV_RECURRENCE_LIMIT), closedForm(), recur(family, t, degree, CHEBYSHEV_RECURRENCE_LIMIT));
  });
}

/** `degree * angle + offset` (degree a number or a tensor). */
function multiple(degree: Tensor | number, angle: Tensor, offset: number): Tensor {
  return mul(angle, typeof degree === 'number' ? degree + offset : add(degree, offset));
}

/**
 * The Chebyshev polynomial of the first kind T_n(x) (torch.special.chebyshev_polynomial_t): the
 * recurrence T_(k+1) = 2x T_k - T_(k-1) up to degree 8, cos(n acos x) (|x| <= 1) or
 * ±cosh(n acosh |x|) beyond. n is truncated toward zero; a negative n gives 0. ±Infinity gives
 * ±Infinity (PyTorch's recurrence: NaN from degree 3). The gradient is zero, as PyTorch defines
 * none.
 *
 * @example
 * chebyshevPolynomialT(tensor([0.5, 2]), 3); // [-1, 26]
 */
export function chebyshevPolynomialT(x: TensorLike, n: PolynomialDegree): Tensor {
  return chebyshevPolynomial('chebyshevPolynomialT', CHEBYSHEV_T, x, n, (t, degree) => {
    const { inside, theta, tau } = angles(t);
    const value = where(inside, cos(multiple(degree, theta, 0)), cosh(multiple(degree, tau, 0)));
    return { value, reflected: value };
  });
}

/**
 * The Chebyshev polynomial of the second kind U_n(x) (torch.special.chebyshev_polynomial_u):
 * the recurrence up to degree 8, sin((n + 1) acos x) / sin(acos x) or its hyperbolic form beyond
 * (n + 1 at x = 1). The gradient is zero, as PyTorch defines none.
 *
 * @example
 * chebyshevPolynomialU(tensor([0.5, 2]), 3); // [-1, 56]
 */
export function chebyshevPolynomialU(x: TensorLike, n: PolynomialDegree): Tensor {
  return chebyshevPolynomial('chebyshevPolynomialU', CHEBYSHEV_U, x, n, (t, degree) => {
    const { a, inside, theta, tau } = angles(t);
    const ratio = where(inside, div(sin(multiple(degree, theta, 1)), sin(theta)), div(sinh(multiple(degree, tau, 1)), sinh(tau)));
    const value = where(equal(a, 1), typeof degree === 'number' ? degree + 1 : add(degree, 1), ratio);
    return { value, reflected: value };
  });
}

/** V_n and W_n at a = |x|: cos((n + 1/2) θ) / cos(θ/2) and sin((n + 1/2) θ) / sin(θ/2), or their hyperbolic forms; W_n(1) = 2n + 1. */
function thirdAndFourthKind(t: Tensor, degree: Tensor | number): { v: Tensor; w: Tensor } {
  const { a, inside, theta, tau } = angles(t);
  const halfTheta = mul(theta, 0.5);
  const halfTau = mul(tau, 0.5);
  const v = where(inside, div(cos(multiple(degree, theta, 0.5)), cos(halfTheta)), div(cosh(multiple(degree, tau, 0.5)), cosh(halfTau)));
  const w = where(inside, div(sin(multiple(degree, theta, 0.5)), sin(halfTheta)), div(sinh(multiple(degree, tau, 0.5)), sinh(halfTau)));
  return { v, w: where(equal(a, 1), typeof degree === 'number' ? 2 * degree + 1 : add(mul(degree, 2), 1), w) };
}

/**
 * The Chebyshev polynomial of the third kind V_n(x) (torch.special.chebyshev_polynomial_v):
 * V_0 = 1, V_1 = 2x - 1 and T's recurrence up to degree 8, cos((n + 1/2) θ) / cos(θ/2) (x = cos θ)
 * or its hyperbolic form beyond; V_n(-x) = (-1)^n W_n(x). The gradient is zero, as PyTorch
 * defines none.
 *
 * @example
 * chebyshevPolynomialV(tensor([0.5, -1]), 2); // [-1, 5]
 */
export function chebyshevPolynomialV(x: TensorLike, n: PolynomialDegree): Tensor {
  return chebyshevPolynomial('chebyshevPolynomialV', CHEBYSHEV_V, x, n, (t, degree) => {
    const { v, w } = thirdAndFourthKind(t, degree);
    return { value: v, reflected: w };
  });
}

/**
 * The Chebyshev polynomial of the fourth kind W_n(x) (torch.special.chebyshev_polynomial_w):
 * W_0 = 1, W_1 = 2x + 1 and T's recurrence up to degree 8, sin((n + 1/2) θ) / sin(θ/2) or its
 * hyperbolic form beyond; W_n(-x) = (-1)^n V_n(x). The gradient is zero, as PyTorch defines none.
 *
 * @example
 * chebyshevPolynomialW(tensor([0.5, 1]), 2); // [3, 5]
 */
export function chebyshevPolynomialW(x: TensorLike, n: PolynomialDegree): Tensor {
  return chebyshevPolynomial('chebyshevPolynomialW', CHEBYSHEV_W, x, n, (t, degree) => {
    const { v, w } = thirdAndFourthKind(t, degree);
    return { value: w, reflected: v };
  });
}

/**
 * The physicists' Hermite polynomial H_n(x) (torch.special.hermite_polynomial_h):
 * H_(k+1) = 2x H_k - 2k H_(k-1). A tensor n is read for its largest degree (a synchronous read:
 * pass a number under jit or on webgpu and cuda); the ops grow with the degree (at most 10000).
 * The gradient is zero, as PyTorch defines none.
 *
 * @example
 * hermitePolynomialH(tensor([1, 2]), 3); // [-4, 40]
 */
export function hermitePolynomialH(x: TensorLike, n: PolynomialDegree): Tensor {
  return byRecurrence('hermitePolynomialH', HERMITE_H, x, n);
}

/**
 * The probabilists' Hermite polynomial He_n(x) (torch.special.hermite_polynomial_he):
 * He_(k+1) = x He_k - k He_(k-1); n as in `hermitePolynomialH`. The gradient is zero.
 *
 * @example
 * hermitePolynomialHe(tensor([1, 2]), 3); // [-2, 2]
 */
export function hermitePolynomialHe(x: TensorLike, n: PolynomialDegree): Tensor {
  return byRecurrence('hermitePolynomialHe', HERMITE_HE, x, n);
}

/**
 * The Laguerre polynomial L_n(x) (torch.special.laguerre_polynomial_l):
 * L_(k+1) = ((2k + 1 - x) L_k - k L_(k-1)) / (k + 1); n as in `hermitePolynomialH`. The gradient
 * is zero, as PyTorch defines none.
 *
 * @example
 * laguerrePolynomialL(tensor([0, 1]), 2); // [1, -0.5]
 */
export function laguerrePolynomialL(x: TensorLike, n: PolynomialDegree): Tensor {
  return byRecurrence('laguerrePolynomialL', LAGUERRE_L, x, n);
}

/**
 * The Legendre polynomial P_n(x) (torch.special.legendre_polynomial_p):
 * P_(k+1) = ((2k + 1) x P_k - k P_(k-1)) / (k + 1); n as in `hermitePolynomialH`. The gradient is
 * zero, as PyTorch defines none.
 *
 * @example
 * legendrePolynomialP(tensor([0.5, -1]), 2); // [-0.125, 1]
 */
export function legendrePolynomialP(x: TensorLike, n: PolynomialDegree): Tensor {
  return byRecurrence('legendrePolynomialP', LEGENDRE_P, x, n);
}
