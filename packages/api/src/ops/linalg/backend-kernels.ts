import type { Backend, CompositeKernels } from '../../backend/spi.js';
import type { Shape } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { runsEagerly } from '../../transforms/core.js';
import type { LuFactors } from './lu.js';

// The decompositions by the backend's own kernels (Backend.composites: LAPACK's on mkl), where
// they apply: the stack is concrete (no transform traces it, jit is not staging it), in float32 or
// float64, not empty, and the backend has the kernel and does not decline. Each
// function returns the kernel's results as tensors, or null, and the caller then runs its
// composite. The callers sit below the custom-VJP rules (rules.ts, spectral-rules.ts), so a
// derivative is the same analytic rule whichever computed the values; under vmap, jit and
// forward-mode tracing the composites run as before.

/** The stack's backend and handle when a kernel may take it (see the module comment), else null. */
function operand(a: Tensor): { backend: Backend; kernels: CompositeKernels<unknown>; handle: unknown } | null {
  if (a.dtype !== 'float32' && a.dtype !== 'float64') return null;
  const [batch, m, n] = a.shape as [number, number, number];
  if (batch === 0 || m === 0 || n === 0 || !runsEagerly([a])) return null;
  const backend = a._backend;
  if (backend === null || backend.composites === undefined || a._handle === undefined) return null;
  return { backend, kernels: backend.composites, handle: a._handle };
}

/** A tensor around a handle the kernel returned. */
const wrapped = (backend: Backend, handle: unknown, shape: Shape, dtype: Tensor['dtype']): Tensor =>
  new Tensor(shape, dtype, backend, handle);

/** Eigenvalues (ascending, [B, n]) and eigenvectors (columns, [B, n, n]) of a symmetric stack, or null. */
export function eighByKernel(a: Tensor): { values: Tensor; vectors: Tensor } | null {
  const found = operand(a);
  const result = found?.kernels.eigh?.(found.handle);
  if (found === null || result === null || result === undefined) return null;
  const [batch, n] = a.shape as [number, number, number];
  return {
    values: wrapped(found.backend, result.values, [batch, n], a.dtype),
    vectors: wrapped(found.backend, result.vectors, [batch, n, n], a.dtype),
  };
}

/** S (descending) and, with `vectors`, U and V (reduced, or `complete`), or null. */
export function svdByKernel(a: Tensor, vectors: boolean, complete: boolean): { u: Tensor | null; s: Tensor; v: Tensor | null } | null {
  const found = operand(a);
  const result = found?.kernels.svd?.(found.handle, vectors, complete);
  if (found === null || result === null || result === undefined) return null;
  const [batch, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  const { backend } = found;
  if (vectors && (result.u === null || result.v === null)) {
    for (const h of [result.u, result.s, result.v]) if (h !== null) backend.dispose(h);
    return null;
  }
  return {
    s: wrapped(backend, result.s, [batch, k], a.dtype),
    u: vectors ? wrapped(backend, result.u, [batch, m, complete ? m : k], a.dtype) : null,
    v: vectors ? wrapped(backend, result.v, [batch, n, complete ? n : k], a.dtype) : null,
  };
}

/** Q and R (reduced, or `complete`), or null. */
export function qrByKernel(a: Tensor, complete: boolean): { q: Tensor; r: Tensor } | null {
  const found = operand(a);
  const result = found?.kernels.qr?.(found.handle, complete);
  if (found === null || result === null || result === undefined) return null;
  const [batch, m, n] = a.shape as [number, number, number];
  const k = Math.min(m, n);
  return {
    q: wrapped(found.backend, result.q, [batch, m, complete ? m : k], a.dtype),
    r: wrapped(found.backend, result.r, [batch, complete ? m : k, n], a.dtype),
  };
}

/** The lower Cholesky factor (NaN from a failed pivot on, see CompositeKernels.cholesky), or null. */
export function choleskyByKernel(a: Tensor): Tensor | null {
  const found = operand(a);
  const result = found?.kernels.cholesky?.(found.handle);
  if (found === null || result === null || result === undefined) return null;
  return wrapped(found.backend, result, a.shape, a.dtype);
}

/** The pivoted LU factors (lu.ts's LuFactors), or null. */
export function luByKernel(a: Tensor): LuFactors | null {
  const found = operand(a);
  const result = found?.kernels.luFactor?.(found.handle);
  if (found === null || result === null || result === undefined) return null;
  const [batch, m, n] = a.shape as [number, number, number];
  return {
    lu: wrapped(found.backend, result.lu, a.shape, a.dtype),
    perm: wrapped(found.backend, result.perm, [batch, m], 'int32'),
    pivots: wrapped(found.backend, result.pivots, [batch, Math.min(m, n)], 'int32'),
  };
}
