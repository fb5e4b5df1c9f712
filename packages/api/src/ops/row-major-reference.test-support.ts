// Small reference helpers over flat row-major arrays that the tests of the movement and indexing
// ops (movement.test.ts, indexing.test.ts) build their expectations with, written point by point
// and independently of the ops under test. The `.test-support` name keeps it out of the package.

import { type NestedArray, type Tensor, tensor } from '@flint/api';

/** The number of elements of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((p, d) => p * d, 1);
}

/** int32 tensor of `shape` holding 0, 1, 2, ... in row-major order. */
export function arange(shape: readonly number[]): Tensor {
  return tensor(
    Int32Array.from({ length: sizeOf(shape) }, (_, i) => i),
    { shape },
  );
}

/** Nested arrays of `shape` whose element at `coords` is `fn(coords)`. */
export function build(shape: readonly number[], fn: (coords: number[]) => number): NestedArray {
  const visit = (prefix: number[]): NestedArray => {
    if (prefix.length === shape.length) return fn(prefix);
    return Array.from({ length: shape[prefix.length] as number }, (_, i) => visit([...prefix, i]));
  };
  return visit([]);
}

/** The row-major offset of `coords` in `shape`. */
export function offset(shape: readonly number[], coords: readonly number[]): number {
  let o = 0;
  for (let i = 0; i < shape.length; i++) o = o * (shape[i] as number) + (coords[i] as number);
  return o;
}

/** The indices a Python slice selects, by walking it (no closed-form arithmetic). */
export function pythonSlice(n: number, start: number | null, stop: number | null, step: number): number[] {
  const out: number[] = [];
  if (step > 0) {
    let i = start === null ? 0 : start < 0 ? Math.max(start + n, 0) : Math.min(start, n);
    const end = stop === null ? n : stop < 0 ? Math.max(stop + n, 0) : Math.min(stop, n);
    for (; i < end; i += step) out.push(i);
  } else {
    let i = start === null ? n - 1 : start < 0 ? start + n : Math.min(start, n - 1);
    const end = stop === null ? -1 : stop < 0 ? Math.max(stop + n, -1) : stop;
    for (; i > end; i += step) if (i >= 0) out.push(i);
  }
  return out;
}
