// Types of build-emulation.mjs, for the tests that import it.
export const EMULATION_DIR: string;
export const SANITIZED_EMULATION_DIR: string;
/** The host compiler's AddressSanitizer runtime (libasan.so), which the sanitized emulation needs preloaded, or null. */
export function asanRuntime(): string | null;
/** The CUDA toolkit's root and include folder (it holds cuda_runtime_api.h), found next to an nvcc, or null. */
export function toolkitInclude(): { root: string; include: string } | null;
/** Builds the emulation addon (`asan`: the sanitized one) when it is missing or older than its sources; never throws. */
export function buildCudaEmulation(options?: {
  readonly verbose?: boolean;
  readonly asan?: boolean;
}): { built: true } | { built: false; reason: string };
