/**
 * @flint/backend-cuda: Flint's CUDA backend, a Node-API addon over the CUDA runtime. Importing the
 * package registers it as 'cuda' (priority 40, preferred by `auto`). Importing never throws and
 * never touches a GPU: creating the backend probes for the driver and a device, and where either
 * (or the built addon) is missing it fails with the reason, so `auto` moves on to the next backend.
 *
 * @example
 * import '@flint/backend-cuda';
 * import { backendStatus } from '@flint/api';
 * backendStatus(); // [{ name: 'cuda', available: false, reason: 'no CUDA driver: libcuda.so.1 not found (searched ...)' }, ...]
 */
import { type Backend, distributed, registerBackend } from '@flint/api';
import { CudaBackend } from './backend.js';
import { ncclProvider } from './distributed/nccl.js';
import { loadAddon, startDevice } from './native/load.js';

let created: CudaBackend | null = null;

/**
 * Creates the backend once per process (the device, its stream and its caches are process-wide),
 * or throws an Error whose message says what is missing and where it was looked for.
 */
export function createCudaBackend(): CudaBackend {
  if (created !== null) return created;
  const loaded = loadAddon();
  if ('reason' in loaded) throw new Error(loaded.reason);
  const started = startDevice(loaded.addon);
  if ('reason' in started) throw new Error(started.reason);
  created = new CudaBackend(loaded.addon, started.info);
  return created;
}

// The registry stores backends with opaque handles; only this backend ever receives its own.
registerBackend({ name: 'cuda', priority: 40, create: () => createCudaBackend() as unknown as Backend });
// CUDA tensors in a distributed job reduce on the device through NCCL (loaded when first used).
distributed.registerDeviceCollectives(ncclProvider);

export { CudaBackend, type CudaOptions } from './backend.js';
export { createNcclCollectives, NcclCollectives, ncclAvailability, ncclProvider } from './distributed/nccl.js';
export type { CudaHandle } from './handle.js';
export type { Addon, DeviceInfo, LibraryReport, LibraryStatus, NativeMemoryStats, NcclStatus, ProbeResult } from './native/addon.js';
export { ADDON_PATH, loadAddon } from './native/load.js';
