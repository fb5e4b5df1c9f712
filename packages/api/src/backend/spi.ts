import type { Aval } from '../core/aval.js';
import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import type { CompiledKernel, KernelProgram } from '../ir/kernel.js';
import type { ParamsOf, Primitive, WindowGeometry } from '../primitives/primitive.js';

/**
 * One primitive's kernel on a backend. `inputs` are the backend's own handles, already checked
 * by the primitive's abstract evaluation; `out` is the validated output shape and dtype. A kernel
 * returns a handle at once; on an asynchronous backend it stands for a result still being computed.
 * A kernel must not keep or release its inputs: the caller owns them.
 */
export type Kernel<P extends Primitive, H> = {
  // Declared as a method so its parameters are bivariant: a Backend<CpuHandle> is then usable
  // wherever the registry expects a Backend<unknown>, with no cast in every backend package.
  kernel(inputs: readonly H[], params: ParamsOf<P>, out: Aval): H;
}['kernel'];

/**
 * A backend's kernels: one per primitive. The mapped type makes a missing kernel a compile error
 * in the backend's package, instead of a "kernel not registered" surprise at run time.
 */
export type KernelTable<H> = { readonly [P in Primitive]: Kernel<P, H> };

/**
 * A backend's own kernels for composite ops (optional, each one optional): eager dispatch calls
 * them instead of the composite's primitives when every input is concrete (no transform is
 * tracing it), and differentiates the result with the composite's analytic derivative; a
 * jit-compiled program calls them for the composite equations it formed (jit/executable.ts), on
 * any handles of the program (broadcast literals, donated buffers). Inputs are the backend's
 * handles, already validated by the op; `out` is the result's shape and dtype.
 * A kernel returns null to decline (a dtype, layout or rank it does not take), and the op then
 * runs its composite, as it does on backends without the kernel. Like `kernels`, a composite
 * kernel must not keep or release its inputs.
 */
export interface CompositeKernels<H> {
  /**
   * Softmax of `x` along `axis` (`0 <= axis < rank`, rank at least 1), or log-softmax when `log`:
   * a slice holding NaN, or all -Infinity, gives NaN, as the composite does.
   */
  softmax?(x: H, axis: number, log: boolean, out: Aval): H | null;
  /**
   * The input's cotangent of softmax along `axis` from its output `y` and the output's cotangent
   * `g` (same shape and dtype): `y * (g - sum(g * y))`, or for log-softmax `g - exp(y) * sum(g)`.
   * Used by a backward pass that nothing records (no `createGraph`, no transform), where the
   * derivative need not be differentiable again, and by jit-compiled backward passes.
   */
  softmaxBackward?(y: H, g: H, axis: number, log: boolean, out: Aval): H | null;
  /**
   * Layer normalization over the last `normalizedDims` dims of `x` (1 to rank): the mean and the
   * biased variance of each slice, `(x - mean) / sqrt(variance + eps) * weight + bias`. `weight`
   * and `bias` are null or have the shape of those dims and `x`'s dtype; `eps >= 0`.
   */
  layerNorm?(x: H, weight: H | null, bias: H | null, normalizedDims: number, eps: number, out: Aval): H | null;
  /**
   * The cotangents of `layerNorm(x, weight, bias, normalizedDims, eps)` from the output's
   * cotangent `g` (`x`'s shape): the input's (`out`: `x`'s shape and dtype), the weight's when a
   * weight is given and the bias's when `withBias` (the normalized dims' shape; null otherwise).
   * Used, as `softmaxBackward`, by a backward pass that nothing records.
   */
  layerNormBackward?(
    x: H,
    weight: H | null,
    g: H,
    normalizedDims: number,
    eps: number,
    withBias: boolean,
    out: Aval,
  ): NormalizationCotangents<H> | null;
  /**
   * Batch normalization with the batch's statistics (training mode) over the channel axis 1 of
   * `x` ([N, C, ...], rank at least 2): per channel, the mean and the biased variance over every
   * other dim, and `(x - mean) / sqrt(variance + eps) * weight + bias`. `weight` and `bias` are
   * null or [C] in `x`'s dtype; `eps >= 0`; `x` holds at least one element per channel. Returns
   * the output (`out`: `x`'s shape and dtype) and the statistics ([C], `x`'s dtype).
   */
  batchNorm?(x: H, weight: H | null, bias: H | null, eps: number, out: Aval): BatchNormResults<H> | null;
  /**
   * Batch normalization with given statistics (inference mode): `(x - mean) / sqrt(variance +
   * eps) * weight + bias` along the channel axis 1 of `x` ([N, C, ...]); `mean`, `variance` and,
   * where given, `weight` and `bias` are [C] in `x`'s dtype.
   */
  batchNormInference?(x: H, mean: H, variance: H, weight: H | null, bias: H | null, eps: number, out: Aval): H | null;
  /**
   * The cotangents of `batchNorm(x, weight, bias, eps)`'s output from its cotangent `g` (`x`'s
   * shape), given the statistics that forward pass returned (`mean`, `variance`: [C]): with
   * `r = 1 / sqrt(variance + eps)`, `xhat = (x - mean) * r` and `h = g * weight`, the input's
   * is `r * (h - mean(h) - xhat * mean(h * xhat))` (means per channel, over every other dim;
   * `out`: `x`'s shape and dtype); the weight's `sum(g * xhat)` when a weight is given and the
   * bias's `sum(g)` when `withBias` (both [C], per channel; null otherwise). Used, as
   * `softmaxBackward`, by a backward pass that nothing records, and by jit.
   */
  batchNormBackward?(
    x: H,
    mean: H,
    variance: H,
    weight: H | null,
    g: H,
    eps: number,
    withBias: boolean,
    out: Aval,
  ): NormalizationCotangents<H> | null;
  /**
   * Max pooling's backward pass (the VJP of ReduceWindow's max with this geometry): `x`'s
   * cotangent (`out`: its shape and dtype), zero but at each window's first maximum, which
   * receives the window's cotangent from `g` (the pool's output shape, `x`'s dtype), summed where
   * windows overlap. The first maximum is argmax's over the window in row-major order with the
   * padding read as -Infinity: a NaN counts as the maximum (the first NaN wins), and a window whose
   * taps inside are all -Infinity goes to its first tap, dropped when that is padding. Used, as
   * `softmaxBackward`, by a backward pass that nothing records, and by jit.
   */
  windowMaxBackward?(x: H, g: H, geometry: WindowGeometry, out: Aval): H | null;
  /**
   * The matrix decompositions (LAPACK's, where a backend has them), for eager calls, jit (one
   * equation each) and vmap (the batch joins the stack); under grad and jvp the analytic rules of
   * ops/linalg/ apply on top, and a decline runs the composites. Each takes `a`, a [B, m, n] stack of float32 or
   * float64 matrices (B >= 0, m and n >= 1; any layout) and returns contiguous results in its
   * dtype, with the composites' conventions, which the api's tests compare across backends.
   *
   * `eigh`: the eigendecomposition of each symmetric matrix (both triangles equal; the lower read):
   * eigenvalues ascending [B, n], eigenvectors as the columns of [B, n, n]. A matrix holding NaN or
   * an infinity gives NaN values and vectors.
   */
  eigh?(a: H): LinalgEigh<H> | null;
  /**
   * The SVD A = U diag(S) V^T, k = min(m, n): S [B, k] descending; with `vectors`, U and V (not
   * V^T), [B, m, k] and [B, n, k], or with `complete` [B, m, m] and [B, n, n]; else null. A
   * non-finite matrix gives NaN.
   */
  svd?(a: H, vectors: boolean, complete: boolean): LinalgSvd<H> | null;
  /**
   * The Householder QR with LAPACK's signs (R's diagonal may be negative), k = min(m, n): Q
   * [B, m, k] and R [B, k, n], or with `complete` Q [B, m, m] and R [B, m, n].
   */
  qr?(a: H, complete: boolean): LinalgQr<H> | null;
  /**
   * The lower Cholesky factor of each matrix (square; its lower triangle read), upper triangle 0.
   * From the first pivot that is not positive on, the factor's columns are NaN on and below the
   * diagonal (so its diagonal entry there is not positive: how the api finds the failure).
   */
  cholesky?(a: H): H | null;
  /**
   * LU with partial pivoting (LAPACK's getrf), k = min(m, n): `lu` [B, m, n] packed (L's unit
   * diagonal implied), `perm` int32 [B, m] (row i of L U is row perm[i] of A), `pivots` int32
   * [B, k] (at step i, row i was swapped with row pivots[i], 0-based). An exact zero pivot leaves
   * its multipliers at zero.
   */
  luFactor?(a: H): LinalgLu<H> | null;
  /**
   * X with T X = R for a [B, n, n] stack T and a [B, n, k] stack R of the same dtype (float32 or
   * float64; any layouts), as LAPACK's trsm: only T's upper (else lower) triangle is read, and
   * its diagonal not at all with `unit` (ones are taken), so T may be a packed LU. X is
   * contiguous, R's shape and dtype (`out`). A zero on the diagonal divides as the composite does
   * (Infinity or NaN), no error.
   */
  triangularSolve?(t: H, r: H, upper: boolean, unit: boolean, out: Aval): H | null;
}

/** What `CompositeKernels.eigh` computes. */
export interface LinalgEigh<H> {
  readonly values: H;
  readonly vectors: H;
}

/** What `CompositeKernels.svd` computes (U and V null for the values alone). */
export interface LinalgSvd<H> {
  readonly u: H | null;
  readonly s: H;
  readonly v: H | null;
}

/** What `CompositeKernels.qr` computes. */
export interface LinalgQr<H> {
  readonly q: H;
  readonly r: H;
}

/** What `CompositeKernels.luFactor` computes. */
export interface LinalgLu<H> {
  readonly lu: H;
  readonly perm: H;
  readonly pivots: H;
}

/** What `CompositeKernels.layerNormBackward` and `batchNormBackward` compute: the cotangents of the input, the weight and the bias. */
export interface NormalizationCotangents<H> {
  readonly input: H;
  readonly weight: H | null;
  readonly bias: H | null;
}

/** What `CompositeKernels.batchNorm` computes: the output, and the batch's mean and biased variance per channel. */
export interface BatchNormResults<H> {
  readonly output: H;
  readonly mean: H;
  readonly variance: H;
}

export interface BackendCapabilities {
  /**
   * Dtypes the backend stores and computes in. The api refuses every other dtype with a
   * DTypeError naming the backend (at creation, `to()`, and before each kernel), so kernels only
   * ever see these.
   */
  readonly dtypes: readonly DType[];
  /** Whether `readSync` works (CPU backends) or only `read` (GPUs, workers). */
  readonly syncRead: boolean;
  /**
   * Whether jit's fused kernels should recompute, per element, the single-element values they
   * read (an optimizer's bias corrections from its step count) instead of running that arithmetic
   * as kernels of its own: true where a kernel launch costs more than a few operations per element
   * (GPUs), left out on CPUs, where the launch is a function call and the recomputation is not free.
   */
  readonly recomputeScalars?: boolean;
}

export interface MemoryInfo {
  /** Live backend buffers (storage allocations, views excluded). */
  readonly buffers: number;
  /** Bytes held by those buffers. */
  readonly bytes: number;
}

/**
 * The backend service-provider interface (DESIGN.md, "Backend SPI"). A backend implements the
 * primitives on its own buffers and never sees autograd or jit. `H` is its handle type: a
 * reference to a buffer (or a view of one) that the backend alone interprets.
 */
export interface Backend<H = unknown> {
  /** Registry name: 'cpu', 'mkl', 'cuda', 'webgpu'. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;
  readonly kernels: KernelTable<H>;
  /**
   * A new handle holding a copy of `data` (row-major, `sizeOf(shape)` elements of the typed-array
   * type of `dtype`; bool data are 0/1 bytes; float16 and bfloat16 data are a Uint16Array of bit
   * patterns). The caller may reuse `data` afterwards. The api calls it only with a dtype the
   * backend lists in `capabilities.dtypes`.
   */
  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): H;
  /**
   * Resolves to a fresh row-major copy of the handle's elements once they are computed, in the
   * same storage types (a Uint16Array of bit patterns for float16 and bfloat16; `Tensor.data()`
   * decodes those to float32 values).
   */
  read(handle: H): Promise<TypedArray>;
  /** The same, synchronously; present only when `capabilities.syncRead`. */
  readSync?(handle: H): TypedArray;
  /** Releases the handle. A buffer is freed when its last handle (views included) is released. */
  dispose(handle: H): void;
  /**
   * Optional, for backends whose buffers the JavaScript garbage collector frees by itself (typed
   * arrays): what the api's safety-net finalizer holds for a tensor nobody disposed, in place of
   * its handle. Holding the handle would keep the buffer alive until the finalizer runs, and a
   * synchronous training loop never yields to the event loop that runs it: every intermediate of
   * every step stayed allocated. The token must not reach the buffer; `releaseFinalized(token)` is
   * called once the tensor was collected, to settle the backend's accounts.
   */
  finalizerToken?(handle: H): object;
  /** Releases what `finalizerToken` returned for a tensor that was garbage-collected undisposed. */
  releaseFinalized?(token: object): void;
  memory(): MemoryInfo;
  /**
   * jit's lowering hook (optional): compiles one fused kernel (an elementwise chain, elementwise
   * producers with a reduction, or a contraction with its epilogue; see ir/kernel.ts) into code
   * for this backend. Returns null for a kernel it does not handle; jit then runs that kernel's
   * primitives one by one through `kernels`, as it does on backends without the hook.
   */
  compile?(kernel: KernelProgram): CompiledKernel<H> | null;
  /** Fused kernels for composite ops (softmax, layer norm), used by eager dispatch and jit; see CompositeKernels. */
  readonly composites?: CompositeKernels<H>;
}

/** What the registry knows about a backend before it is created. */
export interface BackendFactory {
  readonly name: string;
  /** Higher is preferred by `auto`: cuda 40, webgpu 30, mkl 20, cpu 10. */
  readonly priority: number;
  /**
   * Creates the backend, or explains why it cannot: the reason and the fix (for example the
   * system package to install). May be asynchronous for backends that must request a device.
   */
  create(): Backend | Promise<Backend>;
}

/** The reason a backend reported for not initializing. */
export class BackendUnavailable {
  constructor(
    readonly name: string,
    readonly reason: string,
  ) {}
}
