import {
  add,
  argmax,
  broadcast,
  cast,
  concat,
  div,
  equal,
  full,
  gather,
  iota,
  mul,
  pad,
  reduceSum,
  reshape,
  select,
  sub,
} from '../../primitives/lax.js';
import { Primitive } from '../../primitives/primitive.js';
import { bind } from '../../tensor/dispatch.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindLinalg } from '../../transforms/core.js';
import { registerLinalgComposite } from '../../transforms/linalg-calls.js';
import { block, columnsOf, matmul3, matmulTN, outerProduct, rowsOf, transposed } from './matrices.js';
import { solveLower, solveUpper } from './triangular-solve.js';

// LU with partial pivoting (LAPACK's getrf) of a [B, m, n] stack: A[perm] = L U, L unit lower
// triangular (m x k), U upper triangular (k x n), k = min(m, n), packed into one m x n matrix as
// LAPACK and torch.linalg.lu_factor do. Recursive over columns (Toledo's algorithm): factor the
// left half of the columns, apply its row swaps to the right half, solve for U12 with the unit
// lower block (a blocked triangular solve), update the Schur complement with one matmul, factor it;
// panels of at most PANEL_COLUMNS columns are factored column by column. Each step picks the first
// row of largest magnitude in its column (LAPACK's idamax) and swaps it in, so `pivots` match
// LAPACK's and torch's. A zero column leaves its multipliers at zero (LAPACK skips the scaling),
// so a singular matrix factors with a zero on U's diagonal, no NaN.

/** Factored column by column below this many columns. */
export const PANEL_COLUMNS = 16;

export interface LuFactors {
  /** L below the diagonal (unit diagonal implied) and U on and above it, [B, m, n]. */
  readonly lu: Tensor;
  /** int32 [B, m]: row i of L U is row perm[i] of A. */
  readonly perm: Tensor;
  /** int32 [B, k]: at step i, row i was swapped with row pivots[i] (0-based; LAPACK's ipiv minus 1). */
  readonly pivots: Tensor;
}

/**
 * The pivoted LU factorization of every matrix of `a`: by the backend's own kernel (LAPACK's getrf
 * on mkl, the same pivots) for a concrete stack, else `luComposite`. The kernel's factors carry no
 * derivative of their own: callers differentiate them by a rule (rules.ts).
 */
export function luFactors(a: Tensor): LuFactors {
  const [lu, perm, pivots] = bindLinalg({ name: 'luFactor' }, [a]) as [Tensor, Tensor, Tensor];
  return { lu, perm, pivots };
}

registerLinalgComposite('luFactor', (_call, [a]) => {
  const { lu, perm, pivots } = luComposite(a as Tensor);
  return [lu, perm, pivots];
});

/** The pivoted LU factorization of every matrix of `a` in primitives (differentiable through them). */
export function luComposite(a: Tensor): LuFactors {
  const [, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  if (k <= PANEL_COLUMNS) return panel(a);
  const h = k >> 1;
  const left = luComposite(columnsOf(a, 0, h));
  const right = permuteRows(columnsOf(a, h, n), left.perm);
  const u12 = solveLower(block(left.lu, 0, h, 0, h), rowsOf(right, 0, h), true);
  const l21 = rowsOf(left.lu, h, m);
  const schur = sub(rowsOf(right, h, m), matmul3(l21, u12));
  const rest = luComposite(schur);
  const lowerPerm = gather1(sliceColumns2(left.perm, h, m), rest.perm);
  return {
    lu: concat([concat([rowsOf(left.lu, 0, h), u12], 2), concat([permuteRows(l21, rest.perm), rest.lu], 2)], 1),
    perm: concat([sliceColumns2(left.perm, 0, h), lowerPerm], 1),
    pivots: concat([left.pivots, add(rest.pivots, full(rest.pivots.shape, 'int32', h, a))], 1),
  };
}

/** Columns [c0, c1) of a [B, m] tensor. */
function sliceColumns2(x: Tensor, c0: number, c1: number): Tensor {
  return reshape(columnsOf(reshape(x, [x.shape[0] as number, 1, x.shape[1] as number]), c0, c1), [x.shape[0] as number, c1 - c0]);
}

/** `x[b, perm[b, i]]` for a [B, m] x and an int32 [B, r] perm. */
function gather1(x: Tensor, perm: Tensor): Tensor {
  const [batch, m] = x.shape as [number, number];
  const r = perm.shape[1] as number;
  const flat = reshape(x, [batch * m]);
  const out = gather(flat, offsetRows(perm, m), 0);
  return reshape(out, [batch, r]);
}

/** perm + b * m, flattened: indices into the [B * m] flattening of the rows. */
function offsetRows(perm: Tensor, m: number): Tensor {
  const [batch, r] = perm.shape as [number, number];
  const offsets = mul(iota([batch, r], 'int32', 0, perm), full([batch, r], 'int32', m, perm));
  return reshape(add(perm, offsets), [batch * r]);
}

/** Rows `perm[b, i]` of every matrix of `x` ([B, m, c] by int32 [B, r]: [B, r, c]). */
export function permuteRows(x: Tensor, perm: Tensor): Tensor {
  const [batch, m, c] = x.shape as [number, number, number];
  const r = perm.shape[1] as number;
  const rows = gather(reshape(x, [batch * m, c]), offsetRows(perm, m), 0);
  return reshape(rows, [batch, r, c]);
}

/**
 * Column-by-column LU of a [B, m, w] panel, written in primitives since this loop dispatches most
 * of the factorization's ops. The rows not yet pivoted form the active block; each step takes the
 * pivot row out (a one-hot row times the block), puts the active block's first row in its place,
 * and updates the rest with one outer product. The row permutation rides along as an extra column
 * of row numbers (exact in float32 up to 2^24 rows), so it moves with the rows.
 */
function panel(a: Tensor): LuFactors {
  const [batch, m, w] = a.shape as [number, number, number];
  const k = Math.min(m, w);
  const zero = full([batch, 1, 1], a.dtype, 0, a);
  const one = full([batch, 1, 1], a.dtype, 1, a);
  const rowNumbers = iota([batch, m, 1], 'int32', 1, a);
  if (k === 0) return { lu: a, perm: reshape(rowNumbers, [batch, m]), pivots: full([batch, 0], 'int32', 0, a) };
  let active = concat([a, cast(rowNumbers, a.dtype)], 2);
  const finished: Tensor[] = [];
  const locals: Tensor[] = [];
  for (let j = 0; j < k; j++) {
    const r = m - j;
    const restShape = [batch, r - 1, w + 1];
    // The first row of largest magnitude in column j (argmax takes the first of equals, as idamax).
    const local = argmax(bind(Primitive.Abs, [block(active, 0, r, j, j + 1)], {}), 1);
    locals.push(local);
    const isPivot = equal(rowsOf(rowNumbers, 0, r), broadcast(reshape(local, [batch, 1, 1]), [batch, r, 1]));
    const pivotRow = matmulTN(cast(isPivot, a.dtype), active);
    finished.push(pivotRow);
    if (r === 1) break;
    // The first row takes the pivot row's place among the rest.
    const rest = select(broadcast(rowsOf(isPivot, 1, r), restShape), broadcast(rowsOf(active, 0, 1), restShape), rowsOf(active, 1, r));
    // Multipliers; a zero pivot means a zero column, whose multipliers stay 0 (LAPACK skips the scaling).
    const pivot = block(pivotRow, 0, 1, j, j + 1);
    const safePivot = select(equal(pivot, zero), one, pivot);
    const multipliers = div(block(rest, 0, r - 1, j, j + 1), broadcast(safePivot, [batch, r - 1, 1]));
    // The pivot row right of column j, without the row-number column.
    const trailing = pad(block(pivotRow, 0, 1, j + 1, w), [
      [0, 0],
      [0, 0],
      [j + 1, 1],
    ]);
    const updated = sub(rest, outerProduct(multipliers, trailing));
    active = concat([columnsOf(updated, 0, j), multipliers, columnsOf(updated, j + 1, w + 1)], 2);
  }
  const packed = finished.length === m ? concat(finished, 1) : concat([...finished, active], 1);
  return {
    lu: columnsOf(packed, 0, w),
    perm: reshape(cast(columnsOf(packed, w, w + 1), 'int32'), [batch, m]),
    pivots: add(concat(locals, 1), iota([batch, k], 'int32', 1, a)),
  };
}

/**
 * X with A X = R from A's factors (`adjoint`: A^T X = R), R [B, n, c]. A[perm] = L U, so
 * X = U^-1 L^-1 R[perm]; A^T = U^T L^T Q with Q R = R[perm], so X = Q^T L^-T U^-T R, Q^T undoing
 * the permutation.
 */
export function luSolveFactors(lu: Tensor, perm: Tensor, r: Tensor, adjoint: boolean): Tensor {
  if (!adjoint) return solveUpper(lu, solveLower(lu, permuteRows(r, perm), true), false);
  const luT = transposed(lu);
  const y = solveUpper(luT, solveLower(luT, r, false), true);
  return permuteRows(y, inversePermutation(perm));
}

/** The inverse of every permutation of an int32 [B, m] stack. */
export function inversePermutation(perm: Tensor): Tensor {
  const [batch, m] = perm.shape as [number, number];
  // inverse[perm[i]] = i: compare every entry with every position.
  const positions = iota([1, 1, m], 'int32', 2, perm);
  const matches = equal(broadcast(reshape(perm, [batch, m, 1]), [batch, m, m]), broadcast(positions, [batch, m, m])); // [B, i, p]: perm[i] == p
  const index = iota([batch, m, m], 'int32', 1, perm);
  return reduceSum(select(matches, index, full([batch, m, m], 'int32', 0, perm)), [1]);
}
