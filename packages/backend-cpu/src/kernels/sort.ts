import { type Aval, type ParamsOf, type Primitive, sizeOf, type TypedArray } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { axisLast, type CpuHandle, contiguousData, permutedView, wrapPermuted } from '../view.js';

/**
 * Stable argsort along one axis. NaN sorts last ascending and first descending (PyTorch); ties
 * keep their original order in both directions. Each run is sorted by a bottom-up merge sort over
 * int32 indices with the comparison inline (no comparator calls); NaNs are set aside first, in
 * order, and placed at their end afterwards.
 */
export function argsortKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Argsort>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const perm = axisLast(x.shape.length, params.axis);
  const data = contiguousData(permutedView(x, perm));
  const total = sizeOf(x.shape);
  const length = x.shape[params.axis]!;
  const result = allocateUninitialized('int32', total) as Int32Array;
  const runs = length === 0 ? 0 : total / length;
  const order = new Int32Array(length);
  const spare = new Int32Array(length);
  const nans = new Int32Array(length);
  for (let r = 0; r < runs; r++) {
    const base = r * length;
    let count = 0;
    let nanCount = 0;
    for (let i = 0; i < length; i++) {
      if (Number.isNaN(data[base + i]!)) nans[nanCount++] = i;
      else order[count++] = i;
    }
    const sorted = mergeSort(data, base, order, spare, count, params.descending);
    const numbersAt = params.descending ? base + nanCount : base;
    const nansAt = params.descending ? base : base + count;
    result.set(sorted.subarray(0, count), numbersAt);
    result.set(nans.subarray(0, nanCount), nansAt);
  }
  return wrapPermuted(result, x.shape, perm, out.dtype);
}

/**
 * Sorts the first `count` indices of `order` by data[base + index] (no NaNs among them), stably;
 * returns whichever of `order` and `spare` holds the result.
 */
function mergeSort(data: TypedArray, base: number, order: Int32Array, spare: Int32Array, count: number, descending: boolean): Int32Array {
  let from = order;
  let to = spare;
  for (let width = 1; width < count; width *= 2) {
    for (let start = 0; start < count; start += 2 * width) {
      const middle = Math.min(start + width, count);
      const end = Math.min(start + 2 * width, count);
      let i = start;
      let j = middle;
      let k = start;
      // Stability: on ties the left (earlier) element goes first.
      if (descending) {
        while (i < middle && j < end) to[k++] = data[base + from[i]!]! >= data[base + from[j]!]! ? from[i++]! : from[j++]!;
      } else {
        while (i < middle && j < end) to[k++] = data[base + from[i]!]! <= data[base + from[j]!]! ? from[i++]! : from[j++]!;
      }
      while (i < middle) to[k++] = from[i++]!;
      while (j < end) to[k++] = from[j++]!;
    }
    const swap = from;
    from = to;
    to = swap;
  }
  return from;
}
