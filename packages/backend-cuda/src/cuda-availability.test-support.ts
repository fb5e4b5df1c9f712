import { createCudaBackend } from './index.js';

/**
 * Why the cuda backend cannot start here (no GPU, and no emulated addon through FLINT_CUDA_ADDON),
 * logged as the reason `suite` is skipped; undefined when it starts.
 */
export function cudaUnavailable(suite: string): string | undefined {
  try {
    createCudaBackend();
    return undefined;
  } catch (error) {
    const reason = (error as Error).message;
    console.log(`backend-cuda: ${suite} skipped: ${reason}`);
    return reason;
  }
}
