import { type DType, isHalf, toFloating } from '../core/dtype.js';
import { NotImplementedError } from '../core/errors.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindCustomJvp, bindCustomVjp, bindStopGradient, Tracer } from '../transforms/core.js';
import type { CustomJvpCall, CustomVjpCall } from '../transforms/custom-call.js';
import { JvpTracer } from '../transforms/jvp-trace.js';
import { broadcastAll, cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { zerosLike } from './creation.js';
import { add, exp, mul, round, sub } from './elementwise.js';

// What the special functions (ops/gamma.ts, ops/error-functions.ts, ops/bessel.ts) share: the
// dtype they compute in, series evaluation, an accurate exp(±x²), and the derivative rule of a
// function computed by an approximation.

/**
 * The input of a special function as the floating tensor it is computed in, and the dtype the
 * result takes: integers and bools compute in float32 (as `exp` does, docs/dtypes.md), float16
 * and bfloat16 in float32 (their series need float32's range and precision), rounded once.
 */
export function specialInput(op: string, x: TensorLike): { readonly input: Tensor; readonly resultDType: DType } {
  const t = toTensor(op, x);
  const resultDType = toFloating(t.dtype);
  return { input: cast(t, isHalf(resultDType) ? 'float32' : resultDType), resultDType };
}

/** Runs `fn` on the special function's input and rounds its result to the result dtype. */
export function computeSpecial(op: string, x: TensorLike, fn: (input: Tensor) => Tensor): Tensor {
  return tidy(() => {
    const { input, resultDType } = specialInput(op, x);
    return cast(fn(input), resultDType);
  });
}

/**
 * `computeSpecial` for a function PyTorch defines no derivative for (the Bessel functions of
 * torch.special, the orthogonal polynomials): its result does not require grad in PyTorch, so
 * here it is computed from a stopped input and its gradient is zero, as a constant's (what the
 * non-differentiable primitives give, test/gradcheck/cases/nondifferentiable.ts), and no tape
 * records the series behind it.
 */
export function computeWithoutDerivative(op: string, x: TensorLike, fn: (input: Tensor) => Tensor): Tensor {
  return computeSpecial(op, x, (input) => fn(bindStopGradient(input)));
}

/**
 * A Chebyshev series on [-1, 1]: `coefficients` c0..cn give c0 + c1 T1(t) + ... (c0 not halved),
 * accurate to float64 rounding; float32 stops after `float32Terms` (the rest is below its ulp).
 */
export interface Series {
  readonly float32Terms: number;
  readonly coefficients: readonly number[];
}

/** The series `s` at `t` in [-1, 1], by Clenshaw's recurrence (stable wherever |t| <= 1). */
export function chebyshev(t: Tensor, s: Series): Tensor {
  const c = t.dtype === 'float64' ? s.coefficients : s.coefficients.slice(0, s.float32Terms);
  const twoT = mul(t, 2);
  let next: Tensor | number = 0;
  let current: Tensor | number = c[c.length - 1] as number;
  for (let k = c.length - 2; k >= 1; k--) {
    const b: Tensor = add(sub(mul(twoT, current), next), c[k] as number);
    next = current;
    current = b;
  }
  return add(sub(mul(t, current), next), c[0] as number);
}

/** `c[0] + c[1] x + c[2] x² + ...` by Horner's rule. */
export function polynomial(x: Tensor, c: readonly number[]): Tensor {
  let result: Tensor | number = c[c.length - 1] as number;
  for (let k = c.length - 2; k >= 0; k--) result = add(mul(x, result), c[k] as number);
  return typeof result === 'number' ? add(mul(x, 0), result) : result;
}

/**
 * `exp(factor * x²)` for a factor of ±1 or ±1/2, without the error of rounding x² first, which
 * exp would magnify by x² (to 7e-14 relative at x = 26 in float64, 6e-6 at x = 9 in float32):
 * x = h + l with h a multiple of 1/16, so that factor * h² is exact, and
 * `exp(factor h²) exp(factor l (x + h))`. For |x| up to 256 (float32) or 6.7e7 (float64), well
 * past where the result overflows or underflows.
 */
export function expOfSquare(x: Tensor, factor: 1 | -1 | 0.5 | -0.5): Tensor {
  const high = mul(round(mul(x, 16)), 1 / 16);
  const low = sub(x, high);
  return mul(exp(mul(mul(high, high), factor)), exp(mul(mul(low, add(x, high)), factor)));
}

/** Whether forward mode (jvp, jacfwd, linearize) traces `x` at some level. */
function forwardModeTraces(x: Tensor): boolean {
  for (let t: Tensor | null = x; t instanceof Tracer; t = t._lower()) if (t instanceof JvpTracer) return true;
  return false;
}

/**
 * The single output of a function given both as a customJvp call (when forward mode traces an
 * input, so that its tangent rule applies) and as a customVjp call (otherwise: reverse mode, the
 * tape and jit see its backward rule).
 */
function bindCustom(jvpCall: CustomJvpCall, vjpCall: CustomVjpCall, inputs: readonly Tensor[]): Tensor {
  return (inputs.some(forwardModeTraces) ? bindCustomJvp(jvpCall, inputs) : bindCustomVjp(vjpCall, inputs))[0] as Tensor;
}

/**
 * A unary elementwise function computed by `value` (an approximation in many ops: a series, a
 * recurrence, branches selected by `where`) whose derivative is `derivative(x, y)` (y = f(x)),
 * as PyTorch defines it (lgamma' = digamma, i0' = i1), not the derivative of the approximation's
 * ops, which would be less accurate and NaN where a branch not taken overflows.
 *
 * Reverse mode (grad, vjp, backward(), jit) sees a customVjp call whose backward rule is
 * `g * derivative(x, y)`, computed only when the backward pass runs, so that a derivative that
 * is itself such a function (digamma, then trigamma, ...) is differentiated only as deep as a
 * caller asks. Forward mode sees a customJvp call with the same rule. Both rules compute `y`
 * and the derivative with the public functions, so every order of derivative uses them.
 */
export function withDerivative(
  name: string,
  value: (x: Tensor) => Tensor,
  derivative: (x: Tensor, y: Tensor) => Tensor,
): (x: Tensor) => Tensor {
  const fn = (inputs: readonly Tensor[]): Tensor[] => [tidy(() => value(inputs[0] as Tensor))];
  const apply = (x: Tensor): Tensor => bindCustom(jvpCall, vjpCall, [x]);
  const vjpCall: CustomVjpCall = {
    name,
    differentiateFnInForwardMode: false,
    fn,
    fwd: (inputs) => {
      const x = inputs[0] as Tensor;
      const y = apply(x);
      return { outputs: [y], residuals: [x, y] };
    },
    bwd: (residuals, cotangents) => {
      const [x, y] = residuals as [Tensor, Tensor];
      return [tidy(() => mul(cotangents[0] as Tensor, derivative(x, y)))];
    },
  };
  const jvpCall: CustomJvpCall = {
    name,
    fn,
    jvp: (primals, tangents) => {
      const x = primals[0] as Tensor;
      const y = apply(x);
      return { outputs: [y], tangents: [tidy(() => mul(tangents[0] as Tensor, derivative(x, y)))] };
    },
  };
  return apply;
}

/**
 * The identity, except that differentiating through it is a NotImplementedError saying
 * `message`: PyTorch's not_implemented derivative (zeta's with respect to x, igamma's with respect
 * to its first argument), raised as PyTorch raises it, when a backward (or forward-mode) pass
 * reaches the input, and not when the input is a constant.
 */
function withoutDerivative(name: string, message: string): (x: Tensor) => Tensor {
  const fn = (inputs: readonly Tensor[]): Tensor[] => [mul(inputs[0] as Tensor, 1)];
  const fail = (): never => {
    throw new NotImplementedError(message);
  };
  const vjpCall: CustomVjpCall = {
    name,
    differentiateFnInForwardMode: false,
    fn,
    fwd: (inputs) => ({ outputs: fn(inputs), residuals: null }),
    bwd: fail,
  };
  const jvpCall: CustomJvpCall = { name, fn, jvp: fail };
  return (x) => bindCustom(jvpCall, vjpCall, [x]);
}

/**
 * The operands of a binary special function as floating tensors of one dtype and shape (their
 * promoted dtype lifted to float, float16 and bfloat16 as float32), broadcast before the call so
 * that its derivative rule sees equal shapes (broadcasting's own rule sums them back).
 */
function specialOperands(op: string, a: TensorLike, b: TensorLike): { a: Tensor; b: Tensor; resultDType: DType } {
  const dtype = toFloating(resultDType(a, b));
  const compute = isHalf(dtype) ? 'float32' : dtype;
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  const [ta, tb] = broadcastAll(op, [cast(toTensor(op, a, dtype, like), compute), cast(toTensor(op, b, dtype, like), compute)]);
  return { a: ta as Tensor, b: tb as Tensor, resultDType: dtype };
}

/** `computeSpecial` for a binary function: `fn` on the operands as specialOperands makes them, rounded to the result dtype. */
export function computeBinarySpecial(op: string, a: TensorLike, b: TensorLike, fn: (a: Tensor, b: Tensor) => Tensor): Tensor {
  return tidy(() => {
    const operands = specialOperands(op, a, b);
    return cast(fn(operands.a, operands.b), operands.resultDType);
  });
}

/**
 * A binary elementwise function computed by `value(a, b)`, differentiable in `b` with
 * `derivative(a, b, y)` (y = f(a, b)) by rule, as withDerivative, and not in `a`: there PyTorch's
 * derivative is not implemented, and differentiating is a NotImplementedError saying
 * `aNotDifferentiable`. Both operands have one shape and dtype (specialOperands).
 */
export function withSecondDerivative(
  name: string,
  value: (a: Tensor, b: Tensor) => Tensor,
  derivative: (a: Tensor, b: Tensor, y: Tensor) => Tensor,
  aNotDifferentiable: string,
): (a: Tensor, b: Tensor) => Tensor {
  const guard = withoutDerivative(`${name}: first argument`, aNotDifferentiable);
  const fn = (inputs: readonly Tensor[]): Tensor[] => [tidy(() => value(inputs[0] as Tensor, inputs[1] as Tensor))];
  const call = (a: Tensor, b: Tensor): Tensor => bindCustom(jvpCall, vjpCall, [a, b]);
  const vjpCall: CustomVjpCall = {
    name,
    differentiateFnInForwardMode: false,
    fn,
    fwd: (inputs) => {
      const [a, b] = inputs as [Tensor, Tensor];
      const y = call(a, b);
      return { outputs: [y], residuals: [a, b, y] };
    },
    bwd: (residuals, cotangents) => {
      const [a, b, y] = residuals as [Tensor, Tensor, Tensor];
      // A zero cotangent for a (not null): it reaches a's guard, which raises if a is differentiated.
      return tidy(() => [zerosLike(a), mul(cotangents[0] as Tensor, derivative(a, b, y))]);
    },
  };
  const jvpCall: CustomJvpCall = {
    name,
    fn,
    jvp: (primals, tangents) => {
      const [a, b] = primals as [Tensor, Tensor];
      const y = call(a, b);
      return { outputs: [y], tangents: [tidy(() => mul(tangents[1] as Tensor, derivative(a, b, y)))] };
    },
  };
  return (a, b) => call(guard(a), b);
}
