import { concat, full, pad, reduceSum, reshape } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindLinalg } from '../../transforms/core.js';
import { registerLinalgComposite } from '../../transforms/linalg-calls.js';
import { abs, add, div, equal, floor, greater, less, log, logicalAnd, mul, pow, sqrt, where } from '../elementwise.js';
import { isfinite } from '../predicates.js';
import { max } from '../reduce.js';
import { argsort } from '../sort.js';
import { householder, householderQ } from './householder.js';
import { oneSidedJacobi, type SweepSchedule, twoSidedJacobi } from './jacobi.js';
import { permuteRows } from './lu.js';
import { block, columnsOf, diagonalOf, identity, matmul3, matmulNT, matmulTN, rowsOf, transposed } from './matrices.js';

// The symmetric eigendecomposition and the SVD of [B, m, n] stacks in the compute dtype (no
// derivative rules here: ops/linalg/spectral-rules.ts), by Jacobi rotations (ops/linalg/jacobi.ts)
// on a triangular factor, after Drmač and Veselić: one-sided Jacobi converges in a few sweeps on
// the columns of R^T from A = Q R, whatever the grading of the singular values, where Jacobi on A
// itself (or two-sided Jacobi on a symmetric A) slows to a linear rate once they span orders of
// magnitude (16 sweeps left a residual of 1e-9 at n = 128 for singular values 1 .. 1e-12).
//
// SVD (m >= n; a wide matrix goes through its transpose): A = Q R (Householder), R^T J = W with
// W's columns orthogonal (one-sided Jacobi, J the accumulated rotations), so R = J W^T and
// A = (Q J) S V^T with S the column norms of W and V = W S^-1. U = Q J is orthonormal as a product
// of orthogonal factors; V's columns are re-orthonormalized by a QR (sign-corrected), which also
// completes them where a singular value is exactly zero (0 / 0).
//
// Symmetric eigenproblem: U = Q J as above (the left singular vectors of A) nearly diagonalizes A:
// U^T A U is diagonal but for the 2 x 2 (or larger) blocks of eigenvalues that share an absolute
// value (+s and -s have the same singular vectors, mixed), which a few sweeps of two-sided Jacobi
// resolve. Eigenvectors U Y, eigenvalues on the diagonal.
//
// The input is first scaled by a power of two so that its largest entry has magnitude in [1, 2)
// (exact; undone on the values), so that the squares in the rotations neither overflow nor
// underflow. Sweeps run until converged where that can be checked without waiting (cpu and mkl
// backends, outside jit: a read of one number per sweep), else a fixed number (jacobi.ts).
//
// A backend with its own kernels (Backend.composites eigh and svd: LAPACK's on mkl) computes them
// instead, eagerly, under jit and under vmap (transforms/linalg-calls.ts); these composites run
// on the other backends, where a kernel declines, and where a transform differentiates them.

/** Machine epsilon of the compute dtypes. */
export const EPSILON = { float32: 2 ** -23, float64: 2 ** -52 } as const;

type ComputeDType = keyof typeof EPSILON;

/**
 * Sweeps of one-sided Jacobi on an n x n factor (n even): measured on random, graded (1 .. 1e-12),
 * clustered, low-rank and Wilkinson matrices up to n = 256, convergence took at most
 * ceil(log2 n) + 2 sweeps in float32 and ceil(log2 n) + 5 in float64 (and no more than n for
 * n <= 4); the fixed schedule adds one.
 */
function oneSidedSchedule(n: number, dtype: ComputeDType): SweepSchedule {
  const log2 = Math.ceil(Math.log2(Math.max(n, 2)));
  return { fixed: Math.min(log2 + (dtype === 'float64' ? 6 : 3), n + 1), most: 60 };
}

/**
 * Sweeps of two-sided Jacobi on U^T A U: usually none or one (only eigenvalues of equal magnitude
 * and opposite sign are left to separate); many pairs of them at once (an involution, whose
 * eigenvalues are all +1 and -1) converge linearly, which the fixed schedule does not cover.
 */
function cleanupSchedule(n: number, dtype: ComputeDType): SweepSchedule {
  return { fixed: Math.min(dtype === 'float64' ? 4 : 3, n / 2 + 1), most: 60 };
}

/** Convergence threshold for an n-column problem: a few times the rounding noise of the measures. */
const tolerance = (n: number, dtype: ComputeDType): number => 4 * Math.sqrt(n) * EPSILON[dtype];

/** `a` scaled by a power of two per matrix (largest entry in [1, 2), zero matrices as they are), and that power, [B]. */
function scaledToUnit(a: Tensor): { scaled: Tensor; power: Tensor } {
  const batch = a.shape[0] as number;
  const largest = max(abs(a), [1, 2]);
  const usable = logicalAnd(greater(largest, 0), isfinite(largest));
  const exponent = where(usable, floor(div(log(where(usable, largest, 1)), Math.LN2)), 0);
  const power = pow(2, exponent);
  return { scaled: div(a, reshape(power, [batch, 1, 1])), power };
}

/** `x` [B, n, c] with a zero row appended when n is odd (and a zero column too when `square`). */
function padToEven(x: Tensor, square: boolean): Tensor {
  if ((x.shape[1] as number) % 2 === 0) return x;
  return pad(x, [
    [0, 0],
    [0, 1],
    [0, square ? 1 : 0],
  ]);
}

/** The entries of every row of a [B, n] tensor in the order `order`. */
function permuteEntries(x: Tensor, order: Tensor): Tensor {
  const [batch, n] = x.shape as [number, number];
  return reshape(permuteRows(reshape(x, [batch, n, 1]), order), [batch, n]);
}

/** Q with orthonormal columns spanning those of `x` in order, signed to agree with them (a column of zeros gets a unit vector orthogonal to the others). */
function orthonormalized(x: Tensor): Tensor {
  const [batch, m, n] = x.shape as [number, number, number];
  const reflectors = householder(x);
  const q = householderQ(reflectors, m, n, x);
  const signs = where(less(diagonalOf(block(reflectors.r, 0, n, 0, n)), 0), -1, 1);
  return mul(q, reshape(signs, [batch, 1, n]));
}

/**
 * One-sided Jacobi on the rows of R from A = Q R (square [B, n, n]): G R = W with W's rows
 * orthogonal, so that A = (Q G^T) W: U = Q G^T, the singular values W's row norms.
 */
function jacobiOnR(a: Tensor, withRotations: boolean) {
  const n = a.shape[2] as number;
  const dtype = a.dtype as ComputeDType;
  const reflectors = householder(a);
  const padded = padToEven(block(reflectors.r, 0, n, 0, n), false);
  const even = padded.shape[1] as number;
  const { w, g } = oneSidedJacobi(padded, withRotations, oneSidedSchedule(even, dtype), tolerance(even, dtype));
  return { reflectors, w: rowsOf(w, 0, n), g: g === null ? null : block(g, 0, n, 0, n) };
}

/** What `symmetricEigen` returns: eigenvalues ascending, [B, n], and eigenvectors as columns, [B, n, n]. */
export interface SymmetricEigen {
  readonly values: Tensor;
  readonly vectors: Tensor;
}

/**
 * The eigendecomposition of every symmetric matrix of `a` ([B, n, n], both triangles read): by
 * the backend's kernel where it has one (LAPACK's syevd on mkl), else symmetricEigenComposite.
 */
export function symmetricEigen(a: Tensor): SymmetricEigen {
  const [values, vectors] = bindLinalg({ name: 'eigh' }, [a]) as [Tensor, Tensor];
  return { values, vectors };
}

/** symmetricEigen in primitives: Jacobi sweeps on a triangular factor (the module comment). */
function symmetricEigenComposite(a: Tensor): SymmetricEigen {
  const [batch, n] = a.shape as [number, number, number];
  if (n <= 1 || batch === 0) return { values: reshape(a, [batch, n]), vectors: full([batch, n, n], a.dtype, 1, a) };
  const dtype = a.dtype as ComputeDType;
  const { scaled, power } = scaledToUnit(a);
  const { reflectors, g } = jacobiOnR(scaled, true);
  const u = matmulNT(householderQ(reflectors, n, n, scaled), g as Tensor);
  const projected = matmul3(matmulTN(u, scaled), u);
  const symmetric = padToEven(mul(add(projected, transposed(projected)), 0.5), true);
  const even = symmetric.shape[2] as number;
  const cleanup = twoSidedJacobi(symmetric, true, cleanupSchedule(even, dtype), tolerance(even, dtype));
  const values = reshape(columnsOf(reshape(cleanup.d, [batch, 1, even]), 0, n), [batch, n]);
  const order = argsort(values, -1);
  // G M G^T = diag(d): M's eigenvectors are G's rows, A's the columns of U G^T.
  const rotations = permuteRows(block(cleanup.g as Tensor, 0, n, 0, n), order);
  return {
    values: mul(permuteEntries(values, order), reshape(power, [batch, 1])),
    vectors: matmulNT(u, rotations),
  };
}

/** What `singularValueDecomposition` returns: U [B, m, k or m], S [B, k] descending, V [B, n, k or n]; U and V null for the values alone. */
export interface SingularValueDecomposition {
  readonly u: Tensor | null;
  readonly s: Tensor;
  readonly v: Tensor | null;
}

/**
 * The SVD of every matrix of `a` ([B, m, n], k = min(m, n)): reduced (U m x k, V n x k), or with
 * `complete` U m x m and V n x n; with `vectors` false only S. By the backend's kernel where it
 * has one (LAPACK's gesdd on mkl), else singularValueComposite.
 */
export function singularValueDecomposition(a: Tensor, vectors: boolean, complete: boolean): SingularValueDecomposition {
  const outputs = bindLinalg({ name: 'svd', vectors, complete }, [a]);
  return vectors
    ? { u: outputs[0] as Tensor, s: outputs[1] as Tensor, v: outputs[2] as Tensor }
    : { u: null, s: outputs[0] as Tensor, v: null };
}

/** singularValueDecomposition in primitives: one-sided Jacobi on R (the module comment). */
function singularValueComposite(a: Tensor, vectors: boolean, complete: boolean): SingularValueDecomposition {
  const [batch, m, n] = a.shape as [number, number, number];
  if (m < n) {
    const t = singularValueComposite(transposed(a), vectors, complete);
    return { u: t.v, s: t.s, v: t.u };
  }
  if (n === 0 || batch === 0) {
    // Nothing to compute: U is the identity's first columns, V n x n (or k) of the same.
    return {
      u: vectors ? columnsOf(identity(batch, m, a), 0, complete ? m : n) : null,
      s: full([batch, n], a.dtype, 0, a),
      v: vectors ? identity(batch, n, a) : null,
    };
  }
  const { scaled, power } = scaledToUnit(a);
  const { reflectors, w, g } = jacobiOnR(scaled, vectors);
  const sigma = sqrt(reduceSum(mul(w, w), [2]));
  const order = argsort(sigma, -1, true);
  const sorted = permuteEntries(sigma, order);
  const s = mul(sorted, reshape(power, [batch, 1]));
  if (!vectors) return { u: null, s, v: null };
  // A = Q G^T W: U = Q G^T and V^T = S^-1 W, in the order of S.
  const rotations = permuteRows(g as Tensor, order);
  const q = householderQ(reflectors, m, complete ? m : n, scaled);
  const u = complete && m > n ? concat([matmulNT(columnsOf(q, 0, n), rotations), columnsOf(q, n, m)], 2) : matmulNT(q, rotations);
  const zero = equal(sorted, 0);
  const normalized = div(permuteRows(w, order), reshape(where(zero, 1, sorted), [batch, n, 1]));
  return { u, s, v: orthonormalized(transposed(normalized)) };
}

registerLinalgComposite('eigh', (_call, [a]) => {
  const { values, vectors } = symmetricEigenComposite(a as Tensor);
  return [values, vectors];
});

registerLinalgComposite('svd', (call, [a]) => {
  if (call.name !== 'svd') throw new Error(`flint internal error: the svd composite got ${call.name}`);
  const { u, s, v } = singularValueComposite(a as Tensor, call.vectors, call.complete);
  return u === null || v === null ? [s] : [u, s, v];
});
