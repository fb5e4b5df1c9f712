import type { DType } from '@flint/api';

// The reference implementations work on plain JavaScript arrays of float64 numbers, so that they
// share no code with Flint: only its type names are imported.

/** A row-major array of float64 numbers with a dtype tag (bool elements are 0 and 1). */
export interface RefArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly data: readonly number[];
}

/**
 * What a reference implementation returns: the expected array and, for float outputs, the scale
 * against which rounding error is measured. Sums and products accumulate rounding error in
 * proportion to the sum of the absolute values of their terms, not to the (possibly cancelled)
 * result, so such references report that sum here; elementwise ones leave it out.
 */
export interface RefResult {
  readonly out: RefArray;
  readonly magnitude?: readonly number[];
}

export function sizeOfShape(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides: number[] = new Array(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

/** The multi-index of flat position `flat` in a row-major array of `shape`. */
export function unravel(flat: number, shape: readonly number[]): number[] {
  const index: number[] = new Array(shape.length);
  let rest = flat;
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i] as number;
    index[i] = rest % d;
    rest = Math.floor(rest / d);
  }
  return index;
}

/** The flat row-major position of a multi-index. */
export function ravel(index: readonly number[], shape: readonly number[]): number {
  let flat = 0;
  for (let i = 0; i < shape.length; i++) flat = flat * (shape[i] as number) + (index[i] as number);
  return flat;
}

export function at(a: RefArray, index: readonly number[]): number {
  return a.data[ravel(index, a.shape)] as number;
}

/** Builds an array of `shape` whose element at each multi-index is `f(index)`. */
export function build(shape: readonly number[], dtype: DType, f: (index: number[]) => number): RefArray {
  const size = sizeOfShape(shape);
  const data: number[] = new Array(size);
  for (let i = 0; i < size; i++) data[i] = toDType(f(unravel(i, shape)), dtype);
  return { shape: [...shape], dtype, data };
}

const INT32_MIN = -(2 ** 31);

/**
 * A float64 value stored in `dtype`: float32 rounds to nearest, int32 and uint8 wrap modulo
 * 2^32 and 2^8 (C's wrap-around for unsigned and for two's-complement int32), bool is `!= 0`.
 * Integer inputs here are always integral already; non-integral ones are truncated.
 */
export function toDType(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'float64':
      return v;
    case 'float16':
    case 'bfloat16':
      // Computed in float32, rounded once to the half format: the documented half semantics.
      return roundToHalfFormat(Math.fround(v), dtype, 'nearest');
    case 'int32':
      return wrapInt32(v);
    case 'uint8':
      return wrapInt32(v) & 255;
    case 'bool':
      return v !== 0 ? 1 : 0; // NaN != 0, so NaN is true
  }
}

/** `v` (an integer, possibly outside int32) modulo 2^32, as a signed int32. */
export function wrapInt32(v: number): number {
  if (!Number.isFinite(v)) return 0;
  const t = Math.trunc(v);
  const m = ((t % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return m >= 2 ** 31 ? m - 2 ** 32 : m;
}

export const INT32 = { min: INT32_MIN, max: 2 ** 31 - 1 } as const;

export function isFloatDType(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16' || dtype === 'bfloat16';
}

// The half formats by their parameters: stored fraction bits, and the exponents of the smallest
// normal and largest finite binades.
const HALF_FORMAT = {
  float16: { fractionBits: 10, minExponent: -14, maxExponent: 15 },
  bfloat16: { fractionBits: 7, minExponent: -126, maxExponent: 127 },
} as const;

/**
 * `v` rounded to float16 or bfloat16 by the definition of the format (in float64 arithmetic,
 * exact here since it only scales by powers of two): to nearest with ties to even, or toward
 * zero. Overflow past the largest finite value gives ±Infinity; below the smallest normal the
 * spacing stays that of the smallest binade (subnormals).
 */
export function roundToHalfFormat(v: number, dtype: 'float16' | 'bfloat16', mode: 'nearest' | 'towardZero'): number {
  if (!Number.isFinite(v) || v === 0) return v;
  const format = HALF_FORMAT[dtype];
  const magnitude = Math.abs(v);
  let exponent = Math.floor(Math.log2(magnitude));
  while (2 ** exponent > magnitude) exponent--;
  while (2 ** (exponent + 1) <= magnitude) exponent++;
  const spacing = 2 ** (Math.max(exponent, format.minExponent) - format.fractionBits);
  const units = magnitude / spacing;
  let whole = Math.floor(units);
  const fraction = units - whole;
  if (mode === 'nearest' && (fraction > 0.5 || (fraction === 0.5 && whole % 2 === 1))) whole++;
  const rounded = whole * spacing;
  const result = rounded >= 2 ** (format.maxExponent + 1) ? Infinity : rounded;
  return v < 0 ? -result : result;
}

export function isIntDType(dtype: DType): boolean {
  return dtype === 'int32' || dtype === 'uint8';
}

/** The largest and smallest values of a dtype (the identities of min and max reductions). */
export function dtypeRange(dtype: DType): { lowest: number; highest: number } {
  switch (dtype) {
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return { lowest: -Infinity, highest: Infinity };
    case 'int32':
      return { lowest: INT32.min, highest: INT32.max };
    case 'uint8':
      return { lowest: 0, highest: 255 };
    case 'bool':
      return { lowest: 0, highest: 1 };
  }
}
