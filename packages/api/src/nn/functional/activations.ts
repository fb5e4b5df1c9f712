import { runInFloat32 } from '../../amp/autocast.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import {
  abs,
  add,
  div,
  equal,
  erf,
  exp,
  expm1,
  greater,
  greaterEqual,
  tanh as hyperbolicTangent,
  less,
  lessEqual,
  log,
  log1p,
  logicalAnd,
  sigmoid as logistic,
  mul,
  neg,
  sub,
  unaryOp,
  where,
} from '../../ops/elementwise.js';
import { narrow, reshape } from '../../ops/movement.js';
import { max, sum } from '../../ops/reduce.js';
import { Primitive } from '../../primitives/primitive.js';
import { isTensor, releasing, tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { axisOf, checkNumber, floatTensor, stopGradient } from './common.js';
import { compositeSoftmax } from './fused-composite.js';
import { savingInput } from './input-derivative.js';

// Activation functions as composites of elementwise ops. At a switch point (a kink, or where a
// piecewise formula changes form) each gives PyTorch's derivative, as its *_backward kernel
// computes it; the comment on each function names the convention.

/** A branch of `guardedWhere`: `compute(input)`, valid only where it is taken. */
interface GuardedBranch {
  readonly input: Tensor;
  /** An input on which `compute` and its derivative are finite, fed where the branch is not taken. */
  readonly safe: number;
  readonly compute: (input: Tensor) => Tensor;
}

/**
 * `where(condition, whenTrue, whenFalse)` for branches that overflow where they are not taken
 * (exp of a large input): a guarded branch is fed its `input` where it is taken and `safe`
 * elsewhere, so that its infinite derivative there cannot turn the zero cotangent `where` sends
 * it into NaN. The guard is itself a `where` on the same condition, so where the branch is taken
 * its whole derivative passes, the switch point included. (A `minimum`/`maximum` guard split the
 * derivative in half there, by their tie rule: ELU's at 0, Softplus's at its threshold.)
 */
function guardedWhere(condition: Tensor, whenTrue: GuardedBranch | Tensor, whenFalse: GuardedBranch | Tensor): Tensor {
  const taken = (branch: GuardedBranch | Tensor, onTrue: boolean): Tensor => {
    if (isTensor(branch)) return branch;
    return branch.compute(onTrue ? where(condition, branch.input, branch.safe) : where(condition, branch.safe, branch.input));
  };
  return where(condition, taken(whenTrue, true), taken(whenFalse, false));
}

/**
 * `max(x, 0)`, with derivative 0 at 0 (as PyTorch); NaN and -0 pass through, as torch.relu. One
 * kernel each way (the Relu primitive, and ReluGrad for its derivative), as PyTorch's relu and
 * threshold_backward.
 *
 * @example
 * nn.functional.relu(tensor([-1, 0, 2])); // [0, 0, 2]
 */
export function relu(x: TensorLike): Tensor {
  return unaryOp('relu', Primitive.Relu, x, 'numeric');
}

/**
 * `min(max(x, 0), 6)` (torch.nn.functional.relu6, which is `hardtanh(x, 0, 6)`): derivative 0 at
 * 0 and at 6.
 *
 * @example
 * nn.functional.relu6(tensor([-1, 3, 9])); // [0, 3, 6]
 */
export function relu6(x: TensorLike): Tensor {
  return hardtanh(x, 0, 6);
}

/**
 * Clamps to [minValue, maxValue] (default [-1, 1]) with derivative 1 strictly inside, 0 outside
 * and at both ends, as PyTorch's hardtanh_backward (`x <= min || x >= max ? 0 : g`; NaN passes
 * its gradient). `clamp`, by contrast, passes it at the bounds, as torch.clamp.
 *
 * @example
 * nn.functional.hardtanh(tensor([-2, 0.5, 2])); // [-1, 0.5, 1]
 */
export function hardtanh(x: TensorLike, minValue = -1, maxValue = 1): Tensor {
  return tidy(() => {
    const op = 'hardtanh';
    checkNumber(op, 'minValue', minValue);
    checkNumber(op, 'maxValue', maxValue);
    if (minValue > maxValue) throw new ValueError(`${op}: minValue (${minValue}) must not exceed maxValue (${maxValue})`);
    const t = floatTensor(op, x);
    return where(lessEqual(t, minValue), minValue, where(greaterEqual(t, maxValue), maxValue, t));
  });
}

/**
 * `x` where positive, `negativeSlope * x` elsewhere (default slope 0.01); the derivative at 0 is
 * the negative slope, as PyTorch's leaky_relu_backward (`x > 0 ? g : g * slope`).
 *
 * @example
 * nn.functional.leakyRelu(tensor([-10, 5]), 0.1); // [-1, 5]
 */
export function leakyRelu(x: TensorLike, negativeSlope = 0.01): Tensor {
  return tidy(() => {
    checkNumber('leakyRelu', 'negativeSlope', negativeSlope);
    const t = floatTensor('leakyRelu', x);
    // x times a slope picked by sign: the derivative is one product with that constant slope.
    const slope = where(greater(t, 0), toTensor('leakyRelu', 1, t.dtype, t), toTensor('leakyRelu', negativeSlope, t.dtype, t));
    return mul(t, slope);
  });
}

/** How GELU is computed: exactly with erf, or with PyTorch's tanh approximation. */
export type GeluApproximation = 'none' | 'tanh';

/**
 * Gaussian error linear unit: `x * Φ(x)` exactly (`approximate: 'none'`, the default), or
 * `0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³)))` with `'tanh'`.
 *
 * @example
 * nn.functional.gelu(tensor([1]));          // [0.8413]
 * nn.functional.gelu(tensor([1]), 'tanh');  // [0.8412]
 */
export function gelu(x: TensorLike, approximate: GeluApproximation = 'none'): Tensor {
  return tidy(() => {
    const op = 'gelu';
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new ValueError(`${op}: approximate must be 'none' or 'tanh', got ${JSON.stringify(approximate)}`);
    }
    const t = floatTensor(op, x);
    return approximate === 'none' ? savingInput(op, t, geluExact, geluExactDerivative) : savingInput(op, t, geluTanh, geluTanhDerivative);
  });
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const ONE_OVER_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Φ(x), the standard normal CDF. */
const normalCdf = (t: Tensor): Tensor => mul(add(erf(mul(t, Math.SQRT1_2)), 1), 0.5);
const geluExact = (t: Tensor): Tensor => mul(t, normalCdf(t));
/** Φ(x) + x φ(x). */
const geluExactDerivative = (t: Tensor): Tensor => add(normalCdf(t), mul(t, mul(exp(mul(mul(t, t), -0.5)), ONE_OVER_SQRT_2PI)));

/** tanh(sqrt(2/π) (x + 0.044715 x³)). */
const geluTanhGate = (t: Tensor): Tensor => hyperbolicTangent(mul(add(t, mul(mul(mul(t, t), t), 0.044715)), SQRT_2_OVER_PI));
const geluTanh = (t: Tensor): Tensor => mul(mul(t, 0.5), add(geluTanhGate(t), 1));
/** 0.5 (1 + tanh u) + 0.5 x (1 - tanh² u) sqrt(2/π) (1 + 3 · 0.044715 x²). */
function geluTanhDerivative(t: Tensor): Tensor {
  const gate = geluTanhGate(t);
  const slope = mul(add(mul(mul(t, t), 3 * 0.044715), 1), SQRT_2_OVER_PI);
  return add(mul(add(gate, 1), 0.5), mul(mul(mul(t, 0.5), sub(1, mul(gate, gate))), slope));
}

/**
 * Sigmoid linear unit (swish): `x * sigmoid(x)`.
 *
 * @example
 * nn.functional.silu(tensor([0, 1])); // [0, 0.7311]
 */
export function silu(x: TensorLike): Tensor {
  return tidy(() => savingInput('silu', floatTensor('silu', x), (t) => mul(t, logistic(t)), siluDerivative));
}

/** σ(x) (1 + x (1 - σ(x))). */
function siluDerivative(t: Tensor): Tensor {
  const s = logistic(t);
  return mul(s, add(mul(t, sub(1, s)), 1));
}

/**
 * Exponential linear unit: `x` where positive, `alpha * (exp(x) - 1)` elsewhere. The derivative
 * at 0 is `alpha`, the negative side's, as PyTorch's elu_backward (`x <= 0`); NaN takes the
 * positive side.
 *
 * @example
 * nn.functional.elu(tensor([-1, 2])); // [-0.6321, 2]
 */
export function elu(x: TensorLike, alpha = 1): Tensor {
  return tidy(() => {
    checkNumber('elu', 'alpha', alpha);
    const t = floatTensor('elu', x);
    return guardedWhere(lessEqual(t, 0), { input: t, safe: 0, compute: (negative) => mul(expm1(negative), alpha) }, t);
  });
}

/** SELU's constants (Klambauer et al., 2017): PyTorch's 1.6732632423543772848170429916717 and 1.0507009873554804934193349852946 as doubles. */
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/**
 * Scaled exponential linear unit: `scale * x` where positive, `scale * alpha * (exp(x) - 1)`
 * elsewhere, with PyTorch's constants (alpha ≈ 1.6733, scale ≈ 1.0507). The derivative at 0 is
 * `scale * alpha`, the negative side's, as PyTorch's elu_backward (`x <= 0`).
 *
 * @example
 * nn.functional.selu(tensor([-1, 2])); // [-1.1113, 2.1014]
 */
export function selu(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('selu', x);
    return guardedWhere(
      lessEqual(t, 0),
      { input: t, safe: 0, compute: (negative) => mul(expm1(negative), SELU_ALPHA * SELU_SCALE) },
      mul(t, SELU_SCALE),
    );
  });
}

/**
 * Continuously differentiable ELU: `x` where positive, `alpha * (exp(x / alpha) - 1)` elsewhere
 * (default alpha 1; alpha must be non-zero). Its derivative is 1 at 0 from both sides; the
 * negative side's formula gives it there, as PyTorch's elu_backward (`x <= 0`).
 *
 * @example
 * nn.functional.celu(tensor([-1, 2]), 2); // [-0.7869, 2]
 */
export function celu(x: TensorLike, alpha = 1): Tensor {
  return tidy(() => {
    const op = 'celu';
    checkNumber(op, 'alpha', alpha);
    if (alpha === 0) throw new ValueError(`${op}: alpha must be non-zero (it divides the input), got 0`);
    const t = floatTensor(op, x);
    return guardedWhere(lessEqual(t, 0), { input: t, safe: 0, compute: (negative) => mul(expm1(mul(negative, 1 / alpha)), alpha) }, t);
  });
}

/**
 * Gated linear unit: splits `x` in halves `a` and `b` along `axis` (default the last, whose size
 * must be even) and returns `a * sigmoid(b)`.
 *
 * @example
 * nn.functional.glu(tensor([1, 2, 0, 0])); // [0.5, 1]
 */
export function glu(x: TensorLike, axis = -1): Tensor {
  return tidy(() => {
    const op = 'glu';
    const t = floatTensor(op, x);
    if (t.ndim === 0) throw new ShapeError(`${op}: the input must have at least one axis to halve, got a scalar`);
    const a = axisOf(op, axis, t.ndim);
    const size = t.shape[a] as number;
    if (size % 2 !== 0) throw new ShapeError(`${op}: axis ${axis} must have an even size to halve, got input ${formatShape(t.shape)}`);
    const half = size / 2;
    return mul(narrow(t, a, 0, half), logistic(narrow(t, a, half, half)));
  });
}

/**
 * `x * relu6(x + 3) / 6` (torch.nn.functional.hardswish): 0 below -3, `x` above 3. Its derivative
 * is PyTorch's hardswish_backward: 0 where `x < -3`, `x / 3 + 0.5` where `x <= 3` (so -0.5 at -3
 * and 1.5 at 3), 1 above.
 *
 * @example
 * nn.functional.hardswish(tensor([-4, 1, 4])); // [0, 0.6667, 4]
 */
export function hardswish(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('hardswish', x);
    // The quadratic piece is guarded so that a NaN input, which takes the linear side as in
    // PyTorch, gets that side's derivative 1 rather than the discarded piece's 0 · NaN.
    const quadratic = (u: Tensor): Tensor => div(mul(u, add(u, 3)), 6);
    return where(less(t, -3), 0, guardedWhere(lessEqual(t, 3), { input: t, safe: 0, compute: quadratic }, t));
  });
}

/**
 * `relu6(x + 3) / 6` (torch.nn.functional.hardsigmoid): 0 up to -3, 1 from 3, linear between.
 * Its derivative is PyTorch's hardsigmoid_backward: 1/6 strictly inside (-3, 3), 0 at ±3 and
 * outside.
 *
 * @example
 * nn.functional.hardsigmoid(tensor([-4, 0, 4])); // [0, 0.5, 1]
 */
export function hardsigmoid(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('hardsigmoid', x);
    // The linear piece is selected on PyTorch's -3 < x < 3, so the ends take the constants' 0.
    const inside = logicalAnd(greater(t, -3), less(t, 3));
    // NaN, in neither piece, stays NaN with derivative 0 (mul(t, 0)), as PyTorch's.
    return where(inside, div(add(t, 3), 6), where(lessEqual(t, -3), 0, where(greaterEqual(t, 3), 1, mul(t, 0))));
  });
}

/**
 * `x / (1 + |x|)`. Its derivative `1 / (1 + |x|)²` is 1 at 0 (PyTorch computes it from the same
 * formula).
 *
 * @example
 * nn.functional.softsign(tensor([-3, 1])); // [-0.75, 0.5]
 */
export function softsign(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('softsign', x);
    return div(t, add(abs(t), 1));
  });
}

/**
 * `x` where `x > threshold`, else `value` (torch.nn.functional.threshold); NaN passes. The
 * derivative is 1 where `x > threshold` (and at NaN), 0 where `x <= threshold`, as PyTorch's
 * threshold_backward.
 *
 * @example
 * nn.functional.threshold(tensor([-1, 0.5, 2]), 1, -5); // [-5, -5, 2]
 */
export function threshold(x: TensorLike, threshold: number, value: number): Tensor {
  return tidy(() => {
    const op = 'threshold';
    checkNumber(op, 'threshold', threshold);
    checkNumber(op, 'value', value);
    const t = floatTensor(op, x);
    return where(lessEqual(t, threshold), value, t);
  });
}

/**
 * Parametric ReLU: `x` where positive, `weight * x` elsewhere, with one slope per channel (axis 1
 * of an input with two or more axes) or one for all (torch.nn.functional.prelu). `weight` has 1
 * element or as many as the channels. At 0 the input's derivative is the weight and the weight's
 * is 0, as PyTorch's prelu backward (`x > 0 ? g : w g`).
 *
 * @example
 * nn.functional.prelu(tensor([[-2, 3]]), tensor([0.25])); // [[-0.5, 3]]
 */
export function prelu(x: TensorLike, weight: TensorLike): Tensor {
  return tidy(() => {
    const op = 'prelu';
    const t = floatTensor(op, x);
    const w = cast(floatTensor(op, weight, 'the weight', t), t.dtype);
    if (w.ndim > 1) throw new ShapeError(`${op}: weight must be a scalar or 1-D, got ${formatShape(w.shape)}`);
    let slope = w;
    if (w.size === 1) slope = reshape(w, []);
    else {
      if (t.ndim === 0) throw new ShapeError(`${op}: a scalar input takes a single weight, got weight ${formatShape(w.shape)}`);
      const channels = t.ndim > 1 ? (t.shape[1] as number) : 1;
      if (w.size !== channels) {
        throw new ShapeError(
          `${op}: weight ${formatShape(w.shape)} must have 1 element or one per channel (axis 1 of input ${formatShape(t.shape)}: ${channels})`,
        );
      }
      slope = reshape(
        w,
        t.shape.map((d, i) => (i === 1 ? d : 1)),
      );
    }
    // x times a slope picked by sign: the derivative is that slope, and the weight's is x where x <= 0.
    return mul(t, where(greater(t, 0), toTensor(op, 1, t.dtype, t), slope));
  });
}

/**
 * `log(1 + exp(beta x)) / beta`, reverting to `x` where `beta x > threshold` (defaults 1 and 20,
 * as PyTorch) for numerical stability. At `beta x == threshold` the derivative is the smooth
 * side's, `sigmoid(beta x)`, as PyTorch's softplus_backward.
 *
 * @example
 * nn.functional.softplus(tensor([0])); // [0.6931]
 */
export function softplus(x: TensorLike, beta = 1, threshold = 20): Tensor {
  return tidy(() => {
    const op = 'softplus';
    checkNumber(op, 'beta', beta);
    if (beta === 0) throw new ValueError(`${op}: beta must be non-zero`);
    checkNumber(op, 'threshold', threshold);
    const t = floatTensor(op, x);
    const scaled = beta === 1 ? t : mul(t, beta);
    const smooth = (s: Tensor): Tensor => (beta === 1 ? log1p(exp(s)) : mul(log1p(exp(s)), 1 / beta));
    return guardedWhere(greater(scaled, threshold), t, { input: scaled, safe: threshold, compute: smooth });
  });
}

/**
 * `log(sigmoid(x))`, computed as `-softplus(-x)` without overflow for large |x|.
 *
 * @example
 * nn.functional.logSigmoid(tensor([0])); // [-0.6931]
 */
export function logSigmoid(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('logSigmoid', x);
    // -softplus(-x) = min(x, 0) - log1p(exp(-|x|)): exact everywhere, and exp never overflows.
    // min(x, 0) and -|x| are selects on one condition rather than minimum and abs, whose kinks at
    // 0 gave the right slope only by their rules' luck (a tie's half plus sign(0) = 0) and a
    // second derivative of 0 there instead of -1/4; as selects every order is exact at 0 too.
    const negative = less(t, 0);
    return sub(where(negative, t, 0), log1p(exp(where(negative, t, neg(t)))));
  });
}

/**
 * Hyperbolic tangent.
 *
 * @example
 * nn.functional.tanh(tensor([0])); // [0]
 */
export function tanh(x: TensorLike): Tensor {
  return hyperbolicTangent(floatTensor('tanh', x));
}

/**
 * The logistic function `1 / (1 + exp(-x))`.
 *
 * @example
 * nn.functional.sigmoid(tensor([0])); // [0.5]
 */
export function sigmoid(x: TensorLike): Tensor {
  return logistic(floatTensor('sigmoid', x));
}

/**
 * Self-regularized activation `x * tanh(softplus(x))`.
 *
 * @example
 * nn.functional.mish(tensor([1])); // [0.8651]
 */
export function mish(x: TensorLike): Tensor {
  return tidy(() => {
    const t = floatTensor('mish', x);
    return mul(t, hyperbolicTangent(softplus(t)));
  });
}

/**
 * The maximum along `axis`, as a constant for shifting: infinite maxima become 0 (so that
 * `x - shift` is never `inf - inf`), and no gradient flows through it (the softmax family is
 * invariant to the shift, so its derivative through the shift is exactly zero anyway).
 */
function stableShift(t: Tensor, axis: number): Tensor {
  const reduced = max(t, axis, true);
  const peak = stopGradient(reduced);
  const magnitude = abs(peak);
  const infinite = equal(magnitude, Number.POSITIVE_INFINITY);
  return releasing(where(infinite, 0, peak), reduced, peak, magnitude, infinite);
}

/**
 * `exp(x) / sum(exp(x))` along `axis` (default the last), computed stably by subtracting the
 * maximum first. A slice that is all -Infinity gives NaN, as in PyTorch. Eagerly, on a backend with
 * a fused softmax kernel (Backend.composites: oneDNN's on mkl), that kernel computes it.
 *
 * @example
 * nn.functional.softmax(tensor([1, 2, 3])); // [0.0900, 0.2447, 0.6652]
 */
export function softmax(x: TensorLike, axis = -1): Tensor {
  return tidy(() => {
    const op = 'softmax';
    return runInFloat32(op, [x], (x) => {
      const t = floatTensor(op, x);
      if (t.ndim === 0) return reshape(softmax(reshape(t, [1]), 0), []);
      const a = axisOf(op, axis, t.ndim);
      return compositeSoftmax(t, a, false, (t) => {
        const shift = stableShift(t, a);
        const shifted = sub(t, shift);
        const e = exp(shifted);
        const total = sum(e, a, true);
        return releasing(div(e, total), shift, shifted, e, total);
      });
    });
  });
}

/**
 * `log(softmax(x))` along `axis` (default the last), as `x - logSumExp(x)` computed stably:
 * exact for inputs whose softmax underflows to 0. Eagerly, on a backend with a fused kernel
 * (Backend.composites), that kernel computes it.
 *
 * @example
 * nn.functional.logSoftmax(tensor([0, 0])); // [-0.6931, -0.6931]
 */
export function logSoftmax(x: TensorLike, axis = -1): Tensor {
  return tidy(() => {
    const op = 'logSoftmax';
    return runInFloat32(op, [x], (x) => {
      const t = floatTensor(op, x);
      if (t.ndim === 0) return reshape(logSoftmax(reshape(t, [1]), 0), []);
      const a = axisOf(op, axis, t.ndim);
      return compositeSoftmax(t, a, true, (t) => {
        const shift = stableShift(t, a);
        const shifted = sub(t, shift);
        const e = exp(shifted);
        const total = sum(e, a, true);
        const logTotal = log(total);
        return releasing(sub(shifted, logTotal), shift, shifted, e, total, logTotal);
      });
    });
  });
}

/**
 * `softmax(-x)` along `axis` (default the last): the smallest input gets the largest weight.
 *
 * @example
 * nn.functional.softmin(tensor([1, 2, 3])); // [0.6652, 0.2447, 0.0900]
 */
export function softmin(x: TensorLike, axis = -1): Tensor {
  return tidy(() => softmax(neg(floatTensor('softmin', x)), axis));
}
