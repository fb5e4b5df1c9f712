// NCCL collectives on CUDA tensors: the device collectives that `@flint/api`'s distributed
// module uses for tensors on the 'cuda' backend (CPU tensors keep the host transport, Open MPI).
// The communicator's id travels over the host transport, so a `flint-run` job that imports
// '@flint/backend-cuda' reduces CUDA tensors through NCCL with no further setup.
import { BackendError, type DType, distributed, type Shape, sizeOf } from '@flint/api';
import type { CudaBackend } from '../backend.js';
import type { CudaContext } from '../context.js';
import { type CudaHandle, layoutOf } from '../handle.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';
import { loadAddon } from '../native/load.js';

/** The addon's collective kinds and reduction codes (native/nccl.cc). */
const KIND = { allReduce: 0, broadcast: 1, allGather: 2, reduceScatter: 3 } as const;
const OP: Readonly<Record<distributed.ReduceOp, number>> = { sum: 0, prod: 1, max: 2, min: 3, mean: 4 };

function failure(where: string, call: string, error: unknown): Error {
  if (error instanceof distributed.DistributedError || error instanceof BackendError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const text = message.startsWith('flint-cuda ') ? message.slice('flint-cuda '.length) : message;
  const named = text.startsWith('nccl') ? text : `${call}: ${text}`;
  // Argument checks (TypeError, RangeError) are the caller's mistake; the rest are the job's.
  if (error instanceof TypeError || error instanceof RangeError) return new BackendError(`cuda ${named}`, { cause: error });
  return new distributed.DistributedError(`${where}: ${named}`, { cause: error });
}

/**
 * Collectives over NCCL on the CUDA backend's stream: each queues its NCCL call and returns a
 * fresh buffer at once. Created by the provider (below) at the first collective on a CUDA tensor.
 */
export class NcclCollectives implements distributed.DeviceCollectives<CudaHandle> {
  readonly name = 'nccl';
  readonly backend = 'cuda';
  private readonly where: string;

  constructor(
    private readonly addon: Addon,
    private readonly context: CudaContext,
    readonly rank: number,
    readonly worldSize: number,
  ) {
    this.where = `NCCL rank ${rank} of ${worldSize}`;
  }

  private call<T>(call: string, run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw failure(this.where, call, error);
    }
  }

  /** Runs one collective on `handle` (packed first when it is not contiguous). */
  private run(
    kind: number,
    op: number,
    handle: CudaHandle,
    shape: Shape,
    outShape: Shape,
    dtype: DType,
    root: number,
    call: string,
  ): CudaHandle {
    if (sizeOf(shape) !== sizeOf(handle.shape) || handle.dtype !== dtype)
      throw new BackendError(
        `cuda ${call}: the tensor is [${shape.join(', ')}] ${dtype}, but its buffer holds [${handle.shape.join(', ')}] ${handle.dtype}`,
      );
    return this.call(call, () => {
      const packed = this.context.packed(handle);
      try {
        const id = this.addon.ncclCollective(kind, op, DTYPE_CODES[dtype], packed.handle.storage.id, layoutOf(packed.handle), root);
        return this.context.adopt(id, [...outShape], dtype);
      } finally {
        if (packed.temporary) this.context.release(packed.handle.storage);
      }
    });
  }

  allReduce(handle: CudaHandle, shape: Shape, dtype: DType, op: distributed.ReduceOp): CudaHandle {
    return this.run(KIND.allReduce, OP[op], handle, shape, shape, dtype, 0, 'ncclAllReduce');
  }

  broadcast(handle: CudaHandle, shape: Shape, dtype: DType, root: number): CudaHandle {
    return this.run(KIND.broadcast, 0, handle, shape, shape, dtype, root, 'ncclBroadcast');
  }

  allGather(handle: CudaHandle, shape: Shape, dtype: DType): CudaHandle {
    return this.run(KIND.allGather, 0, handle, shape, [this.worldSize, ...shape], dtype, 0, 'ncclAllGather');
  }

  reduceScatter(handle: CudaHandle, shape: Shape, dtype: DType, op: distributed.ReduceOp): CudaHandle {
    const [first = 0, ...rest] = shape;
    return this.run(KIND.reduceScatter, OP[op], handle, shape, [first / this.worldSize, ...rest], dtype, 0, 'ncclReduceScatter');
  }

  allReduceMany(handles: readonly CudaHandle[], shapes: readonly Shape[], dtype: DType, op: distributed.ReduceOp): CudaHandle[] {
    if (handles.length !== shapes.length)
      throw new BackendError(`cuda ncclAllReduce: ${handles.length} buffers but ${shapes.length} shapes`);
    const results: CudaHandle[] = [];
    this.call('ncclGroupStart', () => this.addon.ncclGroup(true));
    try {
      handles.forEach((handle, i) => {
        results.push(this.allReduce(handle, shapes[i] as Shape, dtype, op));
      });
    } catch (error) {
      for (const result of results) this.context.release(result.storage);
      throw error;
    } finally {
      this.call('ncclGroupEnd', () => this.addon.ncclGroup(false));
    }
    return results;
  }

  finalize(): void {
    this.call('ncclCommDestroy', () => this.addon.ncclDestroy());
  }
}

/** Whether NCCL can run here: the addon is built and libnccl.so.2 loads (no GPU needed to tell). */
export function ncclAvailability(addon: Addon | undefined = undefined): distributed.TransportAvailability {
  let native = addon;
  if (native === undefined) {
    const loaded = loadAddon();
    if ('reason' in loaded) return { available: false, reason: `the CUDA backend's ${loaded.reason}` };
    native = loaded.addon;
  }
  const library = native.ncclLibrary();
  if (library.found) return { available: true };
  return { available: false, reason: `libnccl.so.2 ${library.reason ?? 'not found'}` };
}

/**
 * Joins the ranks of `host` in an NCCL communicator on `backend`'s device: rank 0 makes the id
 * and the host transport broadcasts it.
 */
export function createNcclCollectives(
  backend: CudaBackend,
  host: distributed.Transport,
  options: distributed.TransportOptions,
): NcclCollectives {
  const addon = backend.context.addon;
  const where = `NCCL rank ${host.rank} of ${host.worldSize}`;
  const id =
    host.rank === 0
      ? (() => {
          try {
            return addon.ncclUniqueId();
          } catch (error) {
            throw failure(where, 'ncclGetUniqueId', error);
          }
        })()
      : new Uint8Array(128);
  host.broadcast(id, 0);
  try {
    addon.ncclInit(id, host.rank, host.worldSize, options.timeoutSeconds);
  } catch (error) {
    throw failure(where, 'ncclCommInitRank', error);
  }
  return new NcclCollectives(addon, backend.context, host.rank, host.worldSize);
}

/** The provider `import '@flint/backend-cuda'` registers for CUDA tensors. */
export const ncclProvider: distributed.DeviceCollectivesProvider = {
  name: 'nccl',
  backend: 'cuda',
  availability: () => ncclAvailability(),
  create(backend, host, options) {
    if (backend.name !== 'cuda' || !('context' in backend))
      throw new BackendError(`NCCL collectives need the CUDA backend, got backend '${backend.name}'`);
    return createNcclCollectives(backend as unknown as CudaBackend, host, options);
  },
};
