import { DTypeError, LinAlgError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { iota } from '../primitives/lax.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { equal, less, sub, where } from './elementwise.js';
import {
  batchShape,
  computeDTypes,
  identity,
  jointBatch,
  jointDTypes,
  matrixOperand,
  raiseOnFailure,
  squareOperand,
  stacked,
  transposed,
  unstacked,
} from './linalg/matrices.js';
import { detStacked, invStacked, luSolveStacked, slogdetStacked, solveStacked, triangularSolveStacked } from './linalg/rules.js';
import { matmul } from './linalg.js';
import { reshape, squeeze, unsqueeze } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { sum } from './reduce.js';

// Solves, inverses and determinants (torch.linalg.solve_triangular, lu_solve, solve, inv, det,
// slogdet, matrix_power; torch.logdet, inverse), composites over the blocked triangular solves and
// the pivoted LU of ops/linalg/, with analytic reverse-mode rules (ops/linalg/rules.ts). dtypes as
// the decompositions (ops/linalg-decompositions.ts). Two operands broadcast their batch axes.

function checkFlag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A system A X = B (or X A = B when not `left`) as stacked operands: B must have n rows (or n
 * columns), the batch axes broadcast, and both are stacked in the compute dtype. `what` names A
 * in the error ('A', or 'LU' for a factorization); `shown` is B as the caller gave it.
 */
function stackSystem(op: string, what: string, a: Tensor, b: Tensor, left: boolean, shown: Tensor = b) {
  const n = a.shape[a.ndim - 1] as number;
  const along = left ? b.shape[b.ndim - 2] : b.shape[b.ndim - 1];
  if (along !== n) {
    throw new ShapeError(
      `${op}: ${what} ${formatShape(a.shape)} and B ${formatShape(shown.shape)} do not fit: ${left ? 'A X = B needs B to have n rows' : 'X A = B needs B to have n columns'} (n = ${n})`,
    );
  }
  const batch = jointBatch(op, a, b);
  const { compute, result } = jointDTypes([a.dtype, b.dtype]);
  const [sa, sb] = stackPair(a, b, batch, compute);
  return { sa, sb, batch, result };
}

/** Both operands broadcast to `batch` and stacked in `dtype`. */
function stackPair(a: Tensor, b: Tensor, batch: readonly number[], dtype: 'float32' | 'float64'): [Tensor, Tensor] {
  const expand = (t: Tensor) => stacked(broadcastTo(t, [...batch, ...t.shape.slice(-2)]), dtype);
  return [expand(a), expand(b)];
}

function singular(op: string, info: Tensor): (order: number, matrix: number) => Error {
  return (order, matrix) =>
    new LinAlgError(
      `${op}: the input is singular: U[${order - 1}, ${order - 1}] of its LU factorization is exactly zero${info.size > 1 ? ` (matrix ${matrix} of the batch)` : ''}`,
    );
}

/** Options of `linalg.solveTriangular`. */
export interface SolveTriangularOptions {
  /** Whether A is upper (true) or lower (false) triangular. Required, as in torch. */
  readonly upper: boolean;
  /** Solve A X = B (true, default) or X A = B (false). */
  readonly left?: boolean;
  /** Take A's diagonal as ones, without reading it (default false). */
  readonly unitriangular?: boolean;
}

const SOLVE_TRIANGULAR = optionsSignature<SolveTriangularOptions>(3, { upper: true, left: true, unitriangular: true });

/**
 * Solves A X = B (or X A = B with `left: false`) for triangular A (torch.linalg.solve_triangular):
 * only A's triangle named by `upper` is read (and not its diagonal with `unitriangular`). A is
 * [..., n, n], B [..., n, k] ([..., k, n] when not `left`); batch axes broadcast. Recursively
 * blocked: the bulk is in matmuls. No check for a zero on the diagonal (the result holds
 * Infinity or NaN), as PyTorch.
 *
 * @example
 * linalg.solveTriangular(tensor([[2, 0], [1, 1]]), tensor([[2], [3]]), { upper: false }); // [[1], [2]]
 */
export const solveTriangular = withCheckedOptions(
  'linalg.solveTriangular',
  SOLVE_TRIANGULAR,
  (a: TensorLike, b: TensorLike, options: SolveTriangularOptions): Tensor => {
    const op = 'linalg.solveTriangular';
    if (options === undefined || typeof options.upper !== 'boolean') {
      throw new ValueError(`${op}: options.upper is required: whether A is upper (true) or lower (false) triangular`);
    }
    const ta = squareOperand(op, a, 'A');
    const tb = matrixOperand(op, b, 'B', ta);
    const upper = options.upper;
    const left = checkFlag(op, 'left', options.left, true);
    const unit = checkFlag(op, 'unitriangular', options.unitriangular, false);
    return tidy(() => {
      const { sa, sb, batch, result } = stackSystem(op, 'A', ta, tb, left);
      return cast(unstacked(triangularSolveStacked(sa, sb, { upper, left, unit }), batch), result);
    });
  },
);

/** Options of `linalg.solve`. */
export interface SolveOptions {
  /** Solve A X = B (true, default) or X A = B (false). */
  readonly left?: boolean;
}

/** Options of `linalg.luSolve`. */
export interface LuSolveOptions {
  /** Solve A X = B (true, default) or X A = B (false). */
  readonly left?: boolean;
  /** Solve with A^T instead of A (default false). */
  readonly adjoint?: boolean;
}

const SOLVE = optionsSignature<SolveOptions>(3, { left: true });
const LU_SOLVE = optionsSignature<LuSolveOptions>(4, { left: true, adjoint: true });

/**
 * torch.linalg.solve's reading of B: a batch of vectors when B is 1-d or B's shape is A's without
 * the last axis; otherwise a batch of matrices.
 */
function isVectorCase(a: Tensor, b: Tensor): boolean {
  if (b.ndim === 1) return true;
  return b.ndim === a.ndim - 1 && b.shape.every((d, i) => d === a.shape[i]);
}

/**
 * Solves A X = B for square, invertible A (torch.linalg.solve), by LU with partial pivoting: X =
 * A^-1 B without forming the inverse. A is [..., n, n]; B is [..., n, k], or [..., n] (a batch of
 * vectors, when B is 1-d or has A's shape without its last axis); batch axes broadcast. `left:
 * false` solves X A = B. An exactly singular A raises a LinAlgError where the result can be
 * checked without waiting on a device (see `linalg.cholesky`); elsewhere X holds Infinity or NaN.
 *
 * @example
 * linalg.solve(tensor([[3, 1], [1, 2]]), tensor([9, 8])); // [2, 3]
 */
export const solve = withCheckedOptions('linalg.solve', SOLVE, (a: TensorLike, b: TensorLike, options: SolveOptions = {}): Tensor => {
  const op = 'linalg.solve';
  const left = checkFlag(op, 'left', options.left, true);
  const { x, info } = tidy(() => {
    const ta = squareOperand(op, a, 'A');
    const given = toTensor(op, b, undefined, ta);
    const vector = isVectorCase(ta, given);
    const tb = vector ? unsqueeze(given, left ? -1 : -2) : given;
    if (tb.ndim < 2) throw new ShapeError(`${op}: B must have at least 1 dimension, got shape ${formatShape(tb.shape)}`);
    const { sa, sb, batch, result } = stackSystem(op, 'A', ta, tb, left, given);
    // X A = B  <=>  A^T X^T = B^T.
    const solved = left ? solveStacked(sa, sb) : solveStacked(transposed(sa), transposed(sb));
    const shaped = unstacked(left ? solved.x : transposed(solved.x), batch);
    return { x: cast(vector ? squeeze(shaped, left ? -1 : -2) : shaped, result), info: solved.info };
  });
  raiseOnFailure(info, (order, matrix) => {
    const error = singular(op, info)(order, matrix);
    x.dispose();
    info.dispose();
    return error;
  });
  info.dispose();
  return x;
});

/** The row permutation (int32 [B, n]) that LAPACK-style 1-based `pivots` ([B, k]) apply, in ops. */
function permutationOf(pivots: Tensor, n: number): Tensor {
  const batch = pivots.shape[0] as number;
  const k = pivots.shape[1] as number;
  const positions = iota([batch, n], 'int32', 1, pivots);
  let perm = positions;
  for (let i = 0; i < k; i++) {
    const target = sub(pivots.slice([0, i], [batch, i + 1]), 1); // [B, 1], 0-based
    const isTarget = equal(positions, target);
    const isI = equal(positions, i);
    const atI = perm.slice([0, i], [batch, i + 1]);
    const atTarget = sum(where(isTarget, perm, 0), 1, true);
    perm = where(isI, atTarget, where(isTarget, atI, perm));
  }
  return perm;
}

/**
 * Solves A X = B from A's `linalg.luFactor` (torch.linalg.lu_solve): `adjoint` solves A^T X = B,
 * `left: false` X A = B. LU is [..., n, n], pivots [..., n] (1-based), B [..., n, k] (or
 * [..., k, n]); batch axes broadcast. Differentiable with respect to LU and B.
 *
 * @example
 * const { LU, pivots } = linalg.luFactor(a);
 * linalg.luSolve(LU, pivots, b);
 */
export const luSolve = withCheckedOptions(
  'linalg.luSolve',
  LU_SOLVE,
  (factor: TensorLike, pivots: TensorLike, b: TensorLike, options: LuSolveOptions = {}): Tensor => {
    const op = 'linalg.luSolve';
    const tf = squareOperand(op, factor, 'LU');
    const tp = toTensor(op, pivots, undefined, tf);
    const tb = matrixOperand(op, b, 'B', tf);
    const left = checkFlag(op, 'left', options.left, true);
    const adjoint = checkFlag(op, 'adjoint', options.adjoint, false);
    const n = tf.shape[tf.ndim - 1] as number;
    if (tp.dtype !== 'int32' && tp.dtype !== 'uint8') {
      throw new ValueError(`${op}: pivots must be an integer tensor (int32), got ${tp.dtype}`);
    }
    const expected = [...batchShape(tf), n];
    if (tp.ndim !== expected.length || tp.shape.some((d, i) => d !== expected[i])) {
      throw new ShapeError(
        `${op}: pivots must have shape ${formatShape(expected)} for LU ${formatShape(tf.shape)}, got ${formatShape(tp.shape)}`,
      );
    }
    return tidy(() => {
      const { sa: sf, sb, batch, result } = stackSystem(op, 'LU', tf, tb, left);
      const stack = sf.shape[0] as number;
      const perm = permutationOf(reshape(broadcastTo(cast(tp, 'int32'), [...batch, n]), [stack, n]), n);
      // X A = B  <=>  A^T X^T = B^T: the other of (A, A^T) on B^T.
      const x = left ? luSolveStacked(sf, perm, sb, adjoint) : transposed(luSolveStacked(sf, perm, transposed(sb), !adjoint));
      return cast(unstacked(x, batch), result);
    });
  },
);

/**
 * The inverse of square, invertible matrices (torch.linalg.inv), from the LU: A X = I. An exactly
 * singular A raises a LinAlgError where it can be checked without waiting on a device (see
 * `linalg.cholesky`); elsewhere the result holds Infinity or NaN. Prefer `linalg.solve` to
 * multiplying by an inverse.
 *
 * @example
 * linalg.inv(tensor([[2, 0], [0, 4]])); // [[0.5, 0], [0, 0.25]]
 */
export function inv(a: TensorLike): Tensor {
  const op = 'linalg.inv';
  const t = squareOperand(op, a);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  const { x, info } = tidy(() => {
    const inverted = invStacked(stacked(t, compute));
    return { x: cast(unstacked(inverted.x, batch), result), info: inverted.info };
  });
  raiseOnFailure(info, (order, matrix) => {
    const error = singular(op, info)(order, matrix);
    x.dispose();
    info.dispose();
    return error;
  });
  info.dispose();
  return x;
}

/** torch.inverse: `linalg.inv`. */
export function inverse(a: TensorLike): Tensor {
  return inv(a);
}

/**
 * The determinant of square matrices (torch.linalg.det, torch.det), [...]: the product of U's
 * diagonal from the pivoted LU, signed by the permutation. A singular matrix gives 0. The gradient
 * is the cofactor matrix, det(A) A^-T where A is invertible; at a singular matrix whose LU has one
 * zero pivot (rank n - 1, the usual case) it is the exact adjugate, computed without dividing by
 * zero; with two or more zero pivots it is taken as 0.
 *
 * @example
 * det(tensor([[1, 2], [3, 4]])); // -2
 */
export function det(a: TensorLike): Tensor {
  const t = squareOperand('linalg.det', a);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  return tidy(() => cast(reshape(detStacked(stacked(t, compute)), batch), result));
}

/** What `linalg.slogdet` returns (torch's names): det = sign * exp(logabsdet). */
export interface SlogdetResult {
  /** -1, 0 or 1 (0 for a singular matrix). */
  readonly sign: Tensor;
  /** log |det|; -Infinity for a singular matrix. */
  readonly logabsdet: Tensor;
}

/**
 * The sign and the log of the absolute value of the determinant (torch.linalg.slogdet), from the
 * pivoted LU: no overflow where the determinant itself would. The gradient of logabsdet is A^-T.
 *
 * @example
 * const { sign, logabsdet } = linalg.slogdet(tensor([[1, 2], [3, 4]])); // -1, log(2)
 */
export function slogdet(a: TensorLike): SlogdetResult {
  const t = squareOperand('linalg.slogdet', a);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  return tidy(() => {
    const { sign, logabsdet } = slogdetStacked(stacked(t, compute));
    return { sign: cast(reshape(sign, batch), result), logabsdet: cast(reshape(logabsdet, batch), result) };
  });
}

/**
 * torch.logdet: log(det A), NaN where the determinant is negative and -Infinity where it is 0.
 *
 * @example
 * logdet(tensor([[2, 0], [0, 3]])); // log(6)
 */
export function logdet(a: TensorLike): Tensor {
  const t = squareOperand('logdet', a);
  return tidy(() => {
    const { sign, logabsdet } = slogdet(t);
    return where(less(sign, 0), Number.NaN, logabsdet);
  });
}

/**
 * The n-th power of square matrices (torch.linalg.matrix_power): n = 0 gives the identity,
 * n > 0 repeated squaring (about 2 log2(n) matmuls), n < 0 the power of the inverse (a LinAlgError
 * for a singular matrix, as `linalg.inv`). Integer matrices keep their dtype for n >= 0.
 *
 * @example
 * linalg.matrixPower(tensor([[1, 1], [0, 1]]), 3); // [[1, 3], [0, 1]]
 */
export function matrixPower(a: TensorLike, n: number): Tensor {
  const op = 'linalg.matrixPower';
  const t = squareOperand(op, a);
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new ValueError(`${op}: n must be an integer, got ${JSON.stringify(n)}`);
  if (t.dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors; cast them to a numeric dtype first`);
  const size = t.shape[t.ndim - 1] as number;
  return tidy(() => {
    if (n === 0) {
      return broadcastTo(reshape(identity(1, size, t), [size, size]), t.shape);
    }
    let base = n < 0 ? inv(t) : t;
    let power = Math.abs(n);
    let product: Tensor | null = null;
    for (;;) {
      if (power % 2 === 1) product = product === null ? base : matmul(product, base);
      power = Math.floor(power / 2);
      if (power === 0) break;
      base = matmul(base, base);
    }
    return product as Tensor;
  });
}
