import type { TypedArray } from '@flint/api';

/** What the addon reports about itself (native/dnnl_ops.cc, `info`). */
export interface NativeInfo {
  /** oneDNN's version, e.g. "2.6.3". */
  readonly onednn: string;
  /** The CBLAS it links: "mkl" or "openblas". */
  readonly blas: string;
  /** Threads of the calling thread's OpenMP loops now (see `setTeamSize`). */
  readonly threads: number;
  /** Threads the process started with: all cores unless OMP_NUM_THREADS says otherwise. */
  readonly maxThreads: number;
  /** The instruction set oneDNN dispatches to, e.g. "avx512_core_bf16". */
  readonly isa: string;
  /** Whether the CPU computes bfloat16 natively (AVX-512 BF16 or AMX). */
  readonly bfloat16: boolean;
  /**
   * Whether float32 exp, log, log1p, expm1, sin, cos, tan, tanh and erf run through glibc's vector
   * math library (native/vector_math.h) in the eager kernels and the fused register program.
   */
  readonly vectorMath: boolean;
}

/**
 * The addon's functions. A layout is an Int32Array [offset, rank, ...shape, ...strides] that
 * describes a strided view of the typed array passed before it; outputs are contiguous typed
 * arrays of exactly the output's size. The addon validates every argument and throws a
 * TypeError or RangeError for anything out of contract (see native/view.cc).
 */
export interface Addon {
  info(): NativeInfo;
  /**
   * Runs the calling thread's kernels on `threads` OpenMP threads (1 to `maxThreads`) from now on,
   * dropping the cached oneDNN primitives when the size changes; returns the previous size.
   */
  setTeamSize(threads: number): number;
  copy(dtype: number, data: TypedArray, layout: Int32Array, out: TypedArray): void;
  unary(op: number, dtype: number, data: TypedArray, layout: Int32Array, out: TypedArray): void;
  binary(op: number, dtype: number, a: TypedArray, aLayout: Int32Array, b: TypedArray, bLayout: Int32Array, out: TypedArray): void;
  /** int32/uint8/bool; returns false, leaving `out` alone, for an op it does not compute. */
  integerBinary(
    op: number,
    dtype: number,
    a: TypedArray,
    aLayout: Int32Array,
    b: TypedArray,
    bLayout: Int32Array,
    out: TypedArray,
  ): boolean;
  cast(fromDtype: number, data: TypedArray, layout: Int32Array, toDtype: number, out: TypedArray): void;
  where(
    dtype: number,
    cond: Uint8Array,
    condLayout: Int32Array,
    a: TypedArray,
    aLayout: Int32Array,
    b: TypedArray,
    bLayout: Int32Array,
    out: TypedArray,
  ): void;
  /** op 1 argmax, 0 argmin; out int32 of the view's shape without `axis`. */
  argReduce(op: number, dtype: number, data: TypedArray, layout: Int32Array, axis: number, out: Int32Array): void;
  /** Returns false, leaving `out` alone, when an index is out of range. */
  gather(
    dtype: number,
    data: TypedArray,
    layout: Int32Array,
    indices: Int32Array,
    indicesLayout: Int32Array,
    axis: number,
    out: TypedArray,
  ): boolean;
  /** Returns false, leaving `out` alone, when an index is out of range. */
  scatterAdd(
    dtype: number,
    target: TypedArray,
    targetLayout: Int32Array,
    indices: Int32Array,
    indicesLayout: Int32Array,
    updates: TypedArray,
    updatesLayout: Int32Array,
    axis: number,
    out: TypedArray,
  ): boolean;
  reduce(op: number, dtype: number, data: TypedArray, layout: Int32Array, axes: Int32Array, out: TypedArray): void;
  /** Returns the engine that ran: 1 CBLAS, 2 oneDNN. */
  matmul(dtype: number, a: TypedArray, aLayout: Int32Array, b: TypedArray, bLayout: Int32Array, out: TypedArray, mode: number): number;
  /**
   * A fused elementwise program (see compile/elementwise.ts and native/fused.cc) over inputs given
   * as (data, layout) pairs, writing the output arrays that follow them.
   */
  fused(program: Int32Array, literals: Float64Array, ...arrays: (TypedArray | Int32Array)[]): void;
  /**
   * Loads a generated kernel (compile/codegen.ts, compiled into a shared object) and returns its
   * id; throws when the file is not one.
   */
  loadKernel(path: string): number;
  /**
   * Runs a loaded kernel over `size` elements: inputs as (data, layout) pairs (full inputs
   * contiguous, scalar inputs with zero strides, as its signature says), then the output arrays.
   */
  runKernel(id: number, size: number, ...arrays: (TypedArray | Int32Array)[]): void;
  /**
   * float32 matmul through oneDNN with post-ops: `postOps` holds [kind, alpha, beta, operand
   * layout] per op (0 alpha * x + beta, 1 relu, 2 tanh, 3 logistic, 4 add, 5 mul; add and mul read
   * the next of `operands`: n elements for layout 0, the whole output for 1; at most one linear
   * op, else a RangeError). Returns false, leaving `out` alone, when oneDNN cannot take the layouts.
   */
  matmulPostOps(
    a: Float32Array,
    aLayout: Int32Array,
    b: Float32Array,
    bLayout: Int32Array,
    out: Float32Array,
    postOps: Float64Array,
    operands: readonly Float32Array[],
  ): boolean;
  /**
   * Returns false, leaving `out` alone, for a configuration it does not take. With `postOps` and
   * `operands` (float32 only; as for matmulPostOps, layout 0 operands hold one value per output
   * channel) the epilogue runs inside the convolution.
   */
  conv(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    w: TypedArray,
    wLayout: Int32Array,
    out: TypedArray,
    params: Int32Array,
    postOps?: Float64Array,
    operands?: readonly Float32Array[],
  ): boolean;
  /**
   * The float32 input gradient `out` (contiguous [N, C, ...input]) of the forward convolution with
   * filter w [K, C / groups, ...] whose output gradient is dy [N, K, ...], through oneDNN's
   * convolution_backward_data; geometry [groups, ...strides, ...padLow, ...dilations, ...inputSize].
   * Returns false, leaving `out` alone, when oneDNN does not take it.
   */
  convBackwardData(
    dtype: number,
    w: TypedArray,
    wLayout: Int32Array,
    dy: TypedArray,
    dyLayout: Int32Array,
    out: TypedArray,
    geometry: Int32Array,
  ): boolean;
  /**
   * The float32 filter gradient `out` (contiguous [K, C / groups, ...filter]) of the forward
   * convolution of x [N, C, ...] whose output gradient is dy [N, K, ...], through oneDNN's
   * convolution_backward_weights; geometry [groups, ...strides, ...padLow, ...dilations,
   * ...filterSize]. Returns false, leaving `out` alone, when oneDNN does not take it.
   */
  convBackwardWeights(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    dy: TypedArray,
    dyLayout: Int32Array,
    out: TypedArray,
    geometry: Int32Array,
  ): boolean;
  /**
   * float32 softmax (log 0) or log-softmax (log 1) of the view along `axis`, through oneDNN:
   * `out` is contiguous with the view's shape. A slice holding NaN, or all -Infinity, gives NaN.
   * Returns false, leaving `out` alone, when oneDNN refuses to create the primitive (as do the
   * other normalization functions, batch norm's included); bad arguments throw.
   */
  softmax(dtype: number, x: TypedArray, xLayout: Int32Array, axis: number, log: number, out: TypedArray): boolean;
  /**
   * float32 input cotangent of softmax (log 0) or log-softmax (log 1) along `axis` from its output
   * `y` and the output's cotangent `g` (views of one shape), through oneDNN: `out` is contiguous.
   */
  softmaxBackward(
    dtype: number,
    y: TypedArray,
    yLayout: Int32Array,
    g: TypedArray,
    gLayout: Int32Array,
    axis: number,
    log: number,
    out: TypedArray,
  ): boolean;
  /**
   * float32 layer normalization over the view's last `normalizedDims` dims, through oneDNN;
   * `weight` and `bias` (each with its layout, or both null) have those dims' shape.
   */
  layerNorm(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    normalizedDims: number,
    weight: TypedArray | null,
    weightLayout: Int32Array | null,
    bias: TypedArray | null,
    biasLayout: Int32Array | null,
    eps: number,
    out: TypedArray,
  ): boolean;
  /**
   * float32 cotangents of layerNorm from the output's cotangent `g` (the input's shape): the
   * input's into `out`; the weight's into `weightOut` (given exactly when `weight` is), the bias's
   * into `biasOut` unless it is null.
   */
  layerNormBackward(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    normalizedDims: number,
    weight: TypedArray | null,
    weightLayout: Int32Array | null,
    g: TypedArray,
    gLayout: Int32Array,
    eps: number,
    out: TypedArray,
    weightOut: TypedArray | null,
    biasOut: TypedArray | null,
  ): boolean;
  /**
   * float32 batch normalization with the batch's statistics over the channel axis 1 of `x`
   * ([N, C, ...], rank at least 2), as loops over its plain layout (native/batch_norm.cc): `meanOut` and
   * `varianceOut` (C elements each) receive each channel's mean and biased variance over every
   * other dim, `out` (contiguous, x's shape) `(x - mean) / sqrt(variance + eps) * weight + bias`;
   * `weight` and `bias` (each with its layout, or both null) are [C]. With no element per channel
   * the statistics are NaN. Returns true (it never declines).
   */
  batchNorm(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    weight: TypedArray | null,
    weightLayout: Int32Array | null,
    bias: TypedArray | null,
    biasLayout: Int32Array | null,
    eps: number,
    out: TypedArray,
    meanOut: TypedArray,
    varianceOut: TypedArray,
  ): boolean;
  /**
   * float32 batch normalization with given statistics (`mean`, `variance`: [C]) along the channel
   * axis 1 of `x`, a loop: `out` (contiguous) `(x - mean) / sqrt(variance + eps) * weight + bias`;
   * `weight` and `bias` are [C] or both null with their layouts. Returns true.
   */
  batchNormInference(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    mean: TypedArray,
    meanLayout: Int32Array,
    variance: TypedArray,
    varianceLayout: Int32Array,
    weight: TypedArray | null,
    weightLayout: Int32Array | null,
    bias: TypedArray | null,
    biasLayout: Int32Array | null,
    eps: number,
    out: TypedArray,
  ): boolean;
  /**
   * float32 cotangents of batchNorm's output from its cotangent `g` (x's shape), given the
   * statistics the forward pass returned (`mean`, `variance`: [C]), as loops: the input's into
   * `out`; the weight's into `weightOut` (given exactly when `weight` is), the bias's into
   * `biasOut` unless it is null (C elements each; zeros with no element per channel). Returns true.
   */
  batchNormBackward(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    mean: TypedArray,
    meanLayout: Int32Array,
    variance: TypedArray,
    varianceLayout: Int32Array,
    weight: TypedArray | null,
    weightLayout: Int32Array | null,
    g: TypedArray,
    gLayout: Int32Array,
    eps: number,
    out: TypedArray,
    weightOut: TypedArray | null,
    biasOut: TypedArray | null,
  ): boolean;
  /**
   * A test hook: while `on`, the calling thread's softmax, softmaxBackward, layerNorm and
   * layerNormBackward find oneDNN refusing their primitives and return false, as for a
   * configuration oneDNN does not take (oneDNN 2.6 refuses no float32 shape of theirs). Batch
   * norm's three calls are loops and create no primitive: the hook does not reach them.
   */
  refuseNormalizationPrimitives(on: boolean): void;
  /** Returns false, leaving `out` alone, for a configuration it does not take. */
  pool(op: number, dtype: number, x: TypedArray, xLayout: Int32Array, out: TypedArray, params: Int32Array): boolean;
  /**
   * Max pooling's backward pass: `out` (x's size, contiguous) is zero but at each window's first
   * maximum (argmax's rule: row-major window order, the first NaN wins; a -Inf maximum ties with
   * the padding, which wins when it comes first), which receives that window's cotangent from
   * `g` (the pool's output shape), summed where windows overlap. `params` as pool's. Returns
   * false, leaving `out` alone, for a configuration pool does not take.
   */
  windowMaxBackward(
    dtype: number,
    x: TypedArray,
    xLayout: Int32Array,
    g: TypedArray,
    gLayout: Int32Array,
    out: TypedArray,
    params: Int32Array,
  ): boolean;
  /**
   * The matrix decompositions through LAPACK (native/linalg.cc), float32 or float64, on a rank-3
   * view [batch, m, n] of non-empty matrices (any strides); outputs contiguous, row-major.
   * eigh: the symmetric eigendecomposition (the lower triangle read) into `values` [batch, n]
   * (ascending) and `vectors` [batch, n, n] (columns); a non-finite matrix gives NaN. Returns
   * false, the outputs partly written, when syevd did not converge.
   */
  eigh(dtype: number, a: TypedArray, aLayout: Int32Array, values: TypedArray, vectors: TypedArray): boolean;
  /**
   * The SVD, k = min(m, n): `s` [batch, k] descending; mode 0 values only (`u` and `v` null),
   * 1 reduced (u [batch, m, k], v [batch, n, k]), 2 complete (u [batch, m, m], v [batch, n, n]);
   * V, not V^T. A non-finite matrix gives NaN. Returns false when gesdd did not converge.
   */
  svd(dtype: number, a: TypedArray, aLayout: Int32Array, mode: number, s: TypedArray, u: TypedArray | null, v: TypedArray | null): boolean;
  /** Householder QR (geqrf, orgqr): complete 0: q [batch, m, k], r [batch, k, n]; 1: q [batch, m, m], r [batch, m, n]. Returns true. */
  qr(dtype: number, a: TypedArray, aLayout: Int32Array, complete: number, q: TypedArray, r: TypedArray): boolean;
  /**
   * The lower Cholesky factor (potrf; the lower triangle read), upper triangle zero; from a pivot
   * that is not positive on, the columns are NaN on and below the diagonal. Returns true.
   */
  cholesky(dtype: number, a: TypedArray, aLayout: Int32Array, out: TypedArray): boolean;
  /**
   * LU with partial pivoting (getrf): `lu` packed [batch, m, n], `perm` int32 [batch, m] (row i of
   * L U is row perm[i] of A), `pivots` int32 [batch, k] (0-based swaps). Returns true.
   */
  luFactor(dtype: number, a: TypedArray, aLayout: Int32Array, lu: TypedArray, perm: Int32Array, pivots: Int32Array): boolean;
  /**
   * trsm: X with T X = R for every matrix of `t` [batch, n, n] and `r` [batch, n, k] into `out`
   * (contiguous), reading only T's upper (1) or lower (0) triangle, its diagonal not at all with
   * `unit` (1). Returns true.
   */
  triangularSolve(
    dtype: number,
    t: TypedArray,
    tLayout: Int32Array,
    r: TypedArray,
    rLayout: Int32Array,
    upper: number,
    unit: number,
    out: TypedArray,
  ): boolean;
}
