import { type Aval, contiguousStrides, type ParamsOf, Primitive, type ReducePrimitive, sizeOf, type TypedArray } from '@flint/api';
import { scratchFloat64 } from '../scratch.js';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, wrap } from '../view.js';
import { forEachRow, planRows } from './rows.js';

/** The identity of max (the dtype's lowest value) and min (its highest). */
export function lowest(dtype: string): number {
  return dtype === 'int32' ? -2147483648 : dtype === 'uint8' || dtype === 'bool' ? 0 : -Infinity;
}
export function highest(dtype: string): number {
  return dtype === 'int32' ? 2147483647 : dtype === 'uint8' ? 255 : dtype === 'bool' ? 1 : Infinity;
}

const SUM = 0;
const PROD = 1;
const MAX = 2;
const MIN = 3;

/**
 * Folds one input row (n elements from x[p], stride xStride) into the accumulator: into the single
 * slot acc[q] when the row runs along reduced axes (qStride 0), else elementwise into acc[q + i * qStride].
 * `wrap32` makes sums and products wrap like C int32; `byte` keeps products modulo 256.
 */
function foldRow(
  op: number,
  x: TypedArray,
  p: number,
  xStride: number,
  acc: TypedArray,
  q: number,
  qStride: number,
  n: number,
  wrap32: boolean,
  byte: boolean,
): void {
  if (qStride === 0) {
    let s = acc[q]!;
    switch (op) {
      case SUM:
        if (wrap32) for (let i = 0; i < n; i++, p += xStride) s = (s + x[p]!) | 0;
        else for (let i = 0; i < n; i++, p += xStride) s += x[p]!;
        break;
      case PROD:
        if (wrap32) for (let i = 0; i < n; i++, p += xStride) s = Math.imul(s, x[p]!);
        else if (byte) for (let i = 0; i < n; i++, p += xStride) s = (s * x[p]!) & 255;
        else for (let i = 0; i < n; i++, p += xStride) s *= x[p]!;
        break;
      case MAX:
        // NaN propagates: once s is NaN no comparison replaces it.
        for (let i = 0; i < n; i++, p += xStride) {
          const v = x[p]!;
          if (v > s || Number.isNaN(v)) s = v;
        }
        break;
      case MIN:
        for (let i = 0; i < n; i++, p += xStride) {
          const v = x[p]!;
          if (v < s || Number.isNaN(v)) s = v;
        }
        break;
    }
    acc[q] = s;
    return;
  }
  switch (op) {
    case SUM:
      // Integer accumulators are Int32Array/Uint8Array, whose stores wrap.
      for (let i = 0; i < n; i++, p += xStride, q += qStride) acc[q] = acc[q]! + x[p]!;
      return;
    case PROD:
      if (wrap32) for (let i = 0; i < n; i++, p += xStride, q += qStride) acc[q] = Math.imul(acc[q]!, x[p]!);
      else for (let i = 0; i < n; i++, p += xStride, q += qStride) acc[q] = acc[q]! * x[p]!;
      return;
    case MAX:
      for (let i = 0; i < n; i++, p += xStride, q += qStride) {
        const v = x[p]!;
        if (v > acc[q]! || Number.isNaN(v)) acc[q] = v;
      }
      return;
    case MIN:
      for (let i = 0; i < n; i++, p += xStride, q += qStride) {
        const v = x[p]!;
        if (v < acc[q]! || Number.isNaN(v)) acc[q] = v;
      }
      return;
  }
}

const OP_CODES: Record<ReducePrimitive, number> = {
  [Primitive.ReduceSum]: SUM,
  [Primitive.ReduceProd]: PROD,
  [Primitive.ReduceMax]: MAX,
  [Primitive.ReduceMin]: MIN,
};

/**
 * Reductions walk the input in its own memory order (dims sorted by stride, so reads are
 * sequential and nothing is transposed first) and fold each row into an accumulator whose strides
 * are 0 along the reduced axes. Floats accumulate in a Float64Array.
 */
export function reduceKernel<P extends ReducePrimitive>(
  op: P,
): (inputs: readonly CpuHandle[], params: ParamsOf<P>, out: Aval) => CpuHandle {
  const code = OP_CODES[op];
  return (inputs, params, out) => {
    const x = inputs[0]!;
    const axes = params.axes;
    const outSize = sizeOf(out.shape);
    const result = allocateUninitialized(out.dtype, outSize);
    const floating = out.dtype === 'float32' || out.dtype === 'float64';
    const acc: TypedArray = floating ? scratchFloat64('reduce.accumulator', outSize) : result;
    const identity = code === SUM ? 0 : code === PROD ? 1 : code === MAX ? lowest(x.dtype) : highest(x.dtype);
    acc.fill(identity);
    const rank = x.shape.length;
    const outStrides = contiguousStrides(out.shape);
    const accStrides = new Array<number>(rank);
    for (let i = 0, k = 0; i < rank; i++) accStrides[i] = axes.includes(i) ? 0 : outStrides[k++]!;
    const order = Array.from({ length: rank }, (_, i) => i).sort((a, b) => Math.abs(x.strides[b]!) - Math.abs(x.strides[a]!));
    const plan = planRows(
      order.map((i) => x.shape[i]!),
      [order.map((i) => x.strides[i]!), order.map((i) => accStrides[i]!)],
    );
    const inner = plan.inner;
    const xStride = plan.innerStrides[0]!;
    const accStride = plan.innerStrides[1]!;
    const data = x.storage.data;
    const wrap32 = x.dtype === 'int32';
    const byte = x.dtype === 'uint8';
    forEachRow(plan, [x.offset, 0], (at) => foldRow(code, data, at[0]!, xStride, acc, at[1]!, accStride, inner, wrap32, byte));
    if (floating) result.set(acc as never);
    return wrap(result, out.shape, out.dtype);
  };
}

/**
 * Argmax/Argmin walk the reduced axis outermost and compare whole rows of the other dims at a
 * time, so that a reduced axis with a large stride (the leading axis of a stack) reads memory in
 * order instead of being transposed first. `best` holds the running extreme per output.
 */
export function argReduceKernel(
  op: Primitive.Argmax | Primitive.Argmin,
): (inputs: readonly CpuHandle[], params: { readonly axis: number }, out: Aval) => CpuHandle {
  const isMax = op === Primitive.Argmax;
  return (inputs, params, out) => {
    const x = inputs[0]!;
    const axis = params.axis;
    const outer = sizeOf(out.shape);
    const length = x.shape[axis]!;
    const axisStride = x.strides[axis]!;
    const result = allocateUninitialized('int32', outer);
    result.fill(0);
    if (outer === 0 || length === 0) return wrap(result, out.shape, 'int32');
    const rest = x.shape.filter((_, i) => i !== axis);
    const plan = planRows(rest, [contiguousStrides(rest), x.strides.filter((_, i) => i !== axis)]);
    const inner = plan.inner;
    const xStride = plan.innerStrides[1]!;
    const data = x.storage.data;
    const best = scratchFloat64('argreduce.best', inner);
    forEachRow(plan, [0, x.offset], (at) => {
      const o = at[0]!;
      const start = at[1]!;
      for (let j = 0, p = start; j < inner; j++, p += xStride) best[j] = data[p]!;
      for (let i = 1; i < length; i++) {
        const base = start + i * axisStride;
        // NaN counts as the extreme: the first NaN wins, and a NaN best is never replaced.
        if (isMax) {
          for (let j = 0, p = base; j < inner; j++, p += xStride) {
            const v = data[p]!;
            const b = best[j]!;
            if (v > b || (Number.isNaN(v) && !Number.isNaN(b))) {
              best[j] = v;
              result[o + j] = i;
            }
          }
        } else {
          for (let j = 0, p = base; j < inner; j++, p += xStride) {
            const v = data[p]!;
            const b = best[j]!;
            if (v < b || (Number.isNaN(v) && !Number.isNaN(b))) {
              best[j] = v;
              result[o + j] = i;
            }
          }
        }
      }
    });
    return wrap(result, out.shape, 'int32');
  };
}
