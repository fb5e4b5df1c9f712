// The GPU checks (gpu.checks.ts) under vitest. Where there is no GPU (no driver, no device, or the
// addon not built) they are skipped with the reason; scripts/device-check.sh runs them on a GPU.
import '@flint/backend-cpu';
import { type Backend, initBackend } from '@flint/api';
import { describe, it } from 'vitest';
import type { CudaBackend } from './backend.js';
import { GPU_CHECKS } from './gpu.checks.js';
import { createCudaBackend } from './index.js';

let cuda: CudaBackend | null = null;
let reason = '';
try {
  cuda = createCudaBackend();
} catch (error) {
  reason = (error as Error).message;
  console.log(`backend-cuda: GPU tests skipped: ${reason}`);
}

describe.skipIf(cuda === null)(`the CUDA backend on a GPU${cuda === null ? ` (skipped: ${reason})` : ''}`, async () => {
  const cpu: Backend = await initBackend('cpu');
  it.each(GPU_CHECKS.map((c) => [c.name, c] as const))('%s', async (_name, gpuCheck) => {
    await gpuCheck.run({ cuda: cuda as CudaBackend, cpu });
  });
});
