import { type Aval, type BinaryPrimitive, contiguousStrides, Primitive, sizeOf, type TypedArray, type UnaryPrimitive } from '@flint/api';
import { erf, floatMod, floatPow, int32Pow, roundHalfEven, uint8Pow } from '../math.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, isContiguous, wrap } from '../view.js';
import { forEachRow, planRows } from './rows.js';

// Each kernel switches on the op once and then runs a plain loop over typed arrays, so the hot
// loop has no per-element call. Stores into Int32Array/Uint8Array wrap modulo 2^32/2^8, which is
// exactly C's integer wrap-around for results that are exact in a double.

/** out[o + i] = op(x[xStart + i * xStride]) for i < n. */
export function unaryLoop(op: UnaryPrimitive, x: TypedArray, xStart: number, xStride: number, out: TypedArray, o: number, n: number): void {
  switch (op) {
    case Primitive.Neg:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = -x[p]!;
      return;
    case Primitive.Abs:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.abs(x[p]!);
      return;
    case Primitive.Sign:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.sign(x[p]!);
      return;
    case Primitive.Exp:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.exp(x[p]!);
      return;
    case Primitive.Log:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.log(x[p]!);
      return;
    case Primitive.Log1p:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.log1p(x[p]!);
      return;
    case Primitive.Expm1:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.expm1(x[p]!);
      return;
    case Primitive.Sqrt:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.sqrt(x[p]!);
      return;
    case Primitive.Rsqrt:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = 1 / Math.sqrt(x[p]!);
      return;
    case Primitive.Sin:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.sin(x[p]!);
      return;
    case Primitive.Cos:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.cos(x[p]!);
      return;
    case Primitive.Tan:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.tan(x[p]!);
      return;
    case Primitive.Tanh:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.tanh(x[p]!);
      return;
    case Primitive.Logistic:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = 1 / (1 + Math.exp(-x[p]!));
      return;
    case Primitive.Erf:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = erf(x[p]!);
      return;
    case Primitive.Floor:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.floor(x[p]!);
      return;
    case Primitive.Ceil:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = Math.ceil(x[p]!);
      return;
    case Primitive.Round:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = roundHalfEven(x[p]!);
      return;
    case Primitive.Reciprocal:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = 1 / x[p]!;
      return;
    case Primitive.Not:
      for (let i = 0, p = xStart; i < n; i++, p += xStride) out[o + i] = x[p] === 0 ? 1 : 0;
      return;
  }
}

export function unaryKernel(op: UnaryPrimitive): (inputs: readonly CpuHandle[], params: unknown, out: Aval) => CpuHandle {
  return (inputs, _params, out) => {
    const x = inputs[0]!;
    const n = sizeOf(out.shape);
    const result = allocateUninitialized(out.dtype, n);
    const data = x.storage.data;
    if (isContiguous(x)) unaryLoop(op, data, x.offset, 1, result, 0, n);
    else {
      const plan = planRows(out.shape, [contiguousStrides(out.shape), x.strides]);
      const inner = plan.inner;
      const stride = plan.innerStrides[1]!;
      forEachRow(plan, [0, x.offset], (at) => unaryLoop(op, data, at[1]!, stride, result, at[0]!, inner));
    }
    return wrap(result, out.shape, out.dtype);
  };
}

const INTEGER = 1;
const UINT8 = 2;

/**
 * out[o + i] = op(a[aStart + i * aStride], b[bStart + i * bStride]) for i < n; `kind` is 0 for floats and bool,
 * INTEGER for int32, UINT8 for uint8.
 */
export function binaryLoop(
  op: BinaryPrimitive,
  a: TypedArray,
  aStart: number,
  aStride: number,
  b: TypedArray,
  bStart: number,
  bStride: number,
  out: TypedArray,
  o: number,
  n: number,
  kind: number,
): void {
  switch (op) {
    case Primitive.Add:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! + b[q]!;
      return;
    case Primitive.Sub:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! - b[q]!;
      return;
    case Primitive.Mul:
      if (kind === INTEGER)
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = Math.imul(a[p]!, b[q]!);
      else for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! * b[q]!;
      return;
    case Primitive.Div:
      if (kind !== 0) {
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) {
          const d = b[q]!;
          out[o + i] = d === 0 ? 0 : Math.trunc(a[p]! / d);
        }
      } else for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! / b[q]!;
      return;
    case Primitive.Pow:
      if (kind === INTEGER)
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = int32Pow(a[p]!, b[q]!);
      else if (kind === UINT8)
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = uint8Pow(a[p]!, b[q]!);
      else for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = floatPow(a[p]!, b[q]!);
      return;
    case Primitive.Max:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = Math.max(a[p]!, b[q]!);
      return;
    case Primitive.Min:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = Math.min(a[p]!, b[q]!);
      return;
    case Primitive.Mod:
      if (kind !== 0) {
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) {
          const d = b[q]!;
          out[o + i] = d === 0 ? 0 : floatMod(a[p]!, d);
        }
      } else for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = floatMod(a[p]!, b[q]!);
      return;
    case Primitive.FloorDivide:
      if (kind !== 0) {
        for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) {
          const d = b[q]!;
          out[o + i] = d === 0 ? 0 : Math.floor(a[p]! / d);
        }
      } else for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = Math.floor(a[p]! / b[q]!);
      return;
    case Primitive.Equal:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p] === b[q] ? 1 : 0;
      return;
    case Primitive.NotEqual:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p] !== b[q] ? 1 : 0;
      return;
    case Primitive.Less:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! < b[q]! ? 1 : 0;
      return;
    case Primitive.LessEqual:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! <= b[q]! ? 1 : 0;
      return;
    case Primitive.Greater:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! > b[q]! ? 1 : 0;
      return;
    case Primitive.GreaterEqual:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! >= b[q]! ? 1 : 0;
      return;
    case Primitive.And:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! & b[q]!;
      return;
    case Primitive.Or:
      for (let i = 0, p = aStart, q = bStart; i < n; i++, p += aStride, q += bStride) out[o + i] = a[p]! | b[q]!;
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
    const result = allocateUninitialized(out.dtype, n);
    const kind = integerKind(a.dtype);
    const aData = a.storage.data;
    const bData = b.storage.data;
    if (isContiguous(a) && isContiguous(b)) binaryLoop(op, aData, a.offset, 1, bData, b.offset, 1, result, 0, n, kind);
    else {
      const plan = planRows(out.shape, [contiguousStrides(out.shape), a.strides, b.strides]);
      const inner = plan.inner;
      const aStride = plan.innerStrides[1]!;
      const bStride = plan.innerStrides[2]!;
      forEachRow(plan, [0, a.offset, b.offset], (at) =>
        binaryLoop(op, aData, at[1]!, aStride, bData, at[2]!, bStride, result, at[0]!, inner, kind),
      );
    }
    return wrap(result, out.shape, out.dtype);
  };
}

export function whereKernel(inputs: readonly CpuHandle[], _params: unknown, out: Aval): CpuHandle {
  const [c, x, y] = inputs as [CpuHandle, CpuHandle, CpuHandle];
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  const cData = c.storage.data;
  const xData = x.storage.data;
  const yData = y.storage.data;
  const plan = planRows(out.shape, [contiguousStrides(out.shape), c.strides, x.strides, y.strides]);
  const inner = plan.inner;
  const [, cStride, xStride, yStride] = plan.innerStrides as [number, number, number, number];
  forEachRow(plan, [0, c.offset, x.offset, y.offset], (at) => {
    for (let i = 0, o = at[0]!, p = at[1]!, q = at[2]!, r = at[3]!; i < inner; i++, p += cStride, q += xStride, r += yStride) {
      result[o + i] = cData[p] !== 0 ? xData[q]! : yData[r]!;
    }
  });
  return wrap(result, out.shape, out.dtype);
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
