import { add, concat, pad, reshape, slice, sub, transpose } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindLinalg } from '../../transforms/core.js';
import { registerLinalgComposite } from '../../transforms/linalg-calls.js';
import { div } from '../elementwise.js';
import { block, identity, matmul3, rowsOf } from './matrices.js';

// Triangular solves on [B, n, n] by [B, n, k] stacks, blocked as GPU BLAS libraries do (MAGMA's
// trsm): the triangle is cut into BLOCK x BLOCK diagonal blocks, all of them are inverted at once
// (one batched substitution of BLOCK rows, whatever n), and block substitution then costs two
// matmuls per block row: X_i = inv(T_ii) (R_i - T_i,<i X_<i). The bulk (n^2 k / 2 multiply-adds)
// is in those matmuls, and the ops dispatched grow as n / BLOCK, not as n. Small triangles are
// solved by plain substitution, row by row. Only the triangle named is read (not its diagonal
// when `unit`), as LAPACK's trsm: the other entries may hold anything (a packed LU).

/** The size of the diagonal blocks, and below which triangles are solved row by row. */
export const BLOCK = 16;

/**
 * X with L X = R, for L lower triangular (its diagonal taken as ones when `unit`): by the
 * backend's kernel where it has one (BLAS trsm on mkl), else blocked substitution in primitives.
 */
export function solveLower(l: Tensor, r: Tensor, unit: boolean): Tensor {
  return bindLinalg({ name: 'triangularSolve', upper: false, unit }, [l, r])[0] as Tensor;
}

/** X with U X = R, for U upper triangular (its diagonal taken as ones when `unit`); see solveLower. */
export function solveUpper(u: Tensor, r: Tensor, unit: boolean): Tensor {
  return bindLinalg({ name: 'triangularSolve', upper: true, unit }, [u, r])[0] as Tensor;
}

registerLinalgComposite('triangularSolve', (call, [t, r]) => {
  if (call.name !== 'triangularSolve') throw new Error(`flint internal error: the triangular solve's composite got ${call.name}`);
  return [(call.upper ? solveUpperComposite : solveLowerComposite)(t as Tensor, r as Tensor, call.unit)];
});

function solveLowerComposite(l: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = l.shape[1] as number;
  if (n <= BLOCK) return forwardSubstitution(l, r, unit);
  const { t, rhs, count } = padded(l, r);
  const inverses = diagonalInverses(t, count, (blocks, eye) => forwardSubstitution(blocks, eye, unit));
  let solved: Tensor | null = null;
  for (let i = 0; i < count; i++) {
    let rows = rowsOf(rhs, i * BLOCK, (i + 1) * BLOCK);
    if (solved !== null) rows = sub(rows, matmul3(block(t, i * BLOCK, (i + 1) * BLOCK, 0, i * BLOCK), solved));
    const x = matmul3(inverseOf(inverses, i), rows);
    solved = solved === null ? x : concat([solved, x], 1);
  }
  return rowsOf(solved as Tensor, 0, n);
}

function solveUpperComposite(u: Tensor, r: Tensor, unit: boolean): Tensor {
  const n = u.shape[1] as number;
  if (n <= BLOCK) return backSubstitution(u, r, unit);
  const { t, rhs, count } = padded(u, r);
  const size = count * BLOCK;
  const inverses = diagonalInverses(t, count, (blocks, eye) => backSubstitution(blocks, eye, unit));
  let solved: Tensor | null = null;
  for (let i = count - 1; i >= 0; i--) {
    let rows = rowsOf(rhs, i * BLOCK, (i + 1) * BLOCK);
    if (solved !== null) rows = sub(rows, matmul3(block(t, i * BLOCK, (i + 1) * BLOCK, (i + 1) * BLOCK, size), solved));
    const x = matmul3(inverseOf(inverses, i), rows);
    solved = solved === null ? x : concat([x, solved], 1);
  }
  return rowsOf(solved as Tensor, 0, n);
}

/**
 * The triangle grown to a whole number of blocks, [[T, 0], [0, I]], and the right-hand side with
 * zero rows: the solution is [X; 0].
 */
function padded(t: Tensor, r: Tensor): { t: Tensor; rhs: Tensor; count: number } {
  const [batch, n] = t.shape as [number, number, number];
  const count = Math.ceil(n / BLOCK);
  const extra = count * BLOCK - n;
  if (extra === 0) return { t, rhs: r, count };
  const tail = pad(identity(batch, extra, t), [
    [0, 0],
    [n, 0],
    [n, 0],
  ]);
  const grown = add(
    pad(t, [
      [0, 0],
      [0, extra],
      [0, extra],
    ]),
    tail,
  );
  const rhs = pad(r, [
    [0, 0],
    [0, extra],
    [0, 0],
  ]);
  return { t: grown, rhs, count };
}

/**
 * The inverses of the `count` diagonal blocks of `t` ([B, count * BLOCK, same]), as
 * [B, count, BLOCK, BLOCK], by one substitution over all of them: the block grid's diagonal is a
 * strided slice of the blocks laid out [B, count * count, BLOCK, BLOCK].
 */
function diagonalInverses(t: Tensor, count: number, invert: (blocks: Tensor, eye: Tensor) => Tensor): Tensor {
  const batch = t.shape[0] as number;
  const grid = transpose(reshape(t, [batch, count, BLOCK, count, BLOCK]), [0, 1, 3, 2, 4]);
  const all = reshape(grid, [batch, count * count, BLOCK, BLOCK]);
  const diagonal = slice(all, [0, 0, 0, 0], [batch, count * count, BLOCK, BLOCK], [1, count + 1, 1, 1]);
  const stack = reshape(diagonal, [batch * count, BLOCK, BLOCK]);
  return reshape(invert(stack, identity(batch * count, BLOCK, t)), [batch, count, BLOCK, BLOCK]);
}

const inverseOf = (inverses: Tensor, i: number): Tensor => {
  const batch = inverses.shape[0] as number;
  return reshape(slice(inverses, [0, i, 0, 0], [batch, i + 1, BLOCK, BLOCK]), [batch, BLOCK, BLOCK]);
};

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
