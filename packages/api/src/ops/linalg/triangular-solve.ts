import { concat, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { div } from '../elementwise.js';
import { block, matmul3, rowsOf } from './matrices.js';

// Triangular solves on [B, n, n] by [B, n, k] stacks, recursively blocked: the triangle is split
// in halves, one half solved, the other half's right-hand side updated by one matrix product, and
// the other half solved; below SUBSTITUTION_SIZE rows, plain substitution row by row. So the bulk
// of the work (n^2 k / 2 multiply-adds) is in matmuls, and the number of ops dispatched grows as
// n log(n / SUBSTITUTION_SIZE) rather than as n^2. Only the triangle named is read (and not its
// diagonal when `unit`), as LAPACK's trsm: the other entries may hold anything (a packed LU).

/** Rows solved one at a time below this size. */
export const SUBSTITUTION_SIZE = 16;

/** X with L X = R, for L lower triangular (its diagonal taken as ones when `unit`). */
export function solveLower(l: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = l.shape[1] as number;
  if (n <= SUBSTITUTION_SIZE) return forwardSubstitution(l, r, unit);
  const h = n >> 1;
  const top = solveLower(block(l, 0, h, 0, h), rowsOf(r, 0, h), unit);
  const rest = sub(rowsOf(r, h, n), matmul3(block(l, h, n, 0, h), top));
  const bottom = solveLower(block(l, h, n, h, n), rest, unit);
  return concat([top, bottom], 1);
}

/** X with U X = R, for U upper triangular (its diagonal taken as ones when `unit`). */
export function solveUpper(u: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = u.shape[1] as number;
  if (n <= SUBSTITUTION_SIZE) return backSubstitution(u, r, unit);
  const h = n >> 1;
  const bottom = solveUpper(block(u, h, n, h, n), rowsOf(r, h, n), unit);
  const rest = sub(rowsOf(r, 0, h), matmul3(block(u, 0, h, h, n), bottom));
  const top = solveUpper(block(u, 0, h, 0, h), rest, unit);
  return concat([top, bottom], 1);
}

function forwardSubstitution(l: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = l.shape[1] as number;
  let solved: Tensor | null = null;
  for (let i = 0; i < n; i++) {
    let row = rowsOf(r, i, i + 1);
    if (solved !== null) row = sub(row, matmul3(block(l, i, i + 1, 0, i), solved));
    const x = unit ? row : div(row, block(l, i, i + 1, i, i + 1));
    solved = solved === null ? x : concat([solved, x], 1);
  }
  return solved ?? r;
}

function backSubstitution(u: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = u.shape[1] as number;
  let solved: Tensor | null = null;
  for (let i = n - 1; i >= 0; i--) {
    let row = rowsOf(r, i, i + 1);
    if (solved !== null) row = sub(row, matmul3(block(u, i, i + 1, i + 1, n), solved));
    const x = unit ? row : div(row, block(u, i, i + 1, i, i + 1));
    solved = solved === null ? x : concat([x, solved], 1);
  }
  return solved ?? r;
}
