import { type DType, toFloating } from '../core/dtype.js';
import { DTypeError } from '../core/errors.js';
import { broadcastShapes, shapesEqual } from '../core/shape.js';
import { type BinaryPrimitive, Primitive, type UnaryPrimitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';

// How each family of elementwise ops maps operands to the dtype the primitive computes in.
//  - 'same':   the promoted dtype (add, mul, max, ...); two bools compute in int32 for arithmetic.
//  - 'float':  the promoted dtype lifted to floating (div, pow of floats, exp, log, ...).
//  - 'compare': computed in the promoted dtype, result bool.
//  - 'logical': both operands cast to bool.
type Family = 'same' | 'arith' | 'float' | 'compare' | 'logical';

function computeDType(promoted: DType, family: Family): DType {
  if (family === 'float') return toFloating(promoted);
  if (family === 'arith') return promoted === 'bool' ? 'int32' : promoted;
  if (family === 'logical') return 'bool';
  return promoted;
}

/** Binds a binary elementwise primitive after promoting and broadcasting its operands. */
export function binaryOp(op: string, primitive: BinaryPrimitive, a: TensorLike, b: TensorLike, family: Family): Tensor {
  // Fast path: two tensors of one shape and dtype need no conversion.
  if (isTensor(a) && isTensor(b) && a.dtype === b.dtype && shapesEqual(a.shape, b.shape) && computeDType(a.dtype, family) === a.dtype) {
    return bind(primitive, [a, b], {});
  }
  const dtype = computeDType(resultDType(a, b), family);
  const like = isTensor(a) ? a : isTensor(b) ? b : undefined;
  const ta = cast(toTensor(op, a, dtype, like), dtype);
  const tb = cast(toTensor(op, b, dtype, like), dtype);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  return bind(primitive, [broadcastTo(ta, shape), broadcastTo(tb, shape)], {});
}

/** Binds a unary elementwise primitive; 'float' ops lift integer inputs to float32 as PyTorch does. */
export function unaryOp(op: string, primitive: UnaryPrimitive, x: TensorLike, family: 'same' | 'float' | 'logical' | 'numeric'): Tensor {
  const t = toTensor(op, x);
  if (family === 'float') return bind(primitive, [cast(t, toFloating(t.dtype))], {});
  if (family === 'logical') return bind(primitive, [cast(t, 'bool')], {});
  if (family === 'numeric' && t.dtype === 'bool') {
    throw new DTypeError(`${op}: not defined for bool tensors; cast to a numeric dtype first`);
  }
  return bind(primitive, [t], {});
}

/** Elementwise `a + b` with broadcasting and type promotion. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', Primitive.Add, a, b, 'arith');
/** Elementwise `a - b`. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', Primitive.Sub, a, b, 'arith');
/** Elementwise `a * b`. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', Primitive.Mul, a, b, 'arith');
/** True division: integer operands give float32, as in PyTorch. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryOp('div', Primitive.Div, a, b, 'float');
/** Elementwise power. Integer tensors raised to integer powers stay integer. */
export const pow = (a: TensorLike, b: TensorLike): Tensor => binaryOp('pow', Primitive.Pow, a, b, 'arith');
/** Elementwise maximum (NaN propagates). */
export const maximum = (a: TensorLike, b: TensorLike): Tensor => binaryOp('maximum', Primitive.Max, a, b, 'same');
/** Elementwise minimum (NaN propagates). */
export const minimum = (a: TensorLike, b: TensorLike): Tensor => binaryOp('minimum', Primitive.Min, a, b, 'same');
/** Remainder with the sign of the divisor (Python's `%`, torch.remainder). */
export const mod = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mod', Primitive.Mod, a, b, 'arith');
/** floor(a / b), keeping integer dtypes (torch.floor_divide). */
export const floorDivide = (a: TensorLike, b: TensorLike): Tensor => binaryOp('floorDivide', Primitive.FloorDivide, a, b, 'arith');
export const equal = (a: TensorLike, b: TensorLike): Tensor => binaryOp('equal', Primitive.Equal, a, b, 'compare');
export const notEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('notEqual', Primitive.NotEqual, a, b, 'compare');
export const less = (a: TensorLike, b: TensorLike): Tensor => binaryOp('less', Primitive.Less, a, b, 'compare');
export const lessEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('lessEqual', Primitive.LessEqual, a, b, 'compare');
export const greater = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greater', Primitive.Greater, a, b, 'compare');
export const greaterEqual = (a: TensorLike, b: TensorLike): Tensor => binaryOp('greaterEqual', Primitive.GreaterEqual, a, b, 'compare');
export const logicalAnd = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalAnd', Primitive.And, a, b, 'logical');
export const logicalOr = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalOr', Primitive.Or, a, b, 'logical');
/** Logical exclusive or: true where exactly one operand is truthy. */
export const logicalXor = (a: TensorLike, b: TensorLike): Tensor => binaryOp('logicalXor', Primitive.NotEqual, astype(a, 'bool'), astype(b, 'bool'), 'compare');

export const neg = (x: TensorLike): Tensor => unaryOp('neg', Primitive.Neg, x, 'numeric');
export const abs = (x: TensorLike): Tensor => unaryOp('abs', Primitive.Abs, x, 'numeric');
export const sign = (x: TensorLike): Tensor => unaryOp('sign', Primitive.Sign, x, 'numeric');
export const exp = (x: TensorLike): Tensor => unaryOp('exp', Primitive.Exp, x, 'float');
export const log = (x: TensorLike): Tensor => unaryOp('log', Primitive.Log, x, 'float');
export const log1p = (x: TensorLike): Tensor => unaryOp('log1p', Primitive.Log1p, x, 'float');
export const expm1 = (x: TensorLike): Tensor => unaryOp('expm1', Primitive.Expm1, x, 'float');
export const sqrt = (x: TensorLike): Tensor => unaryOp('sqrt', Primitive.Sqrt, x, 'float');
export const rsqrt = (x: TensorLike): Tensor => unaryOp('rsqrt', Primitive.Rsqrt, x, 'float');
export const sin = (x: TensorLike): Tensor => unaryOp('sin', Primitive.Sin, x, 'float');
export const cos = (x: TensorLike): Tensor => unaryOp('cos', Primitive.Cos, x, 'float');
export const tan = (x: TensorLike): Tensor => unaryOp('tan', Primitive.Tan, x, 'float');
export const tanh = (x: TensorLike): Tensor => unaryOp('tanh', Primitive.Tanh, x, 'float');
/** The logistic function 1 / (1 + exp(-x)). */
export const sigmoid = (x: TensorLike): Tensor => unaryOp('sigmoid', Primitive.Logistic, x, 'float');
export const erf = (x: TensorLike): Tensor => unaryOp('erf', Primitive.Erf, x, 'float');
export const floor = (x: TensorLike): Tensor => unaryOp('floor', Primitive.Floor, x, 'numeric');
export const ceil = (x: TensorLike): Tensor => unaryOp('ceil', Primitive.Ceil, x, 'numeric');
/** Rounds half to even, as NumPy and PyTorch do. */
export const round = (x: TensorLike): Tensor => unaryOp('round', Primitive.Round, x, 'numeric');
export const reciprocal = (x: TensorLike): Tensor => unaryOp('reciprocal', Primitive.Reciprocal, x, 'float');
export const logicalNot = (x: TensorLike): Tensor => unaryOp('logicalNot', Primitive.Not, x, 'logical');
/** x * x. */
export const square = (x: TensorLike): Tensor => {
  const t = toTensor('square', x);
  return mul(t, t);
};

/** Elementwise choice: `x` where `condition` is true, else `y`, with broadcasting and promotion. */
export function where(condition: TensorLike, x: TensorLike, y: TensorLike): Tensor {
  const c = toTensor('where', condition);
  const dtype = resultDType(x, y);
  const like = isTensor(x) ? x : isTensor(y) ? y : c;
  const tx = cast(toTensor('where', x, dtype, like), dtype);
  const ty = cast(toTensor('where', y, dtype, like), dtype);
  const tc = cast(c, 'bool');
  const shape = broadcastShapes('where', tc.shape, tx.shape, ty.shape);
  return bind(Primitive.Where, [broadcastTo(tc, shape), broadcastTo(tx, shape), broadcastTo(ty, shape)], {});
}

/** Limits values to [min, max]; either bound may be omitted (undefined). */
export function clamp(x: TensorLike, min?: TensorLike, max?: TensorLike): Tensor {
  let out = toTensor('clamp', x);
  if (min !== undefined && min !== null) out = maximum(out, min);
  if (max !== undefined && max !== null) out = minimum(out, max);
  return out;
}

/** Converts to another dtype (float to integer truncates toward zero; to bool is `!= 0`). */
export function astype(x: TensorLike, dtype: DType): Tensor {
  return cast(toTensor('astype', x), dtype);
}
