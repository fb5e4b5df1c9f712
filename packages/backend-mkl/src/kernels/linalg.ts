import { type CompositeKernels, sizeOf, type TypedArray } from '@flint/api';
import { layoutOf, type MklHandle, wrap } from '../handle.js';
import type { MklMemory } from '../memory.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';

/** The decompositions the addon computes through LAPACK (native/linalg.cc). */
export type LinalgKernelName = 'eigh' | 'svd' | 'qr' | 'cholesky' | 'luFactor' | 'triangularSolve';

/** What the LAPACK kernels need: the addon, the backend's memory, and a counter of their runs. */
export interface LinalgContext {
  readonly addon: Addon;
  readonly memory: MklMemory;
  readonly recordComposite: (name: LinalgKernelName) => void;
}

type LinalgKernels = Pick<CompositeKernels<MklHandle>, LinalgKernelName>;

/**
 * LAPACK's eigh (syevd), svd (gesdd), qr (geqrf, orgqr), cholesky (potrf) and luFactor (getrf) of
 * float32 and float64 stacks [B, m, n] of any layout, one LAPACK call per matrix, the batch split
 * over the OpenMP team; and BLAS's triangularSolve (trsm), split by matrix and block of columns. Other dtypes, other ranks and empty stacks are declined (the api checks
 * them first; the composites take them), as is a stack syevd or gesdd did not converge on (rare):
 * its outputs go back to the pool and the api runs the composite.
 */
export function mklLinalgKernels(context: LinalgContext): LinalgKernels {
  const { addon, memory, recordComposite } = context;
  /** The stack's [B, m, n] and dtype code when the addon takes it, else null. */
  const accepted = (a: MklHandle) => {
    if ((a.dtype !== 'float32' && a.dtype !== 'float64') || a.shape.length !== 3 || sizeOf(a.shape) === 0) return null;
    const [batch, m, n] = a.shape as [number, number, number];
    return { batch, m, n, k: Math.min(m, n), code: DTYPE_CODES[a.dtype] };
  };
  const allocate = (a: MklHandle, size: number) => memory.allocateUninitialized(a.dtype, size);
  const indices = (size: number) => memory.allocateUninitialized('int32', size) as Int32Array;
  const declined = (...outputs: (TypedArray | null)[]): null => {
    for (const output of outputs) if (output !== null) memory.recycle(output);
    return null;
  };
  return {
    eigh(a) {
      const s = accepted(a);
      if (s === null || s.m !== s.n) return null;
      const values = allocate(a, s.batch * s.n);
      const vectors = allocate(a, s.batch * s.n * s.n);
      if (!addon.eigh(s.code, a.storage.data, layoutOf(a), values, vectors)) return declined(values, vectors);
      recordComposite('eigh');
      return { values: wrap(values, [s.batch, s.n], a.dtype), vectors: wrap(vectors, [s.batch, s.n, s.n], a.dtype) };
    },
    svd(a, vectors, complete) {
      const s = accepted(a);
      if (s === null) return null;
      const uColumns = complete ? s.m : s.k;
      const vColumns = complete ? s.n : s.k;
      const values = allocate(a, s.batch * s.k);
      const u = vectors ? allocate(a, s.batch * s.m * uColumns) : null;
      const v = vectors ? allocate(a, s.batch * s.n * vColumns) : null;
      const mode = vectors ? (complete ? 2 : 1) : 0;
      if (!addon.svd(s.code, a.storage.data, layoutOf(a), mode, values, u, v)) return declined(values, u, v);
      recordComposite('svd');
      return {
        s: wrap(values, [s.batch, s.k], a.dtype),
        u: u === null ? null : wrap(u, [s.batch, s.m, uColumns], a.dtype),
        v: v === null ? null : wrap(v, [s.batch, s.n, vColumns], a.dtype),
      };
    },
    qr(a, complete) {
      const s = accepted(a);
      if (s === null) return null;
      const qColumns = complete ? s.m : s.k;
      const rRows = complete ? s.m : s.k;
      const q = allocate(a, s.batch * s.m * qColumns);
      const r = allocate(a, s.batch * rRows * s.n);
      if (!addon.qr(s.code, a.storage.data, layoutOf(a), complete ? 1 : 0, q, r)) return declined(q, r);
      recordComposite('qr');
      return { q: wrap(q, [s.batch, s.m, qColumns], a.dtype), r: wrap(r, [s.batch, rRows, s.n], a.dtype) };
    },
    cholesky(a) {
      const s = accepted(a);
      if (s === null || s.m !== s.n) return null;
      const out = allocate(a, s.batch * s.n * s.n);
      if (!addon.cholesky(s.code, a.storage.data, layoutOf(a), out)) return declined(out);
      recordComposite('cholesky');
      return wrap(out, [s.batch, s.n, s.n], a.dtype);
    },
    luFactor(a) {
      const s = accepted(a);
      if (s === null) return null;
      const lu = allocate(a, s.batch * s.m * s.n);
      const perm = indices(s.batch * s.m);
      const pivots = indices(s.batch * s.k);
      if (!addon.luFactor(s.code, a.storage.data, layoutOf(a), lu, perm, pivots)) return declined(lu, perm, pivots);
      recordComposite('luFactor');
      return {
        lu: wrap(lu, [s.batch, s.m, s.n], a.dtype),
        perm: wrap(perm, [s.batch, s.m], 'int32'),
        pivots: wrap(pivots, [s.batch, s.k], 'int32'),
      };
    },
    triangularSolve(t, r, upper, unit) {
      const triangle = accepted(t);
      const rhs = accepted(r);
      if (triangle === null || rhs === null || t.dtype !== r.dtype || triangle.m !== triangle.n) return null;
      if (rhs.batch !== triangle.batch || rhs.m !== triangle.n) return null;
      const out = allocate(r, rhs.batch * rhs.m * rhs.n);
      addon.triangularSolve(triangle.code, t.storage.data, layoutOf(t), r.storage.data, layoutOf(r), upper ? 1 : 0, unit ? 1 : 0, out);
      recordComposite('triangularSolve');
      return wrap(out, [rhs.batch, rhs.m, rhs.n], r.dtype);
    },
  };
}
