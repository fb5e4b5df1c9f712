import { add, div, equal, expm1, maximum, mul, neg, pow, sqrt, sub, where } from '../ops/elementwise.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * A hyperparameter-like quantity that is a JavaScript number in the imperative optimizers (step
 * counts, bias corrections: computed in float64, as PyTorch computes them in Python floats) and a
 * rank-0 tensor in the functional ones (so that a jit-compiled update stays a pure function of
 * its tensor inputs). Each optimizer's rule is written once over this type.
 */
export type Scalar = number | Tensor;

// Each helper stays in JavaScript arithmetic while every operand is a number, and otherwise
// emits tensor ops; so the imperative step never creates a tensor for a scalar formula.

export function scalarAdd(a: Scalar, b: Scalar): Scalar {
  return typeof a === 'number' && typeof b === 'number' ? a + b : add(a, b);
}

export function scalarSub(a: Scalar, b: Scalar): Scalar {
  return typeof a === 'number' && typeof b === 'number' ? a - b : sub(a, b);
}

export function scalarMul(a: Scalar, b: Scalar): Scalar {
  return typeof a === 'number' && typeof b === 'number' ? a * b : mul(a, b);
}

export function scalarDiv(a: Scalar, b: Scalar): Scalar {
  return typeof a === 'number' && typeof b === 'number' ? a / b : div(a, b);
}

/** `base ** exponent`. */
export function scalarPow(base: Scalar, exponent: Scalar): Scalar {
  return typeof base === 'number' && typeof exponent === 'number' ? base ** exponent : pow(base, exponent);
}

/** The larger of `a` and `b`. */
export function scalarMaximum(a: Scalar, b: Scalar): Scalar {
  return typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : maximum(a, b);
}

/**
 * `1 - base ** exponent`, the bias corrections of Adam-like optimizers. For a traced step it is
 * computed as -expm1(exponent * ln(base)), which keeps full relative precision where
 * `1 - base ** t` would cancel (1 - 0.999^2 loses four digits in float32).
 */
export function scalarOneMinusPow(base: number, exponent: Scalar): Scalar {
  return typeof exponent === 'number' ? 1 - base ** exponent : neg(expm1(mul(exponent, Math.log(base))));
}

export function scalarSqrt(a: Scalar): Scalar {
  return typeof a === 'number' ? Math.sqrt(a) : sqrt(a);
}

/**
 * `whenFirst` on the first step (step === 1) and `otherwise` after it: a JavaScript branch for a
 * number step, an elementwise select for a traced one.
 */
export function onFirstStep(step: Scalar, whenFirst: () => Tensor, otherwise: () => Tensor): Tensor;
export function onFirstStep(step: Scalar, whenFirst: () => Scalar, otherwise: () => Scalar): Scalar;
export function onFirstStep(step: Scalar, whenFirst: () => Scalar, otherwise: () => Scalar): Scalar {
  if (typeof step === 'number') return step === 1 ? whenFirst() : otherwise();
  return where(equal(step, 1), whenFirst(), otherwise());
}

export function isTensorScalar(value: Scalar): value is Tensor {
  return isTensor(value);
}
