import { type DType, type TypedArray, typedArrayConstructor } from '@flint/api';

// Kernels' temporary buffers (im2col columns, packed panels) are reused between calls: a fresh
// multi-megabyte typed array costs a page fault per 4 KiB on first touch, which can exceed the
// arithmetic it serves. Kernels run synchronously and never keep a scratch buffer, so one buffer
// per slot is enough.

const buffers = new Map<string, TypedArray>();

/**
 * A typed array of `size` elements for `dtype`, reused across calls for the same `slot`. Its
 * contents are whatever the last user left: callers must write before they read.
 */
export function scratch(slot: string, dtype: DType, size: number): TypedArray {
  const key = `${slot}:${dtype === 'bool' ? 'uint8' : dtype}`;
  let buffer = buffers.get(key);
  if (buffer === undefined || buffer.length < size) {
    const Constructor = typedArrayConstructor(dtype);
    buffer = new Constructor(Math.max(size, buffer === undefined ? 0 : buffer.length * 2));
    buffers.set(key, buffer);
  }
  return buffer.length === size ? buffer : buffer.subarray(0, size);
}

/** A reused Float64Array (see `scratch`). */
export function scratchFloat64(slot: string, size: number): Float64Array {
  return scratch(slot, 'float64', size) as Float64Array;
}
