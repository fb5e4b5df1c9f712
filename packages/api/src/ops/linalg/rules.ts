import { anyRecorded } from '../../autograd/grad-mode.js';
import { ValueError } from '../../core/errors.js';
import { add, broadcast, cast, concat, equal, full, iota, mul, neg, reduceSum, reshape, scale, select, sub } from '../../primitives/lax.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bindLinalg } from '../../transforms/core.js';
import { registerLinalgComposite } from '../../transforms/linalg-calls.js';
import { abs, log, mod, notEqual, sign } from '../elementwise.js';
import { min, prod, sum } from '../reduce.js';
import { tril, triu } from '../triangular.js';
import { choleskyLower } from './cholesky.js';
import { householder, householderQ } from './householder.js';
import { inversePermutation, luComposite, luFactors, permuteRows } from './lu.js';
import { block, columnsOf, diagonalOf, identity, matmul3, matmulNT, matmulTN, rowsOf, transposed, withAnalyticVjp } from './matrices.js';
import { solveLower, solveUpper } from './triangular-solve.js';

// The decompositions on [B, m, n] stacks in the compute dtype, each a custom-VJP call whose
// reverse-mode rule is the analytic derivative (PyTorch's FunctionsManual.cpp formulas), written
// in ops, so that a backward pass costs a few triangular solves and matmuls instead of replaying
// the factorization's loops backwards. Forward mode (jvp) and vmap go through the loops' ops.

// ---- triangular solve ----

export interface TriangularFlags {
  readonly upper: boolean;
  readonly left: boolean;
  readonly unit: boolean;
}

function triangularKernel(a: Tensor, b: Tensor, { upper, left, unit }: TriangularFlags): Tensor {
  if (left) return upper ? solveUpper(a, b, unit) : solveLower(a, b, unit);
  // X A = B  <=>  A^T X^T = B^T, and A^T has the other triangle.
  const at = transposed(a);
  const bt = transposed(b);
  return transposed(upper ? solveLower(at, bt, unit) : solveUpper(at, bt, unit));
}

/** The part of a cotangent the solve reads: A's triangle (strict when unit). */
function triangleOf(g: Tensor, { upper, unit }: TriangularFlags): Tensor {
  return upper ? triu(g, unit ? 1 : 0) : tril(g, unit ? -1 : 0);
}

/**
 * X with A X = B (`left`) or X A = B, A triangular. Backward: gB solves the transposed system
 * with gX; gA = -gB X^T (left) or -X^T gB, restricted to the triangle read.
 */
export function triangularSolveStacked(a: Tensor, b: Tensor, flags: TriangularFlags): Tensor {
  return withAnalyticVjp(
    {
      name: 'linalg.solveTriangular',
      exact: true,
      forward: ([a, b]) => {
        const x = triangularKernel(a as Tensor, b as Tensor, flags);
        return { outputs: [x], residuals: [a as Tensor, x] };
      },
      backward: ([a, x], [gx]) => {
        if (gx === null || gx === undefined) return [null, null];
        const transposedFlags = { ...flags, upper: !flags.upper };
        const gb = triangularSolveStacked(transposed(a as Tensor), gx, transposedFlags);
        const product = flags.left ? matmulNT(gb, x as Tensor) : matmulTN(x as Tensor, gb);
        return [neg(triangleOf(product, flags)), gb];
      },
    },
    [a, b],
  )[0] as Tensor;
}

// ---- Cholesky ----

/**
 * The lower Cholesky factor. Backward (Murray 2016, as PyTorch): with P = tril(L^T gL),
 * gA = L^-T (P + tril(P, -1)^T) / 2 L^-1, the symmetric gradient: it assumes perturbations of A
 * stay symmetric (the forward pass reads only A's lower triangle), so the rule is not the
 * staged primitives' derivative (`exact: false`).
 */
export function choleskyStacked(a: Tensor): Tensor {
  return withAnalyticVjp(
    {
      name: 'linalg.cholesky',
      exact: false,
      forward: ([a]) => {
        const l = choleskyLower(a as Tensor);
        return { outputs: [l], residuals: [l] };
      },
      backward: ([l], [gl]) => {
        if (gl === null || gl === undefined) return [null];
        const lower = l as Tensor;
        const p = tril(matmulTN(lower, gl));
        const symmetric = scale(add(p, transposed(tril(p, -1))), 0.5);
        const left = triangularSolveStacked(transposed(lower), symmetric, { upper: true, left: true, unit: false });
        return [triangularSolveStacked(lower, left, { upper: false, left: false, unit: false })];
      },
    },
    [a],
  )[0] as Tensor;
}

// ---- LU ----

export interface StackedLu {
  readonly lu: Tensor;
  readonly perm: Tensor;
  readonly pivots: Tensor;
}

/** L (unit lower, its diagonal written out) and U of a square packed LU. */
function unpackSquare(lu: Tensor): { l: Tensor; u: Tensor } {
  const [batch, n] = lu.shape as [number, number, number];
  return { l: add(tril(lu, -1), identity(batch, n, lu)), u: triu(lu) };
}

/** `x` with its rows put back in A's order: rows of Q^T x, where Q A = A[perm]. */
export function unpermuteRows(x: Tensor, perm: Tensor): Tensor {
  return permuteRows(x, inversePermutation(perm));
}

/**
 * The pivoted LU of every matrix. Square matrices differentiate by PyTorch's rule
 * (linalg_lu_backward): gA = P L^-T (tril(L^T gL, -1) + triu(gU U^T)) U^-T, with gL and gU the
 * strict lower and upper parts of the packed factor's cotangent; rectangular ones through the
 * factorization's ops.
 */
export function luStacked(a: Tensor): StackedLu {
  const [, m, n] = a.shape as [number, number, number];
  // No rule: the tape differentiates the composite's ops (a kernel's factors would carry none).
  if (m !== n) return anyRecorded([a]) ? luComposite(a) : luFactors(a);
  const [lu, perm, pivots] = withAnalyticVjp(
    {
      name: 'linalg.luFactor',
      exact: true,
      forward: ([a]) => {
        const f = luFactors(a as Tensor);
        return { outputs: [f.lu, f.perm, f.pivots], residuals: [f.lu, f.perm] };
      },
      backward: ([lu, perm], [glu]) => {
        if (glu === null || glu === undefined) return [null];
        const { l, u } = unpackSquare(lu as Tensor);
        const phi = add(tril(matmulTN(l, tril(glu, -1)), -1), triu(matmulNT(triu(glu), u)));
        const packedT = transposed(lu as Tensor);
        const left = triangularSolveStacked(packedT, phi, { upper: true, left: true, unit: true });
        const both = triangularSolveStacked(packedT, left, { upper: false, left: false, unit: false });
        return [unpermuteRows(both, perm as Tensor)];
      },
    },
    [a],
  ) as [Tensor, Tensor, Tensor];
  return { lu, perm, pivots };
}

/** X with A X = B from A's packed LU (A^T X = B when `adjoint`), through the differentiable solves. */
export function luSolveStacked(lu: Tensor, perm: Tensor, b: Tensor, adjoint: boolean): Tensor {
  if (!adjoint) {
    const y = triangularSolveStacked(lu, permuteRows(b, perm), { upper: false, left: true, unit: true });
    return triangularSolveStacked(lu, y, { upper: true, left: true, unit: false });
  }
  // A^T = U^T L^T Q: solve U^T z = b, then L^T y = z, then x = Q^T y.
  const packedT = transposed(lu);
  const z = triangularSolveStacked(packedT, b, { upper: false, left: true, unit: false });
  const y = triangularSolveStacked(packedT, z, { upper: true, left: true, unit: true });
  return unpermuteRows(y, perm);
}

// ---- solve, inverse ----

/**
 * 0, or the 1-based index of the first exact zero on U's diagonal (LAPACK getrf's info), [B]:
 * where a solve with the factors divides by zero.
 */
export function zeroPivotInfo(lu: Tensor): Tensor {
  const [batch, m, n] = lu.shape as [number, number, number];
  const k = Math.min(m, n);
  if (k === 0) return full([batch], 'int32', 0, lu);
  const d = diagonalOf(block(lu, 0, k, 0, k));
  const orders = add(iota([batch, k], 'int32', 1, lu), full([batch, k], 'int32', 1, lu));
  const none = full([batch, k], 'int32', k + 1, lu);
  const first = min(select(equal(d, full([batch, k], lu.dtype, 0, lu)), orders, none), 1);
  return select(equal(first, full([batch], 'int32', k + 1, lu)), full([batch], 'int32', 0, lu), first);
}

/** X with A X = B, and A's zeroPivotInfo. Backward: gB = A^-T gX (from the saved LU), gA = -gB X^T. */
export function solveStacked(a: Tensor, b: Tensor): { x: Tensor; info: Tensor } {
  const [x, info] = withAnalyticVjp(
    {
      name: 'linalg.solve',
      exact: true,
      forward: ([a, b]) => {
        const f = luFactors(a as Tensor);
        const x = luSolveStacked(f.lu, f.perm, b as Tensor, false);
        return { outputs: [x, zeroPivotInfo(f.lu)], residuals: [f.lu, f.perm, x] };
      },
      backward: ([lu, perm, x], [gx]) => {
        if (gx === null || gx === undefined) return [null, null];
        const gb = luSolveStacked(lu as Tensor, perm as Tensor, gx, true);
        return [neg(matmulNT(gb, x as Tensor)), gb];
      },
    },
    [a, b],
  ) as [Tensor, Tensor];
  return { x, info };
}

/** A^-1, and A's zeroPivotInfo. Backward: gA = -X^T gX X^T. */
export function invStacked(a: Tensor): { x: Tensor; info: Tensor } {
  const [x, info] = withAnalyticVjp(
    {
      name: 'linalg.inv',
      exact: true,
      forward: ([a]) => {
        const t = a as Tensor;
        const f = luFactors(t);
        const x = luSolveStacked(f.lu, f.perm, identity(t.shape[0] as number, t.shape[1] as number, t), false);
        return { outputs: [x, zeroPivotInfo(f.lu)], residuals: [x] };
      },
      backward: ([x], [gx]) => {
        if (gx === null || gx === undefined) return [null];
        return [neg(matmul3(matmulTN(x as Tensor, gx), transposed(x as Tensor)))];
      },
    },
    [a],
  ) as [Tensor, Tensor];
  return { x, info };
}

// ---- determinants ----

/** (-1)^(number of row swaps), [B], from LAPACK-style pivots. */
function permutationSign(pivots: Tensor, dtype: Tensor['dtype']): Tensor {
  const [batch, k] = pivots.shape as [number, number];
  const swaps = sum(notEqual(pivots, iota([batch, k], 'int32', 1, pivots)), 1);
  return cast(sub(full([batch], 'int32', 1, pivots), mul(full([batch], 'int32', 2, pivots), mod(swaps, 2))), dtype);
}

/**
 * The cofactor matrix det(A) A^-T of every matrix, from its LU, defined at singular matrices too.
 * With A = Q^T L U, adj(A) = sign * adj(U) L^-1 Q, and adj(U) = prod(d) U^-1 when U's diagonal d has
 * no zero. With exactly one zero d_k, replacing it by 1 gives U1, and (Sherman-Morrison)
 * adj(U) = prod_{i != k} d_i * U1^-1 e_k e_k^T U1^-1, the exact rank-one adjugate. With two or
 * more zero pivots the cofactors are taken as 0 (exact when the rank is below n - 1).
 */
function cofactors(lu: Tensor, perm: Tensor, sign: Tensor): Tensor {
  const [batch, n] = lu.shape as [number, number, number];
  const d = diagonalOf(lu);
  const zeroPivot = equal(d, full([batch, n], lu.dtype, 0, lu));
  const zeroF = cast(zeroPivot, lu.dtype);
  const zeros = reduceSum(zeroF, [1]); // [B]
  const others = prod(select(zeroPivot, full([batch, n], lu.dtype, 1, lu), d), 1); // [B]
  // U1 = U with each zero pivot replaced by 1 (only the upper triangle is read).
  const u1 = add(triu(lu), mul(identity(batch, n, lu), broadcast(reshape(zeroF, [batch, 1, n]), [batch, n, n])));
  const v = triangularSolveStacked(u1, identity(batch, n, lu), { upper: true, left: true, unit: false });
  const e = reshape(zeroF, [batch, n, 1]);
  const rankOne = matmul3(matmul3(v, e), matmulTN(e, v));
  const per = (x: Tensor) => broadcast(reshape(x, [batch, 1, 1]), [batch, n, n]);
  const zerosB = per(zeros);
  const adjU = select(
    equal(zerosB, per(full([batch], lu.dtype, 0, lu))),
    mul(per(others), v),
    select(equal(zerosB, per(full([batch], lu.dtype, 1, lu))), mul(per(others), rankOne), full([batch, n, n], lu.dtype, 0, lu)),
  );
  // adj(A)^T = (sign adj(U) L^-1 Q)^T = Q^T L^-T adj(U)^T sign.
  const w = triangularSolveStacked(transposed(lu), transposed(adjU), { upper: true, left: true, unit: true });
  return mul(per(sign), unpermuteRows(w, perm));
}

/** det(A), [B]. Backward: g times the cofactor matrix (det(A) A^-T where A is invertible). */
export function detStacked(a: Tensor): Tensor {
  return withAnalyticVjp(
    {
      name: 'linalg.det',
      exact: false,
      forward: ([a]) => {
        const f = luFactors(a as Tensor);
        const sign = permutationSign(f.pivots, (a as Tensor).dtype);
        const det = mul(sign, prod(diagonalOf(f.lu), 1));
        return { outputs: [det], residuals: [f.lu, f.perm, sign] };
      },
      backward: ([lu, perm, sign], [g]) => {
        if (g === null || g === undefined) return [null];
        const c = cofactors(lu as Tensor, perm as Tensor, sign as Tensor);
        const [batch, n] = c.shape as [number, number, number];
        return [mul(broadcast(reshape(g, [batch, 1, 1]), [batch, n, n]), c)];
      },
    },
    [a],
  )[0] as Tensor;
}

/** sign(det A) and log|det A|, each [B]. Backward: g_logabsdet A^-T (sign is piecewise constant). */
export function slogdetStacked(a: Tensor): { sign: Tensor; logabsdet: Tensor } {
  const [s, logabsdet] = withAnalyticVjp(
    {
      name: 'linalg.slogdet',
      exact: true,
      forward: ([a]) => {
        const f = luFactors(a as Tensor);
        const d = diagonalOf(f.lu);
        const s = mul(permutationSign(f.pivots, (a as Tensor).dtype), prod(sign(d), 1));
        return { outputs: [s, reduceSum(log(abs(d)), [1])], residuals: [f.lu, f.perm] };
      },
      backward: ([lu, perm], [, g]) => {
        if (g === null || g === undefined) return [null];
        const [batch, n] = (lu as Tensor).shape as [number, number, number];
        const inverseT = luSolveStacked(lu as Tensor, perm as Tensor, identity(batch, n, lu as Tensor), true);
        return [mul(broadcast(reshape(g, [batch, 1, 1]), [batch, n, n]), inverseT)];
      },
    },
    [a],
  ) as [Tensor, Tensor];
  return { sign: s, logabsdet };
}

// ---- QR ----

export type QrMode = 'reduced' | 'complete' | 'r';

/** Q R = A for Q with orthonormal columns (m x k) and R upper triangular (k x n), m >= n (k = n). */
function qrBackwardTall(q: Tensor, r: Tensor, gq: Tensor | null, gr: Tensor | null): Tensor {
  // M = gR R^T - Q^T gQ; its upper triangle mirrored (diagonal once) gives the symmetric part.
  let m: Tensor | null = gr === null ? null : matmulNT(gr, r);
  if (gq !== null) {
    const qg = matmulTN(q, gq);
    m = m === null ? neg(qg) : sub(m, qg);
  }
  const n = r.shape[1] as number;
  const mm = m ?? full([q.shape[0] as number, n, n], q.dtype, 0, q);
  const symmetric = add(triu(mm), transposed(triu(mm, 1)));
  let ga = matmul3(q, symmetric);
  if (gq !== null) ga = add(ga, gq);
  // gA R^-T: X R^T = gA, R^T lower.
  return triangularSolveStacked(transposed(r), ga, { upper: false, left: false, unit: false });
}

/**
 * Backward of the reduced QR (PyTorch's linalg_qr_backward): for m >= n,
 * gA = (gQ + Q copyltu(M)) R^-T with M = gR R^T - Q^T gQ; for m < n, A = [X | Y] with X = Q U and
 * Y = Q V: X's cotangent is the square case's with gQ + Y gV^T, and gY = Q gV.
 */
function qrBackward(a: Tensor, q: Tensor, r: Tensor, gq: Tensor | null, gr: Tensor | null): Tensor {
  const [, m, n] = a.shape as [number, number, number];
  if (m >= n) return qrBackwardTall(q, r, gq, gr);
  const y = columnsOf(a, m, n);
  const u = columnsOf(r, 0, m);
  const gu = gr === null ? null : columnsOf(gr, 0, m);
  const gv = gr === null ? null : columnsOf(gr, m, n);
  const gqTotal = gv === null ? gq : gq === null ? matmulNT(y, gv) : add(gq, matmulNT(y, gv));
  const gx = qrBackwardTall(q, u, gqTotal, gu);
  const gy = gv === null ? full(y.shape, y.dtype, 0, y) : matmul3(q, gv);
  return concat([gx, gy], 2);
}

/** Q and R (reduced, or with `complete` Q m x m and R m x n) in primitives, from the Householder reflectors. */
function qrComposite(a: Tensor, complete: boolean): Tensor[] {
  const [batch, m, n] = a.shape as [number, number, number];
  const reflectors = householder(a);
  const extra = complete && m > n;
  const r = extra ? concat([reflectors.r, full([batch, m - n, n], a.dtype, 0, a)], 1) : reflectors.r;
  return [householderQ(reflectors, m, complete ? m : Math.min(m, n), a), r];
}

registerLinalgComposite('qr', (call, [a]) => {
  if (call.name !== 'qr') throw new Error(`flint internal error: the qr composite got ${call.name}`);
  return qrComposite(a as Tensor, call.complete);
});

/**
 * Householder QR. 'reduced': Q [m, k], R [k, n]; 'complete': Q [m, m], R [m, n]; 'r': R only
 * (differentiable all the same: Q is computed for the backward pass). Q's extra columns in
 * 'complete' mode with m > n are not determined by A, so a cotangent for that Q is an error.
 * The factors come from the backend's own kernel where it has one (LAPACK's geqrf and orgqr on
 * mkl, the same signs), else from qrComposite.
 */
export function qrStacked(a: Tensor, mode: QrMode): { q: Tensor | null; r: Tensor } {
  const [, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const extra = mode === 'complete' && m > n;
  const outputs = withAnalyticVjp(
    {
      name: 'linalg.qr',
      exact: true,
      forward: ([a]) => {
        const t = a as Tensor;
        // Q is computed in mode 'r' too: the backward pass needs it.
        const [q, r] = bindLinalg({ name: 'qr', complete: mode === 'complete' }, [t]) as [Tensor, Tensor];
        const qReduced = extra ? columnsOf(q, 0, k) : q;
        return { outputs: mode === 'r' ? [r] : [q, r], residuals: [t, qReduced, extra ? rowsOf(r, 0, k) : r] };
      },
      backward: ([a, q, r], cotangents) => {
        const gq = mode === 'r' ? null : (cotangents[0] ?? null);
        let gr = (mode === 'r' ? cotangents[0] : cotangents[1]) ?? null;
        if (extra && gq !== null) {
          throw new ValueError(
            `linalg.qr: mode 'complete' with more rows than columns (${m} x ${n}) is not differentiable with respect to Q: its last ${m - n} columns are not determined by A; use mode 'reduced'`,
          );
        }
        if (extra && gr !== null) gr = rowsOf(gr, 0, n);
        if (gq === null && gr === null) return [null];
        return [qrBackward(a as Tensor, q as Tensor, r as Tensor, gq, gr)];
      },
    },
    [a],
  );
  return mode === 'r' ? { q: null, r: outputs[0] as Tensor } : { q: outputs[0] as Tensor, r: outputs[1] as Tensor };
}
