import { hypot, reflector } from './matrices.js';

// The eigendecomposition of one symmetric n x n matrix: Householder tridiagonalization
// (T = Q^T A Q, as LAPACK's sytrd), then the implicit QL iteration with Wilkinson's shift on T
// (EISPACK's tql2, as JAMA writes it), its rotations accumulated into Q. About 9 n^3 flops where
// the composites' Jacobi sweeps dispatch some 25 ops a round, n - 1 rounds a sweep.
//
// Q is kept transposed (Z = Q^T, row i the i-th column of Q), so that the rotations of columns i
// and i + 1 of Q, the bulk of the work, walk two contiguous rows.

/** Scratch arrays for one n x n eigh, reused across a batch. */
export interface EighWorkspace {
  readonly diagonal: Float64Array;
  readonly offDiagonal: Float64Array;
  readonly tau: Float64Array;
  readonly work: Float64Array;
}

export function eighWorkspace(n: number): EighWorkspace {
  return { diagonal: new Float64Array(n), offDiagonal: new Float64Array(n), tau: new Float64Array(n), work: new Float64Array(n) };
}

/** QL iterations allowed per eigenvalue before giving up (tql2 converges in two or three). */
const MAX_ITERATIONS = 60;

/**
 * The eigenvalues (ascending, into `space.diagonal`) and eigenvectors (row i of `z` the i-th, so
 * z = V^T) of the symmetric `a` (row-major n x n, both triangles holding the matrix; overwritten).
 * Returns false when the QL iteration did not converge (the caller declines to the composite).
 */
export function symmetricEigen(a: Float64Array, z: Float64Array, n: number, space: EighWorkspace): boolean {
  tridiagonalize(a, n, space);
  transposedQ(a, z, n, space);
  if (!tql2(z, n, space.diagonal, space.offDiagonal)) return false;
  sortAscending(z, n, space.diagonal, space.work);
  return true;
}

/**
 * T = H_{n-3} ... H_0 A H_0 ... H_{n-3}: step k zeroes row and column k beyond k + 1 by a
 * reflector over indices k + 1 .. n - 1, kept in row k right of k + 1 (that row is not read
 * again) with its tau; the trailing block gets the symmetric rank-2 update A - v w^T - w v^T,
 * p = tau A v, w = p - (tau / 2)(p . v) v. T's diagonal and first superdiagonal go to `space`.
 */
function tridiagonalize(a: Float64Array, n: number, space: EighWorkspace): void {
  const { diagonal, offDiagonal, tau, work: p } = space;
  for (let k = 0; k < n - 2; k++) {
    const row = k * n;
    const { tau: t, beta } = reflector(a[row + k + 1] as number, a, row + k + 2, 1, n - k - 2);
    a[row + k + 1] = 1;
    tau[k] = t;
    diagonal[k] = a[row + k] as number;
    offDiagonal[k] = beta;
    if (t === 0) continue;
    // v lives at a[row + k + 1 ..], v[0] = 1.
    let pv = 0;
    for (let i = k + 1; i < n; i++) {
      const rowI = i * n;
      let sum = 0;
      for (let j = k + 1; j < n; j++) sum += (a[rowI + j] as number) * (a[row + j] as number);
      p[i] = t * sum;
      pv += (p[i] as number) * (a[row + i] as number);
    }
    const half = 0.5 * t * pv;
    for (let i = k + 1; i < n; i++) p[i] = (p[i] as number) - half * (a[row + i] as number);
    for (let i = k + 1; i < n; i++) {
      const rowI = i * n;
      const vi = a[row + i] as number;
      const wi = p[i] as number;
      for (let j = k + 1; j < n; j++) a[rowI + j] = (a[rowI + j] as number) - vi * (p[j] as number) - wi * (a[row + j] as number);
    }
  }
  if (n >= 2) {
    diagonal[n - 2] = a[(n - 2) * n + n - 2] as number;
    offDiagonal[n - 2] = a[(n - 2) * n + n - 1] as number;
    tau[n - 2] = 0;
  }
  diagonal[n - 1] = a[n * n - 1] as number;
  offDiagonal[n - 1] = 0;
}

/**
 * z = Q^T = H_{n-3} ... H_0, accumulated from the right starting at I: z H_k changes columns
 * k + 1 .. of the rows that are not yet e_r there (rows k + 1 ..), each row r by
 * z_r -= tau (z_r . v) v.
 */
function transposedQ(a: Float64Array, z: Float64Array, n: number, space: EighWorkspace): void {
  z.fill(0, 0, n * n);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  for (let k = n - 3; k >= 0; k--) {
    const t = space.tau[k] as number;
    if (t === 0) continue;
    const v = k * n;
    for (let r = k + 1; r < n; r++) {
      const rowR = r * n;
      let dot = 0;
      for (let j = k + 1; j < n; j++) dot += (z[rowR + j] as number) * (a[v + j] as number);
      const f = t * dot;
      if (f === 0) continue;
      for (let j = k + 1; j < n; j++) z[rowR + j] = (z[rowR + j] as number) - f * (a[v + j] as number);
    }
  }
}

/**
 * The implicit QL iteration with Wilkinson's shift on the tridiagonal (d, e) (e[i] couples i and
 * i + 1, e[n - 1] = 0), each rotation of Q's columns i and i + 1 applied to rows i and i + 1 of z.
 * d becomes the eigenvalues, unsorted. False when an eigenvalue took more than MAX_ITERATIONS.
 */
function tql2(z: Float64Array, n: number, d: Float64Array, e: Float64Array): boolean {
  const eps = 2 ** -52;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n - 1 && Math.abs(e[m] as number) > eps * tst1) m++;
    if (m > l) {
      let iterations = 0;
      do {
        if (++iterations > MAX_ITERATIONS) return false;
        // The shift: the eigenvalue of the leading 2 x 2 block nearer d[l].
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        // The QL sweep from m up to l.
        p = d[m] as number;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1] as number;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          const rowI = i * n;
          const rowNext = rowI + n;
          for (let k = 0; k < n; k++) {
            const next = z[rowNext + k] as number;
            const here = z[rowI + k] as number;
            z[rowNext + k] = s * here + c * next;
            z[rowI + k] = c * here - s * next;
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > eps * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
  return true;
}

/** Sorts the eigenvalues ascending, with their rows of z (selection sort: n swaps at most). */
function sortAscending(z: Float64Array, n: number, d: Float64Array, row: Float64Array): void {
  for (let i = 0; i < n - 1; i++) {
    let smallest = i;
    for (let j = i + 1; j < n; j++) if ((d[j] as number) < (d[smallest] as number)) smallest = j;
    if (smallest === i) continue;
    const value = d[i] as number;
    d[i] = d[smallest] as number;
    d[smallest] = value;
    row.set(z.subarray(i * n, i * n + n));
    z.copyWithin(i * n, smallest * n, smallest * n + n);
    z.set(row, smallest * n);
  }
}
