// Times each matmul of the bench's MLP step on its own (operand layouts as the step's backward pass has them).
import * as api from '@flint/api';
import '@flint/backend-mkl';
import { sineTensor as rand } from './inputs.js';

api.setBackend('mkl');
// [label, lhs shape, rhs shape, transpose lhs, transpose rhs]
const cases: [string, number[], number[], boolean, boolean][] = [
  ['x@w1 128x784x512', [128, 784], [784, 512], false, false],
  ['h@w2 128x512x512', [128, 512], [512, 512], false, false],
  ['h@w3 128x512x10', [128, 512], [512, 10], false, false],
  ['g@w3T 128x10->512', [128, 10], [512, 10], false, true],
  ['hT@g 512x128x10', [128, 512], [128, 10], true, false],
  ['g@w2T 128x512x512', [128, 512], [512, 512], false, true],
  ['hT@g 512x128x512', [128, 512], [128, 512], true, false],
  ['xT@g 784x128x512', [128, 784], [128, 512], true, false],
];
const N = Number(process.argv[2] ?? 200);
for (const [label, sa, sb, ta, tb] of cases) {
  const a = rand(sa),
    b = rand(sb);
  // GAP_US=n busy-waits n microseconds between calls, as the other work of a training step does.
  const gapMs = Number(process.env.GAP_US ?? 0) / 1000;
  const matmulOnce = () => api.matmul(ta ? api.transpose(a) : a, tb ? api.transpose(b) : b);
  const f = () => {
    if (gapMs > 0) {
      const until = performance.now() + gapMs;
      while (performance.now() < until);
    }
    return matmulOnce();
  };
  for (let i = 0; i < 20; i++) f().dispose();
  const samples: number[] = [];
  for (let r = 0; r < 7; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N / 7; i++) f().dispose();
    samples.push(((performance.now() - t0) / Math.floor(N / 7)) * 1000);
  }
  samples.sort((x, y) => x - y);
  console.log(`${label.padEnd(22)} ${samples[3]!.toFixed(0).padStart(6)} us (min ${samples[0]!.toFixed(0)})`);
}
