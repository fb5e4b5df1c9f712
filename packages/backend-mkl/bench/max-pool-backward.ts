// Max pooling's backward pass on mkl with the addon's kernel (Backend.composites.windowMaxBackward)
// against the ops it replaces (argmax over the stacked windows, gather, scatter-add), in one
// process: forward + backward of maxPool2d(x, 2) at the benchmark CNN's shapes, and the eager
// LeNet-style training step of bench/ (2x (conv3x3 + relu + maxpool) 32/64 channels, batch 64, Adam):
//   pnpm exec tsx packages/backend-mkl/bench/max-pool-backward.ts [rounds=8]
// The kernel is taken out of the backend's composites for the "ops" blocks; one case at a time,
// blocks alternate, each round starting with the other variant, so that the machine's phases
// fall on both alike. Prints medians over the rounds.
import * as api from '@flint/api';
import type { MklBackend } from '../src/index.js';
import '../src/index.js';
import { middle } from './alternating.js';
import { seededValues } from './inputs.js';

type T = api.Tensor;
const rounds = Number(process.argv[2] ?? 8);
const backend = api.setBackend('mkl') as unknown as MklBackend & { composites: { windowMaxBackward?: unknown } };
const kernel = backend.composites.windowMaxBackward;

const values = seededValues();
const random = (shape: readonly number[], scale = 1) =>
  api.tensor(
    values(
      shape.reduce((p, d) => p * d, 1),
      scale,
    ),
    { shape: [...shape] },
  );
const F = api.nn.functional;

const cases: Record<string, () => void> = {};
for (const shape of [
  [64, 32, 28, 28],
  [64, 64, 14, 14],
]) {
  const x = random(shape);
  const weights = random([shape[0]!, shape[1]!, shape[2]! / 2, shape[3]! / 2]);
  const loss = (t: T) => F.maxPool2d(t, 2).mul(weights).sum();
  cases[`pool ${JSON.stringify(shape)}`] = () => api.tidy(() => void api.grad(loss)(x));
}

const batch = 64;
const x = random([batch, 1, 28, 28]);
const labels = new Float32Array(batch * 10);
for (let i = 0; i < batch; i++) labels[i * 10 + (i % 10)] = 1;
const y = api.tensor(labels, { shape: [batch, 10] });
const parameter = (shape: number[], scale: number) => new api.Parameter(random(shape, scale));
const p = {
  k1: parameter([32, 1, 3, 3], 0.3),
  kb1: parameter([32], 0.01),
  k2: parameter([64, 32, 3, 3], 0.06),
  kb2: parameter([64], 0.01),
  w3: parameter([64 * 7 * 7, 128], 0.02),
  b3: parameter([128], 0.01),
  w4: parameter([128, 10], 0.09),
  b4: parameter([10], 0.01),
};
const optimizer = new api.optim.Adam(Object.values(p), { lr: 1e-3 });
cases['CNN step'] = () =>
  optimizer
    .step(() => {
      optimizer.zeroGrad();
      const a1 = F.maxPool2d(api.relu(F.conv2d(x, p.k1.value, { padding: 1, bias: p.kb1.value })), 2);
      const a2 = F.maxPool2d(api.relu(F.conv2d(a1, p.k2.value, { padding: 1, bias: p.kb2.value })), 2);
      const h = api.relu(api.add(api.matmul(api.reshape(a2, [batch, 64 * 49]), p.w3.value), p.b3.value));
      const logits = api.add(api.matmul(h, p.w4.value), p.b4.value);
      const loss = api.div(api.neg(api.sum(api.mul(y, F.logSoftmax(logits, -1)))), batch);
      loss.backward();
      return loss;
    })
    .dispose();

const use = (variant: 'kernel' | 'ops') => {
  if (variant === 'kernel') backend.composites.windowMaxBackward = kernel;
  else delete backend.composites.windowMaxBackward;
};
const times: Record<string, Record<'kernel' | 'ops', number[]>> = {};
const kernelRuns = { kernel: 0, ops: 0 };
// One case at a time (a CNN step's garbage would otherwise land in the pool's blocks).
for (const [label, run] of Object.entries(cases)) {
  times[label] = { kernel: [], ops: [] };
  for (const variant of ['kernel', 'ops'] as const) {
    use(variant);
    for (let i = 0; i < 100; i++) run(); // V8 optimizes the step's functions over its first hundred or so calls
  }
  for (let round = 0; round < rounds; round++) {
    for (const variant of round % 2 === 0 ? (['kernel', 'ops'] as const) : (['ops', 'kernel'] as const)) {
      use(variant);
      const before = backend.compositeRuns('windowMaxBackward');
      for (let i = 0; i < 3; i++) run();
      const start = performance.now();
      for (let i = 0; i < 20; i++) run();
      times[label][variant].push((performance.now() - start) / 20);
      kernelRuns[variant] += backend.compositeRuns('windowMaxBackward') - before;
    }
  }
}
use('kernel');
for (const [label, { kernel: withKernel, ops }] of Object.entries(times)) {
  const [k, o] = [middle(withKernel), middle(ops)];
  console.log(`${label.padEnd(22)} kernel ${k.toFixed(3).padStart(7)} ms   ops ${o.toFixed(3).padStart(7)} ms   ${(o / k).toFixed(2)}x`);
}
console.log(`(kernel runs in the timed blocks: ${kernelRuns.kernel} with the kernel, ${kernelRuns.ops} without)`);
