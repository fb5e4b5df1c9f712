// Grouped convolutions' gradients on mkl against PyTorch's on the same CPU, in one run: for each
// shape the forward plus the input gradient, and the forward plus the filter gradient, of
// sum(conv2d(x, w)^2), as medians of timed repetitions after warm-up; PyTorch (python3 with torch,
// set to this process's thread count) runs the same computation on the same shapes right after.
//   pnpm exec tsx packages/backend-mkl/bench/grouped-conv-gradients.ts [repetitions=7]
// The input gradients of strided grouped convolutions run oneDNN's backward-data pass and the
// filter gradients its backward-weights pass (src/kernels/conv.ts; docs/backend-mkl.md).
import { spawnSync } from 'node:child_process';
import * as api from '@flint/api';
import type { MklBackend } from '../src/index.js';
import '../src/index.js';
import { seededValues } from './inputs.js';

const repetitions = Number(process.argv[2] ?? 7);
const backend = api.setBackend('mkl') as unknown as MklBackend;
const threads = backend.info.threads;
const values = seededValues();
const random = (shape: readonly number[]) =>
  api.tensor(
    values(
      shape.reduce((p, d) => p * d, 1),
      1,
    ),
    { shape: [...shape] },
  );

interface Case {
  readonly label: string;
  readonly x: readonly number[];
  readonly w: readonly number[];
  readonly groups: number;
  readonly stride: number;
}
const cases: Case[] = [
  { label: "ResNeXt's 3x3, groups 32", x: [16, 256, 28, 28], w: [256, 8, 3, 3], groups: 32, stride: 1 },
  { label: "ResNeXt's 3x3, groups 32, stride 2", x: [16, 256, 28, 28], w: [256, 8, 3, 3], groups: 32, stride: 2 },
  { label: '3x3, groups 2', x: [16, 64, 28, 28], w: [128, 32, 3, 3], groups: 2, stride: 1 },
];

const median = (times: number[]) => [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;

function time(run: () => void): number {
  for (let i = 0; i < 2; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return median(times);
}

const flint = cases.map((c) => {
  const [x, w] = [random(c.x), random(c.w)];
  const options = { padding: 1, stride: c.stride, groups: c.groups };
  const loss = (a: api.Tensor, b: api.Tensor) => api.nn.functional.conv2d(a, b, options).square().sum();
  const dx = time(() => api.tidy(() => void api.grad(loss, { argnums: 0 })(x, w)));
  const dw = time(() => api.tidy(() => void api.grad(loss, { argnums: 1 })(x, w)));
  return { dx, dw };
});

const script = `
import json, sys, time, torch
torch.set_num_threads(${threads})
cases, repetitions, out = json.loads(sys.argv[1]), int(sys.argv[2]), []
def median(run):
    for _ in range(2): run()
    times = []
    for _ in range(repetitions):
        start = time.perf_counter(); run(); times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]
for c in cases:
    x, w = torch.rand(c['x']) * 2 - 1, torch.rand(c['w']) * 2 - 1
    def grad(which):
        a, b = x.clone().requires_grad_(which == 0), w.clone().requires_grad_(which == 1)
        torch.nn.functional.conv2d(a, b, stride=c['stride'], padding=1, groups=c['groups']).square().sum().backward()
    out.append({'dx': median(lambda: grad(0)), 'dw': median(lambda: grad(1))})
print(json.dumps(out))
`;
const torch = spawnSync('/usr/bin/python3', ['-c', script, JSON.stringify(cases), String(repetitions)], { encoding: 'utf8' });
const reference: { dx: number; dw: number }[] | null = torch.status === 0 ? JSON.parse(torch.stdout) : null;
if (reference === null) console.log(`PyTorch not measured: ${(torch.stderr || torch.error?.message || '').trim().split('\n').pop()}`);

console.log(
  `mkl (oneDNN ${backend.info.onednn}, ${threads} threads)${reference === null ? '' : ' and PyTorch'}: ms, medians of ${repetitions}; ratios are PyTorch's time over mkl's (above 1: mkl is faster)`,
);
for (const [i, c] of cases.entries()) {
  const ours = flint[i] as { dx: number; dw: number };
  const theirs = reference?.[i];
  const column = (name: 'dx' | 'dw') =>
    `${name === 'dx' ? 'forward + input grad' : 'forward + filter grad'} ${ours[name].toFixed(1)}` +
    (theirs === undefined ? '' : ` (PyTorch ${theirs[name].toFixed(1)}, ${(theirs[name] / ours[name]).toFixed(2)}x)`);
  console.log(`${c.label} x ${JSON.stringify(c.x)} w ${JSON.stringify(c.w)}: ${column('dx')}; ${column('dw')}`);
}
