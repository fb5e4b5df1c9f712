import type { TypedArray } from '@flint/api';

/**
 * One allocation: a typed array shared by every view of it. `refs` counts the live handles
 * (views included); the storage is freed when it reaches zero. `counted` records whether the
 * backend's memory ledger has seen it, so views (which reuse a storage) are not counted twice.
 */
export interface Storage {
  readonly data: TypedArray;
  refs: number;
  counted: boolean;
}

export function newStorage(data: TypedArray): Storage {
  return { data, refs: 1, counted: false };
}

/** Live storages and their bytes, for `Backend.memory()`. */
export class MemoryLedger {
  buffers = 0;
  bytes = 0;

  /** Counts a storage the first time the backend sees it. */
  track(storage: Storage): void {
    if (storage.counted) return;
    storage.counted = true;
    this.buffers++;
    this.bytes += storage.data.byteLength;
  }

  /** Drops one reference; returns true when that freed the storage. */
  release(storage: Storage): boolean {
    storage.refs--;
    if (storage.refs !== 0) return false;
    if (storage.counted) {
      storage.counted = false;
      this.buffers--;
      this.bytes -= storage.data.byteLength;
    }
    return true;
  }
}
