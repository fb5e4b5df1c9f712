import { type DType, DTypeError, float16Bits, type TypedArray } from '@flint/api';

/**
 * How each dtype lives in a GPU buffer. WGSL storage buffers hold 32-bit scalars (8-bit integer
 * storage is not core WebGPU), so every element takes 4 bytes:
 *  - float32: f32;
 *  - int32: i32;
 *  - uint8: u32 holding 0..255 (kernels mask results with 255, which is uint8's wrap-around);
 *  - bool: u32 holding 0 or 1;
 *  - float16 (where offered): u32 holding the 16-bit pattern; arithmetic kernels widen it to f32
 *    and round results back (see half.ts), movement kernels move the word as it is.
 * One element size for every dtype lets movement kernels copy raw 32-bit words whatever the dtype,
 * which keeps NaN payloads, signed zeros and subnormals bit for bit.
 */
export type WgslScalar = 'f32' | 'i32' | 'u32';

export const ELEMENT_BYTES = 4;

/** The dtypes every adapter stores (float64 has no WGSL type; float16 needs 'shader-f16', bfloat16 has no WGSL type). */
export const WEBGPU_DTYPES: readonly DType[] = ['float32', 'int32', 'uint8', 'bool'];

export function wgslType(dtype: DType): WgslScalar {
  switch (dtype) {
    case 'float32':
      return 'f32';
    case 'int32':
      return 'i32';
    case 'uint8':
    case 'bool':
      return 'u32';
    case 'float64':
    case 'float16':
    case 'bfloat16':
      throw unsupportedDTypeError('webgpu', dtype);
  }
}

const WHY_NOT: Partial<Record<DType, string>> = {
  float64: 'WGSL has no 64-bit float; use float32, or a CPU backend for float64',
  float16: "this adapter lacks the 'shader-f16' feature; use float32, or a GPU whose WebGPU driver offers shader-f16",
  bfloat16: 'WGSL has no bfloat16 type; use float32 (or float16 where the adapter offers shader-f16), or a CPU backend for bfloat16',
};

/** The error for a dtype this WebGPU device cannot hold, naming the operation that asked for it. */
export function unsupportedDTypeError(op: string, dtype: DType): DTypeError {
  return new DTypeError(`${op}: ${dtype} is not offered by the 'webgpu' backend (${WHY_NOT[dtype] ?? 'unsupported dtype'})`);
}

/** Whether a dtype needs a check at all: every adapter holds the four 32-bit dtypes. */
export function isWordDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'int32' || dtype === 'uint8' || dtype === 'bool';
}

/**
 * Checks that the backend can hold `dtype`, naming `op` otherwise; `float16` says whether this
 * device offers float16 (see backend.ts).
 */
export function checkStorable(op: string, dtype: DType, float16 = false): void {
  if (isWordDType(dtype) || (float16 && dtype === 'float16')) return;
  throw unsupportedDTypeError(op, dtype);
}

/**
 * The 32-bit words to upload for `data` (uint8, bool and float16's bit patterns widen to one u32
 * per element).
 */
export function toWords(data: TypedArray, dtype: DType): Float32Array | Int32Array | Uint32Array {
  if (dtype === 'float32') return data instanceof Float32Array ? data : Float32Array.from(data);
  if (dtype === 'int32') return data instanceof Int32Array ? data : Int32Array.from(data);
  const words = new Uint32Array(data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) words[i] = data[i] !== 0 ? 1 : 0;
  else words.set(data);
  return words;
}

/** The typed array `read()` returns for the words of a buffer (uint8 and bool narrow back to bytes, float16 to its bits). */
export function fromWords(words: ArrayBuffer, dtype: DType): TypedArray {
  if (dtype === 'float32') return new Float32Array(words);
  if (dtype === 'int32') return new Int32Array(words);
  if (dtype === 'float16') return Uint16Array.from(new Uint32Array(words));
  return Uint8Array.from(new Uint32Array(words));
}

const scratchFloat = new Float32Array(1);
const scratchInt = new Int32Array(scratchFloat.buffer);

/**
 * The 32-bit pattern of `value` stored as `dtype`, with the conversions of a typed-array store
 * (floats round to float32, integers truncate and wrap) and bool as `value != 0`.
 */
export function scalarBits(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      scratchFloat[0] = value;
      return scratchInt[0] as number;
    case 'int32':
      scratchInt[0] = value;
      return scratchInt[0] as number;
    case 'uint8':
      return new Uint8Array([value])[0] as number;
    case 'bool':
      return value !== 0 ? 1 : 0;
    case 'float16':
      return float16Bits(value);
    case 'float64':
    case 'bfloat16':
      throw unsupportedDTypeError('full', dtype);
  }
}
