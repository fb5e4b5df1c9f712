// Per-kernel time of the MNIST CNN training step on the CPU backend, grouped by primitive, input
// layouts and params: shows which layouts the forward and backward passes hand each kernel.
//
//   cd examples && node --import tsx bench/kernel-profile.ts [steps]
import { DataLoader, manualSeed, nn, optim, Primitive } from '@flint/api';
import { loadMnist } from '@flint/api/node';
// The kernel table is patched before the backend is created (on first use) and wraps it.
import { CPU_KERNELS } from '../../packages/backend-cpu/dist/kernels/table.js';
import '@flint/backend-cpu';
import { MnistCnn } from '../mnist/model.js';

const steps = Number(process.argv[2] ?? 10);
interface Entry {
  calls: number;
  ms: number;
}
const entries = new Map<string, Entry>();
let recording = false;
type Kernel = (
  inputs: readonly { shape: readonly number[]; strides: readonly number[] }[],
  params: unknown,
  out: { shape: readonly number[] },
) => unknown;
const table = CPU_KERNELS as unknown as Record<number, Kernel>;
for (const key of Object.keys(table)) {
  const p = Number(key);
  const kernel = table[p]!;
  table[p] = (inputs, params, out) => {
    if (!recording) return kernel(inputs, params, out);
    const start = performance.now();
    const result = kernel(inputs, params, out);
    const ms = performance.now() - start;
    const layout = inputs.map((h) => `[${h.shape.join(',')}]/(${h.strides.join(',')})`).join(' ');
    const shownParams = JSON.stringify(params, (_k, v: unknown) => (typeof v === 'function' ? undefined : v));
    const name = `${Primitive[p]} ${layout} -> [${out.shape.join(',')}] ${shownParams ?? ''}`;
    const entry = entries.get(name) ?? { calls: 0, ms: 0 };
    entry.calls++;
    entry.ms += ms;
    entries.set(name, entry);
    return result;
  };
}

manualSeed(0);
const train = await loadMnist({ split: 'train' });
const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });
const model = new MnistCnn();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
let step = 0;
for (const [images, labels] of loader) {
  if (step >= steps + 3) break;
  recording = step >= 3;
  optimizer.zeroGrad();
  const loss = nn.functional.crossEntropy(model.forward(images), labels);
  loss.backward();
  optimizer.step();
  loss.item();
  loss.dispose();
  images.dispose();
  labels.dispose();
  step++;
}
const sorted = [...entries].sort((a, b) => b[1].ms - a[1].ms);
const total = sorted.reduce((s, [, e]) => s + e.ms, 0);
console.log(`kernel time per step ${(total / steps).toFixed(1)} ms`);
for (const [name, e] of sorted) {
  if (e.ms / steps < 0.05) continue;
  console.log(`${(e.ms / steps).toFixed(2).padStart(7)} ms ${String(e.calls / steps).padStart(4)}x  ${name.slice(0, 220)}`);
}
