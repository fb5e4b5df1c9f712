import { linalg, matmul, randn, swapaxes, type Tensor } from '@flint/api';
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

/**
 * maxDifference where NaN matches NaN (and NaN against a number counts as Infinity): the backend
 * kernels' results against the composites' or another backend's, NaN patterns included.
 */
export function maxDifferenceMatchingNaN(a: Tensor, b: Tensor): number {
  expect([...a.shape]).toEqual([...b.shape]);
  const x = a.dataSync();
  const y = b.dataSync();
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs((x[i] as number) - (y[i] as number));
    worst = Number.isNaN(d)
      ? Number.isNaN(x[i] as number) && Number.isNaN(y[i] as number)
        ? worst
        : Number.POSITIVE_INFINITY
      : Math.max(worst, d);
  }
  return worst;
}

/**
 * A scalar through every decomposition a backend may run as its own kernel (eigh, qr, svdvals,
 * cholesky, det): its gradient checks that the kernels' outputs feed the analytic rules.
 */
export function decompositionsLoss(a: Tensor): Tensor {
  const s = a.add(t(a));
  const { eigenvalues, eigenvectors } = linalg.eigh(s);
  const spd = matmul(a, t(a)).add(1);
  const { Q, R } = linalg.qr(a);
  return eigenvalues
    .exp()
    .sum()
    .add(eigenvectors.mul(eigenvectors).mul(s).sum())
    .add(linalg.svdvals(a).sum())
    .add(linalg.cholesky(spd).sum())
    .add(Q.mul(R.sum()).sum())
    .add(linalg.det(a).sum());
}
