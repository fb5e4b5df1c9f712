import {
  type Aval,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type BatchNormResults,
  type CompiledKernel,
  type CompositeKernels,
  type DType,
  FlintError,
  type KernelProgram,
  type KernelTable,
  type MemoryInfo,
  type NormalizationCotangents,
  PRIMITIVE_COUNT,
  type Primitive,
  primitiveName,
  type Shape,
  sizeOf,
  type TypedArray,
  typedArrayConstructor,
} from '@flint/api';
import { CpuBackend, type StorageLife } from '@flint/backend-cpu';
import { type CompileContext, compileMklKernel } from './compile/index.js';
import { KernelCache } from './compile/kernel-cache.js';
import { isContiguous, layoutOf, type MklHandle, wrap } from './handle.js';
import { type CompositeName, mklComposites } from './kernels/composites.js';
import type { AnyKernel } from './kernels/context.js';
import { type LinalgKernelName, mklLinalgKernels } from './kernels/linalg.js';
import { mklKernels } from './kernels/table.js';
import { MklMemory } from './memory.js';
import type { Addon, NativeInfo } from './native/addon.js';
import { DTYPE_CODES } from './native/codes.js';
import { TeamSizer } from './native/team.js';

/**
 * Flint's native CPU backend: oneDNN and CBLAS (Intel MKL or OpenBLAS) through a Node-API addon,
 * with vectorized multithreaded C++ loops for elementwise ops and reductions. Tensors live in
 * typed arrays owned by JavaScript, viewed with strides as in the portable CPU backend, so
 * movement primitives never copy and every primitive the addon lacks runs the portable kernel.
 *
 * @example
 * import '@flint/backend-mkl';
 * import { setBackend, tensor } from '@flint/api';
 * setBackend('mkl'); // throws a BackendError naming the packages to install when unavailable
 * tensor([[1, 2], [3, 4]]).matmul(tensor([[1], [1]])).dataSync(); // Float32Array [3, 7]
 */
export class MklBackend implements Backend<MklHandle> {
  readonly name = 'mkl';
  readonly capabilities: BackendCapabilities;
  readonly kernels: KernelTable<MklHandle>;
  /**
   * oneDNN's softmax, log-softmax (and their backward passes) and layer normalization, and the
   * addon's batch normalization loops (training, inference, backward), which eager dispatch and
   * jit use for those composites; and LAPACK's decompositions (eigh, svd, qr, cholesky, luFactor),
   * which the linear-algebra ops use eagerly, under jit and under vmap.
   */
  readonly composites: CompositeKernels<MklHandle>;
  /** oneDNN's version, the CBLAS linked, threads and instruction set. */
  readonly info: NativeInfo;
  private readonly memoryLedger = new MklMemory();
  private readonly nativeRunCounts = new Float64Array(PRIMITIVE_COUNT);
  private readonly compileContext: CompileContext;
  private fusedRunCount = 0;
  /** Resizes the kernels' OpenMP team to the cores other processes leave free; absent when off. */
  private readonly teamSizer: TeamSizer | undefined;
  private readonly compositeRunCounts: Record<CompositeName | LinalgKernelName, number> = {
    softmax: 0,
    logSoftmax: 0,
    softmaxBackward: 0,
    logSoftmaxBackward: 0,
    layerNorm: 0,
    layerNormBackward: 0,
    batchNorm: 0,
    batchNormInference: 0,
    batchNormBackward: 0,
    windowMaxBackward: 0,
    eigh: 0,
    svd: 0,
    qr: 0,
    cholesky: 0,
    luFactor: 0,
    triangularSolve: 0,
  };

  constructor(private readonly addon: Addon) {
    this.info = addon.info();
    // float16 (and bfloat16 on CPUs without it) widen to float32 in the portable kernels, as
    // PyTorch's CPU backend computes them; bfloat16 is listed only where oneDNN computes it
    // natively, so that choosing it on this backend is a speed decision that pays.
    this.capabilities = {
      dtypes: ['float32', 'float64', 'float16', ...(this.info.bfloat16 ? (['bfloat16'] as const) : []), 'int32', 'uint8', 'bool'],
      syncRead: true,
    };
    // The portable kernels are borrowed from a private CpuBackend: same handles, no conversion.
    const portable = new CpuBackend();
    const fallback = portable.kernels as unknown as KernelTable<MklHandle>;
    const counts = this.nativeRunCounts;
    const team = adaptiveTeam(addon, this.info);
    this.teamSizer = team;
    const recordNative = (primitive: Primitive) => {
      counts[primitive] = (counts[primitive] ?? 0) + 1;
    };
    const table = mklKernels({ addon, memory: this.memoryLedger, fallback, recordNative, bfloat16: this.info.bfloat16 });
    const memory = this.memoryLedger;
    const wrapped = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const kernel = table[p as Primitive] as AnyKernel;
      const name = primitiveName(p as Primitive);
      // Storages a kernel creates enter this backend's ledger; views return a counted one. An
      // exception from the addon here means inputs the api validated were refused: a Flint bug,
      // reported as a BackendError naming the primitive.
      wrapped[p] = (inputs, params, out: Aval) => {
        team?.tick();
        let handle: MklHandle;
        try {
          handle = kernel(inputs, params, out);
        } catch (error) {
          if (error instanceof FlintError) throw error;
          throw new BackendError(`mkl ${name}: the native kernel failed: ${(error as Error).message}`);
        }
        memory.track(handle.storage);
        return handle;
      };
    }
    this.kernels = wrapped as unknown as KernelTable<MklHandle>;
    // FLINT_MKL_COMPOSITES=off leaves softmax, layer norm, batch norm and the decompositions to
    // their composites (a diagnostic, and how bench/composites.ts measures what the fused kernels save).
    const recordComposite = (name: CompositeName | LinalgKernelName) => {
      team?.tick();
      this.compositeRunCounts[name]++;
    };
    this.composites =
      process.env.FLINT_MKL_COMPOSITES === 'off'
        ? {}
        : trackedComposites(
            { ...mklComposites({ addon, memory, recordComposite }), ...mklLinalgKernels({ addon, memory, recordComposite }) },
            memory,
          );
    this.compileContext = {
      addon,
      memory,
      kernels: this.kernels,
      generated: new KernelCache(addon),
      vectorMath: this.info.vectorMath,
      // The handles are the portable backend's, so its generated code runs on them as they are.
      portable: (kernel) => portable.compile(kernel) as CompiledKernel<MklHandle> | null,
      recordFused: () => {
        team?.tick();
        this.fusedRunCount++;
      },
    };
  }

  /**
   * jit's lowering hook: contractions with their epilogues as oneDNN post-ops (or the addon's
   * matmul/conv followed by generated code), elementwise chains and reductions as the portable
   * backend's generated code (see compile/).
   */
  compile(kernel: KernelProgram): CompiledKernel<MklHandle> | null {
    return compileMklKernel(kernel, this.compileContext);
  }

  /** How many compiled contractions ran with their epilogue as oneDNN post-ops (for tests and profiling). */
  get fusedRuns(): number {
    return this.fusedRunCount;
  }

  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): MklHandle {
    const Constructor = typedArrayConstructor(dtype);
    const copy = new Constructor(data.length);
    copy.set(data as never);
    const handle = wrap(copy, [...shape], dtype);
    this.memoryLedger.track(handle.storage);
    return handle;
  }

  read(handle: MklHandle): Promise<TypedArray> {
    return Promise.resolve(this.readSync(handle));
  }

  readSync(handle: MklHandle): TypedArray {
    const size = sizeOf(handle.shape);
    if (isContiguous(handle)) return handle.storage.data.slice(handle.offset, handle.offset + size);
    const Constructor = typedArrayConstructor(handle.dtype);
    const out = new Constructor(size);
    this.addon.copy(DTYPE_CODES[handle.dtype], handle.storage.data, layoutOf(handle), out);
    return out;
  }

  dispose(handle: MklHandle): void {
    if (handle.released) return;
    handle.released = true;
    this.memoryLedger.release(handle.storage);
  }

  /** What the api's finalizer holds for an undisposed tensor: its storage's accounts, not its array. */
  finalizerToken(handle: MklHandle): object {
    return handle.storage.life;
  }

  releaseFinalized(token: object): void {
    this.memoryLedger.dropReference(token as StorageLife);
  }

  /** How many OpenMP threads the kernels use now: all of `info.maxThreads` unless other processes keep cores busy. */
  get teamSize(): number {
    return this.teamSizer?.size ?? this.info.maxThreads;
  }

  /**
   * How many times `primitive` ran in the addon rather than as a portable kernel (for tests and
   * profiling: a native kernel declines dtypes and configurations it does not take).
   */
  nativeRuns(primitive: Primitive): number {
    return this.nativeRunCounts[primitive] ?? 0;
  }

  /** How many times a composite ran as one fused kernel (oneDNN's, the addon's, LAPACK's; for tests and profiling). */
  compositeRuns(name: CompositeName | LinalgKernelName): number {
    return this.compositeRunCounts[name];
  }

  memory(): MemoryInfo {
    return { buffers: this.memoryLedger.buffers, bytes: this.memoryLedger.bytes };
  }
}

/**
 * The composite kernels with their results entered in the backend's ledger, and the addon's
 * exceptions (arguments the api validated, refused: a Flint bug) reported as BackendErrors, as
 * the primitives' kernels are.
 */
function trackedComposites(kernels: CompositeKernels<MklHandle>, memory: MklMemory): CompositeKernels<MklHandle> {
  const tracked = <A extends unknown[], R>(
    name: string,
    kernel: (...args: A) => R,
    handles: (result: R) => readonly (MklHandle | null)[],
  ) => {
    return (...args: A): R => {
      let result: R;
      try {
        result = kernel(...args);
      } catch (error) {
        if (error instanceof FlintError) throw error;
        throw new BackendError(`mkl ${name}: the native kernel failed: ${(error as Error).message}`);
      }
      for (const handle of handles(result)) if (handle !== null) memory.track(handle.storage);
      return result;
    };
  };
  const single = (handle: MklHandle | null) => [handle];
  const cotangents = (result: NormalizationCotangents<MklHandle> | null) =>
    result === null ? [] : [result.input, result.weight, result.bias];
  const statistics = (result: BatchNormResults<MklHandle> | null) => (result === null ? [] : [result.output, result.mean, result.variance]);
  const { softmax, softmaxBackward, layerNorm, layerNormBackward, batchNorm, batchNormInference, batchNormBackward, windowMaxBackward } =
    kernels;
  const { eigh, svd, qr, cholesky, luFactor, triangularSolve } = kernels;
  const handlesOf = (result: object | null): (MklHandle | null)[] =>
    result === null ? [] : (Object.values(result) as (MklHandle | null)[]);
  return {
    ...(eigh === undefined ? {} : { eigh: tracked('eigh', eigh.bind(kernels), handlesOf) }),
    ...(svd === undefined ? {} : { svd: tracked('svd', svd.bind(kernels), handlesOf) }),
    ...(qr === undefined ? {} : { qr: tracked('qr', qr.bind(kernels), handlesOf) }),
    ...(cholesky === undefined ? {} : { cholesky: tracked('cholesky', cholesky.bind(kernels), single) }),
    ...(luFactor === undefined ? {} : { luFactor: tracked('luFactor', luFactor.bind(kernels), handlesOf) }),
    ...(triangularSolve === undefined ? {} : { triangularSolve: tracked('triangularSolve', triangularSolve.bind(kernels), single) }),
    ...(softmax === undefined ? {} : { softmax: tracked('softmax', softmax.bind(kernels), single) }),
    ...(softmaxBackward === undefined ? {} : { softmaxBackward: tracked('softmaxBackward', softmaxBackward.bind(kernels), single) }),
    ...(layerNorm === undefined ? {} : { layerNorm: tracked('layerNorm', layerNorm.bind(kernels), single) }),
    ...(layerNormBackward === undefined
      ? {}
      : { layerNormBackward: tracked('layerNormBackward', layerNormBackward.bind(kernels), cotangents) }),
    ...(batchNorm === undefined ? {} : { batchNorm: tracked('batchNorm', batchNorm.bind(kernels), statistics) }),
    ...(batchNormInference === undefined
      ? {}
      : { batchNormInference: tracked('batchNormInference', batchNormInference.bind(kernels), single) }),
    ...(batchNormBackward === undefined
      ? {}
      : { batchNormBackward: tracked('batchNormBackward', batchNormBackward.bind(kernels), cotangents) }),
    ...(windowMaxBackward === undefined
      ? {}
      : { windowMaxBackward: tracked('windowMaxBackward', windowMaxBackward.bind(kernels), single) }),
  };
}

/**
 * The sizer of the kernels' OpenMP team (native/team.ts), unless there is one thread to size or
 * FLINT_MKL_ADAPTIVE_THREADS=0 keeps the team whole (for measurements that compare thread counts).
 */
function adaptiveTeam(addon: Addon, info: NativeInfo): TeamSizer | undefined {
  if (process.env.FLINT_MKL_ADAPTIVE_THREADS === '0' || info.maxThreads <= 1) return undefined;
  return new TeamSizer(addon, info.maxThreads);
}
