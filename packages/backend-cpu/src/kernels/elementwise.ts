import { type Aval, type BinaryPrimitive, Primitive, sizeOf, type TypedArray, type UnaryPrimitive, allocTypedArray } from '@flint/api';
import { erf, floatMod, floatPow, int32Pow, roundHalfEven, uint8Pow } from '../math.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';

// Each kernel switches on the op once and then runs a plain loop over typed arrays, so the hot
// loop has no per-element call. Stores into Int32Array/Uint8Array wrap modulo 2^32/2^8, which is
// exactly C's integer wrap-around for results that are exact in a double.

/** out[i] = op(x[i]) for i < n. */
export function unaryLoop(op: UnaryPrimitive, x: TypedArray, out: TypedArray, n: number): void {
  switch (op) {
    case Primitive.Neg:
      for (let i = 0; i < n; i++) out[i] = -x[i]!;
      return;
    case Primitive.Abs:
      for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]!);
      return;
    case Primitive.Sign:
      for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]!);
      return;
    case Primitive.Exp:
      for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]!);
      return;
    case Primitive.Log:
      for (let i = 0; i < n; i++) out[i] = Math.log(x[i]!);
      return;
    case Primitive.Log1p:
      for (let i = 0; i < n; i++) out[i] = Math.log1p(x[i]!);
      return;
    case Primitive.Expm1:
      for (let i = 0; i < n; i++) out[i] = Math.expm1(x[i]!);
      return;
    case Primitive.Sqrt:
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case Primitive.Rsqrt:
      for (let i = 0; i < n; i++) out[i] = 1 / Math.sqrt(x[i]!);
      return;
    case Primitive.Sin:
      for (let i = 0; i < n; i++) out[i] = Math.sin(x[i]!);
      return;
    case Primitive.Cos:
      for (let i = 0; i < n; i++) out[i] = Math.cos(x[i]!);
      return;
    case Primitive.Tan:
      for (let i = 0; i < n; i++) out[i] = Math.tan(x[i]!);
      return;
    case Primitive.Tanh:
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
      return;
    case Primitive.Logistic:
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-x[i]!));
      return;
    case Primitive.Erf:
      for (let i = 0; i < n; i++) out[i] = erf(x[i]!);
      return;
    case Primitive.Floor:
      for (let i = 0; i < n; i++) out[i] = Math.floor(x[i]!);
      return;
    case Primitive.Ceil:
      for (let i = 0; i < n; i++) out[i] = Math.ceil(x[i]!);
      return;
    case Primitive.Round:
      for (let i = 0; i < n; i++) out[i] = roundHalfEven(x[i]!);
      return;
    case Primitive.Reciprocal:
      for (let i = 0; i < n; i++) out[i] = 1 / x[i]!;
      return;
    case Primitive.Not:
      for (let i = 0; i < n; i++) out[i] = x[i] === 0 ? 1 : 0;
      return;
  }
}

export function unaryKernel(op: UnaryPrimitive): (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle {
  return (inputs, _params, out) => {
    const x = inputs[0]!;
    const n = sizeOf(out.shape);
    const result = allocTypedArray(out.dtype, n);
    unaryLoop(op, contiguousData(x), result, n);
    return wrap(result, out.shape, out.dtype);
  };
}

const INTEGER = 1;
const UINT8 = 2;

/** out[i] = op(a[i], b[i]) for i < n; `kind` is 0 for floats and bool, INTEGER for int32, UINT8 for uint8. */
export function binaryLoop(op: BinaryPrimitive, a: TypedArray, b: TypedArray, out: TypedArray, n: number, kind: number): void {
  switch (op) {
    case Primitive.Add:
      for (let i = 0; i < n; i++) out[i] = a[i]! + b[i]!;
      return;
    case Primitive.Sub:
      for (let i = 0; i < n; i++) out[i] = a[i]! - b[i]!;
      return;
    case Primitive.Mul:
      if (kind === INTEGER) for (let i = 0; i < n; i++) out[i] = Math.imul(a[i]!, b[i]!);
      else for (let i = 0; i < n; i++) out[i] = a[i]! * b[i]!;
      return;
    case Primitive.Div:
      if (kind !== 0) {
        for (let i = 0; i < n; i++) {
          const d = b[i]!;
          out[i] = d === 0 ? 0 : Math.trunc(a[i]! / d);
        }
      } else for (let i = 0; i < n; i++) out[i] = a[i]! / b[i]!;
      return;
    case Primitive.Pow:
      if (kind === INTEGER) for (let i = 0; i < n; i++) out[i] = int32Pow(a[i]!, b[i]!);
      else if (kind === UINT8) for (let i = 0; i < n; i++) out[i] = uint8Pow(a[i]!, b[i]!);
      else for (let i = 0; i < n; i++) out[i] = floatPow(a[i]!, b[i]!);
      return;
    case Primitive.Max:
      for (let i = 0; i < n; i++) out[i] = Math.max(a[i]!, b[i]!);
      return;
    case Primitive.Min:
      for (let i = 0; i < n; i++) out[i] = Math.min(a[i]!, b[i]!);
      return;
    case Primitive.Mod:
      if (kind !== 0) {
        for (let i = 0; i < n; i++) {
          const d = b[i]!;
          out[i] = d === 0 ? 0 : floatMod(a[i]!, d);
        }
      } else for (let i = 0; i < n; i++) out[i] = floatMod(a[i]!, b[i]!);
      return;
    case Primitive.FloorDivide:
      if (kind !== 0) {
        for (let i = 0; i < n; i++) {
          const d = b[i]!;
          out[i] = d === 0 ? 0 : Math.floor(a[i]! / d);
        }
      } else for (let i = 0; i < n; i++) out[i] = Math.floor(a[i]! / b[i]!);
      return;
    case Primitive.Equal:
      for (let i = 0; i < n; i++) out[i] = a[i] === b[i] ? 1 : 0;
      return;
    case Primitive.NotEqual:
      for (let i = 0; i < n; i++) out[i] = a[i] !== b[i] ? 1 : 0;
      return;
    case Primitive.Less:
      for (let i = 0; i < n; i++) out[i] = a[i]! < b[i]! ? 1 : 0;
      return;
    case Primitive.LessEqual:
      for (let i = 0; i < n; i++) out[i] = a[i]! <= b[i]! ? 1 : 0;
      return;
    case Primitive.Greater:
      for (let i = 0; i < n; i++) out[i] = a[i]! > b[i]! ? 1 : 0;
      return;
    case Primitive.GreaterEqual:
      for (let i = 0; i < n; i++) out[i] = a[i]! >= b[i]! ? 1 : 0;
      return;
    case Primitive.And:
      for (let i = 0; i < n; i++) out[i] = a[i]! & b[i]!;
      return;
    case Primitive.Or:
      for (let i = 0; i < n; i++) out[i] = a[i]! | b[i]!;
      return;
  }
}

export function integerKind(dtype: string): number {
  return dtype === 'int32' ? INTEGER : dtype === 'uint8' ? UINT8 : 0;
}

export function binaryKernel(op: BinaryPrimitive): (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle {
  return (inputs, _params, out) => {
    const a = inputs[0]!;
    const b = inputs[1]!;
    const n = sizeOf(out.shape);
    const result = allocTypedArray(out.dtype, n);
    binaryLoop(op, contiguousData(a), contiguousData(b), result, n, integerKind(a.dtype));
    return wrap(result, out.shape, out.dtype);
  };
}

export function whereKernel(inputs: readonly CpuHandle[], _params: unknown, out: Aval): CpuHandle {
  const n = sizeOf(out.shape);
  const condition = contiguousData(inputs[0]!);
  const x = contiguousData(inputs[1]!);
  const y = contiguousData(inputs[2]!);
  const result = allocTypedArray(out.dtype, n);
  for (let i = 0; i < n; i++) result[i] = condition[i] !== 0 ? x[i]! : y[i]!;
  return wrap(result, out.shape, out.dtype);
}

export function castKernel(inputs: readonly CpuHandle[], _params: unknown, out: Aval): CpuHandle {
  const n = sizeOf(out.shape);
  const x = contiguousData(inputs[0]!);
  const result = allocTypedArray(out.dtype, n);
  if (out.dtype === 'bool') {
    // NaN is truthy, as bool(float('nan')) is in Python.
    for (let i = 0; i < n; i++) result[i] = x[i] !== 0 ? 1 : 0;
  } else {
    // TypedArray#set converts like a store: floats truncate toward zero, NaN gives 0.
    result.set(x as never);
  }
  return wrap(result, out.shape, out.dtype);
}
