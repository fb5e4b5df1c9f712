import { type Aval, type ParamsOf, type Primitive, sizeOf, type TypedArray } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { axisLast, type CpuHandle, contiguousData, permutedView, wrapPermuted } from '../view.js';

/**
 * Inclusive scan along one axis: the axis is moved last so each scan is a contiguous run, and the
 * result is returned as a view in the original axis order (no transpose back).
 */
export function cumulativeKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Cumulative>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const perm = axisLast(x.shape.length, params.axis);
  const data = contiguousData(permutedView(x, perm));
  const total = sizeOf(x.shape);
  const length = x.shape[params.axis]!;
  const result = allocateUninitialized(out.dtype, total);
  const runs = length === 0 ? 0 : total / length;
  const int32 = out.dtype === 'int32';
  const uint8 = out.dtype === 'uint8';
  for (let r = 0; r < runs; r++) {
    const first = params.reverse ? r * length + length - 1 : r * length;
    scanRun(params.op, data, result, first, params.reverse ? -1 : 1, length, int32, uint8);
  }
  return wrapPermuted(result, x.shape, perm, out.dtype);
}

/** Scans `length` elements from `first`, stepping by `step`, writing the running value to `out`. */
function scanRun(
  op: 'sum' | 'prod' | 'max' | 'min',
  x: TypedArray,
  out: TypedArray,
  first: number,
  step: number,
  length: number,
  int32: boolean,
  uint8: boolean,
): void {
  let acc = x[first]!;
  out[first] = acc;
  let p = first + step;
  switch (op) {
    case 'sum':
      if (int32) for (let i = 1; i < length; i++, p += step) out[p] = acc = (acc + x[p]!) | 0;
      else for (let i = 1; i < length; i++, p += step) out[p] = acc += x[p]!;
      return;
    case 'prod':
      if (int32) for (let i = 1; i < length; i++, p += step) out[p] = acc = Math.imul(acc, x[p]!);
      else if (uint8) for (let i = 1; i < length; i++, p += step) out[p] = acc = (acc * x[p]!) & 255;
      else for (let i = 1; i < length; i++, p += step) out[p] = acc *= x[p]!;
      return;
    case 'max':
      for (let i = 1; i < length; i++, p += step) {
        const v = x[p]!;
        if (v > acc || Number.isNaN(v)) acc = v;
        out[p] = acc;
      }
      return;
    case 'min':
      for (let i = 1; i < length; i++, p += step) {
        const v = x[p]!;
        if (v < acc || Number.isNaN(v)) acc = v;
        out[p] = acc;
      }
      return;
  }
}
