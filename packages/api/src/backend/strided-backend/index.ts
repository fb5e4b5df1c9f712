// Shared bookkeeping of the asynchronous strided backends (CUDA, WebGPU): handles as refcounted
// strided views, the memory ledger, the movement views and the kernel table. Exposed as
// `@flint/api/strided-backend` for backend packages; applications never need it.
export * from './handle.js';
export * from './kernel-table.js';
export * from './views.js';
