import type { DType } from '@flint/api';
import type { Accuracy, Tolerance } from './cases/types.js';
import { isFloatDType, type RefResult, unravel } from './reference/ndarray.js';

// The smallest normal numbers: results below them may be flushed to zero by hardware that does
// not keep subnormals (GPUs), which the suite accepts as rounding.
// float16 has no such flush in Flint's backends, but its subnormal spacing (2^-24) is the
// absolute error of one rounding there.
const FLUSH = { float32: 2e-38, float64: 3e-308, float16: 2 ** -24, bfloat16: 2e-38 };

export type FloatDType = 'float32' | 'float64' | 'float16' | 'bfloat16';

// Half results are computed in float32 and rounded once, so they may differ from the float64
// reference rounded to the dtype by one unit in the last place (2^-10 relative for float16,
// 2^-7 for bfloat16) where float32's own rounding moved a value across a tie.
const RTOL = { float32: 1e-5, float64: 1e-12, float16: 2 ** -10, bfloat16: 2 ** -7 };
const TRANSCENDENTAL_ATOL = { float32: 1e-6, float64: 1e-14, float16: 2 ** -24, bfloat16: 1e-6 };

/** The default tolerance of each accuracy class (see `Accuracy`); exact needs no tolerance. */
export function defaultTolerance(dtype: FloatDType, accuracy: Accuracy): Tolerance {
  const rtol = RTOL[dtype];
  if (accuracy === 'transcendental') return { rtol, atol: TRANSCENDENTAL_ATOL[dtype] };
  if (accuracy === 'exact') return { rtol: 0, atol: 0 };
  return { rtol, atol: FLUSH[dtype] };
}

export interface Mismatch {
  readonly index: readonly number[];
  readonly expected: number;
  readonly actual: number;
}

const show = (v: number): string => (Object.is(v, -0) ? '-0' : String(v));

export function formatMismatch(m: Mismatch): string {
  return `at [${m.index.join(',')}]: expected ${show(m.expected)}, got ${show(m.actual)}`;
}

/**
 * Element-by-element comparison of a backend's output with the reference. NaN must sit where the
 * reference has NaN, infinities must match exactly, zeros must match in sign when `signedZeros`,
 * and other floats must agree within `atol + rtol * scale` (scale: the reference's magnitude, or
 * the expected value itself). Integers and bools must be equal.
 */
export function compareData(
  actual: ArrayLike<number>,
  expected: RefResult,
  dtype: DType,
  accuracy: Accuracy,
  signedZeros: boolean,
  tolerance: Tolerance | undefined,
): Mismatch[] {
  const mismatches: Mismatch[] = [];
  const data = expected.out.data;
  const float = isFloatDType(dtype);
  const tol = float ? (tolerance ?? defaultTolerance(dtype as FloatDType, accuracy)) : { rtol: 0, atol: 0 };
  for (let i = 0; i < data.length; i++) {
    const e = data[i] as number;
    const a = actual[i] as number;
    if (!matches(a, e, float, signedZeros, tol, expected.magnitude?.[i])) {
      mismatches.push({ index: unravel(i, expected.out.shape), expected: e, actual: a });
    }
  }
  return mismatches;
}

function matches(a: number, e: number, float: boolean, signedZeros: boolean, tol: Tolerance, magnitude: number | undefined): boolean {
  if (!float) return a === e;
  if (Number.isNaN(e) || Number.isNaN(a)) return Number.isNaN(e) && Number.isNaN(a);
  if (!Number.isFinite(e) || !Number.isFinite(a)) return a === e;
  if (e === 0 && a === 0) return !signedZeros || Object.is(a, e);
  const scale = Math.max(Math.abs(e), magnitude ?? 0);
  return Math.abs(a - e) <= tol.atol + tol.rtol * scale;
}
