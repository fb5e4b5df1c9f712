import type { HalfDType } from './dtype.js';

// Conversions between numbers and the 16-bit float formats Flint stores as Uint16Array bit
// patterns: float16 (IEEE binary16: 1 sign, 5 exponent, 10 mantissa bits) and bfloat16 (the top
// half of a float32: 1 sign, 8 exponent, 7 mantissa bits). Encoding rounds to nearest, ties to
// even, overflows to ±Infinity and keeps NaN a (quiet) NaN. A float64 is rounded to float32
// first, as PyTorch's CPU converts doubles: only a value within float32's rounding of a half tie
// can round differently from a direct conversion, and half ops compute in float32 anyway.

const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

/** float32 bits (as an unsigned 32-bit integer) to float16 bits, rounding to nearest even. */
function float16FromFloat32Bits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const abs = x & 0x7fffffff;
  if (abs >= 0x7f800000) {
    // Infinity stays Infinity; a NaN keeps its top payload bits and is made quiet.
    return abs === 0x7f800000 ? sign | 0x7c00 : sign | 0x7e00 | ((abs >>> 13) & 0x3ff);
  }
  // 65520 (0x477ff000) is halfway between 65504, the largest float16, and the next power of two:
  // it and everything above round to Infinity.
  if (abs >= 0x477ff000) return sign | 0x7c00;
  if (abs >= 0x38800000) {
    // Normal: rebias the exponent (127 -> 15) and round the 13 dropped mantissa bits; a carry
    // out of the mantissa correctly bumps the exponent.
    const rounded = abs + 0xfff + ((abs >>> 13) & 1);
    return sign | ((rounded >>> 13) - 0x1c000);
  }
  // Subnormal float16 (units of 2^-24); 2^-25 and below round to zero (2^-25 is a tie to even 0).
  if (abs <= 0x33000000) return sign;
  const exponent = abs >>> 23;
  const mantissa = (abs & 0x7fffff) | 0x800000;
  const shift = 126 - exponent; // 14..24
  let result = mantissa >>> shift;
  const remainder = mantissa & ((1 << shift) - 1);
  const halfway = 1 << (shift - 1);
  if (remainder > halfway || (remainder === halfway && (result & 1) === 1)) result++;
  return sign | result;
}

/** float32 bits (as an unsigned 32-bit integer) to bfloat16 bits, rounding to nearest even. */
function bfloat16FromFloat32Bits(x: number): number {
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff; // quiet NaN, never Infinity
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

let float16Table: Float32Array | null = null;

/** All 65536 float16 values, indexed by bit pattern: decoding is then one load per element. */
function float16Values(): Float32Array {
  if (float16Table !== null) return float16Table;
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const exponent = (h >>> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) {
      const magnitude = mantissa * 2 ** -24; // zero or subnormal, exact in float32
      table[h] = sign !== 0 ? -magnitude : magnitude;
    } else if (exponent === 0x1f) {
      bits[h] = (sign | 0x7f800000 | (mantissa << 13)) >>> 0;
    } else {
      bits[h] = (sign | ((exponent + 112) << 23) | (mantissa << 13)) >>> 0;
    }
  }
  float16Table = table;
  return table;
}

/**
 * The float16 bit pattern nearest to `value` (ties to even; beyond ±65504 gives ±Infinity).
 *
 * @example
 * float16Bits(1); // 0x3c00
 * float16Bits(65520); // 0x7c00 (Infinity)
 */
export function float16Bits(value: number): number {
  scratchFloat[0] = value;
  return float16FromFloat32Bits(scratchBits[0] as number);
}

/**
 * The value of a float16 bit pattern.
 *
 * @example
 * float16Value(0x3c00); // 1
 */
export function float16Value(bits: number): number {
  return float16Values()[bits & 0xffff] as number;
}

/**
 * The bfloat16 bit pattern nearest to `value` (ties to even; NaN stays NaN).
 *
 * @example
 * bfloat16Bits(1); // 0x3f80
 */
export function bfloat16Bits(value: number): number {
  scratchFloat[0] = value;
  return bfloat16FromFloat32Bits(scratchBits[0] as number);
}

/**
 * The value of a bfloat16 bit pattern.
 *
 * @example
 * bfloat16Value(0x3f80); // 1
 */
export function bfloat16Value(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratchFloat[0] as number;
}

/** `value` rounded to the nearest number `dtype` holds (as `astype(dtype)` would store it). */
export function roundToHalf(dtype: HalfDType, value: number): number {
  return dtype === 'float16' ? float16Value(float16Bits(value)) : bfloat16Value(bfloat16Bits(value));
}

/**
 * Encodes numbers into `dtype` bit patterns, rounding each to nearest even. A Float32Array is
 * read through a Uint32Array view of its memory (no per-element allocation); other inputs are
 * rounded to float32 first (see above).
 *
 * @example
 * encodeHalf('bfloat16', new Float32Array([1, 0.1])); // Uint16Array [0x3f80, 0x3dcd]
 */
export function encodeHalf(dtype: HalfDType, values: ArrayLike<number>, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  const n = values.length;
  const source = values instanceof Float32Array ? values : Float32Array.from(values);
  const bits = new Uint32Array(source.buffer, source.byteOffset, n);
  if (dtype === 'float16') for (let i = 0; i < n; i++) out[i] = float16FromFloat32Bits(bits[i] as number);
  else for (let i = 0; i < n; i++) out[i] = bfloat16FromFloat32Bits(bits[i] as number);
  return out;
}

/**
 * Decodes `dtype` bit patterns into their float32 values (exact: every float16 and bfloat16 value
 * is a float32).
 *
 * @example
 * decodeHalf('float16', new Uint16Array([0x3c00, 0xc000])); // Float32Array [1, -2]
 */
export function decodeHalf(dtype: HalfDType, bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const n = bits.length;
  if (dtype === 'float16') {
    const table = float16Values();
    for (let i = 0; i < n; i++) out[i] = table[bits[i] as number] as number;
  } else {
    const words = new Uint32Array(out.buffer, out.byteOffset, n);
    for (let i = 0; i < n; i++) words[i] = (bits[i] as number) << 16;
  }
  return out;
}
