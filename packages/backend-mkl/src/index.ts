/**
 * @flint/backend-mkl: Flint's native CPU backend over oneDNN and CBLAS (Intel MKL or OpenBLAS).
 * Importing the package registers it as 'mkl' (preferred over 'cpu' by `auto`). Where the native
 * addon is not built or its system libraries are missing, creating it fails with the reason and
 * the fix, and `auto` moves on to the next backend.
 *
 * @example
 * import '@flint/backend-mkl';
 * import { backendStatus } from '@flint/api';
 * backendStatus(); // [{ name: 'mkl', available: true, ... }, { name: 'cpu', ... }]
 */
import { type Backend, registerBackend } from '@flint/api';
import { MklBackend } from './backend.js';
import { loadAddon } from './native/load.js';

registerBackend({
  name: 'mkl',
  priority: 20,
  create: () => {
    const loaded = loadAddon();
    if ('reason' in loaded) throw new Error(loaded.reason);
    // The registry stores backends with opaque handles; only this backend ever receives its own.
    return new MklBackend(loaded.addon) as unknown as Backend;
  },
});

export { MklBackend } from './backend.js';
export type { MklHandle } from './handle.js';
export type { CompositeName } from './kernels/composites.js';
export type { Addon, NativeInfo } from './native/addon.js';
export { MatmulMode } from './native/codes.js';
export { ADDON_PATH, loadAddon } from './native/load.js';
