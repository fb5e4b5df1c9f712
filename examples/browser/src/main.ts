// The browser page: trains the MLP of train.ts on WebGPU (falling back to the CPU backend when
// the browser gives no adapter), draws the loss live, and ends with the test accuracy. Its state
// is on `window.__flint` and `document.body.dataset.status` for scripts that drive the page.
//
// Query parameters: `backend=cpu` skips WebGPU; `epochs=N` (default 3) sets the training length.
import { initBackend, setBackend } from '@flint/api';
import '@flint/backend-cpu';
import { WebGpuBackend } from '@flint/backend-webgpu';
import { LossChart } from './chart.js';
import { decodeDigits } from './digits.js';
import type { PageState } from './state.js';
import { trainMlp } from './train.js';

declare global {
  interface Window {
    __flint: PageState;
  }
}

const state: PageState = { status: 'loading', backend: null, adapter: null, fallbackReason: null, losses: [], accuracy: null, error: null };
window.__flint = state;

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

function show(status: PageState['status'], message: string): void {
  state.status = status;
  document.body.dataset.status = status;
  element('status').textContent = message;
}

/** WebGPU when the browser gives an adapter and a device, else the CPU backend, with the reason. */
async function chooseBackend(preferred: string | null): Promise<void> {
  if (preferred !== 'cpu') {
    try {
      const gpu = await initBackend('webgpu');
      setBackend('webgpu');
      state.backend = 'webgpu';
      state.adapter = gpu instanceof WebGpuBackend ? gpu.describe() : 'unknown adapter';
    } catch (error) {
      state.fallbackReason = error instanceof Error ? error.message : String(error);
    }
  } else {
    state.fallbackReason = 'the page was asked for the CPU backend (?backend=cpu)';
  }
  if (state.backend === null) {
    setBackend('cpu');
    state.backend = 'cpu';
    state.adapter = 'WebAssembly and JavaScript on the page thread';
    // Expected where WebGPU is off, so not an error: the page says why on screen.
    console.warn(`flint: training on the CPU backend: ${state.fallbackReason}`);
  }
  element('backend').textContent = state.backend === 'webgpu' ? 'WebGPU' : 'CPU (fallback)';
  element('adapter').textContent = state.adapter;
  element('fallback').textContent = state.fallbackReason ?? '';
}

/** Lets the browser paint between steps (CPU reads resolve without ever leaving the task). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

async function run(): Promise<void> {
  const parameters = new URLSearchParams(location.search);
  const epochs = Number(parameters.get('epochs') ?? 3);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`epochs must be a positive integer, got ${parameters.get('epochs')}`);
  show('loading', 'starting the backend and loading the digits');
  const [response] = await Promise.all([fetch('digits.bin'), chooseBackend(parameters.get('backend'))]);
  if (!response.ok) throw new Error(`digits.bin: HTTP ${response.status}; run the build (examples/browser/build.ts) first`);
  const digits = decodeDigits(await response.arrayBuffer());
  element('data').textContent = `${digits.train.labels.length} training digits, ${digits.test.labels.length} test digits`;

  const chart = new LossChart(element('loss') as HTMLCanvasElement);
  const started = performance.now();
  show('training', 'training');
  const result = await trainMlp(digits.train, digits.test, {
    epochs,
    onStep: async (step, loss) => {
      state.losses.push(loss);
      chart.push(loss);
      const seconds = (performance.now() - started) / 1000;
      element('status').textContent = `training: step ${step + 1}, loss ${loss.toFixed(4)}, ${seconds.toFixed(1)} s`;
      await nextFrame();
    },
  });
  state.accuracy = result.accuracy;
  const seconds = (performance.now() - started) / 1000;
  element('accuracy').textContent = `${(result.accuracy * 100).toFixed(1)}%`;
  show('done', `done: ${result.losses.length} steps in ${seconds.toFixed(1)} s`);
}

run().catch((error: unknown) => {
  state.error = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  show('error', `failed: ${state.error}`);
  console.error(error);
});
