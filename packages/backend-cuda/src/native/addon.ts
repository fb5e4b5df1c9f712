import type { TypedArray } from '@flint/api';

/** What `probe` finds without starting the device (native/device.cc); never throws. */
export interface ProbeResult {
  readonly available: boolean;
  /** Why the backend cannot start, naming what is missing and where it was searched for. */
  readonly reason?: string;
  readonly devices: number;
  /** The CUDA runtime this addon was built with, e.g. 13000 for 13.0. */
  readonly runtimeVersion: number;
  /** The newest CUDA version the installed driver supports (0 without a driver). */
  readonly driverVersion?: number;
}

/** The device `init` started. */
export interface DeviceInfo {
  readonly device: number;
  readonly name: string;
  /** "9.0" on Hopper. */
  readonly computeCapability: string;
  readonly multiprocessors: number;
  readonly totalMemory: number;
  readonly runtimeVersion: number;
  readonly driverVersion: number;
}

/** One optional library: where it was loaded from, or why not. */
export interface LibraryStatus {
  readonly found: boolean;
  readonly path?: string;
  readonly version?: string;
  /** "not found (searched ... in ...)" or "found at ... but it lacks ...". */
  readonly reason?: string;
}

export interface LibraryReport {
  readonly cublasLt: LibraryStatus;
  readonly cublas: LibraryStatus;
  readonly cudnn: LibraryStatus;
  readonly nvrtc: LibraryStatus;
  readonly nccl: LibraryStatus;
}

/** The NCCL communicator's state (native/nccl.cc, `ncclStatus`). */
export interface NcclStatus {
  readonly initialized: boolean;
  /** True in validation-only mode: arguments are checked, nothing is sent. */
  readonly simulated: boolean;
  readonly rank: number;
  readonly worldSize: number;
  /** Collectives queued whose completion the watchdog has not seen yet. */
  readonly pending: number;
  /** Why collectives stopped (a timeout or an NCCL error); every later call and read fails with it. */
  readonly failure?: string;
}

/** The caching allocator's statistics and which engines ran (native/device.cc, `memory`). */
export interface NativeMemoryStats {
  /** Live buffers JavaScript holds handles to. */
  readonly buffers: number;
  /** Bytes in blocks handed out (size classes, so at least the bytes asked for). */
  readonly allocatedBytes: number;
  readonly allocatedBlocks: number;
  /** Bytes in freed blocks kept for reuse. */
  readonly cachedBytes: number;
  readonly cachedBlocks: number;
  /** allocated + cached: what the process holds from the driver. */
  readonly reservedBytes: number;
  readonly peakAllocatedBytes: number;
  /** cudaMalloc and cudaFree calls so far. */
  readonly deviceAllocations: number;
  readonly deviceFrees: number;
  readonly cacheHits: number;
  readonly cacheMisses: number;
  readonly retriesAfterFlush: number;
  readonly pinnedCachedBytes: number;
  readonly pinnedLiveBytes: number;
  readonly matmulKernel: number;
  readonly matmulCublasLt: number;
  /** Of those, matmuls that added a bias in cuBLASLt's epilogue. */
  readonly matmulBiasEpilogue: number;
  readonly convKernel: number;
  readonly convCudnn: number;
  /** Convolution gradients through cudnnConvolutionBackwardFilter and cudnnConvolutionBackwardData. */
  readonly convCudnnBackwardFilter: number;
  readonly convCudnnBackwardData: number;
  /** cuDNN convolution algorithm queries: one per problem, the addon remembers what ran. */
  readonly dnnAlgorithmQueries: number;
  readonly poolKernel: number;
  readonly poolCudnn: number;
  /** Runs of the composite ops' own kernels (softmax, layer and batch norm, max pooling's backward). */
  readonly compositeKernel: number;
  /** Batch norms (forward, inference, backward) that ran through cuDNN. */
  readonly normCudnn: number;
  /** cuBLASLt/cuDNN calls that failed after the addon chose them (the op then ran the own kernel). */
  readonly vendorFailures: number;
  readonly jitCompiles: number;
  readonly jitLaunches: number;
}

/**
 * The addon's functions. Buffers are numbers (handles into the addon's table); a layout is an
 * Int32Array [offset, rank, ...shape, ...strides] describing a strided view of the buffer passed
 * before it. Functions that compute return the handle of a fresh contiguous buffer. The addon
 * validates every argument and throws a TypeError or RangeError for anything out of contract,
 * and an Error with `cudaError` set when CUDA fails (see native/boundary.h).
 */
export interface Addon {
  probe(): ProbeResult;
  init(device: number): DeviceInfo;
  /** For tests on machines without a GPU: buffers live in host memory and calls stop after validation. */
  initValidationOnly(): void;
  libraries(): LibraryReport;
  memory(): NativeMemoryStats;
  emptyCache(): void;
  configure(allowTf32: boolean): void;
  upload(dtype: number, data: TypedArray): number;
  read(buffer: number, dtype: number, layout: Int32Array): Promise<TypedArray>;
  free(buffer: number): void;
  synchronize(): Promise<void>;
  unary(op: number, dtype: number, x: number, layout: Int32Array): number;
  binary(op: number, dtype: number, a: number, aLayout: Int32Array, b: number, bLayout: Int32Array): number;
  where(dtype: number, condition: number, cLayout: Int32Array, x: number, xLayout: Int32Array, y: number, yLayout: Int32Array): number;
  cast(from: number, to: number, x: number, layout: Int32Array): number;
  copy(dtype: number, x: number, layout: Int32Array): number;
  copyInto(dtype: number, destination: number, dLayout: Int32Array, source: number, sLayout: Int32Array): void;
  /** `value` holds the fill value already converted to the dtype, as its first element. */
  full(dtype: number, count: number, value: TypedArray): number;
  empty(dtype: number, count: number): number;
  iota(dtype: number, shape: Int32Array, axis: number): number;
  reduce(op: number, dtype: number, x: number, layout: Int32Array, axes: Int32Array): number;
  argReduce(op: number, dtype: number, x: number, layout: Int32Array, axis: number): number;
  cumulative(op: number, reverse: boolean, dtype: number, x: number, layout: Int32Array, axis: number): number;
  argsort(descending: boolean, dtype: number, x: number, layout: Int32Array, axis: number): number;
  /** Rank-3 views [batch, m, k] x [batch, k, n]; engine 0 auto, 1 own kernel, 2 cuBLASLt only. */
  matmul(dtype: number, a: number, aLayout: Int32Array, b: number, bLayout: Int32Array, engine: number): number;
  /** matmul + bias[n] added to every row in cuBLASLt's epilogue; null (nothing launched) when cuBLASLt does not take it. */
  matmulBias(
    dtype: number,
    a: number,
    aLayout: Int32Array,
    b: number,
    bLayout: Int32Array,
    bias: number,
    biasLayout: Int32Array,
  ): number | null;
  /** params: [groups, ...strides, ...padLow, ...padHigh, ...lhsDilation, ...rhsDilation]; engine as for matmul (2: cuDNN). */
  conv(dtype: number, x: number, xLayout: Int32Array, w: number, wLayout: Int32Array, params: Int32Array, engine: number): number;
  /**
   * The filter gradient dw [K, C / groups, ...filter] of the forward convolution of x [N, C, ...]
   * whose output gradient is dy [N, K, ...] (both contiguous), through cuDNN; geometry: [groups,
   * ...strides, ...pads (symmetric), ...dilations, ...filter]. Null (nothing launched) when cuDNN
   * does not take it.
   */
  convBackwardFilter(dtype: number, x: number, xLayout: Int32Array, dy: number, dyLayout: Int32Array, geometry: Int32Array): number | null;
  /** The input gradient dx [N, C, ...input] from w [K, C / groups, ...] and dy, as convBackwardFilter; geometry ends with the input's spatial dims. */
  convBackwardData(dtype: number, w: number, wLayout: Int32Array, dy: number, dyLayout: Int32Array, geometry: Int32Array): number | null;
  /** params: [...window, ...strides, ...padLow, ...padHigh, ...dilation]. */
  /** `engine`: 0 auto (cuDNN for max pooling it takes), 1 the own kernel, 2 cuDNN or throw. */
  reduceWindow(op: number, dtype: number, x: number, layout: Int32Array, params: Int32Array, engine: number): number;
  /** Max pooling's backward pass: x's cotangent from the pooled output's (g, contiguous); params as for reduceWindow. */
  windowMaxBackward(dtype: number, x: number, xLayout: Int32Array, g: number, gLayout: Int32Array, params: Int32Array): number;
  // The composite ops' kernels (native/normalization_ops.cc): float32 or float64 operands, all
  // contiguous; an absent weight or bias is null with a null layout; `eps` >= 0. Batch norm's
  // `engine`: 0 auto (cuDNN when present and it takes the configuration), 1 the own kernels, 2 cuDNN or throw.
  softmax(dtype: number, x: number, layout: Int32Array, axis: number, log: boolean): number;
  softmaxBackward(dtype: number, y: number, yLayout: Int32Array, g: number, gLayout: Int32Array, axis: number, log: boolean): number;
  layerNorm(
    dtype: number,
    x: number,
    xLayout: Int32Array,
    weight: number | null,
    wLayout: Int32Array | null,
    bias: number | null,
    bLayout: Int32Array | null,
    normalizedDims: number,
    eps: number,
  ): number;
  /** Returns [dx, dWeight (null without a weight), dBias (null unless withBias)]. */
  layerNormBackward(
    dtype: number,
    x: number,
    xLayout: Int32Array,
    weight: number | null,
    wLayout: Int32Array | null,
    g: number,
    gLayout: Int32Array,
    normalizedDims: number,
    eps: number,
    withBias: boolean,
  ): [number, number | null, number | null];
  /** Returns [output, mean, biased variance]. */
  batchNorm(
    dtype: number,
    x: number,
    xLayout: Int32Array,
    weight: number | null,
    wLayout: Int32Array | null,
    bias: number | null,
    bLayout: Int32Array | null,
    eps: number,
    engine: number,
  ): [number, number, number];
  batchNormInference(
    dtype: number,
    x: number,
    xLayout: Int32Array,
    mean: number,
    mLayout: Int32Array,
    variance: number,
    vLayout: Int32Array,
    weight: number | null,
    wLayout: Int32Array | null,
    bias: number | null,
    bLayout: Int32Array | null,
    eps: number,
    engine: number,
  ): number;
  /** Returns [dx, dWeight (null without a weight), dBias (null unless withBias)]. */
  batchNormBackward(
    dtype: number,
    x: number,
    xLayout: Int32Array,
    mean: number,
    mLayout: Int32Array,
    variance: number,
    vLayout: Int32Array,
    weight: number | null,
    wLayout: Int32Array | null,
    g: number,
    gLayout: Int32Array,
    eps: number,
    withBias: boolean,
    engine: number,
  ): [number, number | null, number | null];
  /** x viewed as [outer, axis, inner], indices as a rank-1 view: returns [outer, indices, inner]. */
  gather(dtype: number, x: number, xLayout: Int32Array, indices: number, iLayout: Int32Array): number;
  scatterAdd(
    dtype: number,
    target: number,
    tLayout: Int32Array,
    indices: number,
    iLayout: Int32Array,
    updates: number,
    uLayout: Int32Array,
  ): number;
  randomBits(key: number, keyLayout: Int32Array, count: number): number;
  randomUniform(dtype: number, key: number, keyLayout: Int32Array, count: number): number;
  /**
   * `reduced`: 0 for an elementwise kernel (an output element per index), else the elements each
   * output folds; `lanes`: the threads each output takes (1, or 32: a warp).
   */
  jitCompile(
    source: string,
    name: string,
    outputDTypes: Int32Array,
    inputDTypes: Int32Array,
    reduced: number,
    lanes: number,
    /** Per output, 1 when it has an element per index of the launch shape (a reduction's prologue value), 0 for one per reduced row. */
    fullOutputs: Int32Array,
    /** The launch shape the source was generated for; every jitLaunch of the kernel must use it. */
    shape: Int32Array,
  ): number;
  /**
   * `into`: per output, a buffer to write it into (a donated input's, read whole at the index it
   * is written, or one the kernel does not read; elementwise kernels only), or 0 for a fresh one.
   * Arguments after it: (handle, layout) per input. Returns one handle per output: `into`'s, or a
   * fresh one.
   */
  jitLaunch(kernel: number, shape: Int32Array, into: number[], ...inputs: (number | Int32Array)[]): number[];
  /** Loads libnccl.so.2 (no GPU needed): where it was found, or why not. */
  ncclLibrary(): LibraryStatus;
  /** The 128-byte ncclUniqueId that rank 0 makes and sends to the others. */
  ncclUniqueId(): Uint8Array;
  /** Joins the communicator (ncclCommInitRank, given up after `timeoutSeconds`). */
  ncclInit(id: Uint8Array, rank: number, worldSize: number, timeoutSeconds: number): void;
  /**
   * One collective on a contiguous view into a fresh buffer; kind 0 allReduce, 1 broadcast,
   * 2 allGather, 3 reduceScatter; op 0 sum, 1 prod, 2 max, 3 min, 4 avg.
   */
  ncclCollective(kind: number, op: number, dtype: number, buffer: number, layout: Int32Array, root: number): number;
  /** ncclGroupStart (true) / ncclGroupEnd (false). */
  ncclGroup(begin: boolean): void;
  ncclStatus(): NcclStatus;
  ncclDestroy(): void;
}
