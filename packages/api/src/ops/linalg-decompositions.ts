import { LinAlgError, ValueError } from '../core/errors.js';
import { full, iota } from '../primitives/lax.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import type { TensorLike } from './convert.js';
import { add, equal, greater, logicalNot, where } from './elementwise.js';
import {
  batchShape,
  block,
  computeDTypes,
  diagonalOf,
  identity,
  matrixOperand,
  raiseOnFailure,
  squareOperand,
  stacked,
  transposed,
  unstacked,
} from './linalg/matrices.js';
import { choleskyStacked, luStacked, type QrMode, qrStacked, unpermuteRows } from './linalg/rules.js';
import { reshape } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { min } from './reduce.js';
import { tril, triu } from './triangular.js';

// Matrix decompositions (torch.linalg.cholesky, cholesky_ex, lu_factor, lu, qr) as composites of
// Flint's primitives, so that every backend has them, they batch over leading axes and trace under
// jit and vmap, and nothing reads data back (but cholesky's own check, see `linalg.cholesky`). The
// algorithms live in ops/linalg/ (blocked so that matmuls carry the bulk); their reverse-mode rules
// are analytic (ops/linalg/rules.ts). A backend's own kernels (LAPACK's on mkl) factor instead
// where it has them, eagerly, under jit and under vmap (transforms/linalg-calls.ts), with the
// same conventions.
// float32 and float64 compute as they are, float16 and bfloat16 in float32 rounded once, integers
// and bool in float32 (as the norms).

/** Options of `linalg.cholesky` and `linalg.choleskyEx`. */
export interface CholeskyOptions {
  /** Return the upper factor U (A = U^T U), computed from A's upper triangle (default false). */
  readonly upper?: boolean;
}

/** What `linalg.choleskyEx` returns (torch's names). */
export interface CholeskyExResult {
  /** The factor; NaN from the first failed pivot on where `info` is nonzero. */
  readonly L: Tensor;
  /** int32, one per matrix: 0, or the order of the first leading minor that is not positive-definite. */
  readonly info: Tensor;
}

function checkFlag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/** The factor of `t` (already checked square) and its info, in the input's batch shape. */
function choleskyWithInfo(t: Tensor, upper: boolean): CholeskyExResult {
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  const n = t.shape[t.ndim - 1] as number;
  return tidy(() => {
    const s = stacked(t, compute);
    const lower = choleskyStacked(upper ? transposed(s) : s);
    const factor = upper ? transposed(lower) : lower;
    // The first pivot (diagonal entry) that is not positive: 0 or NaN where the factorization failed.
    const L = cast(unstacked(factor, batch), result);
    if (n === 0) return { L, info: full(batch, 'int32', 0, lower) };
    const failed = logicalNot(greater(diagonalOf(lower), 0));
    const orders = add(iota([1, n], 'int32', 1, lower), 1);
    const first = min(where(failed, orders, n + 1), 1);
    const info = where(equal(first, n + 1), 0, first);
    return { L, info: reshape(info, batch) };
  });
}

const CHOLESKY = optionsSignature<CholeskyOptions>(2, { upper: true });

/**
 * The Cholesky factor of symmetric positive-definite matrices (torch.linalg.cholesky): lower L with
 * A = L L^T, or with `upper` the upper U = L^T (A = U^T U). Only the lower (`upper`: upper)
 * triangle of A is read. Batches over leading axes. Blocked: the bulk of the n^3 / 3
 * multiply-adds is in matmuls.
 *
 * A matrix that is not positive-definite raises a LinAlgError naming the order of the first
 * leading minor that is not, where the result can be checked without waiting on a device: on
 * backends that read synchronously (cpu, mkl) outside jit. Elsewhere (cuda, webgpu, jit) the factor
 * holds NaN from the failed column on; `linalg.choleskyEx` returns the failure as data instead.
 *
 * The gradient is PyTorch's symmetric one: it assumes the perturbations of A keep it symmetric.
 *
 * @example
 * linalg.cholesky(tensor([[4, 2], [2, 5]])); // [[2, 0], [1, 2]]
 */
export const linalgCholesky = withCheckedOptions('linalg.cholesky', CHOLESKY, (a: TensorLike, options: CholeskyOptions = {}): Tensor => {
  const op = 'linalg.cholesky';
  const t = squareOperand(op, a);
  const upper = checkFlag(op, 'upper', options.upper, false);
  const { L, info } = choleskyWithInfo(t, upper);
  raiseOnFailure(info, (order, matrix) => {
    const which = info.size > 1 ? ` (matrix ${matrix} of the batch)` : '';
    L.dispose();
    info.dispose();
    return new LinAlgError(
      `${op}: the factorization could not be completed because the input is not positive-definite: the leading minor of order ${order} is not positive-definite${which}; linalg.choleskyEx reports this without raising`,
    );
  });
  info.dispose();
  return L;
});

/**
 * `linalg.cholesky` that reports failure as data (torch.linalg.cholesky_ex): `{ L, info }`, info
 * an int32 per matrix, 0 on success or the order of the first leading minor that is not
 * positive-definite (L is NaN from that column on). Never reads the data, so it runs on every
 * backend and under jit without waiting.
 *
 * @example
 * const { L, info } = linalg.choleskyEx(a);
 * if ((await info.data()).some((v) => v !== 0)) ...
 */
export const choleskyEx = withCheckedOptions('linalg.choleskyEx', CHOLESKY, (a: TensorLike, options: CholeskyOptions = {}) => {
  const op = 'linalg.choleskyEx';
  return choleskyWithInfo(squareOperand(op, a), checkFlag(op, 'upper', options.upper, false));
});

/**
 * torch.cholesky: `linalg.cholesky` with `upper` as a positional flag.
 *
 * @example
 * cholesky(a, true); // the upper factor
 */
export function cholesky(a: TensorLike, upper = false): Tensor {
  return linalgCholesky(a, { upper: checkFlag('cholesky', 'upper', upper, false) });
}

/** What `linalg.luFactor` returns (torch's names). */
export interface LuFactorResult {
  /** L below the diagonal (unit diagonal implied) and U on and above it, packed as LAPACK does. */
  readonly LU: Tensor;
  /** int32 [..., min(m, n)], 1-based: at step i, row i was swapped with row pivots[i] (LAPACK's ipiv). */
  readonly pivots: Tensor;
}

/** What `linalg.lu` returns (torch's names): A = P L U. */
export interface LuResult {
  readonly P: Tensor;
  readonly L: Tensor;
  readonly U: Tensor;
}

/** The stacked factors of `t` (checked a matrix stack) in the compute dtype. */
function luOf(t: Tensor) {
  const { compute, result } = computeDTypes(t.dtype);
  return { factors: luStacked(stacked(t, compute)), result };
}

/**
 * LU factorization with partial pivoting (torch.linalg.lu_factor), for any m x n matrices:
 * `{ LU, pivots }` with A = P L U, pivots 1-based as LAPACK and torch (convert to P with
 * `linalg.lu`, solve with `linalg.luSolve`). A singular matrix factors without error (a zero on
 * U's diagonal). Blocked (recursive over columns); the pivot search is column by column.
 *
 * @example
 * const { LU, pivots } = linalg.luFactor(a);
 * const x = linalg.luSolve(LU, pivots, b);
 */
export function luFactor(a: TensorLike): LuFactorResult {
  const t = matrixOperand('linalg.luFactor', a);
  const batch = batchShape(t);
  return tidy(() => {
    const { factors, result } = luOf(t);
    return {
      LU: cast(unstacked(factors.lu, batch), result),
      pivots: reshape(add(factors.pivots, 1), [...batch, factors.pivots.shape[1] as number]),
    };
  });
}

/**
 * LU factorization with partial pivoting as three matrices (torch.linalg.lu): A = P L U with P a
 * permutation matrix (m x m), L unit lower triangular (m x k) and U upper triangular (k x n),
 * k = min(m, n).
 *
 * @example
 * const { P, L, U } = linalg.lu(a); // P.matmul(L).matmul(U) equals a
 */
export function lu(a: TensorLike): LuResult {
  const t = matrixOperand('linalg.lu', a);
  const batch = batchShape(t);
  const m = t.shape[t.ndim - 2] as number;
  const n = t.shape[t.ndim - 1] as number;
  const k = Math.min(m, n);
  return tidy(() => {
    const { factors, result } = luOf(t);
    const { lu: packed, perm } = factors;
    const stack = packed.shape[0] as number;
    const eye = identity(stack, m, packed);
    const lower = add(tril(block(packed, 0, m, 0, k), -1), block(eye, 0, m, 0, k));
    const upper = triu(block(packed, 0, k, 0, n));
    // P = Q^T for Q A = A[perm]: the identity's rows put back in A's order.
    const p = unpermuteRows(eye, perm);
    return {
      P: cast(unstacked(p, batch), result),
      L: cast(unstacked(lower, batch), result),
      U: cast(unstacked(upper, batch), result),
    };
  });
}

export type { QrMode };

/** Options of `linalg.qr`. */
export interface QrOptions {
  /** 'reduced' (default): Q m x k, R k x n; 'complete': Q m x m, R m x n; 'r': R only (Q empty). */
  readonly mode?: QrMode;
}

/** What `linalg.qr` returns (torch's names). */
export interface QrResult {
  readonly Q: Tensor;
  readonly R: Tensor;
}

const QR = optionsSignature<QrOptions>(2, { mode: true });

/**
 * QR decomposition by Householder reflections (torch.linalg.qr): A = Q R, Q with orthonormal
 * columns, R upper triangular, with LAPACK's signs (R's diagonal may be negative), so Q and R
 * match PyTorch's. `mode` 'reduced' (default), 'complete' or 'r' (Q is then an empty tensor).
 * Differentiable in every mode but 'complete' with m > n with respect to Q (whose extra columns A
 * does not determine), like PyTorch's where it has a rule, and also in mode 'r' and for m < n.
 *
 * @example
 * const { Q, R } = linalg.qr(a);
 */
export const qr = withCheckedOptions('linalg.qr', QR, (a: TensorLike, options: QrOptions = {}): QrResult => {
  const op = 'linalg.qr';
  const t = matrixOperand(op, a);
  const mode = options.mode ?? 'reduced';
  if (mode !== 'reduced' && mode !== 'complete' && mode !== 'r') {
    throw new ValueError(`${op}: mode must be 'reduced', 'complete' or 'r', got ${JSON.stringify(mode)}`);
  }
  const batch = batchShape(t);
  const { compute, result } = computeDTypes(t.dtype);
  return tidy(() => {
    const { q, r } = qrStacked(stacked(t, compute), mode);
    return {
      Q: q === null ? full([0], result, 0, r) : cast(unstacked(q, batch), result),
      R: cast(unstacked(r, batch), result),
    };
  });
});
