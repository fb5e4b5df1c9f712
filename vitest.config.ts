import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

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
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The suite runs several test files at once, whose load would shrink the mkl backend's
    // OpenMP team in the middle of a test (backend-mkl's src/native/team.ts): the tests keep the
    // whole team, so that the threaded paths run and results do not depend on the neighbours'
    // load. team.test.ts tests the sizer, backend.test.ts the addon's smaller teams.
    env: { FLINT_MKL_ADAPTIVE_THREADS: '0' },
  },
});
