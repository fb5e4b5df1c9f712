import {
  type Aval,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type CompiledKernel,
  type CompositeKernels,
  type DType,
  FlintError,
  type KernelProgram,
  type KernelTable,
  type MemoryInfo,
  PRIMITIVE_COUNT,
  type Primitive,
  primitiveName,
  type Shape,
  type TypedArray,
  typedArrayConstructor,
} from '@flint/api';
import { argumentData, disposeHandle, MemoryLedger } from '@flint/api/strided-backend';
import { CudaContext } from './context.js';
import { type CudaHandle, layoutOf } from './handle.js';
import { compileColumnReduction } from './jit/columns.js';
import { compileFused } from './jit/compile.js';
import { compileContraction } from './jit/contraction.js';
import { cudaComposites } from './kernels/composites.js';
import { cudaKernels } from './kernels/table.js';
import type { Addon, DeviceInfo, LibraryReport, NativeMemoryStats } from './native/addon.js';
import { DTYPE_CODES, Engine } from './native/codes.js';

type AnyKernel = (inputs: readonly CudaHandle[], params: unknown, out: Aval) => CudaHandle;

/** Options of the CUDA backend (see `CudaBackend.configure`). */
export interface CudaOptions {
  /**
   * Lets float32 matmuls and convolutions use TF32 tensor cores (10-bit mantissas): faster, less
   * exact. Off by default, as in PyTorch since 1.12.
   */
  readonly allowTf32?: boolean;
  /** 'auto' (cuBLASLt when present, else the own kernel), 'kernel' or 'cublasLt' (throws when missing). */
  readonly matmulEngine?: 'auto' | 'kernel' | 'cublasLt';
  /** 'auto' (cuDNN when present and it takes the configuration), 'kernel' or 'cudnn'. */
  readonly convEngine?: 'auto' | 'kernel' | 'cudnn';
  /**
   * Max pooling (reduceWindow 'max'): 'auto' (cuDNN when present and it takes the configuration),
   * 'kernel' or 'cudnn' (throws when cuDNN is missing or declines). Window sums always run the own kernel.
   */
  readonly poolEngine?: 'auto' | 'kernel' | 'cudnn';
  /**
   * Batch norm's fused kernels (forward, inference, backward): 'auto' (cuDNN when present and it
   * takes the configuration: float32/float64, eps of at least 1e-5), 'kernel' or 'cudnn' (throws
   * when cuDNN is missing or declines). Softmax and layer norm always run the own kernels.
   */
  readonly normEngine?: 'auto' | 'kernel' | 'cudnn';
  /** Whether jit's fused kernels are compiled with NVRTC (when present). Default true. */
  readonly fusion?: boolean;
  /**
   * Whether softmax, layer norm, batch norm and max pooling's backward pass run the addon's fused
   * kernels (`composites`). Default true; false runs the api's composites of primitives (for
   * comparisons and diagnosis).
   */
  readonly composites?: boolean;
}

const ENGINES = { auto: Engine.auto, kernel: Engine.kernel, cublasLt: Engine.vendor, cudnn: Engine.vendor } as const;

function wrapError(call: string, error: unknown): FlintError {
  if (error instanceof FlintError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new BackendError(`cuda ${call}: ${message}`);
}

/**
 * Flint's CUDA backend: a Node-API addon over the CUDA runtime. Kernels are queued on one stream
 * and return handles at once; `read` is the only wait (it copies into pinned memory and resolves
 * when the copy lands). Buffers come from a caching allocator (size classes, stream-ordered
 * reuse): `deviceMemory()` reports it and `emptyCache()` hands cached blocks back to the driver.
 * Matmuls use cuBLASLt and convolutions cuDNN when those libraries are installed, else the
 * addon's own kernels; jit's fused kernels are compiled to CUDA C by NVRTC when present.
 *
 * @example
 * import '@flint/backend-cuda';
 * import { initBackend, tensor } from '@flint/api';
 * await initBackend('cuda'); // a BackendError naming what is missing where there is no GPU
 * const y = tensor([1, 2, 3], { backend: 'cuda' }).mul(2);
 * console.log(await y.data()); // Float32Array [2, 4, 6]
 */
export class CudaBackend implements Backend<CudaHandle> {
  readonly name = 'cuda';
  readonly capabilities: BackendCapabilities = {
    dtypes: ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'uint8', 'bool'],
    syncRead: false,
    // A launch costs microseconds; recomputing an optimizer's bias corrections per element, nothing.
    recomputeScalars: true,
  };
  readonly kernels: KernelTable<CudaHandle>;
  /** The composite ops' fused kernels (see CudaOptions.composites). */
  readonly composites: CompositeKernels<CudaHandle>;
  /** The device the backend runs on. */
  readonly info: DeviceInfo;
  /** @internal */
  readonly context: CudaContext;
  private readonly ledger = new MemoryLedger();
  private matmulEngine: Engine = Engine.auto;
  private convEngine: Engine = Engine.auto;
  private poolEngine: Engine = Engine.auto;
  private normEngine: Engine = Engine.auto;
  private fusion = true;
  private compositesOn = true;
  private readonly compiled = new Map<string, CompiledKernel<CudaHandle> | null>();
  private libraryReport: LibraryReport | null = null;

  constructor(
    private readonly addon: Addon,
    info: DeviceInfo,
  ) {
    this.info = info;
    this.context = new CudaContext(addon, this.ledger);
    const table = cudaKernels(this.context, {
      matmulEngine: () => this.matmulEngine,
      convEngine: () => this.convEngine,
      poolEngine: () => this.poolEngine,
      cudnnPresent: () => this.libraries().cudnn.found,
    });
    const wrapped = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const kernel = table[p as Primitive] as AnyKernel;
      const name = primitiveName(p as Primitive);
      // The api validated the inputs, so an exception here is a refused launch or a CUDA error:
      // reported as a BackendError naming the primitive (and the CUDA error, when there is one).
      wrapped[p] = (inputs, params, out) => {
        try {
          return kernel(inputs, params, out);
        } catch (error) {
          throw wrapError(name, error);
        }
      };
    }
    this.kernels = wrapped as unknown as KernelTable<CudaHandle>;
    this.composites = this.wrapComposites(cudaComposites(this.context, () => this.normEngine));
  }

  /** The composite kernels, declining while they are switched off and reporting failures as BackendErrors naming the op. */
  private wrapComposites(kernels: CompositeKernels<CudaHandle>): CompositeKernels<CudaHandle> {
    const wrapped: Record<string, unknown> = {};
    for (const [name, kernel] of Object.entries(kernels) as [string, (...args: unknown[]) => unknown][]) {
      wrapped[name] = (...args: unknown[]) => {
        if (!this.compositesOn) return null;
        try {
          return kernel(...args);
        } catch (error) {
          throw wrapError(name, error);
        }
      };
    }
    return wrapped as CompositeKernels<CudaHandle>;
  }

  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): CudaHandle {
    const Constructor = typedArrayConstructor(dtype);
    const typed = data instanceof Constructor ? data : (Constructor.from(data as ArrayLike<number>) as TypedArray);
    try {
      // A scalar or short row is copied out of V8's heap first, which is cheaper than Node-API moving it.
      return this.context.adopt(this.addon.upload(DTYPE_CODES[dtype], argumentData(typed)), [...shape], dtype);
    } catch (error) {
      throw wrapError('upload', error);
    }
  }

  async read(handle: CudaHandle): Promise<TypedArray> {
    try {
      return await this.addon.read(handle.storage.id, DTYPE_CODES[handle.dtype], layoutOf(handle));
    } catch (error) {
      throw wrapError('read', error);
    }
  }

  dispose(handle: CudaHandle): void {
    disposeHandle(handle, (storage) => this.context.release(storage));
  }

  memory(): MemoryInfo {
    return { buffers: this.ledger.buffers, bytes: this.ledger.bytes };
  }

  /** The caching allocator's statistics (allocated, cached, peak, cudaMalloc calls) and engine counters. */
  deviceMemory(): NativeMemoryStats {
    return this.addon.memory();
  }

  /** Frees the allocator's cached blocks (after the stream drains), as torch.cuda.empty_cache(). */
  emptyCache(): void {
    this.addon.emptyCache();
  }

  /** Resolves when every kernel queued so far has finished (for timing). */
  async synchronize(): Promise<void> {
    try {
      await this.addon.synchronize();
    } catch (error) {
      throw wrapError('synchronize', error);
    }
  }

  /** Which of cuBLASLt, cuBLAS, cuDNN and NVRTC were found, where, or why not. */
  libraries(): LibraryReport {
    this.libraryReport ??= this.addon.libraries();
    return this.libraryReport;
  }

  configure(options: CudaOptions): void {
    if (options.allowTf32 !== undefined) this.addon.configure(options.allowTf32);
    if (options.matmulEngine !== undefined) this.matmulEngine = ENGINES[options.matmulEngine];
    if (options.convEngine !== undefined) this.convEngine = ENGINES[options.convEngine];
    if (options.poolEngine !== undefined) this.poolEngine = ENGINES[options.poolEngine];
    if (options.normEngine !== undefined) this.normEngine = ENGINES[options.normEngine];
    if (options.fusion !== undefined) this.fusion = options.fusion;
    if (options.composites !== undefined) this.compositesOn = options.composites;
  }

  compile(kernel: KernelProgram): CompiledKernel<CudaHandle> | null {
    if (!this.fusion || !this.libraries().nvrtc.found) return null;
    const elementwise = (program: KernelProgram) => compileFused(this.context, program, this.compiled);
    if (kernel.kind === 'contraction') {
      const ltEpilogue = () => this.matmulEngine !== Engine.kernel && this.libraries().cublasLt.found;
      return compileContraction(this.context, this.kernels, kernel, elementwise, ltEpilogue);
    }
    return compileColumnReduction(this.context, this.kernels, kernel, elementwise) ?? elementwise(kernel);
  }
}
