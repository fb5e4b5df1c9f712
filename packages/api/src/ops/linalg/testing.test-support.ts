import { randn, swapaxes, type Tensor } from '@flint/api';
import { expect } from 'vitest';

// What the linear-algebra tests share: the largest entrywise difference, the matrix transpose,
// random float64 operands.

/** The largest absolute difference between two tensors of one shape. */
export function maxDifference(a: Tensor, b: Tensor): number {
  expect([...a.shape]).toEqual([...b.shape]);
  const x = a.dataSync();
  const y = b.dataSync();
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs((x[i] as number) - (y[i] as number)));
  return worst;
}

/** The transpose of the last two axes. */
export const t = (x: Tensor): Tensor => swapaxes(x, -1, -2);

/** Standard normal float64 entries (from the global generator). */
export const f64 = (shape: number[]): Tensor => randn(shape, { dtype: 'float64' });
