import {
  type Aval,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type CompiledKernel,
  type DType,
  type KernelProgram,
  type KernelTable,
  type MemoryInfo,
  PRIMITIVE_COUNT,
  type Primitive,
  primitiveName,
  type Shape,
  sizeOf,
  type TypedArray,
} from '@flint/api';
import { disposeHandle, MemoryLedger } from '@flint/api/strided-backend';
import { FusedKernelCache, type FusedKernelStats } from './compile/index.js';
import { WebGpuContext } from './context.js';
import type { AcquiredDevice } from './device.js';
import { isContiguous, type WebGpuHandle } from './handle.js';
import { withFloat16 } from './kernels/half.js';
import { webGpuKernels } from './kernels/table.js';
import { checkStorable, ELEMENT_BYTES, fromWords, isWordDType, toWords, WEBGPU_DTYPES } from './layout.js';
import { GpuRuntime } from './runtime.js';

type AnyKernel = (inputs: readonly WebGpuHandle[], params: unknown, out: Aval) => WebGpuHandle;

/**
 * Flint's WebGPU backend: WGSL kernels recorded into command buffers and submitted in batches.
 * Kernels return handles at once; `read` is the only wait. Create it through the registry
 * (`await initBackend('webgpu')`), which requests the device.
 *
 * @example
 * import '@flint/backend-webgpu';
 * import { initBackend, tensor } from '@flint/api';
 * await initBackend('webgpu');
 * const y = tensor([1, 2, 3], { backend: 'webgpu' }).mul(2);
 * console.log(await y.data()); // Float32Array [2, 4, 6]
 */
export class WebGpuBackend implements Backend<WebGpuHandle> {
  readonly name = 'webgpu';
  readonly capabilities: BackendCapabilities;
  readonly kernels: KernelTable<WebGpuHandle>;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** @internal The device's command stream (batching, pool, error scopes). */
  readonly runtime: GpuRuntime;
  /** @internal What kernels use: allocation, launches, failure tracking. */
  readonly context: WebGpuContext;
  private readonly ledger = new MemoryLedger();
  private readonly fused: FusedKernelCache;
  // Held so that Dawn's instance lives as long as this backend (see device.ts).
  private readonly gpu: GPU;

  /** Whether this device holds float16 (adapters with 'shader-f16'; see docs/backend-webgpu.md). */
  readonly float16: boolean;

  /**
   * `options.float16` overrides whether float16 is offered (tests use it to run the float16 path
   * on adapters without 'shader-f16'; the conversions it uses need no WGSL extension).
   */
  constructor(acquired: AcquiredDevice, options: { readonly float16?: boolean } = {}) {
    this.adapter = acquired.adapter;
    this.device = acquired.device;
    this.gpu = acquired.gpu;
    this.float16 = options.float16 ?? this.device.features.has('shader-f16');
    // A dispatch costs tens of microseconds; recomputing rank-0 arithmetic per element, nothing.
    this.capabilities = { dtypes: this.float16 ? [...WEBGPU_DTYPES, 'float16'] : WEBGPU_DTYPES, syncRead: false, recomputeScalars: true };
    this.runtime = new GpuRuntime(this.device);
    this.context = new WebGpuContext(this.runtime, this.ledger);
    const table = webGpuKernels(this.context);
    const float16 = this.float16;
    // float64, bfloat16 (and float16 without shader-f16) have no WGSL type: refused here, by
    // name, whatever the primitive.
    const checked = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const plain = table[p as Primitive] as AnyKernel;
      const kernel = float16 ? withFloat16(this.context, p as Primitive, plain) : plain;
      const name = primitiveName(p as Primitive);
      checked[p] = (inputs, params, out) => {
        if (!isWordDType(out.dtype)) checkStorable(name, out.dtype, float16);
        return kernel(inputs, params, out);
      };
    }
    this.kernels = checked as unknown as KernelTable<WebGpuHandle>;
    this.fused = new FusedKernelCache(this.context);
  }

  /**
   * jit's lowering hook: a fused group (elementwise chain, producers into a reduction, matmul or
   * conv with its epilogue) as generated WGSL (see src/compile), or null for jit's op-by-op fallback.
   */
  compile(kernel: KernelProgram): CompiledKernel<WebGpuHandle> | null {
    return this.fused.compile(kernel);
  }

  /** How jit's fused kernels were served: generated, found in the cache, or left to the fallback. */
  get fusedKernels(): FusedKernelStats {
    return this.fused.statistics;
  }

  /** GPU dispatches recorded since the backend was created (for tests and profiling). */
  get dispatches(): number {
    return this.runtime.launches;
  }

  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): WebGpuHandle {
    checkStorable('tensor', dtype, this.float16);
    const storage = this.context.allocate(data.length);
    this.runtime.write(storage.buffer, toWords(data, dtype));
    return this.context.handle(storage, [...shape], dtype);
  }

  async read(handle: WebGpuHandle): Promise<TypedArray> {
    const size = sizeOf(handle.shape);
    let storage = handle.storage;
    let offset = handle.offset;
    const temporary = !isContiguous(handle.shape, handle.strides);
    if (temporary && size > 0) {
      storage = this.context.copyContiguous(handle);
      offset = 0;
    }
    const failure = storage.failure;
    const words = this.runtime.readBuffer(storage.buffer, offset * ELEMENT_BYTES, size * ELEMENT_BYTES);
    if (temporary && size > 0) this.context.release(storage);
    const message = failure === null ? null : await failure;
    if (message !== null) {
      await words.catch(() => undefined);
      throw new BackendError(`webgpu: ${message}`);
    }
    const bytes = await words;
    if (this.runtime.deviceFailure !== null) throw new BackendError(`webgpu: ${this.runtime.deviceFailure}`);
    return fromWords(bytes, handle.dtype);
  }

  dispose(handle: WebGpuHandle): void {
    disposeHandle(handle, (storage) => this.context.release(storage));
  }

  memory(): MemoryInfo {
    return { buffers: this.ledger.buffers, bytes: this.ledger.bytes };
  }

  /** Submits the recorded kernels now instead of at the next read or full batch. */
  flush(): void {
    this.runtime.flush();
  }

  /** Submits the recorded kernels and resolves when the GPU has finished them (for timing). */
  synchronize(): Promise<void> {
    return this.runtime.synchronize();
  }

  /** Bytes of released GPU buffers kept for reuse. */
  get pooledBytes(): number {
    return this.runtime.pool.pooledBytes;
  }

  /** Destroys the buffers kept for reuse, handing their memory back to the driver. */
  emptyPool(): void {
    this.runtime.flush();
    this.runtime.pool.empty();
  }

  /** A short description of the adapter, for logs: vendor, architecture, device. */
  describe(): string {
    const info = this.adapter.info;
    const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((p) => p !== undefined && p !== '');
    return parts.length > 0 ? parts.join(' ') : 'unknown adapter';
  }

  /** The Dawn or browser GPU object this backend's adapter came from. */
  get gpuObject(): GPU {
    return this.gpu;
  }
}
