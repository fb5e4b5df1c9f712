// LU with partial pivoting of one m x n matrix as LAPACK's getrf chooses (the first row of largest
// magnitude in the column), right-looking: each step swaps whole rows, divides the column below
// the pivot by it and updates the trailing rows, so the inner loop runs along a row.

/**
 * Factors `w` (row-major m x n) in place into the packed L U (L's unit diagonal implied). Writes
 * the 0-based pivots (at step i, row i was swapped with row pivots[i]) into `pivots` from
 * `pivotsAt`, and the permutation they make (row i of L U is row perm[i] of A) into `perm` from
 * `permAt`. An exact zero pivot (its column is zero from the diagonal down) leaves its multipliers
 * at zero and the factorization goes on, as getrf's.
 */
export function luInPlace(
  w: Float64Array,
  m: number,
  n: number,
  pivots: Int32Array,
  pivotsAt: number,
  perm: Int32Array,
  permAt: number,
): void {
  const k = Math.min(m, n);
  for (let i = 0; i < m; i++) perm[permAt + i] = i;
  for (let j = 0; j < k; j++) {
    let pivotRow = j;
    let largest = Math.abs(w[j * n + j] as number);
    for (let i = j + 1; i < m; i++) {
      const magnitude = Math.abs(w[i * n + j] as number);
      if (magnitude > largest) {
        largest = magnitude;
        pivotRow = i;
      }
    }
    pivots[pivotsAt + j] = pivotRow;
    if (pivotRow !== j) {
      for (let c = 0, a = j * n, b = pivotRow * n; c < n; c++, a++, b++) {
        const t = w[a] as number;
        w[a] = w[b] as number;
        w[b] = t;
      }
      const t = perm[permAt + j] as number;
      perm[permAt + j] = perm[permAt + pivotRow] as number;
      perm[permAt + pivotRow] = t;
    }
    const pivot = w[j * n + j] as number;
    if (pivot === 0) continue;
    const rowJ = j * n;
    for (let i = j + 1; i < m; i++) {
      const rowI = i * n;
      const multiplier = (w[rowI + j] as number) / pivot;
      w[rowI + j] = multiplier;
      for (let c = j + 1; c < n; c++) w[rowI + c] = (w[rowI + c] as number) - multiplier * (w[rowJ + c] as number);
    }
  }
}
