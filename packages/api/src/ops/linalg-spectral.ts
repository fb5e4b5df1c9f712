import { isFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { full } from '../primitives/lax.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { div, equal, greater, maximum, mul, sub, where } from './elementwise.js';
import { batchShape, computeDTypes, jointBatch, matrixOperand, squareOperand, stacked, unstacked } from './linalg/matrices.js';
import { invStacked } from './linalg/rules.js';
import { EPSILON } from './linalg/spectral.js';
import { type Cutoff, eighStacked, pinvStacked, svdStacked, svdvalsStacked } from './linalg/spectral-rules.js';
import { matmul } from './linalg.js';
import { type MatrixOrder, matrixNorm } from './linalg-norms.js';
import { reshape, squeeze, unsqueeze } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { max, min, sum } from './reduce.js';

// The spectral part of torch.linalg: eigh, eigvalsh, svd, svdvals, and what they give (pinv,
// lstsq, matrix_rank, cond), as composites of Flint's primitives: the decompositions by Jacobi
// rotations (ops/linalg/spectral.ts, jacobi.ts), or on a backend with its own kernels by those
// (LAPACK's syevd and gesdd on mkl: transforms/linalg-calls.ts), their
// derivatives by PyTorch's analytic rules (ops/linalg/spectral-rules.ts). float32 and float64 compute as they are, float16 and bfloat16 in
// float32 rounded once; integer and bool inputs are an error (as PyTorch), where the other
// decompositions take them as float32: eigenvectors and singular values of integer matrices are
// not integers, and a silent float32 result would hide the precision asked for.

/** A stack of matrices of a floating dtype, or a DTypeError naming the dtype. */
function floatingOperand(op: string, a: TensorLike, square: boolean, what = 'the input'): Tensor {
  const t = square ? squareOperand(op, a, what) : matrixOperand(op, a, what);
  if (!isFloating(t.dtype)) {
    throw new DTypeError(
      `${op}: ${what} must be a floating-point tensor (float32 or float64; float16 and bfloat16 compute in float32), got ${t.dtype}; cast it first, e.g. x.to('float64')`,
    );
  }
  return t;
}

function checkFlag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/** The machine epsilon of the dtype a result takes (float16 and bfloat16: their own, as PyTorch's defaults). */
function epsilonOf(dtype: Tensor['dtype']): number {
  if (dtype === 'float64') return EPSILON.float64;
  if (dtype === 'float16') return 2 ** -10;
  if (dtype === 'bfloat16') return 2 ** -7;
  return EPSILON.float32;
}

// ---- eigh, eigvalsh ----

/** Options of `linalg.eigh` and `linalg.eigvalsh`. */
export interface EighOptions {
  /** Which triangle of the input is read: 'L' (lower, default) or 'U' (upper). */
  readonly uplo?: 'L' | 'U';
}

/** What `linalg.eigh` returns (torch's names). */
export interface EighResult {
  /** Ascending, [..., n]. */
  readonly eigenvalues: Tensor;
  /** Orthonormal eigenvectors as columns, [..., n, n]: A = V diag(eigenvalues) V^T. */
  readonly eigenvectors: Tensor;
}

const EIGH = optionsSignature<EighOptions>(2, { uplo: true });

function checkUplo(op: string, uplo: unknown): boolean {
  if (uplo === undefined || uplo === 'L') return false;
  if (uplo === 'U') return true;
  throw new ValueError(`${op}: uplo must be 'L' (read the lower triangle) or 'U' (the upper), got ${JSON.stringify(uplo)}`);
}

function eighOf(op: string, a: TensorLike, options: EighOptions): EighResult {
  const t = floatingOperand(op, a, true);
  const upper = checkUplo(op, options.uplo);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  return tidy(() => {
    const { values, vectors } = eighStacked(stacked(t, compute), upper);
    return { eigenvalues: cast(unstacked(values, batch), result), eigenvectors: cast(unstacked(vectors, batch), result) };
  });
}

/**
 * The eigendecomposition of symmetric matrices (torch.linalg.eigh): eigenvalues in ascending
 * order and orthonormal eigenvectors (as columns), A = V diag(L) V^T. Only the lower triangle
 * (`uplo: 'U'`: the upper) is read. Batches over leading axes. Each eigenvector is determined up
 * to its sign (and, for a repeated eigenvalue, up to a rotation within its eigenspace), so they
 * may differ from PyTorch's by those.
 *
 * Computed by Jacobi rotations (docs/dtypes.md, Linear algebra): backward stable, eigenvalues
 * accurate to a few units of rounding of the largest one.
 *
 * Gradients: PyTorch's rule, gA = V (diag(gL) + skew(V^T gV) / (L_j - L_i)) V^T, the symmetric
 * gradient (perturbations of A are assumed symmetric, as `cholesky`'s). It divides by the
 * differences of eigenvalues: well defined only for distinct eigenvalues, and for functions of
 * the eigenvectors that do not depend on their signs; a repeated eigenvalue gives infinite or
 * NaN gradients, as in PyTorch (the eigenvalues alone, `eigvalsh`, have a gradient everywhere).
 *
 * @example
 * const { eigenvalues, eigenvectors } = linalg.eigh(tensor([[2, 1], [1, 2]])); // [1, 3]
 */
export const eigh = withCheckedOptions(
  'linalg.eigh',
  EIGH,
  (a: TensorLike, options: EighOptions = {}): EighResult => eighOf('linalg.eigh', a, options),
);

/**
 * The eigenvalues of symmetric matrices, ascending (torch.linalg.eigvalsh); only the lower
 * (`uplo: 'U'`: upper) triangle is read. The gradient V diag(gL) V^T is defined at repeated
 * eigenvalues too (for functions symmetric in them).
 *
 * @example
 * linalg.eigvalsh(tensor([[2, 1], [1, 2]])); // [1, 3]
 */
export const eigvalsh = withCheckedOptions('linalg.eigvalsh', EIGH, (a: TensorLike, options: EighOptions = {}): Tensor => {
  const { eigenvalues, eigenvectors } = eighOf('linalg.eigvalsh', a, options);
  eigenvectors.dispose();
  return eigenvalues;
});

// ---- svd, svdvals ----

/** Options of `linalg.svd`. */
export interface SvdOptions {
  /** Square U (m x m) and Vh (n x n) when true (the default, as torch), else the reduced U (m x k) and Vh (k x n), k = min(m, n). */
  readonly fullMatrices?: boolean;
}

/** What `linalg.svd` returns (torch's names): A = U diag(S) Vh. */
export interface SvdResult {
  readonly U: Tensor;
  /** Descending, [..., k]. */
  readonly S: Tensor;
  readonly Vh: Tensor;
}

const SVD = optionsSignature<SvdOptions>(2, { fullMatrices: true });

/**
 * The singular value decomposition (torch.linalg.svd): A = U diag(S) Vh for [..., m, n] matrices
 * of any aspect, S descending, U and Vh^T with orthonormal columns. `fullMatrices` (default true,
 * as torch) gives the square U and Vh; false the reduced ones. Singular vectors are determined up
 * to sign (and rotations within repeated singular values), so they may differ from PyTorch's by
 * those. Computed by one-sided Jacobi rotations on the triangular factor of a QR (docs/dtypes.md,
 * Linear algebra).
 *
 * Gradients: PyTorch's svd_backward, for the reduced factors; it divides by S_j^2 - S_i^2 and (for
 * m != n, through U or Vh) by S: defined for distinct, nonzero singular values and for functions
 * that do not depend on the signs of the singular vectors. With `fullMatrices` and m != n, the
 * last |m - n| columns of U (rows of Vh) are not determined by A: a gradient through them is a
 * ValueError (use `fullMatrices: false`); S and the other factor are differentiable.
 *
 * @example
 * const { U, S, Vh } = linalg.svd(a, { fullMatrices: false });
 */
export const svd = withCheckedOptions('linalg.svd', SVD, (a: TensorLike, options: SvdOptions = {}): SvdResult => {
  const op = 'linalg.svd';
  const t = floatingOperand(op, a, false);
  const complete = checkFlag(op, 'fullMatrices', options.fullMatrices, true);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  return tidy(() => {
    const { u, s, vh } = svdStacked(stacked(t, compute), complete);
    return { U: cast(unstacked(u, batch), result), S: cast(unstacked(s, batch), result), Vh: cast(unstacked(vh, batch), result) };
  });
});

/** The singular values of every matrix of a floating stack, in the compute dtype, [B, k]. */
function singularValuesOf(t: Tensor): Tensor {
  return svdvalsStacked(stacked(t, computeDTypes(t.dtype).compute));
}

/**
 * The singular values, descending (torch.linalg.svdvals), [..., min(m, n)]. Cheaper than `svd`
 * where no gradient is taken (the singular vectors are not formed). The gradient U diag(gS) Vh
 * is defined at repeated singular values too (for functions symmetric in them).
 *
 * @example
 * linalg.svdvals(tensor([[3, 0], [0, -4]])); // [4, 3]
 */
export function svdvals(a: TensorLike): Tensor {
  const t = floatingOperand('linalg.svdvals', a, false);
  const { result } = computeDTypes(t.dtype);
  return tidy(() => cast(unstacked(singularValuesOf(t), batchShape(t)), result));
}

// ---- tolerances ----

/** A tolerance: a number, or a tensor that broadcasts to the batch shape. */
export type Tolerance = number | Tensor;

/** `value` as a [B, 1] tensor in `dtype` for a batch of shape `batch`, or a ShapeError. */
function toleranceTensor(op: string, name: string, value: Tolerance, batch: readonly number[], like: Tensor): Tensor {
  if (typeof value !== 'number' && !isTensor(value)) {
    throw new ValueError(`${op}: ${name} must be a number or a tensor, got ${JSON.stringify(value)}`);
  }
  const t = toTensor(op, value, like.dtype, like);
  if (t.ndim > batch.length || t.shape.some((d, i) => d !== 1 && d !== batch[batch.length - t.ndim + i])) {
    throw new ShapeError(`${op}: ${name} of shape ${formatShape(t.shape)} does not broadcast to the batch shape ${formatShape(batch)}`);
  }
  return reshape(broadcastTo(cast(t, like.dtype), batch), [like.shape[0] as number, 1]);
}

/**
 * PyTorch's cutoff max(atol, rtol * largest singular value): atol defaults to 0; rtol to
 * eps * max(m, n) when atol is not given (or not positive, a number), else to 0.
 */
function cutoffOf(op: string, options: { atol?: Tolerance; rtol?: Tolerance }, t: Tensor, stack: Tensor): Cutoff {
  const batch = batchShape(t);
  const m = t.shape[t.ndim - 2] as number;
  const n = t.shape[t.ndim - 1] as number;
  const { atol, rtol } = options;
  const atolGiven = atol !== undefined && atol !== null && !(typeof atol === 'number' && atol <= 0);
  const rtolValue = rtol ?? (atolGiven ? 0 : epsilonOf(computeDTypes(t.dtype).result) * Math.max(m, n));
  return { atol: toleranceTensor(op, 'atol', atol ?? 0, batch, stack), rtol: toleranceTensor(op, 'rtol', rtolValue, batch, stack) };
}

// ---- pinv ----

/** Options of `linalg.pinv`. */
export interface PinvOptions {
  /** Absolute tolerance: singular values at or below it count as zero (default 0). */
  readonly atol?: Tolerance;
  /** Relative tolerance, times the largest singular value (default eps * max(m, n) without atol, else 0). */
  readonly rtol?: Tolerance;
  /** The input is symmetric: computed from the eigendecomposition of its lower triangle (default false). */
  readonly hermitian?: boolean;
}

const PINV = optionsSignature<PinvOptions>(2, { atol: true, rtol: true, hermitian: true });

/**
 * The Moore-Penrose pseudo-inverse (torch.linalg.pinv), [..., n, m] for [..., m, n]: V S^+ U^T,
 * S^+ inverting the singular values above max(atol, rtol * the largest) and zeroing the rest
 * (PyTorch's defaults: rtol = eps * max(m, n) unless atol is given). With `hermitian` the input is
 * taken as symmetric (its lower triangle read) and the eigendecomposition used.
 *
 * The gradient is PyTorch's (pinv_backward), the derivative where the rank does not change,
 * defined at repeated singular values too; at a matrix whose rank the cutoff decides, it is that
 * of the matrix with the small singular values removed.
 *
 * @example
 * linalg.pinv(tensor([[1, 2], [2, 4]])); // [[0.04, 0.08], [0.08, 0.16]]
 */
export const pinv = withCheckedOptions('linalg.pinv', PINV, (a: TensorLike, options: PinvOptions = {}): Tensor => {
  const op = 'linalg.pinv';
  const hermitian = checkFlag(op, 'hermitian', options.hermitian, false);
  const t = floatingOperand(op, a, hermitian);
  const { compute, result } = computeDTypes(t.dtype);
  return tidy(() => {
    const stack = stacked(t, compute);
    const { pinv } = pinvStacked(stack, cutoffOf(op, options, t, stack), hermitian, false);
    return cast(unstacked(pinv, batchShape(t)), result);
  });
});

// ---- matrixRank ----

/** Options of `linalg.matrixRank`. */
export interface MatrixRankOptions {
  /** Absolute tolerance (default 0). */
  readonly atol?: Tolerance;
  /** Relative tolerance, times the largest singular value (default eps * max(m, n) without atol, else 0). */
  readonly rtol?: Tolerance;
  /** The input is symmetric: eigenvalues of its lower triangle instead of singular values (default false). */
  readonly hermitian?: boolean;
}

const MATRIX_RANK = optionsSignature<MatrixRankOptions>(2, { atol: true, rtol: true, hermitian: true });

/**
 * The numerical rank (torch.linalg.matrix_rank): how many singular values (with `hermitian`,
 * absolute eigenvalues of the lower triangle's symmetric matrix) exceed max(atol, rtol * the
 * largest), int32 [...] (PyTorch: int64). Defaults as `linalg.pinv`.
 *
 * @example
 * linalg.matrixRank(tensor([[1, 2], [2, 4]])); // 1
 */
export const matrixRank = withCheckedOptions('linalg.matrixRank', MATRIX_RANK, (a: TensorLike, options: MatrixRankOptions = {}): Tensor => {
  const op = 'linalg.matrixRank';
  const hermitian = checkFlag(op, 'hermitian', options.hermitian, false);
  const t = floatingOperand(op, a, hermitian);
  const { compute } = computeDTypes(t.dtype);
  return tidy(() => {
    const stack = stacked(t, compute);
    const { atol, rtol } = cutoffOf(op, options, t, stack);
    let values: Tensor;
    if (hermitian) {
      const { values: eigenvalues } = eighStacked(stack, false);
      values = where(greater(eigenvalues, 0), eigenvalues, mul(eigenvalues, -1));
    } else {
      values = svdvalsStacked(stack);
    }
    const k = values.shape[1] as number;
    const largest = k === 0 ? mul(atol, 0) : max(values, 1, true);
    const limit = maximum(atol, mul(rtol, largest));
    return reshape(sum(greater(values, limit), 1), batchShape(t));
  });
});

// ---- lstsq ----

/** Options of `linalg.lstsq`. */
export interface LstsqOptions {
  /** Singular values at or below rcond * the largest count as zero (default eps * max(m, n)). */
  readonly rcond?: number;
  /** LAPACK's driver, for PyTorch's spelling: 'gelsd' (default) and 'gelss' (both by the SVD here). */
  readonly driver?: 'gelsd' | 'gelss';
}

/** What `linalg.lstsq` returns (torch's names). */
export interface LstsqResult {
  /** The minimum-norm least-squares solution X, [..., n, k] ([..., n] for a vector B). */
  readonly solution: Tensor;
  /** Squared residual norms |A X - B|^2 per column of B, [..., k], when m > n; else empty ([0]). */
  readonly residuals: Tensor;
  /** The effective rank, int32 [...] (PyTorch: int64). */
  readonly rank: Tensor;
  /** A's singular values, [..., min(m, n)]. */
  readonly singularValues: Tensor;
}

const LSTSQ = optionsSignature<LstsqOptions>(3, { rcond: true, driver: true });

/**
 * The least-squares solution of A X = B (torch.linalg.lstsq with the SVD drivers, 'gelsd' and
 * 'gelss'): the X of smallest norm among those minimizing |A X - B|, X = A^+ B, for A [..., m, n]
 * of any aspect and rank and B [..., m, k] (or [..., m], a batch of vectors); batch axes
 * broadcast. Singular values at or below rcond * the largest (default eps * max(m, n)) count as
 * zero. Returns `{ solution, residuals, rank, singularValues }`; residuals are computed whenever
 * m > n (PyTorch returns them only when every matrix has full rank, which would make the result's
 * shape depend on the data).
 *
 * Differentiable in A and B through `linalg.pinv`'s rule (where the rank does not change).
 *
 * @example
 * const { solution } = linalg.lstsq(tensor([[1, 0], [1, 1], [1, 2]]), tensor([[1], [2], [4]]));
 */
export const lstsq = withCheckedOptions('linalg.lstsq', LSTSQ, (a: TensorLike, b: TensorLike, options: LstsqOptions = {}): LstsqResult => {
  const op = 'linalg.lstsq';
  const ta = floatingOperand(op, a, false, 'A');
  const given = toTensor(op, b, undefined, ta);
  if (!isFloating(given.dtype)) {
    throw new DTypeError(`${op}: B must be a floating-point tensor, got ${given.dtype}; cast it first, e.g. b.to('${ta.dtype}')`);
  }
  const { rcond, driver } = options;
  if (driver !== undefined && driver !== 'gelsd' && driver !== 'gelss') {
    throw new ValueError(`${op}: driver must be 'gelsd' or 'gelss' (both computed by the SVD), got ${JSON.stringify(driver)}`);
  }
  if (rcond !== undefined && (typeof rcond !== 'number' || Number.isNaN(rcond))) {
    throw new ValueError(`${op}: rcond must be a number, got ${JSON.stringify(rcond)}`);
  }
  const m = ta.shape[ta.ndim - 2] as number;
  const n = ta.shape[ta.ndim - 1] as number;
  // torch.linalg.lstsq's vector case (linalg_solve_is_vector_rhs): B is 1-d, or has A's shape without its last axis.
  const vector = given.ndim === 1 || (given.ndim === ta.ndim - 1 && given.shape.every((d, i) => d === ta.shape[i]));
  const tb = vector ? unsqueeze(given, -1) : given;
  if (tb.ndim < 2 || tb.shape[tb.ndim - 2] !== m) {
    throw new ShapeError(`${op}: A ${formatShape(ta.shape)} and B ${formatShape(given.shape)} do not fit: B must have m = ${m} rows`);
  }
  const batch = jointBatch(op, ta, tb);
  const compute = ta.dtype === 'float64' || tb.dtype === 'float64' ? 'float64' : 'float32';
  const result = ta.dtype === tb.dtype ? computeDTypes(ta.dtype).result : compute;
  return tidy(() => {
    const sa = stacked(broadcastTo(ta, [...batch, m, n]), compute);
    const sb = stacked(broadcastTo(tb, [...batch, m, tb.shape[tb.ndim - 1] as number]), compute);
    const relative = rcond ?? epsilonOf(result) * Math.max(m, n);
    const cutoff = { atol: toleranceTensor(op, 'atol', 0, batch, sa), rtol: toleranceTensor(op, 'rcond', relative, batch, sa) };
    const { pinv, s } = pinvStacked(sa, cutoff, false, true);
    const x = matmul(pinv, sb);
    const values = s as Tensor;
    const k = values.shape[1] as number;
    const largest = k === 0 ? mul(cutoff.rtol, 0) : max(values, 1, true);
    const rank = reshape(sum(greater(values, mul(cutoff.rtol, largest)), 1), batch);
    const residual = sub(matmul(sa, x), sb);
    // As torch, a vector B keeps its one column in the residuals.
    const residuals = m > n ? unstacked(sum(mul(residual, residual), 1), batch) : full([0], compute, 0, sa);
    const solution = unstacked(x, batch);
    return {
      solution: cast(vector ? squeeze(solution, -1) : solution, result),
      residuals: cast(residuals, result),
      rank,
      singularValues: cast(unstacked(values, batch), result),
    };
  });
});

// ---- cond ----

/** The orders `linalg.cond` takes: 2 / -2 (singular values) or a matrix norm's ('fro', 'nuc', 1, -1, Infinity, -Infinity). */
export type CondOrder = MatrixOrder;

/**
 * The condition number (torch.linalg.cond): for `p` undefined or 2, the ratio of the largest to
 * the smallest singular value (any aspect; Infinity for a singular matrix); -2 its inverse;
 * 'fro', 'nuc', 1, -1, Infinity, -Infinity: |A|_p |A^-1|_p for square matrices (Infinity where A
 * is exactly singular, without raising). Differentiable through its parts.
 *
 * @example
 * linalg.cond(tensor([[1, 0], [0, 4]])); // 4
 */
export function cond(a: TensorLike, p?: CondOrder): Tensor {
  const op = 'linalg.cond';
  const byValues = p === undefined || p === null || p === 2 || p === -2;
  if (!byValues && p !== 'fro' && p !== 'nuc' && p !== 1 && p !== -1 && p !== Number.POSITIVE_INFINITY && p !== Number.NEGATIVE_INFINITY) {
    throw new ValueError(`${op}: p must be 2, -2, 'fro', 'nuc', 1, -1, Infinity or -Infinity, got ${JSON.stringify(p)}`);
  }
  const t = floatingOperand(op, a, !byValues);
  const { compute, result } = computeDTypes(t.dtype);
  const batch = batchShape(t);
  return tidy(() => {
    if (byValues) {
      const s = singularValuesOf(t);
      const k = s.shape[1] as number;
      if (k === 0) throw new ShapeError(`${op}: the condition number of an empty matrix (shape ${formatShape(t.shape)}) is not defined`);
      const largest = max(s, 1);
      const smallest = min(s, 1);
      const ratio = p === -2 ? div(smallest, largest) : div(largest, smallest);
      return cast(reshape(ratio, batch), result);
    }
    const stack = stacked(t, compute);
    const { x, info } = invStacked(stack);
    const inverse = unstacked(x, batch);
    const product = mul(matrixNorm(cast(t, compute), { ord: p }), matrixNorm(inverse, { ord: p }));
    return cast(where(equal(reshape(info, batch), 0), product, Number.POSITIVE_INFINITY), result);
  });
}
