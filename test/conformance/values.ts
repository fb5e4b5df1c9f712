import type { DType } from '@flint/api';
import type { ValueSource } from './cases/types.js';

export const HALF: readonly DType[] = ['float16', 'bfloat16'];
export const ALL_DTYPES: readonly DType[] = ['float32', 'float64', ...HALF, 'int32', 'uint8', 'bool'];
export const FLOATS: readonly DType[] = ['float32', 'float64', ...HALF];
export const NUMERIC: readonly DType[] = ['float32', 'float64', ...HALF, 'int32', 'uint8'];
export const INTEGERS: readonly DType[] = ['int32', 'uint8'];

export const uniform =
  (low: number, high: number): ValueSource =>
  (rng) =>
    rng.uniform(low, high);
export const ints =
  (low: number, high: number): ValueSource =>
  (rng) =>
    rng.int(low, high);
export const bools = (): ValueSource => (rng) => (rng.next() < 0.5 ? 1 : 0);
/** Valid int32 indices into a dimension of size `n`. */
export const indices = (n: number): ValueSource => ints(0, n - 1);
/** The listed values, cycled. */
export const list =
  (values: readonly number[]): ValueSource =>
  (_rng, i) =>
    values[i % values.length] as number;
/** 0, 1, 2, ...: distinct values that make movement mistakes visible. */
export const counting =
  (start = 0): ValueSource =>
  (_rng, i) =>
    start + i;

/** Values typical of the dtype: floats in [-3, 3], int32 in [-50, 50], any uint8, either bool. */
export function defaultValues(dtype: DType): ValueSource {
  switch (dtype) {
    case 'float32':
    case 'float64':
    case 'float16':
    case 'bfloat16':
      return uniform(-3, 3);
    case 'int32':
      return ints(-50, 50);
    case 'uint8':
      return ints(0, 255);
    case 'bool':
      return bools();
  }
}

/** Small values for every dtype (products and powers stay in range). */
export function smallValues(dtype: DType): ValueSource {
  if (dtype === 'bool') return bools();
  if (dtype === 'uint8') return ints(0, 9);
  if (dtype === 'int32') return ints(-9, 9);
  return uniform(-2, 2);
}

/** Special and extreme floats: NaN, infinities, signed zeros, huge, tiny and subnormal values. */
export function edgeFloats(dtype: DType): number[] {
  const special = [Number.NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 1.5, -2.5, 3];
  // float16: its largest finite value, values that overflow it, and subnormals (below 6.1e-5).
  if (dtype === 'float16') return [...special, 65504, -60000, 1e5, 1e-3, 3e-5, -6e-8, 1e-8];
  const common = [...special, 1e30, -1e30, 1e-30, -1e-30];
  if (dtype === 'bfloat16') return [...common, 1e-40, -1e-40, 3e38];
  return dtype === 'float32' ? [...common, 1e-40, -1e-40, 3e38] : [...common, 1e300, -1e300, 1e-300, -1e-300, 5e-324, -1e-310];
}

/** Integer extremes: wrap-around at the ends of the range. */
export function edgeInts(dtype: DType): number[] {
  if (dtype === 'uint8') return [0, 1, 2, 127, 128, 254, 255];
  return [0, 1, -1, 2, -2, 7, -7, 2 ** 31 - 1, -(2 ** 31), 2 ** 30, -(2 ** 30) - 1];
}

export function edgeValues(dtype: DType): number[] {
  if (dtype === 'bool') return [0, 1];
  if (dtype === 'int32' || dtype === 'uint8') return edgeInts(dtype);
  return edgeFloats(dtype);
}

/** For a binary op over every pair of `values`: the left operand of pair i. */
export const crossLeft =
  (values: readonly number[]): ValueSource =>
  (_rng, i) =>
    values[Math.floor(i / values.length) % values.length] as number;
/** The right operand of pair i. */
export const crossRight =
  (values: readonly number[]): ValueSource =>
  (_rng, i) =>
    values[i % values.length] as number;
