// Substitution for one triangular system T X = R in row-major float64 workspaces (T n x n, X and
// R n x k): the row of X being solved is updated by whole rows of the rows already solved, so the
// inner loop runs along contiguous memory. Only T's named triangle is read (and not its diagonal
// when `unit`), as LAPACK's trsm: the rest may hold a packed LU's other factor.

/** Overwrites `x` (R on entry, n x k row-major) with X, T X = R, T row-major n x n. */
export function substitute(t: Float64Array, x: Float64Array, n: number, k: number, upper: boolean, unit: boolean): void {
  for (let step = 0; step < n; step++) {
    const i = upper ? n - 1 - step : step;
    const row = i * k;
    // The solved rows: those below i for an upper T, above it for a lower one.
    const [from, to] = upper ? [i + 1, n] : [0, i];
    for (let j = from; j < to; j++) {
      const factor = t[i * n + j] as number;
      const solved = j * k;
      for (let c = 0; c < k; c++) x[row + c] = (x[row + c] as number) - factor * (x[solved + c] as number);
    }
    if (unit) continue;
    // Divided, not multiplied by a reciprocal: a zero pivot gives Infinity or NaN as the composite's division does.
    const pivot = t[i * n + i] as number;
    for (let c = 0; c < k; c++) x[row + c] = (x[row + c] as number) / pivot;
  }
}
