import { type Aval, allocTypedArray, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
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
  const result = allocTypedArray(out.dtype, total);
  const runs = length === 0 ? 0 : total / length;
  const int32 = out.dtype === 'int32';
  const uint8 = out.dtype === 'uint8';
  const step = params.reverse ? -1 : 1;
  for (let r = 0; r < runs; r++) {
    const first = params.reverse ? r * length + length - 1 : r * length;
    let acc = data[first]!;
    result[first] = acc;
    for (let i = 1, p = first + step; i < length; i++, p += step) {
      const v = data[p]!;
      switch (params.op) {
        case 'sum':
          acc = int32 ? (acc + v) | 0 : acc + v;
          break;
        case 'prod':
          acc = int32 ? Math.imul(acc, v) : uint8 ? (acc * v) & 255 : acc * v;
          break;
        case 'max':
          if (v > acc || Number.isNaN(v)) acc = v;
          break;
        case 'min':
          if (v < acc || Number.isNaN(v)) acc = v;
          break;
      }
      result[p] = acc;
    }
  }
  return wrapPermuted(result, x.shape, perm, out.dtype);
}
