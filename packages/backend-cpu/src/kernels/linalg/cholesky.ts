// The lower Cholesky factor of one n x n matrix, row by row (Cholesky-Crout): L[i][j] is A[i][j]
// less the dot product of rows i and j of L left of column j, so every inner loop walks two
// contiguous rows of the row-major workspace. Only A's lower triangle is read.

/**
 * Factors `w` (row-major n x n, lower triangle read) in place into L, upper triangle zeroed.
 * From the first pivot that is not positive (or is NaN) on, the columns are NaN on and below the
 * diagonal, and the columns left of it are still L's: the composites' convention, from which the
 * api reads the failure off the diagonal. Returns that column, or n when every pivot is positive.
 */
export function choleskyInPlace(w: Float64Array, n: number): number {
  let failed = n;
  for (let i = 0; i < n; i++) {
    const rowI = i * n;
    const known = Math.min(i, failed);
    for (let j = 0; j < known; j++) {
      const rowJ = j * n;
      let sum = w[rowI + j] as number;
      for (let p = 0; p < j; p++) sum -= (w[rowI + p] as number) * (w[rowJ + p] as number);
      w[rowI + j] = sum / (w[rowJ + j] as number);
    }
    if (i < failed) {
      let pivot = w[rowI + i] as number;
      for (let p = 0; p < i; p++) pivot -= (w[rowI + p] as number) * (w[rowI + p] as number);
      if (pivot > 0) w[rowI + i] = Math.sqrt(pivot);
      else failed = i;
    }
    for (let j = known; j <= i; j++) if (j >= failed) w[rowI + j] = Number.NaN;
    for (let j = i + 1; j < n; j++) w[rowI + j] = 0;
  }
  return failed;
}
