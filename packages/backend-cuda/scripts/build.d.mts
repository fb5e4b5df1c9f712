// Types of build.mjs, for the tests that import it.
/** The places nvcc is looked for, in order. */
export function nvccCandidates(): string[];
/** Builds the addon when it is missing or older than its sources; never throws. */
export function buildCudaBackend(options?: { readonly verbose?: boolean }): { built: true } | { built: false; reason: string };
