import { BUFFER_USAGE } from './gpu-constants.js';

/** Pooled sizes: 16-byte steps up to 4 KiB, then four steps per power of two (at most 25% slack). */
export function bucketSize(bytes: number): number {
  if (bytes <= 4096) return Math.max(16, Math.ceil(bytes / 16) * 16);
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 2);
  return Math.ceil(bytes / step) * step;
}

const TENSOR_USAGE = BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST;

/**
 * Reuses GPU buffers across tensors. Training steps allocate the same sizes over and over, and
 * `createBuffer` costs a driver allocation (and a zero fill) each time. Buffers released while
 * recorded commands may still use them wait in `deferred` until those commands are submitted:
 * only then can `queue.writeBuffer` (which runs ahead of unsubmitted commands) safely refill them.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private deferred: GPUBuffer[] = [];
  private pooled = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Most bytes kept for reuse; beyond it released buffers are destroyed. */
    private readonly capacity: number,
  ) {}

  /** A buffer of at least `bytes` (rounded to its bucket) usable as storage and copy source/target. */
  acquire(bytes: number): GPUBuffer {
    const size = bucketSize(bytes);
    const reused = this.free.get(size)?.pop();
    if (reused !== undefined) {
      this.pooled -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: TENSOR_USAGE });
  }

  /** Takes back a buffer; `inFlight` when commands not yet submitted may still use it. */
  release(buffer: GPUBuffer, inFlight: boolean): void {
    if (inFlight) this.deferred.push(buffer);
    else this.keep(buffer);
  }

  /** Called after a submit: the deferred buffers become reusable. */
  submitted(): void {
    const deferred = this.deferred;
    this.deferred = [];
    for (const buffer of deferred) this.keep(buffer);
  }

  /** Destroys every pooled buffer. */
  empty(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
    this.pooled = 0;
  }

  get pooledBytes(): number {
    return this.pooled;
  }

  private keep(buffer: GPUBuffer): void {
    const size = buffer.size;
    if (this.pooled + size > this.capacity) {
      buffer.destroy();
      return;
    }
    const list = this.free.get(size);
    if (list === undefined) this.free.set(size, [buffer]);
    else list.push(buffer);
    this.pooled += size;
  }
}
