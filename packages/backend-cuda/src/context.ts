import { contiguousStrides, type DType, itemSize, sizeOf } from '@flint/api';
import type { MemoryLedger } from '@flint/api/strided-backend';
import { type CudaHandle, type CudaStorage, isContiguous, layout, layoutOf, mergedStride, wrapStorage } from './handle.js';
import type { Addon } from './native/addon.js';
import { DTYPE_CODES } from './native/codes.js';

/**
 * What kernels use of the backend: the addon, the ledger of live buffers, and helpers that wrap
 * the buffers the addon returns, release them, and pack views the addon cannot take as they are.
 */
export class CudaContext {
  constructor(
    readonly addon: Addon,
    readonly ledger: MemoryLedger,
  ) {}

  /** Counts a buffer the addon returned and wraps it as a contiguous handle of `shape`. */
  adopt(id: number, shape: readonly number[], dtype: DType): CudaHandle {
    return wrapStorage(this.storage(id, sizeOf(shape), dtype), shape, dtype);
  }

  storage(id: number, elements: number, dtype: DType): CudaStorage {
    const bytes = elements * itemSize(dtype);
    this.ledger.buffers++;
    this.ledger.bytes += bytes;
    return { id, bytes, refs: 1 };
  }

  /** Drops one reference; at zero the buffer returns to the addon's cache. */
  release(storage: CudaStorage): void {
    storage.refs--;
    if (storage.refs !== 0) return;
    this.ledger.buffers--;
    this.ledger.bytes -= storage.bytes;
    this.addon.free(storage.id);
  }

  /** A fresh contiguous copy of the view. */
  copyContiguous(h: CudaHandle): CudaHandle {
    return this.adopt(this.addon.copy(DTYPE_CODES[h.dtype], h.storage.id, layoutOf(h)), h.shape, h.dtype);
  }

  /**
   * The view as a rank-k view whose dim i walks the axes `groups[i]` (each group merged into one
   * dim, row-major): the handle itself when every group merges, else a packed copy made in the
   * groups' order. `temporary` says the caller must release the copy after its kernel.
   */
  grouped(h: CudaHandle, groups: readonly (readonly number[])[]): { id: number; layout: Int32Array; temporary: CudaHandle | null } {
    const shape = groups.map((axes) => axes.reduce((p, a) => p * (h.shape[a] as number), 1));
    const strides: number[] = [];
    let merges = true;
    for (const axes of groups) {
      const stride = mergedStride(h.shape, h.strides, axes);
      if (stride === null) {
        merges = false;
        break;
      }
      strides.push(stride);
    }
    if (merges) return { id: h.storage.id, layout: layout(h.offset, shape, strides), temporary: null };
    const order = groups.flat();
    const permuted = layout(
      h.offset,
      order.map((a) => h.shape[a] as number),
      order.map((a) => h.strides[a] as number),
    );
    const packed = this.adopt(this.addon.copy(DTYPE_CODES[h.dtype], h.storage.id, permuted), shape, h.dtype);
    return { id: packed.storage.id, layout: layout(0, shape, contiguousStrides(shape)), temporary: packed };
  }

  /** The view itself when contiguous, else a packed copy (to release after use). */
  packed(h: CudaHandle): { handle: CudaHandle; temporary: boolean } {
    if (isContiguous(h.shape, h.strides)) return { handle: h, temporary: false };
    return { handle: this.copyContiguous(h), temporary: true };
  }
}
