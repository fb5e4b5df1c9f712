// Device collectives: a backend's own way to run collectives on its buffers without a trip
// through host memory (NCCL for CUDA tensors). The tensor-level collectives pick them for a
// tensor whose backend has one registered; tensors of other backends keep the host transport.
// Creating one is itself collective (every rank joins a communicator), so it happens lazily, at
// the first collective on such a tensor, which every rank reaches in the same order.

import type { Backend } from '../backend/spi.js';
import type { DType } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { DistributedError } from './errors.js';
import type { ReduceOp, Transport, TransportAvailability, TransportOptions } from './transport.js';

/**
 * Collectives on one backend's handles. Every call is collective and stream-ordered: it queues
 * the work and returns a fresh contiguous handle at once, so a synchronous caller never waits
 * (errors and timeouts surface at the next read, or at the next call once the watchdog saw them).
 */
export interface DeviceCollectives<H = unknown> {
  /** The library's name: 'nccl'. */
  readonly name: string;
  /** The backend whose handles it takes. */
  readonly backend: string;
  /** `op` over all ranks ('mean' included), same shape. */
  allReduce(handle: H, shape: Shape, dtype: DType, op: ReduceOp): H;
  /** The root's values on every rank. */
  broadcast(handle: H, shape: Shape, dtype: DType, root: number): H;
  /** Every rank's values in rank order: `[worldSize, ...shape]`. */
  allGather(handle: H, shape: Shape, dtype: DType): H;
  /** The reduction's block of this rank along the first dim: `[shape[0] / worldSize, ...]`. */
  reduceScatter(handle: H, shape: Shape, dtype: DType, op: ReduceOp): H;
  /** Queues several all-reduces as one group (one launch where the library fuses them). */
  allReduceMany(handles: readonly H[], shapes: readonly Shape[], dtype: DType, op: ReduceOp): H[];
  /** Releases the communicator. */
  finalize(): void;
}

/** What a backend package registers: whether its library loads here, and how to join. */
export interface DeviceCollectivesProvider {
  /** 'nccl'. */
  readonly name: string;
  /** The backend it serves: 'cuda'. */
  readonly backend: string;
  /** Whether the library (libnccl) loads; if not, why, naming what was searched. */
  availability(): TransportAvailability;
  /**
   * Joins the ranks of `host` in a communicator on `backend` (the id that rank 0 makes travels
   * by `host.broadcast`).
   */
  create(backend: Backend, host: Transport, options: TransportOptions): DeviceCollectives;
}

const providers = new Map<string, DeviceCollectivesProvider>();
const created = new Map<string, DeviceCollectives>();
const failed = new Map<string, string>();
// Creation failed (a rank did not join, NCCL refused): later calls fail alike instead of
// retrying alone or falling back to the host while the other ranks use the device.
const broken = new Map<string, Error>();

/**
 * Makes `provider` the device collectives of its backend (backend packages call this when
 * imported: `import '@flint/backend-cuda'` registers NCCL for 'cuda').
 *
 * @example
 * distributed.registerDeviceCollectives({ name: 'nccl', backend: 'cuda', availability, create });
 */
export function registerDeviceCollectives(provider: DeviceCollectivesProvider): void {
  providers.set(provider.backend, provider);
}

/**
 * Whether tensors of `backend` reduce on the device, and if not, why.
 *
 * @example
 * distributed.deviceCollectivesAvailability('cuda');
 * // { available: false, reason: 'libnccl.so.2 not found (searched ...)' }
 */
export function deviceCollectivesAvailability(backend: string): TransportAvailability {
  const provider = providers.get(backend);
  if (provider === undefined) return { available: false, reason: `no device collectives are registered for backend '${backend}'` };
  return provider.availability();
}

/** Whether the host transport is used even where device collectives exist (FLINT_DEVICE_COLLECTIVES=off). */
function forcedOff(): boolean {
  const processLike = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return processLike?.env?.FLINT_DEVICE_COLLECTIVES === 'off';
}

/**
 * The device collectives for a tensor on `backend` in the job of `host`, created at first use;
 * undefined where the job has one rank, none is registered, or its library is unavailable (the
 * reason is kept for `whyNoDeviceCollectives`).
 */
export function deviceCollectivesFor(backend: Backend, host: Transport): DeviceCollectives | undefined {
  if (host.worldSize === 1 || forcedOff()) return undefined;
  const existing = created.get(backend.name);
  if (existing !== undefined) return existing;
  const failure = broken.get(backend.name);
  if (failure !== undefined) throw failure;
  const provider = providers.get(backend.name);
  if (provider === undefined) return undefined;
  const status = provider.availability();
  if (!status.available) {
    failed.set(backend.name, `the '${provider.name}' device collectives are unavailable: ${status.reason}`);
    return undefined;
  }
  let collectives: DeviceCollectives;
  try {
    collectives = provider.create(backend, host, { timeoutSeconds: host.timeoutSeconds ?? 300 });
  } catch (error) {
    const wrapped =
      error instanceof DistributedError
        ? error
        : new DistributedError(`the '${provider.name}' device collectives could not start: ${(error as Error).message}`, {
            cause: error,
          });
    broken.set(backend.name, wrapped);
    throw wrapped;
  }
  created.set(backend.name, collectives);
  return collectives;
}

/** Why a backend's tensors go through the host transport (for error messages). */
export function whyNoDeviceCollectives(backend: string): string {
  if (forcedOff()) return 'FLINT_DEVICE_COLLECTIVES=off';
  return failed.get(backend) ?? `no device collectives are registered for backend '${backend}'`;
}

/** Releases every communicator (`distributed.destroy`). */
export function finalizeDeviceCollectives(): void {
  const all = [...created.values()];
  created.clear();
  failed.clear();
  broken.clear();
  for (const collectives of all) {
    try {
      collectives.finalize();
    } catch (error) {
      throw new DistributedError(`distributed.destroy: ${collectives.name}: ${(error as Error).message}`, { cause: error });
    }
  }
}
