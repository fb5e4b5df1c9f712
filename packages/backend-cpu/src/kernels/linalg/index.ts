import type { CompositeKernels, LinalgSvd } from '@flint/api';
import { type CpuHandle, wrap } from '../../view.js';
import { choleskyInPlace } from './cholesky.js';
import { eighWorkspace, symmetricEigen } from './eigh.js';
import { luInPlace } from './lu.js';
import { allFinite, type MatrixStack, outputOf, readMatrix, stackOf } from './matrices.js';
import { formQ, householderQr, qrWorkspace } from './qr.js';
import { singularValues, svdWorkspace } from './svd.js';
import { substitute } from './triangular-solve.js';

// The decompositions and the triangular solve as the portable backend's own kernels (the api's
// CompositeKernels eigh, svd, qr, cholesky, luFactor and triangularSolve; the api calls them
// eagerly, under jit and under vmap), in
// plain TypeScript over the typed arrays, so that they run in browsers too. Each matrix of a
// [B, m, n] stack of any strides is copied into a row-major float64 workspace (float32 stacks
// are factored in float64 as well, and rounded once on the way out), factored there, and written
// to contiguous outputs with the conventions the mkl backend's LAPACK kernels and the composites
// share: eigenvalues ascending, singular values descending, LAPACK's Householder signs and
// pivots, Cholesky's NaN from the first failed pivot on, NaN values and vectors for an eigh or svd
// input holding NaN or an infinity. A QL or QR iteration that does not converge (not seen in
// practice) declines the whole stack to the composite, as mkl does for LAPACK's.

/**
 * The largest QR (m n min(m, n)) factored here: past about 128 x 128 the composite, whose blocked
 * updates are matmuls in the WebAssembly GEMM, is faster than these row-by-row reflections
 * (measured: equal at 128, 1.3x at 256, 2x at 384), so larger stacks are declined to it. The other
 * decompositions win at every size measured (LU 3x at 384; eigh and svd by 10x and more).
 */
export const LARGEST_QR = 128 ** 3;

/**
 * The largest triangular solve (n^2 k) substituted here: the composite's blocked substitution,
 * whose bulk is matmuls in the WebAssembly GEMM, overtakes these row updates between 128 and 256
 * (measured on linalg.solve: 1.9x faster here at n = k = 128, 1.4x slower at 256), so larger
 * systems are declined to it.
 */
export const LARGEST_SUBSTITUTION = 128 ** 3;

/** The kernels this module computes. */
export type LinalgKernelName = 'eigh' | 'svd' | 'qr' | 'cholesky' | 'luFactor' | 'triangularSolve';

const runCounts: Record<LinalgKernelName, number> = { eigh: 0, svd: 0, qr: 0, cholesky: 0, luFactor: 0, triangularSolve: 0 };

/** How many times a decomposition kernel has run (not declined), for tests. */
export function linalgKernelRuns(name: LinalgKernelName): number {
  return runCounts[name];
}

/** The kernels, each result a fresh contiguous handle in the input's dtype (perm and pivots int32). */
export const cpuLinalgKernels: Required<Pick<CompositeKernels<CpuHandle>, LinalgKernelName>> = {
  eigh(a) {
    const stack = stackOf(a, true);
    if (stack === null) return null;
    const { batch, n } = stack;
    const values = outputOf(a.dtype, batch * n);
    const vectors = outputOf(a.dtype, batch * n * n);
    const w = new Float64Array(n * n);
    const z = new Float64Array(n * n);
    const space = eighWorkspace(n);
    for (let b = 0; b < batch; b++) {
      readMatrix(stack, b, w);
      const valuesAt = b * n;
      const vectorsAt = b * n * n;
      if (!allFinite(w, n * n)) {
        values.fill(Number.NaN, valuesAt, valuesAt + n);
        vectors.fill(Number.NaN, vectorsAt, vectorsAt + n * n);
        continue;
      }
      // The lower triangle is the matrix: mirror it into the upper one.
      for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) w[j * n + i] = w[i * n + j] as number;
      if (!symmetricEigen(w, z, n, space)) return null;
      for (let i = 0; i < n; i++) values[valuesAt + i] = space.diagonal[i] as number;
      // Row j of z is eigenvector j: column j of the output.
      for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) vectors[vectorsAt + r * n + c] = z[c * n + r] as number;
    }
    runCounts.eigh++;
    return { values: wrap(values, [batch, n], a.dtype), vectors: wrap(vectors, [batch, n, n], a.dtype) };
  },

  svd(a, vectors, complete) {
    const stack = stackOf(a);
    if (stack === null) return null;
    const result = svdOfStack(stack, vectors, complete);
    if (result !== null) runCounts.svd++;
    return result;
  },

  qr(a, complete) {
    const stack = stackOf(a);
    if (stack === null || stack.m * stack.n * stack.k > LARGEST_QR) return null;
    const { batch, m, n, k } = stack;
    const qColumns = complete ? m : k;
    const rRows = complete ? m : k;
    const q = outputOf(a.dtype, batch * m * qColumns);
    const r = outputOf(a.dtype, batch * rRows * n);
    const w = new Float64Array(m * n);
    const qWork = new Float64Array(m * qColumns);
    const space = qrWorkspace(m, n, qColumns);
    for (let b = 0; b < batch; b++) {
      readMatrix(stack, b, w);
      householderQr(w, m, n, space);
      const rAt = b * rRows * n;
      for (let i = 0; i < rRows; i++) for (let j = 0; j < n; j++) r[rAt + i * n + j] = i <= j && i < m ? (w[i * n + j] as number) : 0;
      formQ(qWork, m, n, qColumns, space);
      q.set(qWork, b * m * qColumns);
    }
    runCounts.qr++;
    return { q: wrap(q, [batch, m, qColumns], a.dtype), r: wrap(r, [batch, rRows, n], a.dtype) };
  },

  cholesky(a) {
    const stack = stackOf(a, true);
    if (stack === null) return null;
    const { batch, n } = stack;
    const out = outputOf(a.dtype, batch * n * n);
    const w = new Float64Array(n * n);
    for (let b = 0; b < batch; b++) {
      readMatrix(stack, b, w);
      choleskyInPlace(w, n);
      out.set(w, b * n * n);
    }
    runCounts.cholesky++;
    return wrap(out, [batch, n, n], a.dtype);
  },

  luFactor(a) {
    const stack = stackOf(a);
    if (stack === null) return null;
    const { batch, m, n, k } = stack;
    const lu = outputOf(a.dtype, batch * m * n);
    const perm = outputOf('int32', batch * m) as Int32Array;
    const pivots = outputOf('int32', batch * k) as Int32Array;
    const w = new Float64Array(m * n);
    for (let b = 0; b < batch; b++) {
      readMatrix(stack, b, w);
      luInPlace(w, m, n, pivots, b * k, perm, b * m);
      lu.set(w, b * m * n);
    }
    runCounts.luFactor++;
    return { lu: wrap(lu, [batch, m, n], a.dtype), perm: wrap(perm, [batch, m], 'int32'), pivots: wrap(pivots, [batch, k], 'int32') };
  },

  triangularSolve(t, r, upper, unit) {
    const triangle = stackOf(t, true);
    const rhs = stackOf(r);
    if (triangle === null || rhs === null || t.dtype !== r.dtype || rhs.batch !== triangle.batch || rhs.m !== triangle.n) return null;
    const { batch, n } = triangle;
    const k = rhs.n;
    if (n * n * k > LARGEST_SUBSTITUTION) return null;
    const out = outputOf(r.dtype, batch * n * k);
    const w = new Float64Array(n * n);
    const x = new Float64Array(n * k);
    for (let b = 0; b < batch; b++) {
      readMatrix(triangle, b, w);
      readMatrix(rhs, b, x);
      substitute(w, x, n, k, upper, unit);
      out.set(x, b * n * k);
    }
    runCounts.triangularSolve++;
    return wrap(out, [batch, n, k], r.dtype);
  },
};

/**
 * The SVD of every matrix of the stack (see CompositeKernels.svd), or null when an iteration did
 * not converge. A wide matrix is factored through its transpose (A^T = U' S V'^T: U = V', V = U').
 */
function svdOfStack(stack: MatrixStack, vectors: boolean, complete: boolean): LinalgSvd<CpuHandle> | null {
  const { handle, batch, m, n, k } = stack;
  const dtype = handle.dtype;
  const uColumns = complete ? m : k;
  const vColumns = complete ? n : k;
  const s = outputOf(dtype, batch * k);
  const u = vectors ? outputOf(dtype, batch * m * uColumns) : null;
  const v = vectors ? outputOf(dtype, batch * n * vColumns) : null;
  // The tall orientation: rows x columns with rows >= columns.
  const wide = m < n;
  const rows = wide ? n : m;
  const columns = wide ? m : n;
  // Its left vectors (as rows of length `rows`) and right vectors (rows of length `columns`).
  const leftColumns = wide ? vColumns : uColumns;
  const w = new Float64Array(rows * columns);
  const left = vectors ? new Float64Array(leftColumns * rows) : null;
  const right = vectors ? new Float64Array(columns * columns) : null;
  const space = svdWorkspace(rows, columns);
  for (let b = 0; b < batch; b++) {
    // singularValues reads the tall matrix transposed: A^T for a tall A, A itself for a wide one.
    readMatrix(stack, b, w, !wide);
    const sAt = b * k;
    const uAt = b * m * uColumns;
    const vAt = b * n * vColumns;
    if (!allFinite(w, rows * columns)) {
      s.fill(Number.NaN, sAt, sAt + k);
      u?.fill(Number.NaN, uAt, uAt + m * uColumns);
      v?.fill(Number.NaN, vAt, vAt + n * vColumns);
      continue;
    }
    if (!singularValues(w, rows, columns, left, leftColumns, right, space)) return null;
    for (let i = 0; i < k; i++) s[sAt + i] = space.s[i] as number;
    if (u === null || v === null || left === null || right === null) continue;
    // Column j of a matrix kept as rows: out[i][j] = rowsOf[j][i].
    const [uSource, uLength, vSource, vLength] = wide ? [right, columns, left, rows] : [left, rows, right, columns];
    for (let i = 0; i < m; i++) for (let j = 0; j < uColumns; j++) u[uAt + i * uColumns + j] = uSource[j * uLength + i] as number;
    for (let i = 0; i < n; i++) for (let j = 0; j < vColumns; j++) v[vAt + i * vColumns + j] = vSource[j * vLength + i] as number;
  }
  return {
    s: wrap(s, [batch, k], dtype),
    u: u === null ? null : wrap(u, [batch, m, uColumns], dtype),
    v: v === null ? null : wrap(v, [batch, n, vColumns], dtype),
  };
}
