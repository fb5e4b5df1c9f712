/**
 * @flint/backend-webgpu: Flint's WebGPU backend, in browsers (navigator.gpu) and in Node (the
 * optional `webgpu` package, Dawn). Importing the package registers it as 'webgpu' (priority 30);
 * it starts asynchronously, so call `initBackend('webgpu')` before using it. Importing never
 * throws or waits: without an adapter the backend reports itself unavailable with the fix.
 *
 * @example
 * import '@flint/backend-webgpu';
 * import { initBackend, setBackend, tensor } from '@flint/api';
 * await initBackend('webgpu');
 * setBackend('webgpu');
 * console.log(await tensor([1, 2, 3]).square().data());
 */
import { type Backend, registerBackend } from '@flint/api';
import { WebGpuBackend } from './backend.js';
import { acquireDevice } from './device.js';

let creating: Promise<WebGpuBackend> | null = null;

/**
 * Creates the backend once per process: requesting a device is slow and the registry may ask
 * more than once (`auto` selection probes every factory), so later calls share the first attempt.
 */
export function createWebGpuBackend(): Promise<WebGpuBackend> {
  creating ??= acquireDevice().then((acquired) => new WebGpuBackend(acquired));
  return creating;
}

// The registry stores backends with opaque handles; only this backend ever receives its own.
registerBackend({ name: 'webgpu', priority: 30, create: () => createWebGpuBackend() as Promise<unknown> as Promise<Backend> });

export { WebGpuBackend } from './backend.js';
export { SWIFTSHADER_ICD } from './device.js';
export type { WebGpuHandle } from './handle.js';
