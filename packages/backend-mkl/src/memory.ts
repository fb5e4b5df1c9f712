import { type DType, type TypedArray, typedArrayConstructor } from '@flint/api';
import type { Storage, StorageLife } from '@flint/backend-cpu';

// Arrays of freed storages of at least POOL_MIN_BYTES are kept for the next kernel asking for the
// same type and length: a fresh multi-megabyte typed array costs a page fault per 4 KiB on first
// touch, which can exceed the native kernel that fills it, and even a small one costs an
// ArrayBuffer, a zero-filled allocation and work for the garbage collector (a bias's gradient, a
// batch of logits: about 0.7 us each, 40 us of the eager MLP step before they were pooled too).
// The smallest are left to the GC.
const POOL_MIN_BYTES = 1024;
const POOL_MAX_BYTES = 256 * 1024 * 1024;

/**
 * The mkl backend's live storages and its pool of freed arrays. Storages are tracked by their
 * accounts (`Storage.life`) in a WeakSet, not through `StorageLife.counted`, because the portable
 * kernels this backend delegates to keep their own ledger in that flag.
 */
export class MklMemory {
  buffers = 0;
  bytes = 0;
  private readonly tracked = new WeakSet<StorageLife>();
  /** Freed arrays by constructor, then by length. */
  private readonly pool = new Map<unknown, Map<number, TypedArray[]>>();
  private pooledBytes = 0;

  /** Counts a storage the first time the backend sees it. */
  track(storage: Storage): void {
    const life = storage.life;
    if (this.tracked.has(life)) return;
    this.tracked.add(life);
    this.buffers++;
    this.bytes += life.bytes;
  }

  /** Drops one reference; at zero the storage is uncounted and its array recycled. */
  release(storage: Storage): void {
    if (this.dropReference(storage.life)) this.recycle(storage.data);
  }

  /**
   * Drops one reference; at zero a tracked storage is uncounted. Returns whether it was tracked and
   * that was its last reference. Alone (without `release`), for a handle whose tensor was
   * garbage-collected undisposed: its array may be gone already, so it is not recycled.
   */
  dropReference(life: StorageLife): boolean {
    life.refs--;
    if (life.refs !== 0 || !this.tracked.has(life)) return false;
    this.tracked.delete(life);
    this.buffers--;
    this.bytes -= life.bytes;
    return true;
  }

  /**
   * A typed array of `size` elements whose contents are unspecified (a recycled array keeps its
   * old values): only for native kernels that write every element.
   */
  allocateUninitialized(dtype: DType, size: number): TypedArray {
    const Constructor = typedArrayConstructor(dtype);
    if (size * Constructor.BYTES_PER_ELEMENT >= POOL_MIN_BYTES) {
      const reused = this.pool.get(Constructor)?.get(size)?.pop();
      if (reused !== undefined) {
        this.pooledBytes -= reused.byteLength;
        return reused;
      }
    }
    const bytes = size * Constructor.BYTES_PER_ELEMENT;
    if (bytes < POOL_MIN_BYTES) return new Constructor(size);
    // A typed array's constructor zero-fills (calloc) memory the kernel overwrites anyway; an
    // unsafe Buffer is malloc'ed. allocUnsafeSlow, not allocUnsafe: below 4 KiB that one carves
    // the array out of Node's shared slab, which the pool cannot take back.
    const fresh = Buffer.allocUnsafeSlow(bytes);
    return new Constructor(fresh.buffer, fresh.byteOffset, size);
  }

  /** Returns an array no handle refers to any more to the pool. */
  recycle(data: TypedArray): void {
    const bytes = data.byteLength;
    if (bytes < POOL_MIN_BYTES || this.pooledBytes + bytes > POOL_MAX_BYTES) return;
    if (data.byteOffset !== 0 || bytes !== data.buffer.byteLength) return;
    let byLength = this.pool.get(data.constructor);
    if (byLength === undefined) {
      byLength = new Map();
      this.pool.set(data.constructor, byLength);
    }
    const list = byLength.get(data.length);
    if (list === undefined) byLength.set(data.length, [data]);
    else list.push(data);
    this.pooledBytes += bytes;
  }
}
