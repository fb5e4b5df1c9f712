import type { DType } from '../../core/dtype.js';
import { contiguousStrides, type Shape, shapesEqual } from '../../core/shape.js';
import type { StridedLayout } from '../../core/strided-layout.js';

/**
 * One device allocation, shared by every view of it. `refs` counts the live handles (views
 * included); the backend frees or pools the allocation when it reaches zero.
 */
export interface SharedStorage {
  refs: number;
}

/**
 * A handle of an asynchronous strided backend (CUDA, WebGPU): a strided view of a shared storage.
 * Element `[i0, i1, ...]` is element `offset + i0 * strides[0] + i1 * strides[1] + ...` of the
 * storage. Strides may be zero (broadcast) or negative (flip), so movement primitives make views.
 *
 * @example
 * ```ts
 * type CudaHandle = StridedHandle<CudaStorage>;
 * const handle: CudaHandle = wrapStorage(storage, [2, 3], 'float32');
 * ```
 */
export interface StridedHandle<S extends SharedStorage> extends StridedLayout {
  readonly storage: S;
  readonly dtype: DType;
  /** Set by `dispose`, so that releasing one handle twice drops only one reference. */
  released: boolean;
}

/** Live storages and their bytes, for `Backend.memory()` (views are not counted). */
export class MemoryLedger {
  buffers = 0;
  bytes = 0;
}

/** A contiguous handle of `shape` over `storage`, taking over the reference the caller holds. */
export function wrapStorage<S extends SharedStorage>(storage: S, shape: readonly number[], dtype: DType): StridedHandle<S> {
  return { storage, offset: 0, strides: contiguousStrides(shape), shape, dtype, released: false };
}

/** Another view of `source`'s storage, holding its own reference. */
export function view<S extends SharedStorage>(
  source: StridedHandle<S>,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): StridedHandle<S> {
  source.storage.refs++;
  return { storage: source.storage, offset, strides, shape, dtype: source.dtype, released: false };
}

/**
 * Drops the handle's reference once, however often it is disposed; `release` drops one reference
 * of the storage (and frees it at zero).
 */
export function disposeHandle<S extends SharedStorage>(handle: StridedHandle<S>, release: (storage: S) => void): void {
  if (handle.released) return;
  handle.released = true;
  release(handle.storage);
}

/** Whether the view's elements are consecutive storage elements in row-major order. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const dim = shape[i] as number;
    if (dim === 0) return true;
    if (dim !== 1 && strides[i] !== expected) return false;
    expected *= dim;
  }
  return true;
}

/**
 * Whether a compiled kernel may write an output of `shape` and `dtype` into the buffer of `h`,
 * an input its caller handed over (CompiledKernel.run's `consumable`): `h` is the buffer's only
 * view, starts at its first element and reads it row-major in the output's shape, so each element
 * is read at the index it is written.
 */
export function takesOutput<S extends SharedStorage>(h: StridedHandle<S>, shape: Shape, dtype: DType): boolean {
  return h.storage.refs === 1 && h.offset === 0 && h.dtype === dtype && shapesEqual(h.shape, shape) && isContiguous(h.shape, h.strides);
}
