// Shared by the nn tests (the `.test-support` name keeps it out of the published package): a
// seeded generator for inputs, and float64 nested-array helpers for the independent references.

import { mulberry32 } from '../../../../test/support/mulberry32.js';

/** A seeded generator (mulberry32), so that test inputs are the same on every run. */
export const seededRandom = mulberry32;

/** `count` values uniform in [low, high). */
export function randomValues(random: () => number, count: number, low = -1, high = 1): number[] {
  return Array.from({ length: count }, () => low + (high - low) * random());
}

/** Standard normal values (Box-Muller). */
export function randomNormals(random: () => number, count: number): number[] {
  return Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) strides[i] = (strides[i + 1] as number) * (shape[i + 1] as number);
  return strides;
}

/** The largest absolute difference between two equally long lists, NaN-aware (NaN == NaN, inf == inf). */
export function maxDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (Number.isNaN(a) && Number.isNaN(e)) continue;
    if (a === e) continue;
    const d = Math.abs(a - e);
    if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return worst;
}

/** The largest difference relative to `1 + |expected|`: absolute near 0, relative for big values. */
export function maxRelativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if ((Number.isNaN(a) && Number.isNaN(e)) || a === e) continue;
    const d = Math.abs(a - e) / (1 + Math.abs(e));
    if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return worst;
}

/** Matrix product of row-major [m, k] and [k, n] arrays. */
export function matmulReference(a: readonly number[], b: readonly number[], m: number, k: number, n: number): number[] {
  const out = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[p * n + j] as number);
      out[i * n + j] = s;
    }
  return out;
}

/** `x Wᵀ + b` for x [rows, in], W [out, in], b [out]. */
export function linearReference(
  x: readonly number[],
  w: readonly number[],
  b: readonly number[] | null,
  rows: number,
  inFeatures: number,
  outFeatures: number,
): number[] {
  const out = new Array<number>(rows * outFeatures).fill(0);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outFeatures; o++) {
      let s = b === null ? 0 : (b[o] as number);
      for (let i = 0; i < inFeatures; i++) s += (x[r * inFeatures + i] as number) * (w[o * inFeatures + i] as number);
      out[r * outFeatures + o] = s;
    }
  return out;
}

/** Softmax of one row. */
export function softmaxRow(row: readonly number[]): number[] {
  const peak = Math.max(...row);
  const e = row.map((v) => Math.exp(v - peak));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

export const sigmoidReference = (v: number): number => 1 / (1 + Math.exp(-v));

/** Mean and (biased or unbiased) variance. */
export function moments(values: readonly number[], unbiased = false): [number, number] {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const squares = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return [mean, squares / (values.length - (unbiased ? 1 : 0))];
}
