import {
  type Aval,
  type Backend,
  type BackendCapabilities,
  BackendError,
  type DType,
  type KernelTable,
  type MemoryInfo,
  PRIMITIVE_COUNT,
  type Primitive,
  primitiveName,
  type Shape,
  sizeOf,
  type TypedArray,
} from '@flint/api';
import { MemoryLedger, WebGpuContext } from './context.js';
import type { AcquiredDevice } from './device.js';
import { isContiguous, type WebGpuHandle } from './handle.js';
import { webGpuKernels } from './kernels/table.js';
import { checkStorable, ELEMENT_BYTES, fromWords, toWords, WEBGPU_DTYPES } from './layout.js';
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
  readonly capabilities: BackendCapabilities = { dtypes: WEBGPU_DTYPES, syncRead: false };
  readonly kernels: KernelTable<WebGpuHandle>;
  readonly adapter: GPUAdapter;
  readonly device: GPUDevice;
  /** @internal The device's command stream (batching, pool, error scopes). */
  readonly runtime: GpuRuntime;
  /** @internal What kernels use: allocation, launches, failure tracking. */
  readonly context: WebGpuContext;
  private readonly ledger = new MemoryLedger();
  // Held so that Dawn's instance lives as long as this backend (see device.ts).
  private readonly gpu: GPU;

  constructor(acquired: AcquiredDevice) {
    this.adapter = acquired.adapter;
    this.device = acquired.device;
    this.gpu = acquired.gpu;
    this.runtime = new GpuRuntime(this.device);
    this.context = new WebGpuContext(this.runtime, this.ledger);
    const table = webGpuKernels(this.context);
    // float64 has no WGSL type: refused here, by name, whatever the primitive.
    const checked = new Array<AnyKernel>(PRIMITIVE_COUNT);
    for (let p = 0; p < PRIMITIVE_COUNT; p++) {
      const kernel = table[p as Primitive] as AnyKernel;
      const name = primitiveName(p as Primitive);
      checked[p] = (inputs, params, out) => {
        if (out.dtype === 'float64') checkStorable(name, out.dtype);
        return kernel(inputs, params, out);
      };
    }
    this.kernels = checked as unknown as KernelTable<WebGpuHandle>;
  }

  fromTypedArray(data: TypedArray, shape: Shape, dtype: DType): WebGpuHandle {
    checkStorable('tensor', dtype);
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
    if (handle.released) return;
    handle.released = true;
    this.context.release(handle.storage);
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
