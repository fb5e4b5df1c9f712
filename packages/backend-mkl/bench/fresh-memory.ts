// Elementwise kernels on the CNN's first activation [64,32,28,28] (6.4 MB), alone: each output
// disposed, so the pool recycles it, or with KEEP=1 left to the garbage collector, as an eager
// step without a scope leaves its activations (fresh memory, page faults, collector work).
import * as api from '@flint/api';
import '@flint/backend-mkl';
import { sineTensor } from './inputs.js';

api.setBackend('mkl');
const x = sineTensor([64, 32, 28, 28]);
const mask = api.lessEqual(x, 0);
const cases: [string, () => api.Tensor][] = [
  ['lessEqual', () => api.lessEqual(x, 0)],
  ['where(mask,0,x)', () => api.where(mask, 0, x)],
  ['where(mask,x,0)', () => api.where(mask, x, 0)],
  ['maximum(x,0)', () => api.maximum(x, 0)],
  ['relu', () => api.relu(x)],
  ['add x+x', () => api.add(x, x)],
];
for (const [label, f] of cases) {
  for (let i = 0; i < 5; i++) f().dispose();
  const samples: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) {
      const y = f();
      if (process.env.KEEP !== '1') y.dispose();
    }
    samples.push((performance.now() - t0) / 5);
  }
  samples.sort((p, q) => p - q);
  console.log(`${label.padEnd(18)} ${samples[4]!.toFixed(3)} ms (min ${samples[0]!.toFixed(3)})`);
}
