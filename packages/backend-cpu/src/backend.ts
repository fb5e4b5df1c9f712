import {
  type Backend,
  type BackendCapabilities,
  type CompositeKernels,
  type DType,
  isHalf,
  type KernelTable,
  type MemoryInfo,
  PRIMITIVE_COUNT,
  type Primitive,
  type Shape,
  type TypedArray,
} from '@flint/api';
import { compileKernel } from './compile/index.js';
import { withHalfDTypes } from './kernels/half.js';
import { cpuLinalgKernels } from './kernels/linalg/index.js';
import { CPU_KERNELS } from './kernels/table.js';
import { windowMaxBackwardKernel } from './kernels/window-backward.js';
import { allocateUninitialized, emptyPool, MemoryLedger, type StorageLife } from './storage.js';
import { environmentVariable } from './threads/environment.js';
import { type CpuHandle, copyData, wrap } from './view.js';

type AnyKernel = (inputs: readonly CpuHandle[], params: unknown, out: { shape: Shape; dtype: DType }) => CpuHandle;

/** How a CpuBackend is built. */
export interface CpuBackendOptions {
  /** The name it is registered under (default 'cpu'): jit caches its programs per backend name. */
  readonly name?: string;
  /**
   * Whether the backend's fused composite kernels run (max pooling's backward pass, the
   * decompositions); false leaves them to the api's composites: a diagnostic, and how the tests
   * and `bench/` compare the two. Default: true, unless the environment has FLINT_CPU_COMPOSITES=off.
   */
  readonly composites?: boolean;
}

/**
 * Flint's portable CPU backend: TypeScript kernels over typed arrays, running in Node and in
 * browsers. Handles are strided views of refcounted storages, so movement primitives never copy.
 *
 * @example
 * import { registerBackend } from '@flint/api';
 * import { CpuBackend } from '@flint/backend-cpu';
 * registerBackend({ name: 'cpu2', priority: 0, create: () => new CpuBackend({ name: 'cpu2' }) });
 */
export class CpuBackend implements Backend<CpuHandle> {
  readonly name: string;
  readonly capabilities: BackendCapabilities = {
    dtypes: ['float32', 'float64', 'float16', 'bfloat16', 'int32', 'uint8', 'bool'],
    syncRead: true,
  };
  readonly kernels: KernelTable<CpuHandle>;
  /**
   * Fused kernels for composites (see CompositeKernels): max pooling's backward pass, which as
   * ops is an argmax, index arithmetic, a scatter-add and a slice; and the decompositions (eigh,
   * svd, qr, cholesky, luFactor; kernels/linalg/), which the linear-algebra ops use for concrete
   * inputs instead of hundreds of dispatched ops. Softmax and the normalizations have none here
   * yet: they run as their composites' ops.
   */
  readonly composites: CompositeKernels<CpuHandle>;
  private readonly ledger = new MemoryLedger();

  constructor(options: CpuBackendOptions = {}) {
    this.name = options.name ?? 'cpu';
    // Each kernel is wrapped once so that the storages it creates enter this backend's ledger;
    // views return an already-counted storage and are not counted again.
    const ledger = this.ledger;
    const table = withHalfDTypes(CPU_KERNELS);
    const wrapped = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const kernel = table[p as Primitive] as AnyKernel;
      wrapped[p] = (inputs, params, out) => {
        const handle = kernel(inputs, params, out);
        ledger.track(handle.storage);
        return handle;
      };
    }
    this.kernels = wrapped as unknown as KernelTable<CpuHandle>;
    const enabled = options.composites ?? environmentVariable('FLINT_CPU_COMPOSITES') !== 'off';
    const tracked = <R>(result: R): R => {
      if (result !== null)
        for (const handle of Object.values(result as object) as (CpuHandle | null)[]) if (handle !== null) ledger.track(handle.storage);
      return result;
    };
    const trackedHandle = (handle: CpuHandle | null): CpuHandle | null => {
      if (handle !== null) ledger.track(handle.storage);
      return handle;
    };
    const { eigh, svd, qr, cholesky, luFactor, triangularSolve } = cpuLinalgKernels;
    this.composites = enabled
      ? {
          windowMaxBackward: (x, g, geometry, out) => trackedHandle(windowMaxBackwardKernel(x, g, geometry, out)),
          eigh: (a) => tracked(eigh(a)),
          svd: (a, vectors, complete) => tracked(svd(a, vectors, complete)),
          qr: (a, complete) => tracked(qr(a, complete)),
          cholesky: (a) => trackedHandle(cholesky(a)),
          luFactor: (a) => tracked(luFactor(a)),
          triangularSolve: (t, r, upper, unit, out) => trackedHandle(triangularSolve(t, r, upper, unit, out)),
        }
      : {};
  }

  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): CpuHandle {
    const copy = allocateUninitialized(dtype, data.length);
    copy.set(data as never);
    const handle = wrap(copy, [...shape], dtype);
    this.ledger.track(handle.storage);
    return handle;
  }

  read(handle: CpuHandle): Promise<TypedArray> {
    return Promise.resolve(copyData(handle));
  }

  readSync(handle: CpuHandle): TypedArray {
    return copyData(handle);
  }

  dispose(handle: CpuHandle): void {
    if (handle.released) return;
    handle.released = true;
    this.ledger.release(handle.storage);
  }

  /** What the api's finalizer holds for an undisposed tensor: its storage's accounts, not its array. */
  finalizerToken(handle: CpuHandle): object {
    return handle.storage.life;
  }

  releaseFinalized(token: object): void {
    this.ledger.dropReference(token as StorageLife);
  }

  /**
   * Drops the arrays kept for reuse. Freed buffers are pooled (up to 256 MiB, arrays of 16 KiB and
   * more) so that repeated shapes skip allocation; call this to hand that memory back.
   */
  emptyPool(): void {
    emptyPool();
  }

  memory(): MemoryInfo {
    return { buffers: this.ledger.buffers, bytes: this.ledger.bytes };
  }

  /**
   * jit's lowering hook: a fused kernel becomes generated code (see compile/). Kernels touching
   * float16 or bfloat16 are left to the op-by-op kernels (null), which widen and round them.
   */
  compile(kernel: Parameters<typeof compileKernel>[0]): ReturnType<typeof compileKernel> {
    if (kernel.inputs.some((a) => isHalf(a.dtype)) || kernel.ops.some((op) => isHalf(op.aval.dtype))) return null;
    return compileKernel(kernel, this.ledger);
  }
}
