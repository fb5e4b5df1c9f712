import type { StridedHandle } from '@flint/api/strided-backend';

export { isContiguous, view, wrapStorage } from '@flint/api/strided-backend';

/**
 * One GPU allocation, shared by every view of it. `refs` counts live handles (views included);
 * the buffer goes back to the pool when it reaches zero. `failure` resolves to the message of the
 * first kernel that failed on the way to this buffer's contents (its own kernel or an input's),
 * or null; reads await it so that a failed kernel never yields silently wrong numbers.
 */
export interface Storage {
  readonly buffer: GPUBuffer;
  /** Bytes of the buffer that belong to this storage (the pooled buffer may be larger). */
  readonly byteLength: number;
  refs: number;
  failure: Promise<string | null> | null;
}

/**
 * The WebGPU backend's handle: a strided view of a storage, as on the CPU and CUDA backends (the
 * shared StridedHandle). Offset and strides count 4-byte words, one per element whatever the
 * dtype (see layout.ts). Strides may be zero (broadcast) or negative (flip), so Reshape,
 * Transpose, Broadcast, Slice and Flip never touch the GPU.
 */
export type WebGpuHandle = StridedHandle<Storage>;

/**
 * Merges neighbouring dims that every operand walks as one (and drops size-1 dims), so that
 * kernels index over as few dims as possible. `strides[k]` are operand k's strides for `shape`.
 * A size-0 shape comes back as `[0]`.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const dim = shape[d] as number;
    if (dim === 0) return { shape: [0], strides: strides.map(() => [0]) };
    if (dim === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => (outStrides[k] as number[])[last] === (s[d] as number) * dim);
    if (mergeable) {
      outShape[last] = (outShape[last] as number) * dim;
      strides.forEach((s, k) => {
        (outStrides[k] as number[])[last] = s[d] as number;
      });
    } else {
      outShape.push(dim);
      strides.forEach((s, k) => {
        (outStrides[k] as number[]).push(s[d] as number);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}
