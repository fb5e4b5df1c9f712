import { concat, pad, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { div, sqrt } from '../elementwise.js';
import { block, matmulNT, transposed } from './matrices.js';
import { solveLower } from './triangular-solve.js';

// The Cholesky factor L (A = L L^T) of a [B, n, n] stack, reading only A's lower triangle, as
// LAPACK's potrf. Recursive: with A split in halves,
//   L11 = chol(A11),  L21 = A21 L11^-T (a blocked triangular solve),  L22 = chol(A22 - L21 L21^T),
// so the bulk (n^3 / 3 multiply-adds) is in the matmuls of the solve and the Schur complement;
// blocks of at most COLUMN_SIZE columns are factored column by column (right-looking). A pivot
// that is not positive gives NaN (sqrt of a negative, or 0 / 0) in its column and everything that
// depends on it; the pivot itself (L's diagonal entry) is NaN or 0, which is how `choleskyInfo`
// finds the first failure.

/** Factored column by column below this size. */
export const COLUMN_SIZE = 16;

/** The lower Cholesky factor of every matrix of `a` (upper triangles ignored). */
export function choleskyLower(a: Tensor): Tensor {
  const n = a.shape[1] as number;
  if (n <= COLUMN_SIZE) return columnByColumn(a);
  const h = n >> 1;
  const l11 = choleskyLower(block(a, 0, h, 0, h));
  // L21 L11^T = A21, i.e. L11 L21^T = A21^T.
  const l21 = transposed(solveLower(l11, transposed(block(a, h, n, 0, h)), false));
  const schur = sub(block(a, h, n, h, n), matmulNT(l21, l21));
  const l22 = choleskyLower(schur);
  const top = pad(l11, [
    [0, 0],
    [0, 0],
    [0, n - h],
  ]);
  return concat([top, concat([l21, l22], 2)], 1);
}

function columnByColumn(a: Tensor): Tensor {
  const n = a.shape[1] as number;
  if (n === 0) return a;
  const columns: Tensor[] = [];
  let rest = a;
  for (let j = 0; j < n; j++) {
    const m = n - j;
    const pivot = sqrt(block(rest, 0, 1, 0, 1));
    let column = pivot;
    if (m > 1) {
      const below = div(block(rest, 1, m, 0, 1), pivot);
      column = concat([pivot, below], 1);
      rest = sub(block(rest, 1, m, 1, m), matmulNT(below, below));
    }
    columns.push(
      pad(column, [
        [0, 0],
        [j, 0],
        [0, 0],
      ]),
    );
  }
  return concat(columns, 2);
}
