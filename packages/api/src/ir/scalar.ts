import type { DType } from '../core/dtype.js';
import { isFloating } from '../core/dtype.js';
import { roundToHalf } from '../core/half.js';
import { Primitive } from '../primitives/primitive.js';

// Elementwise primitives evaluated on single numbers, for folding literal constants at compile
// time. Results are rounded to the output dtype the way a backend's typed-array store rounds
// them, so a folded literal equals what the kernel would have computed. Primitives whose exact
// semantics would need more code here (erf, integer division) are simply not folded.

/** Rounds `value` to what a typed array of `dtype` stores. */
export function roundTo(dtype: DType, value: number): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(value);
    case 'float64':
      return value;
    case 'float16':
    case 'bfloat16':
      return roundToHalf(dtype, value);
    case 'int32':
      return value | 0;
    case 'uint8':
      return value & 255;
    case 'bool':
      return value !== 0 ? 1 : 0;
  }
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function floatUnary(p: Primitive, x: number): number | undefined {
  switch (p) {
    case Primitive.Exp:
      return Math.exp(x);
    case Primitive.Log:
      return Math.log(x);
    case Primitive.Log1p:
      return Math.log1p(x);
    case Primitive.Expm1:
      return Math.expm1(x);
    case Primitive.Sqrt:
      return Math.sqrt(x);
    case Primitive.Rsqrt:
      return 1 / Math.sqrt(x);
    case Primitive.Sin:
      return Math.sin(x);
    case Primitive.Cos:
      return Math.cos(x);
    case Primitive.Tan:
      return Math.tan(x);
    case Primitive.Asin:
      return Math.asin(x);
    case Primitive.Acos:
      return Math.acos(x);
    case Primitive.Atan:
      return Math.atan(x);
    case Primitive.Tanh:
      return Math.tanh(x);
    case Primitive.Logistic:
      return 1 / (1 + Math.exp(-x));
    case Primitive.Floor:
      return Math.floor(x);
    case Primitive.Ceil:
      return Math.ceil(x);
    case Primitive.Round:
      return roundHalfEven(x);
    case Primitive.Reciprocal:
      return 1 / x;
    default:
      return undefined;
  }
}

function anyUnary(p: Primitive, x: number): number | undefined {
  switch (p) {
    case Primitive.Neg:
      return -x;
    case Primitive.Abs:
      return Math.abs(x);
    case Primitive.Sign:
      return Math.sign(x);
    case Primitive.Not:
      return x === 0 ? 1 : 0;
    case Primitive.Relu:
      // biome-ignore lint/complexity/useMathMinMax: Math.max(-0, 0) is +0, and relu keeps -0
      return x < 0 ? 0 : x;
    default:
      return undefined;
  }
}

function binary(p: Primitive, a: number, b: number, float: boolean, int32: boolean): number | undefined {
  switch (p) {
    case Primitive.Add:
      return a + b;
    case Primitive.Sub:
      return a - b;
    case Primitive.Mul:
      return int32 ? Math.imul(a, b) : a * b;
    case Primitive.Div:
      return float ? a / b : undefined;
    case Primitive.Pow:
      if (!float) return undefined;
      return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : a ** b;
    case Primitive.Atan2:
      return float ? Math.atan2(a, b) : undefined;
    case Primitive.Max:
      return Math.max(a, b);
    case Primitive.Min:
      return Math.min(a, b);
    case Primitive.Equal:
      return a === b ? 1 : 0;
    case Primitive.NotEqual:
      return a !== b ? 1 : 0;
    case Primitive.Less:
      return a < b ? 1 : 0;
    case Primitive.LessEqual:
      return a <= b ? 1 : 0;
    case Primitive.Greater:
      return a > b ? 1 : 0;
    case Primitive.GreaterEqual:
      return a >= b ? 1 : 0;
    case Primitive.And:
      return a & b;
    case Primitive.Or:
      return a | b;
    case Primitive.ReluGrad:
      return a <= 0 ? 0 : b;
    default:
      return undefined;
  }
}

/**
 * `primitive` applied to `args` (numbers of dtype `inputDType`), rounded to `outputDType`; undefined
 * when this evaluator does not cover the primitive for that dtype.
 */
export function evaluateScalar(primitive: Primitive, args: readonly number[], inputDType: DType, outputDType: DType): number | undefined {
  const float = isFloating(inputDType);
  let result: number | undefined;
  if (primitive === Primitive.Cast) result = outputDType === 'bool' ? ((args[0] as number) !== 0 ? 1 : 0) : (args[0] as number);
  else if (primitive === Primitive.Where) result = (args[0] as number) !== 0 ? (args[1] as number) : (args[2] as number);
  else if (args.length === 1) {
    result = anyUnary(primitive, args[0] as number);
    if (result === undefined && float) result = floatUnary(primitive, args[0] as number);
  } else if (args.length === 2) result = binary(primitive, args[0] as number, args[1] as number, float, inputDType === 'int32');
  return result === undefined ? undefined : roundTo(outputDType, result);
}
