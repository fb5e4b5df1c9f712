import { contiguousStrides, type DType, sizeOf } from '@flint/api';
import type { MemoryLedger } from '@flint/api/strided-backend';
import { isContiguous, type Storage, type WebGpuHandle, wrapStorage } from './handle.js';
import { copyStridedKernel } from './kernels/copy.js';
import { ELEMENT_BYTES } from './layout.js';
import { firstFailure, type GpuRuntime } from './runtime.js';

/** A launch as kernels describe it: the runtime's Launch with storages instead of raw buffers. */
export interface KernelLaunch {
  readonly name: string;
  readonly key: string;
  readonly source: () => string;
  readonly params: readonly number[];
  readonly workgroups: readonly [number, number, number];
}

/**
 * What kernels use of the backend: allocation into the pool and the memory ledger, launching with
 * failure tracking, and contiguous copies of views for kernels that want packed operands.
 */
export class WebGpuContext {
  constructor(
    readonly runtime: GpuRuntime,
    readonly ledger: MemoryLedger,
  ) {}

  /** A new storage of `elements` 4-byte elements (contents unspecified). */
  allocate(elements: number): Storage {
    const byteLength = Math.max(1, elements) * ELEMENT_BYTES;
    const buffer = this.runtime.pool.acquire(byteLength);
    this.ledger.buffers++;
    this.ledger.bytes += buffer.size;
    return { buffer, byteLength, refs: 1, failure: null };
  }

  /** Drops one reference; at zero the buffer returns to the pool. */
  release(storage: Storage): void {
    storage.refs--;
    if (storage.refs !== 0) return;
    this.ledger.buffers--;
    this.ledger.bytes -= storage.buffer.size;
    this.runtime.pool.release(storage.buffer, this.runtime.hasPending);
  }

  /** Records `launch` writing `output` from `inputs`; the output inherits their failures. */
  launch(launch: KernelLaunch, output: Storage, inputs: readonly Storage[]): void {
    let own: Promise<string | null>;
    try {
      own = this.runtime.run({ ...launch, output: output.buffer, inputs: inputs.map((s) => s.buffer) });
    } catch (error) {
      // The kernel throws instead of returning its output, so nobody else will release it.
      this.release(output);
      throw error;
    }
    // An output written by several launches (Concat's pieces) keeps the failures of all of them.
    const inherited = [output, ...inputs].map((s) => s.failure).filter((f): f is Promise<string | null> => f !== null);
    output.failure = inherited.length === 0 ? own : firstFailure([...inherited, own]);
  }

  /**
   * Records a fused launch writing several `outputs` (the first at binding 1, the others after the
   * inputs); every output inherits the inputs' failures and the launch's own. `fresh` are the
   * outputs allocated for this launch (released if it cannot be recorded).
   */
  launchMany(launch: KernelLaunch, outputs: readonly Storage[], inputs: readonly Storage[], fresh: readonly Storage[] = outputs): void {
    const [first, ...rest] = outputs as [Storage, ...Storage[]];
    let own: Promise<string | null>;
    try {
      own = this.runtime.run({
        ...launch,
        output: first.buffer,
        inputs: inputs.map((s) => s.buffer),
        extraOutputs: rest.map((s) => s.buffer),
      });
    } catch (error) {
      // Outputs written into inputs belong to the caller, so only `fresh` ones are released.
      for (const output of fresh) this.release(output);
      throw error;
    }
    // An output written into an input's buffer keeps that buffer's earlier failure as well.
    const inherited = [...outputs, ...inputs].map((s) => s.failure).filter((f): f is Promise<string | null> => f !== null);
    const failure = inherited.length === 0 ? own : firstFailure([...inherited, own]);
    for (const output of outputs) output.failure = failure;
  }

  /** A fresh contiguous storage holding the view's elements in row-major order. */
  copyContiguous(handle: WebGpuHandle): Storage {
    const size = sizeOf(handle.shape);
    const output = this.allocate(size);
    if (size > 0) copyStridedKernel(this, handle, output, 0, contiguousStrides(handle.shape));
    return output;
  }

  /**
   * The view's elements as a contiguous run: its own storage when already contiguous, else a
   * copy. `temporary` says the caller must `release` the storage after recording its kernel.
   */
  packed(handle: WebGpuHandle): { storage: Storage; offset: number; temporary: boolean } {
    if (isContiguous(handle.shape, handle.strides)) return { storage: handle.storage, offset: handle.offset, temporary: false };
    return { storage: this.copyContiguous(handle), offset: 0, temporary: true };
  }

  /** Wraps a storage written by a kernel as a contiguous handle. */
  handle(storage: Storage, shape: readonly number[], dtype: DType): WebGpuHandle {
    return wrapStorage(storage, shape, dtype);
  }
}
