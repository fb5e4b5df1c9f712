import { contiguousStrides, type Shape, sizeOf } from './shape.js';

// The arithmetic of strided views, shared by every backend whose handles are (shape, strides,
// offset) over a buffer: movement primitives become new layouts of the same data, no copy.

/** Where a view starts in its buffer and how it steps through it, in elements. */
export interface StridedLayout {
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * Strides that let `newShape` view the same elements as (`shape`, `strides`) in row-major order,
 * or null when no view can (NumPy's no-copy reshape: each group of old dims that merges into or
 * splits from new dims must itself be contiguous).
 */
export function reshapeStrides(shape: Shape, strides: readonly number[], newShape: Shape): number[] | null {
  if (sizeOf(shape) === 0) return contiguousStrides(newShape);
  const oldDims: number[] = [];
  const oldStrides: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) {
      oldDims.push(shape[i] as number);
      oldStrides.push(strides[i] as number);
    }
  }
  const result = new Array<number>(newShape.length).fill(1);
  let oldAt = 0;
  let newAt = 0;
  // Leading and trailing size-1 new dims keep stride 1; they are never stepped through.
  while (newAt < newShape.length && oldAt < oldDims.length) {
    let newEnd = newAt + 1;
    let oldEnd = oldAt + 1;
    let newProduct = newShape[newAt] as number;
    let oldProduct = oldDims[oldAt] as number;
    while (newProduct !== oldProduct) {
      if (newProduct < oldProduct) newProduct *= newShape[newEnd++] as number;
      else oldProduct *= oldDims[oldEnd++] as number;
    }
    for (let k = oldAt; k < oldEnd - 1; k++) {
      if (oldStrides[k] !== (oldDims[k + 1] as number) * (oldStrides[k + 1] as number)) return null;
    }
    result[newEnd - 1] = oldStrides[oldEnd - 1] as number;
    for (let k = newEnd - 1; k > newAt; k--) result[k - 1] = (result[k] as number) * (newShape[k] as number);
    newAt = newEnd;
    oldAt = oldEnd;
  }
  return result;
}

/** Output axis i is input axis perm[i]. */
export function transposeLayout(x: StridedLayout, perm: readonly number[]): StridedLayout {
  return { shape: perm.map((p) => x.shape[p] as number), strides: perm.map((p) => x.strides[p] as number), offset: x.offset };
}

/** NumPy broadcast_to: new leading dims and stretched size-1 dims step by 0. */
export function broadcastLayout(x: StridedLayout, shape: readonly number[]): StridedLayout {
  const lead = shape.length - x.shape.length;
  const strides = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < x.shape.length; i++) strides[lead + i] = x.shape[i] === shape[lead + i] ? (x.strides[i] as number) : 0;
  return { shape, strides, offset: x.offset };
}

/** Start, positive step per axis; `shape` is the validated output shape. */
export function sliceLayout(
  x: StridedLayout,
  starts: readonly number[],
  steps: readonly number[],
  shape: readonly number[],
): StridedLayout {
  let offset = x.offset;
  const strides = x.strides.map((stride, i) => {
    offset += (starts[i] as number) * stride;
    return stride * (steps[i] as number);
  });
  // A slice with an empty dim may start past the end; its offset is never read.
  return { shape, strides, offset: sizeOf(shape) === 0 ? x.offset : offset };
}

/** Reverses `axes` by starting at their last element and stepping backwards. */
export function flipLayout(x: StridedLayout, axes: readonly number[]): StridedLayout {
  let offset = x.offset;
  const strides = [...x.strides];
  for (const axis of axes) {
    const dim = x.shape[axis] as number;
    if (dim === 0) continue;
    offset += (dim - 1) * (strides[axis] as number);
    strides[axis] = -(strides[axis] as number);
  }
  return { shape: x.shape, strides, offset };
}
