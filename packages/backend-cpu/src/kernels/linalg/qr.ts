import { reflector } from './matrices.js';

// The Householder QR of one m x n matrix as LAPACK's geqrf and orgqr compute it (the same
// reflectors, so the same signs: R's diagonal -sign(alpha) ‖x‖, H = I where a column is already
// zero below its diagonal). Reflectors are applied to rows of the row-major workspace: w^T = v^T X
// accumulated row by row, then X -= tau v w^T row by row, so every inner loop is contiguous.

/**
 * Applies H = I - tau v v^T from the left to rows `top` .. `top + v.length - 1`, columns `first`
 * .. `last - 1` of the row-major `x` (row length `ld`); v[0] = 1. `work` holds `last` entries.
 */
function reflectRows(
  x: Float64Array,
  ld: number,
  top: number,
  first: number,
  last: number,
  v: Float64Array,
  rows: number,
  tau: number,
  work: Float64Array,
): void {
  if (tau === 0) return;
  const head = top * ld;
  for (let c = first; c < last; c++) work[c] = x[head + c] as number;
  for (let i = 1; i < rows; i++) {
    const vi = v[i] as number;
    if (vi === 0) continue;
    const row = (top + i) * ld;
    for (let c = first; c < last; c++) work[c] = (work[c] as number) + vi * (x[row + c] as number);
  }
  for (let c = first; c < last; c++) x[head + c] = (x[head + c] as number) - tau * (work[c] as number);
  for (let i = 1; i < rows; i++) {
    const f = tau * (v[i] as number);
    if (f === 0) continue;
    const row = (top + i) * ld;
    for (let c = first; c < last; c++) x[row + c] = (x[row + c] as number) - f * (work[c] as number);
  }
}

/** Scratch arrays for one m x n QR, reused across a batch. */
export interface QrWorkspace {
  readonly tau: Float64Array;
  /** The reflectors' vectors, one row of m entries each (k rows). */
  readonly vectors: Float64Array;
  readonly work: Float64Array;
}

export function qrWorkspace(m: number, n: number, qColumns: number): QrWorkspace {
  const k = Math.min(m, n);
  return { tau: new Float64Array(k), vectors: new Float64Array(k * m), work: new Float64Array(Math.max(n, qColumns)) };
}

/**
 * Reduces `a` (row-major m x n) in place to R (upper trapezoid; below the diagonal the reflectors'
 * entries, which `formQ` reads from the workspace instead) and keeps the reflectors in `space`.
 */
export function householderQr(a: Float64Array, m: number, n: number, space: QrWorkspace): void {
  const k = Math.min(m, n);
  const { tau, vectors, work } = space;
  for (let j = 0; j < k; j++) {
    const rows = m - j;
    const { tau: t, beta } = reflector(a[j * n + j] as number, a, (j + 1) * n + j, n, rows - 1);
    const v = vectors.subarray(j * m, j * m + rows);
    v[0] = 1;
    for (let i = 1; i < rows; i++) v[i] = a[(j + i) * n + j] as number;
    tau[j] = t;
    a[j * n + j] = beta;
    reflectRows(a, n, j, j + 1, n, v, rows, t, work);
  }
}

/**
 * Q's first `qColumns` columns (orgqr): H_0 H_1 ... H_{k-1} applied to those columns of I,
 * accumulated backwards (each H_j only touches rows and columns from j on), into `q` (row-major
 * m x qColumns).
 */
export function formQ(q: Float64Array, m: number, n: number, qColumns: number, space: QrWorkspace): void {
  const k = Math.min(m, n);
  q.fill(0, 0, m * qColumns);
  for (let i = 0; i < Math.min(m, qColumns); i++) q[i * qColumns + i] = 1;
  for (let j = k - 1; j >= 0; j--) {
    const rows = m - j;
    const v = space.vectors.subarray(j * m, j * m + rows);
    reflectRows(q, qColumns, j, j, qColumns, v, rows, space.tau[j] as number, space.work);
  }
}
