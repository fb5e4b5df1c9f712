import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { axisLast, type CpuHandle, contiguousData, permutedView, wrapPermuted } from '../view.js';

/**
 * Stable argsort along one axis. NaN sorts last ascending and first descending (PyTorch); ties
 * keep their original order in both directions.
 */
export function argsortKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Argsort>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const perm = axisLast(x.shape.length, params.axis);
  const data = contiguousData(permutedView(x, perm));
  const total = sizeOf(x.shape);
  const length = x.shape[params.axis]!;
  const result = new Int32Array(total);
  const runs = length === 0 ? 0 : total / length;
  const order = new Array<number>(length);
  let base = 0;
  // Array#sort is stable; the comparators put NaN at the required end.
  const ascending = (i: number, j: number): number => {
    const a = data[base + i]!;
    const b = data[base + j]!;
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  };
  const descending = (i: number, j: number): number => {
    const a = data[base + i]!;
    const b = data[base + j]!;
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : -1;
    if (Number.isNaN(b)) return 1;
    return a > b ? -1 : a < b ? 1 : 0;
  };
  const compare = params.descending ? descending : ascending;
  for (let r = 0; r < runs; r++) {
    base = r * length;
    for (let i = 0; i < length; i++) order[i] = i;
    order.sort(compare);
    for (let i = 0; i < length; i++) result[base + i] = order[i]!;
  }
  return wrapPermuted(result, x.shape, perm, out.dtype);
}
