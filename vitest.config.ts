import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/** The suites that run the CUDA backend's own kernels (and jit's fused ones) with their values checked. */
const cudaKernelSuites = [
  'test/conformance/conformance.test.ts',
  'test/conformance/half-gradients.test.ts',
  'packages/backend-cuda/src/gpu.test.ts',
  'packages/backend-cuda/src/jit/random-programs.test.ts',
  'packages/backend-cuda/src/jit/reductions.test.ts',
  'packages/backend-cuda/src/jit/donation.test.ts',
  'packages/backend-cuda/src/jit/contraction.test.ts',
  'packages/backend-cuda/src/kernels/composites.test.ts',
  'packages/backend-cuda/src/gradients.test.ts',
];
/**
 * The test files that run each in a process of its own (the 'flint-isolated' project); every other
 * test file runs in the 'flint' project, whose files share their worker processes (see there).
 */
const isolatedFiles = [
  // The native backends: their addon, its threads and its device are per process, some settings
  // are read once, at import (FLINT_MKL_MATMUL, which compile.test.ts sets before it imports mkl),
  // and once registered they rank above cpu, so `auto` (and the Trainer's accelerator 'auto')
  // would pick them in the files after.
  'packages/backend-mkl/src/**/*.test.ts',
  'packages/backend-cuda/src/**/*.test.ts',
  'packages/backend-webgpu/src/**/*.test.ts',
  // Open MPI, loaded once per process (MPI_Init may run once), and the jobs it launches.
  'packages/distributed-mpi/src/**/*.test.ts',
  // The suites that run on every registered backend: in a shared process they would also find the
  // stand-in backends earlier files registered (and mkl, which they import, would stay registered).
  'test/conformance/**/*.test.ts',
  'test/gradcheck/primitives.test.ts',
  'test/gradcheck/composites.test.ts',
  // The garbage collector and the finalizer, and liveTensors() over every tensor of the process.
  'test/memory.test.ts',
];
const cudaEmulationEnv = {
  FLINT_MKL_ADAPTIVE_THREADS: '0',
  FLINT_CUDA_ADDON: src('./packages/backend-cuda/build-emulation/Release/flint_cuda.node'),
  // The emulation's NCCL (libnccl.so.2), for the collectives on emulated device buffers.
  FLINT_CUDA_LIBRARY_PATH: src('./packages/backend-cuda/build-emulation/emulated-nccl'),
  FLINT_TEST_BACKENDS: 'cuda',
};

// Tests import the packages' TypeScript sources directly, so `npm test` needs no build for them;
// the packaging tests in test/ check the built, packed packages separately.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@flint\/api$/, replacement: src('./packages/api/src/index.ts') },
      { find: /^@flint\/api\/node$/, replacement: src('./packages/api/src/node/index.ts') },
      { find: /^@flint\/api\/strided-backend$/, replacement: src('./packages/api/src/backend/strided-backend/index.ts') },
      { find: /^@flint\/backend-cpu$/, replacement: src('./packages/backend-cpu/src/index.ts') },
      { find: /^@flint\/backend-webgpu$/, replacement: src('./packages/backend-webgpu/src/index.ts') },
      { find: /^@flint\/backend-mkl$/, replacement: src('./packages/backend-mkl/src/index.ts') },
      { find: /^@flint\/backend-cuda$/, replacement: src('./packages/backend-cuda/src/index.ts') },
      { find: /^@flint\/distributed-mpi$/, replacement: src('./packages/distributed-mpi/src/index.ts') },
      { find: /^@flint\/lightning$/, replacement: src('./packages/lightning/src/index.ts') },
    ],
  },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The suite runs several test files at once, whose load would shrink the mkl backend's
    // OpenMP team in the middle of a test (backend-mkl's src/native/team.ts): the tests keep the
    // whole team, so that the threaded paths run and results do not depend on the neighbours'
    // load. team.test.ts tests the sizer, backend.test.ts the addon's smaller teams.
    env: { FLINT_MKL_ADAPTIVE_THREADS: '0' },
    projects: [
      {
        // Most test files share their worker processes (isolate: false): a file then imports the
        // packages' TypeScript sources (some 500 modules through vite's module runner, 2 to 4 s a
        // file) only where its worker has not imported them yet. On 2 cores these files took 384 s
        // one process per file (176 s of it importing) and 170 to 230 s sharing.
        // Vitest runs test/support/shared-worker-setup.ts before each file: it lets the finalizer
        // release the tensors earlier files left, and puts the library's global settings back to
        // a fresh process's (default backend 'cpu', grad mode, autocast, debug mode, the global
        // generator's seed, distributed). Tests must not depend on what earlier files left beyond
        // that: backends they created stay, so a test counting memory() counts on the backend it
        // allocates on. The files that need a fresh process are isolatedFiles.
        extends: true,
        test: {
          name: 'flint',
          include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...isolatedFiles],
          isolate: false,
          setupFiles: ['test/support/shared-worker-setup.ts'],
          // For the setup file, which collects the garbage earlier files left before each file.
          execArgv: ['--expose-gc'],
        },
      },
      {
        // Each file in a new process (vitest's default).
        extends: true,
        test: { name: 'flint-isolated', include: isolatedFiles },
      },
      {
        // The CUDA backend on its CPU emulation (packages/backend-cuda/scripts/build-emulation.mjs,
        // built by the bootstrap): the conformance tables, the half gradients, the GPU checks and
        // jit's fused kernels (compiled by the emulated NVRTC) run its kernels on the CPU, where a
        // machine has no GPU. Where the emulation could not be built, they skip with its build's
        // reason.
        extends: true,
        test: {
          name: 'cuda-emulation',
          include: [
            ...cudaKernelSuites,
            'packages/backend-cuda/src/kernels/conv-gradients.test.ts',
            'packages/backend-cuda/src/searching.test.ts',
            'packages/backend-cuda/src/jit/emulated-nvrtc.test.ts',
            'packages/backend-cuda/src/device-check.test.ts',
            'packages/backend-cuda/src/distributed/ddp-nccl.test.ts',
            'packages/backend-cuda/src/lightning.test.ts',
          ],
          env: cudaEmulationEnv,
        },
      },
      {
        // The same kernels in another order: each block's warps reversed, every warp running ahead
        // of the next up to a block barrier, lanes reversed, blocks reversed (grid.cc's
        // FLINT_CUDA_EMULATION_SCHEDULE). A GPU promises no order, and the default schedule
        // (ascending, round by round) hides races whose reader comes after its writer and
        // shared memory reused before a slower warp has read it.
        extends: true,
        test: {
          name: 'cuda-emulation-reordered',
          include: cudaKernelSuites,
          // The composite gradient cases: a quarter of them (every case runs in cuda-emulation).
          env: { ...cudaEmulationEnv, FLINT_CUDA_EMULATION_SCHEDULE: 'reverse,warps', FLINT_GRADIENT_CASE_STRIDE: '4' },
        },
      },
      {
        // The same emulated device with the emulation's cuBLASLt and cuDNN (emulated-vendor/:
        // CPU stand-ins written from NVIDIA's documented APIs, strict about their arguments), so
        // that the addon's vendor paths (blas.cc, dnn.cc, dnn_batch_norm.cc) run here: matmuls,
        // convolutions, max pooling and batch norm go through them wherever cuDNN and cuBLASLt
        // would serve them on a GPU, and the GPU checks compare them with the own kernels.
        extends: true,
        test: {
          name: 'cuda-emulation-vendor',
          include: [
            'test/conformance/conformance.test.ts',
            'packages/backend-cuda/src/gpu.test.ts',
            'packages/backend-cuda/src/kernels/composites.test.ts',
            'packages/backend-cuda/src/gradients.test.ts',
            'packages/backend-cuda/src/jit/contraction.test.ts',
            'packages/backend-cuda/src/native/emulated-vendor.test.ts',
          ],
          env: {
            FLINT_MKL_ADAPTIVE_THREADS: '0',
            FLINT_CUDA_ADDON: src('./packages/backend-cuda/build-emulation/Release/flint_cuda.node'),
            FLINT_CUDA_LIBRARY_PATH: [
              src('./packages/backend-cuda/build-emulation/emulated-vendor'),
              src('./packages/backend-cuda/build-emulation/emulated-nccl'),
            ].join(':'),
            // A call the emulated libraries refuse fails its test instead of running the own kernel.
            FLINT_CUDA_STRICT_VENDOR: '1',
            FLINT_TEST_BACKENDS: 'cuda',
            // A quarter of the composite gradient cases (every case runs in cuda-emulation).
            FLINT_GRADIENT_CASE_STRIDE: '4',
          },
        },
      },
    ],
  },
});
