import type { DType, TypedArray } from '@flint/api';
import { allocateUninitialized } from '../../storage.js';
import type { CpuHandle } from '../../view.js';

// What the decomposition kernels share: the [B, m, n] stack they read (any strides), one matrix at
// a time, into a row-major float64 workspace (float32 inputs are factored in float64 too, and
// rounded once on the way out), and the Householder reflector both QR and the tridiagonalization
// of eigh build.

/** A [batch, m, n] float32 or float64 stack the kernels take. */
export interface MatrixStack {
  readonly handle: CpuHandle;
  readonly batch: number;
  readonly m: number;
  readonly n: number;
  readonly k: number;
}

/** The stack when a kernel takes it (rank 3, float32 or float64, not empty; `square` when asked), else null. */
export function stackOf(handle: CpuHandle, square = false): MatrixStack | null {
  if ((handle.dtype !== 'float32' && handle.dtype !== 'float64') || handle.shape.length !== 3) return null;
  const [batch, m, n] = handle.shape as [number, number, number];
  if (batch === 0 || m === 0 || n === 0 || (square && m !== n)) return null;
  return { handle, batch, m, n, k: Math.min(m, n) };
}

/** Matrix `b` of the stack into `w`, row-major m x n (`transposed`: n x m, A^T row-major). */
export function readMatrix(stack: MatrixStack, b: number, w: Float64Array, transposed = false): void {
  const { handle, m, n } = stack;
  const data = handle.storage.data;
  const [batchStride, rowStride, columnStride] = handle.strides as [number, number, number];
  const base = handle.offset + b * batchStride;
  for (let i = 0; i < m; i++) {
    const row = base + i * rowStride;
    if (transposed) for (let j = 0; j < n; j++) w[j * m + i] = data[row + j * columnStride] as number;
    else for (let j = 0, at = i * n; j < n; j++) w[at + j] = data[row + j * columnStride] as number;
  }
}

/** A fresh output array of `size` elements in the stack's dtype (every element is written). */
export const outputOf = (dtype: DType, size: number): TypedArray => allocateUninitialized(dtype, size);

/** Whether the first `count` entries of `w` are all finite. */
export function allFinite(w: Float64Array, count: number): boolean {
  for (let i = 0; i < count; i++) if (!Number.isFinite(w[i] as number)) return false;
  return true;
}

/** sqrt(a^2 + b^2) without overflow or underflow of the squares. */
export function hypot(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  const big = Math.max(x, y);
  if (big === 0) return 0;
  const small = Math.min(x, y);
  const ratio = small / big;
  return big * Math.sqrt(1 + ratio * ratio);
}

const TINY = 2 ** -1000;
const RESCALE = 2 ** 600;

/**
 * LAPACK's elementary reflector (dlarfg) for x = [alpha, x[1:]]: H = I - tau v v^T with v[0] = 1,
 * H x = [beta, 0, ...]. `x` holds x[1:] at `w[start], w[start + stride], ...` (`count` entries),
 * which become v[1:]. beta = -sign(alpha) ‖x‖; where x[1:] is already zero, H = I (tau 0, beta
 * alpha), as LAPACK, so that Q and R keep LAPACK's signs, which the composites share.
 */
export function reflector(alpha: number, w: Float64Array, start: number, stride: number, count: number): { tau: number; beta: number } {
  let norm = 0;
  for (let i = 0, at = start; i < count; i++, at += stride) norm = hypot(norm, w[at] as number);
  if (norm === 0) return { tau: 0, beta: alpha };
  // Subnormal x holds too few bits for an orthogonal H: scaled by 2^600 first (exactly, a power of
  // two), as dlarfg rescales; tau and v do not depend on the scale, beta scales back.
  if (Math.max(norm, Math.abs(alpha)) < TINY) {
    for (let i = 0, at = start; i < count; i++, at += stride) w[at] = (w[at] as number) * RESCALE;
    const scaled = reflector(alpha * RESCALE, w, start, stride, count);
    return { tau: scaled.tau, beta: scaled.beta / RESCALE };
  }
  const beta = alpha >= 0 ? -hypot(alpha, norm) : hypot(alpha, norm);
  // Divided, not multiplied by the reciprocal: |alpha - beta| >= ‖x[1:]‖, so each quotient is at
  // most 1, while 1 / (alpha - beta) overflows to Infinity where x is subnormal (5e-324), and
  // Infinity * x gave NaN eigenvalues (dlarfg rescales instead; for this one division suffices).
  const divisor = alpha - beta;
  for (let i = 0, at = start; i < count; i++, at += stride) w[at] = (w[at] as number) / divisor;
  return { tau: (beta - alpha) / beta, beta };
}
