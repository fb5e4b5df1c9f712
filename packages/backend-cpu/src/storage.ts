import { type DType, type TypedArray, typedArrayConstructor } from '@flint/api';

/**
 * A storage's accounts, kept apart from its array: `refs` counts the live handles (views
 * included), and the storage is freed when it reaches zero; `counted` records whether the
 * backend's memory ledger has seen it, so views (which reuse a storage) are not counted twice.
 * The api's finalizer holds this object, not the handle, for a tensor nobody disposed
 * (`Backend.finalizerToken`): the array is then left to the garbage collector, which frees it
 * even in a synchronous loop that never lets the finalizer run.
 */
export interface StorageLife {
  refs: number;
  counted: boolean;
  readonly bytes: number;
}

/** One allocation: a typed array shared by every view of it, and its accounts. */
export interface Storage {
  readonly data: TypedArray;
  readonly life: StorageLife;
}

export function newStorage(data: TypedArray): Storage {
  return { data, life: { refs: 1, counted: false, bytes: data.byteLength } };
}

// Freed storages of at least POOL_MIN_BYTES go to a pool and back out to kernels asking for the
// same type and length: training steps allocate the same shapes over and over, and a fresh large
// typed array costs a page fault per 4 KiB on first touch, often more than the kernel's arithmetic.
// Small arrays are cheap to allocate and are left to the garbage collector.
const POOL_MIN_BYTES = 16 * 1024;
const POOL_MAX_BYTES = 256 * 1024 * 1024;

type Kind = 'f32' | 'f64' | 'i32' | 'u8' | 'u16';
const KINDS: Record<DType, Kind> = {
  float32: 'f32',
  float64: 'f64',
  float16: 'u16',
  bfloat16: 'u16',
  int32: 'i32',
  uint8: 'u8',
  bool: 'u8',
};

function kindOf(data: TypedArray): Kind {
  if (data instanceof Float32Array) return 'f32';
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint16Array) return 'u16';
  return 'u8';
}

const pools: Record<Kind, Map<number, TypedArray[]>> = { f32: new Map(), f64: new Map(), i32: new Map(), u8: new Map(), u16: new Map() };
let pooledBytes = 0;

/** Returns a freed storage's array to the pool (when it is large, owns its whole buffer, and there is room). */
export function recycle(data: TypedArray): void {
  const bytes = data.byteLength;
  if (bytes < POOL_MIN_BYTES || pooledBytes + bytes > POOL_MAX_BYTES) return;
  if (data.byteOffset !== 0 || bytes !== data.buffer.byteLength) return;
  const pool = pools[kindOf(data)];
  const list = pool.get(data.length);
  if (list === undefined) pool.set(data.length, [data]);
  else list.push(data);
  pooledBytes += bytes;
}

/**
 * A typed array of `size` elements for `dtype` whose contents are unspecified (a recycled array
 * keeps its old values): for kernels that write every element.
 */
export function allocateUninitialized(dtype: DType, size: number): TypedArray {
  const Constructor = typedArrayConstructor(dtype);
  if (size * Constructor.BYTES_PER_ELEMENT >= POOL_MIN_BYTES) {
    const reused = pools[KINDS[dtype]].get(size)?.pop();
    if (reused !== undefined) {
      pooledBytes -= reused.byteLength;
      return reused;
    }
  }
  return new Constructor(size);
}

/** A zero-filled typed array of `size` elements for `dtype`, recycled where possible. */
export function allocate(dtype: DType, size: number): TypedArray {
  const data = allocateUninitialized(dtype, size);
  data.fill(0);
  return data;
}

/** Drops every pooled array (for callers under memory pressure). */
export function emptyPool(): void {
  for (const pool of Object.values(pools)) pool.clear();
  pooledBytes = 0;
}

/** Live storages and their bytes, for `Backend.memory()`. */
export class MemoryLedger {
  buffers = 0;
  bytes = 0;

  /** Counts a storage the first time the backend sees it. */
  track(storage: Storage): void {
    const life = storage.life;
    if (life.counted) return;
    life.counted = true;
    this.buffers++;
    this.bytes += life.bytes;
  }

  /** Drops one reference; at zero the storage is uncounted and its array recycled. */
  release(storage: Storage): void {
    if (this.dropReference(storage.life)) recycle(storage.data);
  }

  /**
   * Drops one reference; at zero the storage is uncounted. Returns whether that was the last one.
   * Alone (without `release`), for a handle whose tensor was garbage-collected undisposed: its
   * array may be gone already, so it is not recycled.
   */
  dropReference(life: StorageLife): boolean {
    life.refs--;
    if (life.refs !== 0) return false;
    if (life.counted) {
      life.counted = false;
      this.buffers--;
      this.bytes -= life.bytes;
    }
    return true;
  }
}
