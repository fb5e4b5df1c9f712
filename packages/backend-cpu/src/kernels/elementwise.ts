import { type Aval, type BinaryPrimitive, contiguousStrides, type DType, Primitive, sizeOf, type UnaryPrimitive } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, isContiguous, wrap } from '../view.js';
import { type RowLoop, rowLoop, runRows } from './loops.js';
import { planRows } from './rows.js';
import { simdElementwise } from './simd-elementwise.js';

// Each op is an expression over its operands x0, x1, x2, compiled into row loops specialized per
// dtype and stride kind (see loops.ts). Stores into Int32Array/Uint8Array wrap modulo 2^32/2^8,
// which is exactly C's integer wrap-around for results that are exact in a double.

const UNARY: Record<UnaryPrimitive, string> = {
  [Primitive.Neg]: '-x0',
  [Primitive.Abs]: 'Math.abs(x0)',
  [Primitive.Sign]: 'Math.sign(x0)',
  [Primitive.Exp]: 'Math.exp(x0)',
  [Primitive.Log]: 'Math.log(x0)',
  [Primitive.Log1p]: 'Math.log1p(x0)',
  [Primitive.Expm1]: 'Math.expm1(x0)',
  [Primitive.Sqrt]: 'Math.sqrt(x0)',
  [Primitive.Rsqrt]: '1 / Math.sqrt(x0)',
  [Primitive.Sin]: 'Math.sin(x0)',
  [Primitive.Cos]: 'Math.cos(x0)',
  [Primitive.Tan]: 'Math.tan(x0)',
  [Primitive.Asin]: 'Math.asin(x0)',
  [Primitive.Acos]: 'Math.acos(x0)',
  [Primitive.Atan]: 'Math.atan(x0)',
  [Primitive.Tanh]: 'Math.tanh(x0)',
  [Primitive.Logistic]: '1 / (1 + Math.exp(-x0))',
  [Primitive.Erf]: 'erf(x0)',
  [Primitive.Floor]: 'Math.floor(x0)',
  [Primitive.Ceil]: 'Math.ceil(x0)',
  [Primitive.Round]: 'roundHalfEven(x0)',
  [Primitive.Reciprocal]: '1 / x0',
  [Primitive.Not]: 'x0 === 0 ? 1 : 0',
  // NaN and -0 pass through, as torch.relu.
  [Primitive.Relu]: 'x0 < 0 ? 0 : x0',
};

// Integer division, modulo and floor division by zero give 0; Max/Min propagate NaN (Math.max does).
const BINARY: Record<BinaryPrimitive, string> = {
  [Primitive.Add]: 'x0 + x1',
  [Primitive.Sub]: 'x0 - x1',
  [Primitive.Mul]: 'x0 * x1',
  [Primitive.Div]: 'x0 / x1',
  [Primitive.Pow]: 'floatPow(x0, x1)',
  [Primitive.Atan2]: 'Math.atan2(x0, x1)',
  [Primitive.Max]: 'Math.max(x0, x1)',
  [Primitive.Min]: 'Math.min(x0, x1)',
  [Primitive.Mod]: 'floatMod(x0, x1)',
  [Primitive.FloorDivide]: 'Math.floor(x0 / x1)',
  [Primitive.Equal]: 'x0 === x1 ? 1 : 0',
  [Primitive.NotEqual]: 'x0 !== x1 ? 1 : 0',
  [Primitive.Less]: 'x0 < x1 ? 1 : 0',
  [Primitive.LessEqual]: 'x0 <= x1 ? 1 : 0',
  [Primitive.Greater]: 'x0 > x1 ? 1 : 0',
  [Primitive.GreaterEqual]: 'x0 >= x1 ? 1 : 0',
  [Primitive.And]: 'x0 & x1',
  [Primitive.Or]: 'x0 | x1',
  [Primitive.ReluGrad]: 'x0 <= 0 ? 0 : x1',
};

/** Where integer inputs (int32, uint8, bool) need another expression than floats. */
const INTEGER_BINARY: Partial<Record<BinaryPrimitive, string>> = {
  [Primitive.Div]: 'x1 === 0 ? 0 : Math.trunc(x0 / x1)',
  [Primitive.Mod]: 'x1 === 0 ? 0 : floatMod(x0, x1)',
  [Primitive.FloorDivide]: 'x1 === 0 ? 0 : Math.floor(x0 / x1)',
};

function binaryExpression(op: BinaryPrimitive, dtype: DType): string {
  if (dtype === 'int32') {
    if (op === Primitive.Mul) return 'Math.imul(x0, x1)';
    if (op === Primitive.Pow) return 'int32Pow(x0, x1)';
  }
  if (dtype === 'uint8' && op === Primitive.Pow) return 'uint8Pow(x0, x1)';
  if (dtype === 'float32' || dtype === 'float64') return BINARY[op];
  return INTEGER_BINARY[op] ?? BINARY[op];
}

/**
 * Runs `expression` over `operands` (of the output's shape) into a fresh row-major output: as a
 * SIMD kernel where `primitive` has one for this layout (large float32 ops), else one loop call
 * when every operand is contiguous, else one per coalesced row.
 */
function elementwise(expression: string, operands: readonly CpuHandle[], out: Aval, primitive?: Primitive): CpuHandle {
  const n = sizeOf(out.shape);
  const result = allocateUninitialized(out.dtype, n);
  if (primitive !== undefined && simdElementwise(primitive, operands, out, result as Float32Array))
    return wrap(result, out.shape, out.dtype);
  const a = operands[0] as CpuHandle;
  const b = operands[1];
  const c = operands[2];
  if (isContiguous(a) && (b === undefined || isContiguous(b)) && (c === undefined || isContiguous(c))) {
    const loop = contiguousLoop(expression, out.dtype, operands);
    loop(result, 0, n, a.storage.data, a.offset, 1, b?.storage.data, b?.offset ?? 0, 1, c?.storage.data, c?.offset ?? 0, 1);
  } else {
    const plan = planRows(out.shape, [contiguousStrides(out.shape), ...operands.map((h) => h.strides)]);
    const loop = rowLoop(
      expression,
      out.dtype,
      operands.map((h) => h.dtype),
      plan.innerStrides.slice(1),
    );
    runRows(
      loop,
      plan,
      result,
      operands.map((h) => h.storage.data),
      operands.map((h) => h.offset),
    );
  }
  return wrap(result, out.shape, out.dtype);
}

const DTYPE_CODE: Readonly<Record<DType, number>> = { float32: 0, float64: 1, int32: 2, uint8: 3, bool: 4, float16: 5, bfloat16: 6 };
const UNIT_STRIDES = [1, 1, 1];
const contiguousLoops = new Map<string, (RowLoop | undefined)[]>();

/**
 * The loop for all-contiguous operands, found by a number built from the dtypes rather than by
 * rowLoop's string key: this is the path every small eager op takes, so it must not build strings.
 */
function contiguousLoop(expression: string, outDtype: DType, operands: readonly CpuHandle[]): RowLoop {
  let code = DTYPE_CODE[outDtype];
  for (let k = 0; k < operands.length; k++) code = code * 7 + DTYPE_CODE[(operands[k] as CpuHandle).dtype];
  let table = contiguousLoops.get(expression);
  if (table === undefined) {
    table = [];
    contiguousLoops.set(expression, table);
  }
  let loop = table[code];
  if (loop === undefined) {
    loop = rowLoop(
      expression,
      outDtype,
      operands.map((h) => h.dtype),
      UNIT_STRIDES.slice(0, operands.length),
    );
    table[code] = loop;
  }
  return loop;
}

export function unaryKernel(op: UnaryPrimitive): (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle {
  const expression = UNARY[op];
  return (inputs, _params, out) => elementwise(expression, inputs, out, op);
}

export function binaryKernel(op: BinaryPrimitive): (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle {
  return (inputs, _params, out) => elementwise(binaryExpression(op, inputs[0]!.dtype), inputs, out, op);
}

export function whereKernel(inputs: readonly CpuHandle[], _params: unknown, out: Aval): CpuHandle {
  return elementwise('x0 !== 0 ? x1 : x2', inputs, out);
}

export function castKernel(inputs: readonly CpuHandle[], _params: unknown, out: Aval): CpuHandle {
  const n = sizeOf(out.shape);
  const x = contiguousData(inputs[0]!);
  const result = allocateUninitialized(out.dtype, n);
  if (out.dtype === 'bool') {
    // NaN is truthy, as bool(float('nan')) is in Python.
    for (let i = 0; i < n; i++) result[i] = x[i] !== 0 ? 1 : 0;
  } else {
    // TypedArray#set converts like a store: floats truncate toward zero, NaN gives 0.
    result.set(x as never);
  }
  return wrap(result, out.shape, out.dtype);
}
