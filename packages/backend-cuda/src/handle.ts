import { nativeLayout, type StridedHandle, type ViewLayout } from '@flint/api/strided-backend';

export { isContiguous, view, wrapStorage } from '@flint/api/strided-backend';

/**
 * One device buffer, shared by every view of it. `id` is the addon's handle for the buffer;
 * `refs` counts live views, and the buffer goes back to the addon's caching allocator when it
 * reaches zero.
 */
export interface CudaStorage {
  readonly id: number;
  /** Bytes the buffer holds for its elements (the allocator's block may be larger). */
  readonly bytes: number;
  refs: number;
}

/**
 * The CUDA backend's handle: a strided view of a device buffer, as on the CPU and WebGPU
 * backends (the shared StridedHandle). Strides may be zero (broadcast) or negative (flip), so
 * Reshape, Transpose, Broadcast, Slice and Flip launch nothing.
 */
export type CudaHandle = StridedHandle<CudaStorage>;

/** The addon's description of a view: [offset, rank, ...shape, ...strides] (the shared encoding). */
export const layout = nativeLayout;

/** The addon's description of a view: a handle, or a layout such as conv-gradients.ts returns. */
export function layoutOf(h: ViewLayout): Int32Array {
  return layout(h.offset, h.shape, h.strides);
}

/**
 * The single stride that walks `axes` of a view as one merged dim (row-major over the axes), or
 * null when they do not merge. Size-1 axes take any stride; no axes (or all size 1) give stride 0.
 */
export function mergedStride(shape: readonly number[], strides: readonly number[], axes: readonly number[]): number | null {
  let stride = 0;
  let expected: number | null = null;
  for (let i = axes.length - 1; i >= 0; i--) {
    const dim = shape[axes[i] as number] as number;
    if (dim === 1) continue;
    const s = strides[axes[i] as number] as number;
    if (expected !== null && s !== expected) return null;
    if (expected === null) stride = s;
    expected = s * dim;
  }
  return stride;
}
