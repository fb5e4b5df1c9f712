// Times the transformer step's matmul layouts on their own.
import * as api from '@flint/api';
import '@flint/backend-mkl';
import { sineTensor as rand } from './inputs.js';

api.setBackend('mkl');
const h = rand([1024, 256]),
  w = rand([256, 256]),
  g = rand([1024, 256]);
const q = api.transpose(api.reshape(rand([1024, 256]), [8, 128, 4, 64]), [0, 2, 1, 3]);
const k = api.transpose(api.reshape(rand([1024, 256]), [8, 128, 4, 64]), [0, 2, 1, 3]);
const p = rand([8, 4, 128, 128]);
const cases: [string, () => api.Tensor, number][] = [
  ['h@w 1024x256x256', () => api.matmul(h, w), 1024 * 256 * 256],
  ['hT@g 256x1024x256', () => api.matmul(api.transpose(h), g), 1024 * 256 * 256],
  ['g@wT 1024x256x256', () => api.matmul(g, api.transpose(w)), 1024 * 256 * 256],
  ['q@kT 32x128x64x128', () => api.matmul(q, api.transpose(k, [0, 1, 3, 2])), 32 * 128 * 64 * 128],
  ['p@v 32x128x128x64', () => api.matmul(p, k), 32 * 128 * 64 * 128],
];
for (const [label, f, mac] of cases) {
  for (let i = 0; i < 10; i++) f().dispose();
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) f().dispose();
    samples.push((performance.now() - t0) / 10);
  }
  samples.sort((a, b) => a - b);
  console.log(`${label.padEnd(22)} ${samples[3]!.toFixed(3)} ms  ${((2 * mac) / samples[3]! / 1e6).toFixed(0)} GFLOP/s`);
}
