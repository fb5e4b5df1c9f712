import { anyRecorded } from '../autograd/grad-mode.js';
import { checkDType, type DType, dtypeHolding, fitsDType, isFloating, isInteger, outOfRangeError, toFloating } from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { type BinaryPrimitive, Primitive, type UnaryPrimitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { bindStopGradient, runsEagerly } from '../transforms/core.js';
import { broadcastTo, cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';

// How each family of elementwise ops maps operands to the dtype the primitive computes in
// (docs/dtypes.md has the whole table):
//  - 'same':    the promoted dtype (maximum, minimum); two bools stay bool.
//  - 'arith':   the promoted dtype, except that two bools compute in int32 (add, mul, pow, ...).
//  - 'float':   the promoted dtype lifted to floating (true division, exp, log, ...).
//  - 'compare': computed in the promoted dtype, result bool.
//  - 'logical': both operands cast to bool.
type Family = 'same' | 'arith' | 'float' | 'compare' | 'logical';

function computeDType(promoted: DType, family: Family): DType {
  if (family === 'float') return toFloating(promoted);
  if (family === 'arith') return promoted === 'bool' ? 'int32' : promoted;
  if (family === 'logical') return 'bool';
  return promoted;
}

/** Rejects operands no tensor can be made from, naming the op and the operand. */
function checkOperand(op: string, what: string, value: unknown): void {
  if (isTensor(value) || typeof value === 'number' || typeof value === 'boolean' || Array.isArray(value) || ArrayBuffer.isView(value))
    return;
  const kind = value === null ? 'null' : typeof value;
  throw new ValueError(`${op}: ${what} must be a tensor, number, boolean, nested array or typed array, got ${kind}`);
}

/** A JavaScript integer among `values` that `dtype` (an integer dtype) cannot hold, if any. */
function scalarOutOfRange(dtype: DType, values: readonly TensorLike[]): number | undefined {
  for (const v of values) if (typeof v === 'number' && Number.isInteger(v) && !fitsDType(dtype, v)) return v;
  return undefined;
}

/** The error for a weak scalar that the integer dtype an op computes in cannot hold. */
function scalarOutOfRangeError(op: string, value: number, dtype: DType, context: string, operand: string): ValueError {
  return outOfRangeError(
    op,
    `the scalar ${value}`,
    dtype,
    context,
    `cast the ${operand} to a wider dtype first, e.g. x.astype('${dtypeHolding(value)}')`,
  );
}

/**
 * The dtype to compute in once weak scalars are accounted for. A scalar is weak, so `uint8 < -1`
 * would compute in uint8, where -1 is 255; comparisons compute in float64 instead (exact for
 * every int32 and every JavaScript integer), and other ops refuse, as PyTorch and NumPy 2 do,
 * rather than silently wrapping the scalar.
 */
function checkedComputeDType(op: string, a: TensorLike, b: TensorLike, family: Family): DType {
  const dtype = computeDType(resultDType(a, b), family);
  const outOfRange = scalarOutOfRange(dtype, [a, b]);
  if (outOfRange === undefined) return dtype;
  if (family === 'compare') return 'float64';
  throw scalarOutOfRangeError(op, outOfRange, dtype, ', the dtype this op computes in', 'tensor');
}

/** Binds a binary elementwise primitive after promoting and broadcasting its operands. */
export function binaryOp(op: string, primitive: BinaryPrimitive, a: TensorLike, b: TensorLike, family: Family): Tensor {
  // Fast path: two tensors of one shape and dtype need no conversion.
  if (isTensor(a) && isTensor(b) && a.dtype === b.dtype && shapesEqual(a.shape, b.shape) && computeDType(a.dtype, family) === a.dtype) {
    return bind(primitive, [a, b], {});
  }
  checkOperand(op, 'the first operand', a);
  checkOperand(op, 'the second operand', b);
  const dtype = checkedComputeDType(op, a, b, family);
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  // The operands made here (a scalar's tensor, casts, broadcast views) are freed when the op
  // returns, not left to the finalizer: a cast of a large tensor goes back to its pool at once.
  return tidy(() => {
    const ta = toTensor(op, a, dtype, like);
    const tb = toTensor(op, b, dtype, like);
    // Shapes are checked before any cast runs, so a bad call costs no kernel.
    const shape = broadcastShapes(op, ta.shape, tb.shape);
    return bind(primitive, [broadcastTo(cast(ta, dtype), shape), broadcastTo(cast(tb, dtype), shape)], {});
  });
}

type UnaryFamily = 'same' | 'float' | 'logical' | 'numeric';

/** The dtype a unary op of `family` computes `t` in; numeric ops refuse bool. */
function unaryComputeDType(op: string, family: UnaryFamily, t: Tensor): DType {
  if (family === 'numeric' && t.dtype === 'bool')
    throw new DTypeError(`${op}: not defined for bool tensors; cast to a numeric dtype first`);
  return family === 'float' ? toFloating(t.dtype) : family === 'logical' ? 'bool' : t.dtype;
}

/** Binds a unary elementwise primitive; 'float' ops lift integer inputs to float32 as PyTorch does. */
export function unaryOp(op: string, primitive: UnaryPrimitive, x: TensorLike, family: UnaryFamily): Tensor {
  checkOperand(op, 'the input', x);
  if (isTensor(x) && unaryComputeDType(op, family, x) === x.dtype) return bind(primitive, [x], {});
  // A converted input (made from JavaScript values, or cast) is freed when the op returns.
  return tidy(() => {
    const t = toTensor(op, x);
    return bind(primitive, [cast(t, unaryComputeDType(op, family, t))], {});
  });
}

/**
 * Elementwise `a + b` with broadcasting and type promotion (docs/dtypes.md). Two bools add in int32.
 *
 * @example
 * add(tensor([1, 2]), tensor([[10], [20]])); // [[11, 12], [21, 22]]
 * add(tensor([1, 2]), 0.5);                  // float32 [1.5, 2.5]
 */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', Primitive.Add, a, b, 'arith');
/**
 * Elementwise `a - b`.
 *
 * @example
 * sub(tensor([5, 7]), 2); // [3, 5]
 */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', Primitive.Sub, a, b, 'arith');
/**
 * Elementwise `a * b`.
 *
 * @example
 * mul(tensor([1, 2, 3]), tensor([2, 2, 2])); // [2, 4, 6]
 */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', Primitive.Mul, a, b, 'arith');
/**
 * True division: integer and bool operands give float32, as in PyTorch; `x / 0` is ±Infinity
 * (NaN for `0 / 0`). For integer division use `floorDivide`.
 *
 * @example
 * div(tensor([1, 2]), 2); // float32 [0.5, 1]
 */
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryOp('div', Primitive.Div, a, b, 'float');

/**
 * Elementwise power `a ** b`. Integer tensors raised to integer powers stay integer; raising them
 * to a negative JavaScript integer is a ValueError, as in PyTorch and NumPy (cast the base to float).
 *
 * @example
 * pow(tensor([1, 2, 3]), 2);   // int32 [1, 4, 9]
 * pow(tensor([4, 9]), 0.5);    // float32 [2, 3]
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  if (typeof b === 'number' && Number.isInteger(b) && b < 0) {
    checkOperand('pow', 'the base', a);
    const dtype = computeDType(resultDType(a, b), 'arith');
    if (isInteger(dtype)) {
      throw new ValueError(
        `pow: integers to negative integer powers are not allowed (a ${dtype} base to the power ${b}); cast the base to a float dtype first, e.g. x.astype('float32')`,
      );
    }
  }
  return binaryOp('pow', Primitive.Pow, a, b, 'arith');
}
/**
 * The angle of the point `(x, y)`, `atan(y / x)` put in its quadrant, in [-pi, pi] (torch.atan2,
 * C's atan2): with broadcasting; integers and bools compute in float32. Signed zeros and
 * infinities pick the quadrant as in C: `atan2(0, -0)` is pi, `atan2(-0, -1)` is -pi,
 * `atan2(Infinity, -Infinity)` is 3pi/4. The gradient at the origin is NaN, as in PyTorch.
 *
 * @example
 * atan2(tensor([1, 1, -1]), tensor([1, -1, -1])); // [0.7854, 2.3562, -2.3562]
 */
export const atan2 = (y: TensorLike, x: TensorLike): Tensor => binaryOp('atan2', Primitive.Atan2, y, x, 'float');
/**
 * Elementwise maximum; NaN propagates (torch.maximum), unlike `Math.max` with mixed operands.
 *
 * @example
 * maximum(tensor([1, 5]), tensor([3, 2])); // [3, 5]
 */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binaryOp('maximum', Primitive.Max, a, b, 'same');
/**
 * Elementwise minimum; NaN propagates.
 *
 * @example
 * minimum(tensor([1, 5]), 3); // [1, 3]
 */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binaryOp('minimum', Primitive.Min, a, b, 'same');
/**
 * Remainder with the sign of the divisor (Python's `%`, torch.remainder). Integer `x % 0` is 0.
 *
 * @example
 * mod(tensor([-3, 3]), 2); // [1, 1]
 */
export const mod = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mod', Primitive.Mod, a, b, 'arith');
/**
 * `floor(a / b)`, keeping integer dtypes (torch.floor_divide, Python's `//`). Integer `x // 0` is 0.
 *
 * @example
 * floorDivide(tensor([-7, 7]), 2); // [-4, 3]
 */
export const floorDivide = (a: TensorLike, b: TensorLike): Tensor => binaryOp('floorDivide', Primitive.FloorDivide, a, b, 'arith');
/**
 * Elementwise `a == b` as bool, compared in the promoted dtype. NaN equals nothing.
 *
 * @example
 * equal(tensor([1, 2]), 2); // [false, true]
 */
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryOp('equal', Primitive.Equal, a, b, 'compare');
/** Elementwise `a != b` as bool; NaN differs from everything, itself included. */
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('notEqual', Primitive.NotEqual, a, b, 'compare');
/**
 * Elementwise `a < b` as bool.
 *
 * @example
 * less(tensor([1, 2, 3]), 2); // [true, false, false]
 */
export const less = (a: TensorLike, b: TensorLike): Tensor => binaryOp('less', Primitive.Less, a, b, 'compare');
/** Elementwise `a <= b` as bool. */
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lessEqual', Primitive.LessEqual, a, b, 'compare');
/** Elementwise `a > b` as bool. */
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greater', Primitive.Greater, a, b, 'compare');
/** Elementwise `a >= b` as bool. */
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greaterEqual', Primitive.GreaterEqual, a, b, 'compare');
/**
 * Logical and; operands of any dtype count as true where non-zero.
 *
 * @example
 * logicalAnd(tensor([true, true]), tensor([0, 2])); // [false, true]
 */
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalAnd', Primitive.And, a, b, 'logical');
/** Logical or; operands count as true where non-zero. */
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalOr', Primitive.Or, a, b, 'logical');
/** Logical exclusive or: true where exactly one operand is true (non-zero). */
export const logicalXor = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalXor', Primitive.NotEqual, a, b, 'logical');

/**
 * Elementwise `-x`. Not defined for bool (use `logicalNot`).
 *
 * @example
 * neg(tensor([1, -2])); // [-1, 2]
 */
export const neg = (x: TensorLike): Tensor => unaryOp('neg', Primitive.Neg, x, 'numeric');
/** Absolute value, in the input's dtype. */
export const abs = (x: TensorLike): Tensor => unaryOp('abs', Primitive.Abs, x, 'numeric');
/** -1, 0 or 1 by the sign of x, in the input's dtype (NaN stays NaN; -0 gives 0 or -0). */
export const sign = (x: TensorLike): Tensor => unaryOp('sign', Primitive.Sign, x, 'numeric');
/**
 * `e ** x`. This and the other transcendental functions compute integer and bool inputs in
 * float32, as PyTorch does.
 *
 * @example
 * exp(tensor([0, 1])); // float32 [1, 2.7183]
 */
export const exp = (x: TensorLike): Tensor => unaryOp('exp', Primitive.Exp, x, 'float');
/** Natural logarithm; `log(0)` is -Infinity and negative inputs give NaN. */
export const log = (x: TensorLike): Tensor => unaryOp('log', Primitive.Log, x, 'float');
/** `log(1 + x)`, accurate for small x. */
export const log1p = (x: TensorLike): Tensor => unaryOp('log1p', Primitive.Log1p, x, 'float');
/** `exp(x) - 1`, accurate for small x. */
export const expm1 = (x: TensorLike): Tensor => unaryOp('expm1', Primitive.Expm1, x, 'float');
/** Square root; negative inputs give NaN. */
export const sqrt = (x: TensorLike): Tensor => unaryOp('sqrt', Primitive.Sqrt, x, 'float');
/** `1 / sqrt(x)`. */
export const rsqrt = (x: TensorLike): Tensor => unaryOp('rsqrt', Primitive.Rsqrt, x, 'float');
export const sin = (x: TensorLike): Tensor => unaryOp('sin', Primitive.Sin, x, 'float');
export const cos = (x: TensorLike): Tensor => unaryOp('cos', Primitive.Cos, x, 'float');
export const tan = (x: TensorLike): Tensor => unaryOp('tan', Primitive.Tan, x, 'float');
/**
 * Inverse sine (torch.asin), in [-pi/2, pi/2]; NaN outside [-1, 1]. Integers compute in float32.
 *
 * @example
 * asin(tensor([0, 1, 2])); // [0, 1.5708, NaN]
 */
export const asin = (x: TensorLike): Tensor => unaryOp('asin', Primitive.Asin, x, 'float');
/**
 * Inverse cosine (torch.acos), in [0, pi]; NaN outside [-1, 1].
 *
 * @example
 * acos(tensor([1, 0, -1])); // [0, 1.5708, 3.1416]
 */
export const acos = (x: TensorLike): Tensor => unaryOp('acos', Primitive.Acos, x, 'float');
/**
 * Inverse tangent (torch.atan), in [-pi/2, pi/2]; `atan(±Infinity)` is ±pi/2.
 *
 * @example
 * atan(tensor([0, 1, Infinity])); // [0, 0.7854, 1.5708]
 */
export const atan = (x: TensorLike): Tensor => unaryOp('atan', Primitive.Atan, x, 'float');
export const tanh = (x: TensorLike): Tensor => unaryOp('tanh', Primitive.Tanh, x, 'float');
/**
 * The logistic function `1 / (1 + exp(-x))`.
 *
 * @example
 * sigmoid(tensor([0])); // [0.5]
 */
export const sigmoid = (x: TensorLike): Tensor => unaryOp('sigmoid', Primitive.Logistic, x, 'float');
/** The Gauss error function. */
export const erf = (x: TensorLike): Tensor => unaryOp('erf', Primitive.Erf, x, 'float');
/** Rounds toward -Infinity; integers are unchanged. */
export const floor = (x: TensorLike): Tensor => unaryOp('floor', Primitive.Floor, x, 'numeric');
/** Rounds toward +Infinity; integers are unchanged. */
export const ceil = (x: TensorLike): Tensor => unaryOp('ceil', Primitive.Ceil, x, 'numeric');
/**
 * Rounds half to even, as NumPy and PyTorch do (not as `Math.round`, which rounds half up).
 *
 * @example
 * round(tensor([0.5, 1.5, 2.5, -0.5])); // [0, 2, 2, -0]
 */
export const round = (x: TensorLike): Tensor => unaryOp('round', Primitive.Round, x, 'numeric');
/** `1 / x`, in floating point. */
export const reciprocal = (x: TensorLike): Tensor => unaryOp('reciprocal', Primitive.Reciprocal, x, 'float');
/**
 * Logical not; any dtype counts as true where non-zero.
 *
 * @example
 * logicalNot(tensor([true, false])); // [false, true]
 */
export const logicalNot = (x: TensorLike): Tensor => unaryOp('logicalNot', Primitive.Not, x, 'logical');
/**
 * `x * x`, in the input's dtype (bool squares in int32, like other arithmetic on bools).
 *
 * @example
 * square(tensor([-3, 2])); // [9, 4]
 */
export const square = (x: TensorLike): Tensor => {
  checkOperand('square', 'the input', x);
  const t = toTensor('square', x);
  return binaryOp('square', Primitive.Mul, t, t, 'arith');
};

/**
 * Elementwise choice: `x` where `condition` is true (non-zero), else `y`, with broadcasting of
 * all three and promotion of `x` with `y`.
 *
 * @example
 * where(tensor([true, false]), tensor([1, 2]), 0); // [1, 0]
 */
export function where(condition: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  checkOperand('where', 'condition', condition);
  // torch.where(condition) alone gives positions, whose number depends on the data: not this op.
  if (x === undefined && y === undefined)
    throw new ValueError(
      'where: takes a condition and the two operands to choose between; for the positions where condition is true (torch.where(condition)), use nonzero(condition, { asTuple: true })',
    );
  checkOperand('where', 'x', x);
  checkOperand('where', 'y', y);
  const dtype = checkedComputeDType('where', x, y, 'same');
  // Fast path, as binaryOp's: a bool condition and two operands of the compute dtype, all of one shape.
  if (
    isTensor(condition) &&
    isTensor(x) &&
    isTensor(y) &&
    condition.dtype === 'bool' &&
    x.dtype === dtype &&
    y.dtype === dtype &&
    shapesEqual(condition.shape, x.shape) &&
    shapesEqual(x.shape, y.shape)
  ) {
    return bind(Primitive.Where, [condition, x, y], {});
  }
  const like = isTensor(x) ? x : isTensor(y) ? y : isTensor(condition) ? condition : undefined;
  // The operands made here (scalars, casts, broadcast views) are freed when the op returns.
  return tidy(() => {
    const c = toTensor('where', condition, undefined, like);
    const tx = toTensor('where', x, dtype, like);
    const ty = toTensor('where', y, dtype, like);
    const shape = broadcastShapes('where', c.shape, tx.shape, ty.shape);
    return bind(
      Primitive.Where,
      [broadcastTo(cast(c, 'bool'), shape), broadcastTo(cast(tx, dtype), shape), broadcastTo(cast(ty, dtype), shape)],
      {},
    );
  });
}

/**
 * Limits values to `[min, max]` (either bound may be omitted). The result dtype is that of `x`
 * and the given bounds promoted together, once, as `torch.clamp` does (docs/dtypes.md): an int32
 * tensor clamped by a float16 and a float64 0-dim tensor is float64, and JavaScript scalar bounds
 * are weak (`clamp(uint8Tensor, 0, 10)` stays uint8). NaN stays NaN; when `min > max` every
 * element becomes `max`, as in PyTorch. The derivative is PyTorch's too: 1 for `x` from `min`
 * to `max`, both bounds included (not `maximum`/`minimum`'s half at a tie); see clampDerivative.
 *
 * @example
 * clamp(tensor([-2, 0.5, 3]), 0, 1); // [0, 0.5, 1]
 * clamp(tensor([4097], { dtype: 'int32' }), 0, tensor(1e6, { dtype: 'float64' })).dtype; // 'float64'
 */
export function clamp(x: TensorLike, min?: TensorLike, max?: TensorLike): Tensor {
  return tidy(() => {
    checkOperand('clamp', 'the input', x);
    const hasMin = min !== undefined && min !== null;
    const hasMax = max !== undefined && max !== null;
    if (hasMin) checkOperand('clamp', 'min', min);
    if (hasMax) checkOperand('clamp', 'max', max);
    if (!hasMin && !hasMax) return toTensor('clamp', x);
    const bounds = [...(hasMin ? [min] : []), ...(hasMax ? [max] : [])] as [TensorLike, ...TensorLike[]];
    // One dtype for all three: promoting pairwise (x with min, then with max) would let a 0-dim
    // bound that only counts in the three-way promotion narrow the result (int32 with float16 is
    // float16, where int32 with float16 and float64 is float64).
    const dtype = resultDType(x, ...bounds);
    const outOfRange = scalarOutOfRange(dtype, [x, ...bounds]);
    if (outOfRange !== undefined) {
      throw scalarOutOfRangeError('clamp', outOfRange, dtype, ', the dtype the input and bounds promote to', 'input');
    }
    const like = isTensor(x) ? x : isTensor(min) ? min : isTensor(max) ? max : undefined;
    const tx = toTensor('clamp', x, dtype, like);
    const tMin = hasMin ? toTensor('clamp', min, dtype, like) : undefined;
    const tMax = hasMax ? toTensor('clamp', max, dtype, like) : undefined;
    const shape = broadcastShapes('clamp', tx.shape, ...(tMin ? [tMin.shape] : []), ...(tMax ? [tMax.shape] : []));
    const operand = (t: Tensor): Tensor => broadcastTo(cast(t, dtype), shape);
    const input = operand(tx);
    const lower = tMin === undefined ? undefined : operand(tMin);
    const upper = tMax === undefined ? undefined : operand(tMax);
    let value = input;
    if (lower !== undefined) value = bind(Primitive.Max, [value, lower], {});
    if (upper !== undefined) value = bind(Primitive.Min, [value, upper], {});
    // Integers carry no derivative, and nothing differentiates an eager call on unrecorded
    // operands: max and min alone give the value.
    const operands = [tx, ...(tMin ? [tMin] : []), ...(tMax ? [tMax] : [])];
    if (!isFloating(dtype) || (runsEagerly(operands) && !anyRecorded(operands))) return value;
    // JavaScript numbers and nested arrays are constants; only tensor bounds take a gradient.
    return clampDerivative(value, input, lower, upper, { lower: isTensor(min), upper: isTensor(max) });
  });
}

/**
 * clamp's `value` (max and min of the operands, broadcast to one dtype and shape) with PyTorch's
 * derivative (clamp_backward and clamp_backward_min_max in its FunctionsManual.cpp) in place of
 * max and min's, which would split the gradient in half where `x` meets a bound:
 *  - `x` gets it where `lower <= x <= upper`, bounds included (not where either is NaN, nor
 *    anywhere when `lower > upper`);
 *  - a tensor `lower` where `x < lower` and `lower < upper` (or no upper bound);
 *  - a tensor `upper` where `x > upper` or `upper < lower`;
 *  - nothing elsewhere (NaN, `x < lower == upper`).
 * Each is a select of the operand on a mask (the masks are disjoint), so that forward mode and
 * every order agree with it; `value` answers where no operand is selected, without a derivative.
 * The selects give the value exactly, except that `x` itself is returned inside the bounds: a
 * zero meeting a bound of the other sign keeps its own sign.
 */
function clampDerivative(
  value: Tensor,
  x: Tensor,
  lower: Tensor | undefined,
  upper: Tensor | undefined,
  differentiable: { readonly lower: boolean; readonly upper: boolean },
): Tensor {
  let out = bindStopGradient(value);
  if (upper !== undefined && differentiable.upper) {
    const above = greater(x, upper);
    out = where(lower === undefined ? above : logicalOr(above, less(upper, lower)), upper, out);
  }
  if (lower !== undefined && differentiable.lower) {
    const below = less(x, lower);
    out = where(upper === undefined ? below : logicalAnd(below, less(lower, upper)), lower, out);
  }
  const fromLower = lower && greaterEqual(x, lower);
  const toUpper = upper && lessEqual(x, upper);
  // clamp has at least one bound.
  const inside = fromLower && toUpper ? logicalAnd(fromLower, toUpper) : ((fromLower ?? toUpper) as Tensor);
  return where(inside, x, out);
}

/**
 * Converts to another dtype: float to integer truncates toward zero (NaN gives 0), anything to
 * bool is `!= 0`, bool to numbers is 0/1. Same as `cast` and the method `x.astype(dtype)`.
 *
 * @example
 * astype(tensor([1.7, -1.7]), 'int32'); // [1, -1]
 */
export function astype(x: TensorLike, dtype: DType): Tensor {
  checkOperand('astype', 'the input', x);
  return cast(toTensor('astype', x), checkDType('astype', dtype));
}
