import { type DType, type KernelOp, type ParamsOf, Primitive } from '@flint/api';

// JavaScript source for one elementwise op, given its operands' source. Every result is rounded
// to its dtype as a typed-array store would round it (Math.fround for float32, |0 for int32, &255
// for uint8), so a fused kernel computes exactly what the op-by-op kernels store, op by op.

/** `expr` rounded to what a typed array of `dtype` holds. */
export function rounded(dtype: DType, expr: string): string {
  switch (dtype) {
    case 'float32':
      return `Math.fround(${expr})`;
    case 'float64':
      return expr;
    case 'int32':
      return `((${expr}) | 0)`;
    case 'uint8':
      return `((${expr}) & 255)`;
    case 'bool':
      return `((${expr}) ? 1 : 0)`;
    case 'float16':
    case 'bfloat16':
      // compile() returns null for kernels with half dtypes, so generated code never stores them.
      throw new Error(`rounded: no generated code for ${dtype}`);
  }
}

/** A number as JavaScript source (NaN, infinities and -0 included), parenthesized when negative so that `-x` stays valid. */
export function numberSource(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '(-Infinity)';
  if (Object.is(value, -0)) return '(-0)';
  return value < 0 ? `(${value})` : String(value);
}

const isInteger = (dtype: DType): boolean => dtype === 'int32' || dtype === 'uint8' || dtype === 'bool';

/** The op's value as source, unrounded; undefined for an op this code generator does not handle. */
function raw(op: KernelOp, a: string, b: string, c: string, inputDType: DType): string | undefined {
  const int = isInteger(inputDType);
  switch (op.primitive) {
    case Primitive.Neg:
      return `-${a}`;
    case Primitive.Abs:
      return `Math.abs(${a})`;
    case Primitive.Sign:
      return `Math.sign(${a})`;
    case Primitive.Exp:
      return `Math.exp(${a})`;
    case Primitive.Log:
      return `Math.log(${a})`;
    case Primitive.Log1p:
      return `Math.log1p(${a})`;
    case Primitive.Expm1:
      return `Math.expm1(${a})`;
    case Primitive.Sqrt:
      return `Math.sqrt(${a})`;
    case Primitive.Rsqrt:
      return `1 / Math.sqrt(${a})`;
    case Primitive.Sin:
      return `Math.sin(${a})`;
    case Primitive.Cos:
      return `Math.cos(${a})`;
    case Primitive.Tan:
      return `Math.tan(${a})`;
    case Primitive.Asin:
      return `Math.asin(${a})`;
    case Primitive.Acos:
      return `Math.acos(${a})`;
    case Primitive.Atan:
      return `Math.atan(${a})`;
    case Primitive.Tanh:
      return `Math.tanh(${a})`;
    case Primitive.Logistic:
      return `1 / (1 + Math.exp(-${a}))`;
    case Primitive.Erf:
      return `erf(${a})`;
    case Primitive.Floor:
      return int ? a : `Math.floor(${a})`;
    case Primitive.Ceil:
      return int ? a : `Math.ceil(${a})`;
    case Primitive.Round:
      return int ? a : `roundHalfEven(${a})`;
    case Primitive.Reciprocal:
      return `1 / ${a}`;
    case Primitive.Not:
      return `(${a} === 0 ? 1 : 0)`;
    case Primitive.Relu:
      return `(${a} < 0 ? 0 : ${a})`;
    case Primitive.Add:
      return `${a} + ${b}`;
    case Primitive.Sub:
      return `${a} - ${b}`;
    case Primitive.Mul:
      return inputDType === 'int32' ? `Math.imul(${a}, ${b})` : `${a} * ${b}`;
    case Primitive.Div:
      return int ? `(${b} === 0 ? 0 : Math.trunc(${a} / ${b}))` : `${a} / ${b}`;
    case Primitive.Pow:
      return inputDType === 'int32' ? `int32Pow(${a}, ${b})` : inputDType === 'uint8' ? `uint8Pow(${a}, ${b})` : `floatPow(${a}, ${b})`;
    case Primitive.Atan2:
      return `Math.atan2(${a}, ${b})`;
    case Primitive.Max:
      return `Math.max(${a}, ${b})`;
    case Primitive.Min:
      return `Math.min(${a}, ${b})`;
    case Primitive.Mod:
      return int ? `(${b} === 0 ? 0 : floatMod(${a}, ${b}))` : `floatMod(${a}, ${b})`;
    case Primitive.FloorDivide:
      return int ? `(${b} === 0 ? 0 : Math.floor(${a} / ${b}))` : `Math.floor(${a} / ${b})`;
    case Primitive.Equal:
      return `(${a} === ${b} ? 1 : 0)`;
    case Primitive.NotEqual:
      return `(${a} !== ${b} ? 1 : 0)`;
    case Primitive.Less:
      return `(${a} < ${b} ? 1 : 0)`;
    case Primitive.LessEqual:
      return `(${a} <= ${b} ? 1 : 0)`;
    case Primitive.Greater:
      return `(${a} > ${b} ? 1 : 0)`;
    case Primitive.GreaterEqual:
      return `(${a} >= ${b} ? 1 : 0)`;
    case Primitive.And:
      return `(${a} & ${b})`;
    case Primitive.Or:
      return `(${a} | ${b})`;
    case Primitive.ReluGrad:
      return `(${a} <= 0 ? 0 : ${b})`;
    case Primitive.Where:
      return `(${a} !== 0 ? ${b} : ${c})`;
    case Primitive.Cast: {
      const to = (op.params as ParamsOf<Primitive.Cast>).dtype;
      return to === 'bool' ? `(${a} !== 0 ? 1 : 0)` : a;
    }
    default:
      return undefined;
  }
}

/** The op's value, rounded to its output dtype, as source; undefined when unsupported. */
export function expression(op: KernelOp, args: readonly string[], inputDType: DType): string | undefined {
  const source = raw(op, args[0] ?? '', args[1] ?? '', args[2] ?? '', inputDType);
  if (source === undefined) return undefined;
  const out = op.aval.dtype;
  // Comparisons, logic, Not and bool casts already give exactly 0 or 1.
  if (out === 'bool') return source;
  return rounded(out, source);
}
