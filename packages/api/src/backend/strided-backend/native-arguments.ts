import type { TypedArray } from '../../core/dtype.js';

/**
 * The small typed arrays a backend hands its native addon on every call: layouts, axes, a
 * scalar's one element.
 *
 * V8 stores a typed array of up to 64 bytes inside its own heap, where native code cannot point
 * at it, so Node-API's `napi_get_typedarray_info` first moves it out: a fresh backing store
 * (malloc), a copy, an entry in V8's registry of backing stores and, later, a sweep. That cost
 * about 0.85 us an array on the CI machine, 1.7 of the 5 us a CUDA `add` took on the host.
 * These arguments are views of a larger buffer instead, which V8 allocates outside its heap from
 * the start, so nothing moves. The buffer is handed out front to back and never reused: an
 * argument keeps its values for as long as anything holds it (its view keeps its chunk alive),
 * and a spent chunk is garbage once no argument of it is held.
 *
 * For arguments of one call. What lives long (a compiled kernel's shape) takes its own array, so
 * that it does not keep a whole chunk alive.
 */

/** Bytes per chunk: a few thousand layouts. */
const CHUNK_BYTES = 65536;
/** Longer arguments take their own buffer (over 64 bytes, so outside V8's heap anyway). */
const LONGEST_SHARED_BYTES = 1024;
/** Every argument starts on a multiple of 8 bytes, as a Float64Array must. */
const ALIGNMENT = 8;
/** V8's largest typed array kept inside its heap (its typed_array_max_size_in_heap). */
const LARGEST_ON_HEAP_BYTES = 64;

let chunk = new ArrayBuffer(CHUNK_BYTES);
let used = 0;

interface TypedArrayClass<T extends TypedArray> {
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * The element types by name (`Symbol.toStringTag`), so that a copy is a plain typed array of the
 * same kind whatever subclass the data has (a Node Buffer is a Uint8Array).
 */
const CLASSES: Readonly<Record<string, TypedArrayClass<TypedArray>>> = { Float32Array, Float64Array, Int32Array, Uint8Array, Uint16Array };

/** A zeroed array of `length` elements of `Type`, outside V8's heap, to fill and pass to a native call. */
function argument<T extends TypedArray>(Type: TypedArrayClass<T>, length: number): T {
  const bytes = length * Type.BYTES_PER_ELEMENT;
  if (bytes > LONGEST_SHARED_BYTES) return new Type(new ArrayBuffer(bytes), 0, length);
  // A chunk someone detached (transferred an argument's buffer) is replaced rather than used.
  if (used + bytes > CHUNK_BYTES || chunk.byteLength === 0) {
    chunk = new ArrayBuffer(CHUNK_BYTES);
    used = 0;
  }
  const array = new Type(chunk, used, length);
  used += Math.ceil(bytes / ALIGNMENT) * ALIGNMENT;
  return array;
}

/** A zeroed Int32Array of `length` elements to fill and hand to a native call. */
export function int32Argument(length: number): Int32Array {
  return argument(Int32Array, length);
}

/** `values` as an Int32Array argument (they must be int32s). */
export function int32ArgumentOf(values: ArrayLike<number>): Int32Array {
  const result = int32Argument(values.length);
  for (let i = 0; i < values.length; i++) result[i] = values[i] as number;
  return result;
}

/**
 * `data` itself when V8 may keep it outside its heap, else (64 bytes or less: a scalar, a short
 * row) a copy of it as an argument, so that handing it to a native call moves nothing.
 */
export function argumentData<T extends TypedArray>(data: T): T {
  if (data.byteLength > LARGEST_ON_HEAP_BYTES) return data;
  const Type = CLASSES[data[Symbol.toStringTag]] as TypedArrayClass<T> | undefined;
  if (Type === undefined) return data;
  const copy = argument(Type, data.length);
  copy.set(data as unknown as ArrayLike<number>);
  return copy;
}

/** A view's description for a native addon: `[offset, rank, ...shape, ...strides]`. */
export function nativeLayout(offset: number, shape: readonly number[], strides: readonly number[]): Int32Array {
  const rank = shape.length;
  const result = int32Argument(2 + 2 * rank);
  result[0] = offset;
  result[1] = rank;
  for (let i = 0; i < rank; i++) {
    result[2 + i] = shape[i] as number;
    result[2 + rank + i] = strides[i] as number;
  }
  return result;
}
