import {
  type Aval,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type DType,
  FlintError,
  type KernelTable,
  type MemoryInfo,
  PRIMITIVE_COUNT,
  type Primitive,
  primitiveName,
  type Shape,
  sizeOf,
  type TypedArray,
  typedArrayConstructor,
} from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { isContiguous, layoutOf, type MklHandle, wrap } from './handle.js';
import type { AnyKernel } from './kernels/context.js';
import { mklKernels } from './kernels/table.js';
import { MklMemory } from './memory.js';
import type { Addon, NativeInfo } from './native/addon.js';
import { DTYPE_CODES } from './native/codes.js';

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
  readonly capabilities: BackendCapabilities = {
    dtypes: ['float32', 'float64', 'int32', 'uint8', 'bool'],
    syncRead: true,
  };
  readonly kernels: KernelTable<MklHandle>;
  /** oneDNN's version, the CBLAS linked, threads and instruction set. */
  readonly info: NativeInfo;
  private readonly memoryLedger = new MklMemory();
  private readonly nativeRunCounts = new Float64Array(PRIMITIVE_COUNT);

  constructor(private readonly addon: Addon) {
    this.info = addon.info();
    // The portable kernels are borrowed from a private CpuBackend: same handles, no conversion.
    const fallback = new CpuBackend().kernels as unknown as KernelTable<MklHandle>;
    const counts = this.nativeRunCounts;
    const recordNative = (primitive: Primitive) => {
      counts[primitive] = (counts[primitive] ?? 0) + 1;
    };
    const table = mklKernels({ addon, memory: this.memoryLedger, fallback, recordNative });
    const memory = this.memoryLedger;
    const wrapped = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const kernel = table[p as Primitive] as AnyKernel;
      const name = primitiveName(p as Primitive);
      // Storages a kernel creates enter this backend's ledger; views return a counted one. An
      // exception from the addon here means inputs the api validated were refused: a Flint bug,
      // reported as a BackendError naming the primitive.
      wrapped[p] = (inputs, params, out: Aval) => {
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

  /**
   * How many times `primitive` ran in the addon rather than as a portable kernel (for tests and
   * profiling: a native kernel declines dtypes and configurations it does not take).
   */
  nativeRuns(primitive: Primitive): number {
    return this.nativeRunCounts[primitive] ?? 0;
  }

  memory(): MemoryInfo {
    return { buffers: this.memoryLedger.buffers, bytes: this.memoryLedger.bytes };
  }
}
