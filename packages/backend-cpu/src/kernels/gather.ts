import { type Aval, type ParamsOf, type Primitive, sizeOf } from '@flint/api';
import { allocateUninitialized } from '../storage.js';
import { type CpuHandle, contiguousData, wrap } from '../view.js';

// Gather and ScatterAdd see x as [outer, axisSize, inner] and the indices as a flat list, so
// each index moves one contiguous run of `inner` elements.

function split(shape: readonly number[], axis: number): { outer: number; size: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), size: shape[axis]!, inner: sizeOf(shape.slice(axis + 1)) };
}

export function gatherKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.Gather>, out: Aval): CpuHandle {
  const x = inputs[0]!;
  const indexHandle = inputs[1]!;
  const { outer, size, inner } = split(x.shape, params.axis);
  const data = contiguousData(x);
  const indices = contiguousData(indexHandle);
  const count = indices.length;
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  let p = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < count; j++) {
      const from = base + indices[j]! * inner;
      if (inner === 1) result[p++] = data[from]!;
      else {
        for (let i = 0; i < inner; i++) result[p + i] = data[from + i]!;
        p += inner;
      }
    }
  }
  return wrap(result, out.shape, out.dtype);
}

export function scatterAddKernel(inputs: readonly CpuHandle[], params: ParamsOf<Primitive.ScatterAdd>, out: Aval): CpuHandle {
  const target = inputs[0]!;
  const indices = contiguousData(inputs[1]!);
  const updates = contiguousData(inputs[2]!);
  const { outer, size, inner } = split(target.shape, params.axis);
  const result = allocateUninitialized(out.dtype, sizeOf(out.shape));
  result.set(contiguousData(target) as never);
  const count = indices.length;
  let p = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < count; j++) {
      const to = base + indices[j]! * inner;
      // Integer stores wrap, so `+` then store is C's wrapping add.
      for (let i = 0; i < inner; i++) result[to + i] = result[to + i]! + updates[p + i]!;
      p += inner;
    }
  }
  return wrap(result, out.shape, out.dtype);
}
