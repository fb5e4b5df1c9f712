import { checkDType, type DType, isFloating } from './dtype.js';
import { DTypeError } from './errors.js';

// torch.finfo and torch.iinfo: the numeric limits of a dtype, for code that picks epsilons,
// clamps to the representable range, or samples away from 0 (random's open intervals).

/** The limits of a floating dtype (torch.finfo). */
export interface FloatInfo {
  readonly dtype: DType;
  /** Bits of storage. */
  readonly bits: number;
  /** The gap between 1 and the next larger number. */
  readonly eps: number;
  /** The largest finite number. */
  readonly max: number;
  /** The most negative finite number (-max). */
  readonly min: number;
  /** The smallest positive normal number (torch's `tiny`, also `smallestNormal`). */
  readonly tiny: number;
  readonly smallestNormal: number;
  /** The approximate decimal resolution, 10^-precision. */
  readonly resolution: number;
  /** The decimal digits of precision, floor((mantissa bits) * log10(2)). */
  readonly precision: number;
}

/** The limits of an integer dtype (torch.iinfo). */
export interface IntInfo {
  readonly dtype: DType;
  readonly bits: number;
  readonly min: number;
  readonly max: number;
}

/** Mantissa bits (the stored ones), exponent bits and storage bits of each float dtype. */
const FLOAT_LAYOUT: Partial<Record<DType, { mantissa: number; exponent: number; bits: number }>> = {
  float64: { mantissa: 52, exponent: 11, bits: 64 },
  float32: { mantissa: 23, exponent: 8, bits: 32 },
  float16: { mantissa: 10, exponent: 5, bits: 16 },
  bfloat16: { mantissa: 7, exponent: 8, bits: 16 },
};

/**
 * The numeric limits of a floating dtype, as torch.finfo (float32 when omitted).
 *
 * @example
 * finfo('float16').max;  // 65504
 * finfo('float32').eps;  // 2^-23
 * finfo().tiny;          // 2^-126, float32's smallest normal
 */
export function finfo(dtype: DType = 'float32'): FloatInfo {
  const d = checkDType('finfo', dtype);
  const layout = FLOAT_LAYOUT[d];
  if (layout === undefined || !isFloating(d)) throw new DTypeError(`finfo: ${d} is not a floating dtype (use iinfo for integers)`);
  const bias = 2 ** (layout.exponent - 1) - 1;
  const eps = 2 ** -layout.mantissa;
  // (2 - eps) * 2^bias, written so float64's does not overflow on the way.
  const max = (2 - eps) * 2 ** (bias - 1) * 2;
  const tiny = 2 ** (1 - bias);
  const precision = Math.floor(layout.mantissa * Math.log10(2));
  return { dtype: d, bits: layout.bits, eps, max, min: -max, tiny, smallestNormal: tiny, resolution: 10 ** -precision, precision };
}

/**
 * The limits of an integer dtype (int32, uint8) or bool, as torch.iinfo.
 *
 * @example
 * iinfo('int32').max; // 2147483647
 */
export function iinfo(dtype: DType): IntInfo {
  const d = checkDType('iinfo', dtype);
  if (d === 'int32') return { dtype: d, bits: 32, min: -(2 ** 31), max: 2 ** 31 - 1 };
  if (d === 'uint8') return { dtype: d, bits: 8, min: 0, max: 255 };
  if (d === 'bool') return { dtype: d, bits: 8, min: 0, max: 1 };
  throw new DTypeError(`iinfo: ${d} is not an integer dtype (use finfo for floats)`);
}
