/**
 * @flint/backend-cpu: Flint's portable CPU backend. Importing the package registers it:
 *
 * @example
 * import '@flint/backend-cpu';
 * import { tensor } from '@flint/api';
 * tensor([1, 2, 3]).add(1).dataSync();
 */
import { registerBackend } from '@flint/api';
import { CpuBackend } from './backend.js';

// The registry stores backends with opaque handles; only this backend ever receives its own.
registerBackend({ name: 'cpu', priority: 10, create: () => new CpuBackend() });

export { CpuBackend } from './backend.js';
/** @internal Whether the portable jit hook runs these fused ops as WebAssembly SIMD (backend-mkl's choice of code generator). */
export { simdCompatible } from './compile/wasm/elementwise.js';
export { newStorage, type Storage, type StorageLife } from './storage.js';
export type { CpuHandle } from './view.js';
