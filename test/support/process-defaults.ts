import { initialSeed } from '@flint/api';

// The library's global settings as a fresh process starts with them, read once per worker, when
// shared-worker-setup.ts first imports this module: that is before any test file has run in the
// worker, so nothing has changed them yet (vitest re-runs a setup file before each test file but
// keeps the modules it imports).

/** The global generator's seed before any `manualSeed` (PyTorch's default CPU seed). */
export const DEFAULT_SEED = initialSeed();

/** Where debug mode's leak reports go by default (memory.ts's own default). */
export const reportLeak = (message: string): void => console.warn(message);
