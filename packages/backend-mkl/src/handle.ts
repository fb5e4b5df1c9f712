import { contiguousStrides, type DType, sizeOf, type TypedArray } from '@flint/api';
import { nativeLayout } from '@flint/api/strided-backend';
import { type CpuHandle, newStorage } from '@flint/backend-cpu';

/**
 * The mkl backend's handles are the portable CPU backend's: strided views of refcounted storages
 * holding typed arrays, which JavaScript owns and lends to the addon for the length of a call.
 * Sharing the layout lets every primitive without a native kernel run the portable kernel on
 * the same handles, with no conversion, and keeps movement primitives as views.
 */
export type MklHandle = CpuHandle;

/** A handle owning a fresh contiguous storage around `data` (taken, not copied). */
export function wrap(data: TypedArray, shape: readonly number[], dtype: DType): MklHandle {
  return { storage: newStorage(data), offset: 0, strides: contiguousStrides(shape), shape, dtype, released: false };
}

/** The view's description for the addon: [offset, rank, ...shape, ...strides] (the shared encoding). */
export const layout = nativeLayout;

/** The view's description for the addon. */
export function layoutOf(h: Pick<MklHandle, 'offset' | 'shape' | 'strides'>): Int32Array {
  return layout(h.offset, h.shape, h.strides);
}

/** Whether the view's elements are `size` consecutive storage elements in row-major order. */
export function isContiguous(h: MklHandle): boolean {
  let expected = 1;
  for (let i = h.shape.length - 1; i >= 0; i--) {
    const dim = h.shape[i]!;
    if (dim === 0) return true;
    if (dim !== 1 && h.strides[i] !== expected) return false;
    expected *= dim;
  }
  return true;
}

export function elementCount(h: MklHandle): number {
  return sizeOf(h.shape);
}
