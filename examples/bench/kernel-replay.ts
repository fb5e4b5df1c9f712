// Records every kernel call of one MNIST CNN training step (examples/mnist/model.ts, batch 64,
// crossEntropy, Adam) on the CPU backend, then replays each distinct call on copies of its inputs
// and reports the best of several runs: a per-kernel, low-noise view of the step on a busy machine.
//
//   cd examples && node --import tsx bench/kernel-replay.ts [backend dist folder]
import { DataLoader, manualSeed, nn, optim, Primitive } from '@flint/api';
import { loadMnist } from '@flint/api/node';
import { MnistCnn } from '../mnist/model.js';

const dist = process.argv[2] ?? '../../packages/backend-cpu/dist';
const { CPU_KERNELS } = (await import(`${dist}/kernels/table.js`)) as { CPU_KERNELS: unknown };
await import(`${dist}/index.js`);
// Results go back to the backend's pool, as they do when a training step disposes them.
const { recycle } = (await import(`${dist}/storage.js`)) as { recycle: (data: unknown) => void };

interface Handle {
  storage: { data: Float32Array; refs: number; counted: boolean };
  offset: number;
  strides: readonly number[];
  shape: readonly number[];
  dtype: string;
  released: boolean;
}
type Kernel = (inputs: readonly Handle[], params: unknown, out: { shape: readonly number[]; dtype: string }) => Handle;
interface Call {
  name: string;
  kernel: Kernel;
  inputs: Handle[];
  params: unknown;
  out: { shape: readonly number[]; dtype: string };
  calls: number;
}
const calls = new Map<string, Call>();
let recording = false;
const table = CPU_KERNELS as Record<number, Kernel>;
for (const key of Object.keys(table)) {
  const p = Number(key);
  const kernel = table[p]!;
  table[p] = (inputs, params, out) => {
    if (recording) {
      const layout = inputs.map((h) => `${h.dtype}[${h.shape.join(',')}]/(${h.strides.join(',')})`).join(' ');
      const shown = JSON.stringify(params) ?? '';
      const name = `${Primitive[p]} ${layout} -> [${out.shape.join(',')}] ${shown}`;
      const known = calls.get(name);
      if (known !== undefined) known.calls++;
      else {
        const copies = inputs.map((h) => ({ ...h, storage: { data: h.storage.data.slice(), refs: 1, counted: false }, released: false }));
        calls.set(name, { name, kernel, inputs: copies, params, out: { shape: [...out.shape], dtype: out.dtype }, calls: 1 });
      }
    }
    return kernel(inputs, params, out);
  };
}

manualSeed(0);
const train = await loadMnist({ split: 'train' });
const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });
const model = new MnistCnn();
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
let step = 0;
for (const [images, labels] of loader) {
  if (step >= 3) break;
  recording = step === 2;
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
recording = false;

const results: { name: string; ms: number; calls: number }[] = [];
// FILTER (a substring of the call's name) and REPEATS narrow the replay, e.g. for a --cpu-prof run.
const filter = process.env.FILTER ?? '';
const repeats = Number(process.env.REPEATS ?? 15);
for (const call of calls.values()) {
  if (!call.name.includes(filter)) continue;
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    // CPU time, not wall time: on a machine shared with other work it is the far steadier measure.
    const start = process.cpuUsage();
    const result = call.kernel(call.inputs, call.params, call.out);
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
    if (!call.inputs.some((h) => h.storage === result.storage)) recycle(result.storage.data);
  }
  results.push({ name: call.name, ms: best * call.calls, calls: call.calls });
}
results.sort((a, b) => b.ms - a.ms);
const total = results.reduce((s, r) => s + r.ms, 0);
console.log(
  `kernel time per step (CPU time, best of ${repeats} per call): ${total.toFixed(1)} ms over ${results.reduce((s, r) => s + r.calls, 0)} calls`,
);
for (const r of results)
  if (r.ms >= 0.1) console.log(`${r.ms.toFixed(2).padStart(7)} ms ${String(r.calls).padStart(3)}x  ${r.name.slice(0, 200)}`);
