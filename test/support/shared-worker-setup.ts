import '@flint/backend-cpu';
import { amp, distributed, manualSeed, setBackend, setDebug, setGradEnabled } from '@flint/api';
import { DEFAULT_SEED, reportLeak } from './process-defaults.js';

// The setup file of the 'flint' vitest project, whose test files share their worker process
// (isolate: false, see vitest.config.ts): the modules a file imports stay evaluated for the next
// file, and so does the library's global state. Vitest runs this before each test file, and it
// puts back what a fresh process starts with, so that no file sees what an earlier one left:
// a leaked setting would otherwise make a later file pass or fail by the order the files ran in.
//
// What the library keeps per process and cannot be reset is left alone: backends registered and
// created by earlier files stay (a registry has no unregister), so a test counting memory() must
// count on the backend it allocates on (memory() sums over every created backend, and a test's
// stand-in backend that wraps 'cpu' counts cpu's buffers again).

// The tensors earlier files left undisposed are garbage now, but their buffers count in memory()
// until the finalizer releases them, which it does whenever the event loop turns: in the middle
// of this file's tests that await between two counts. Collected now (the project runs node with
// --expose-gc), their finalizers run during this await instead.
(globalThis as { gc?: () => void }).gc?.();
await new Promise((resolve) => setTimeout(resolve, 0));

// An autocast region left open (an autocastScope never disposed) would cast the next file's matmuls.
if (amp.isAutocastEnabled()) amp.autocastScope({ enabled: false });
setGradEnabled(true);
setDebug({ trackTensors: false, onLeak: reportLeak });
manualSeed(DEFAULT_SEED);
if (distributed.isInitialized()) distributed.destroy();
// The default backend: 'cpu', which is what `auto` picks for a file alone in its process here
// (the backends above it, mkl, webgpu and cuda, are tested in the isolated project).
setBackend('cpu');
