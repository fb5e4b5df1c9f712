// Shared bookkeeping of the asynchronous strided backends (CUDA, WebGPU): handles as refcounted
// strided views, the memory ledger, the movement views and the kernel table; and, for every
// backend whose handles are strided views (mkl's too), the recognition of autodiff's convolution
// gradients among its convolutions, and the typed-array arguments of their native addons.
// Exposed as `@flint/api/strided-backend` for backend packages; applications never need it.
export * from './conv-gradients.js';
export * from './handle.js';
export * from './kernel-table.js';
export * from './native-arguments.js';
export * from './views.js';
