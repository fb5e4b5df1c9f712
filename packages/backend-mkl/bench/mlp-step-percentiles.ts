// The bench's eager MLP training step (784-512-512-10, batch 128, Adam, backward(), optim.Adam),
// timed step by step: the percentiles of the second half of `steps` steps (the first half warms
// V8 up), and the team size the backend ended with. For comparing OpenMP settings alternately:
//   GOMP_SPINCOUNT=3000 FLINT_MKL_ADAPTIVE_THREADS=0 npx tsx packages/backend-mkl/bench/mlp-step-percentiles.ts [steps=1000]
// (docs/backend-mkl.md, "OpenMP and loaded machines"; DUMP=1 prints the steady steps' times).
import * as api from '@flint/api';
import '../src/index.js';
import { seededValues } from './inputs.js';

type T = api.Tensor;
api.setBackend('mkl');
const random = seededValues();
const tensor = (data: Float32Array, shape: number[]) => api.tensor(data, { shape });
const batch = 128;
const inputs = 784;
const hidden = 512;
const classes = 10;
const x = tensor(random(batch * inputs), [batch, inputs]);
const oneHot = new Float32Array(batch * classes);
for (let i = 0; i < batch; i++) oneHot[i * classes + (i % classes)] = 1;
const y = tensor(oneHot, [batch, classes]);
const parameter = (data: Float32Array | null, shape: number[]) => new api.Parameter(data === null ? api.zeros(shape) : tensor(data, shape));
const p = {
  w1: parameter(random(inputs * hidden, 0.03), [inputs, hidden]),
  b1: parameter(null, [hidden]),
  w2: parameter(random(hidden * hidden, 0.04), [hidden, hidden]),
  b2: parameter(null, [hidden]),
  w3: parameter(random(hidden * classes, 0.04), [hidden, classes]),
  b3: parameter(null, [classes]),
};
const optimizer = new api.optim.Adam(Object.values(p), { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8 });
// As bench/runners/flint.ts writes the loss.
const logSoftmax = (v: T) => {
  const shifted = api.sub(v, api.max(v, -1, true));
  return api.sub(shifted, api.log(api.sum(api.exp(shifted), -1, true)));
};
const step = () =>
  optimizer.step(() => {
    optimizer.zeroGrad();
    const h1 = api.relu(api.add(api.matmul(x, p.w1.value), p.b1.value));
    const h2 = api.relu(api.add(api.matmul(h1, p.w2.value), p.b2.value));
    const logits = api.add(api.matmul(h2, p.w3.value), p.b3.value);
    const loss = api.div(api.neg(api.sum(api.mul(y, logSoftmax(logits)))), batch);
    loss.backward();
    return loss;
  });

const steps = Number(process.argv[2] ?? 1000);
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const start = performance.now();
  step().dispose();
  times.push(performance.now() - start);
}
const steady = times.slice(Math.floor(steps / 2));
const sorted = [...steady].sort((a, b) => a - b);
const at = (q: number) => sorted[Math.floor(q * (sorted.length - 1))]!.toFixed(2);
const mean = steady.reduce((sum, t) => sum + t, 0) / steady.length;
const team = (api.getBackend('mkl') as unknown as { teamSize: number }).teamSize;
console.log(`mean ${mean.toFixed(2)} ms, p10 ${at(0.1)}, p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)}, max ${at(1)}; team of ${team}`);
if (process.env.DUMP) console.log(steady.map((t) => t.toFixed(1)).join(' '));
