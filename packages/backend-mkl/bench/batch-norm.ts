// Batch norm on mkl: nn.functional.batchNorm with `training` (forward, and forward + backward
// through the tape) and with running statistics (inference, nothing recorded) with the fused
// kernels (Backend.composites.batchNorm, batchNormBackward and batchNormInference) against the
// composite of primitives (FLINT_MKL_COMPOSITES=off) and PyTorch's
// torch.nn.functional.batch_norm, at shapes of a small CNN:
//   pnpm exec tsx packages/backend-mkl/bench/batch-norm.ts [rounds=3]
// Each round runs one process per system, in turn (PyTorch with as many threads as cores and the
// spin count the mkl backend sets), so that load on the machine falls on all alike; it prints
// each process's medians and the median over the rounds.
import { cpus } from 'node:os';
import '@flint/backend-cpu';
import { nn, type Tensor, tensor, tidy } from '@flint/api';
import '../src/index.js';
import { alternate, printMedians, scriptMedians, torchMedians } from './alternating.js';

const SHAPES = [
  [64, 32, 28, 28],
  [64, 64, 14, 14],
  [128, 256],
];
const MODES = ['fused', 'composite', 'torch'] as const;
type Mode = (typeof MODES)[number];

function values(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return (state / 2 ** 32) * 6 - 3;
  });
}

const label = (shape: readonly number[], pass: string) => `[${shape.join(',')}] ${pass}`;

/** nn.functional.batchNorm as a user calls it: training, forward and forward + backward (the tape); inference. */
function apiCases(): Record<string, () => void> {
  const cases: Record<string, () => void> = {};
  for (const shape of SHAPES) {
    const size = shape.reduce((a, b) => a * b, 1);
    const channels = shape[1]!;
    const x = tensor(values(size, 1), { shape, backend: 'mkl' });
    const xRecorded = tensor(values(size, 1), { shape, backend: 'mkl', requiresGrad: true });
    const g = tensor(values(size, 2), { shape, backend: 'mkl' });
    const weight = tensor(values(channels, 3), { backend: 'mkl', requiresGrad: true });
    const bias = tensor(values(channels, 4), { backend: 'mkl', requiresGrad: true });
    const runningMean = tensor(values(channels, 5), { backend: 'mkl' });
    const runningVar = tensor(values(channels, 6).map(Math.abs), { backend: 'mkl' });
    const clear = (...leaves: Tensor[]) => {
      for (const leaf of leaves) {
        leaf.grad?.dispose();
        leaf.grad = null;
      }
    };
    cases[label(shape, 'forward')] = () =>
      tidy(() => nn.functional.batchNorm(x, null, null, { training: true, weight: weight.detach(), bias: bias.detach() })).dispose();
    cases[label(shape, 'fwd+bwd')] = () => {
      tidy(() => nn.functional.batchNorm(xRecorded, null, null, { training: true, weight, bias }).backward(g));
      clear(xRecorded, weight, bias);
    };
    cases[label(shape, 'inference')] = () =>
      tidy(() => nn.functional.batchNorm(x, runningMean, runningVar, { weight: weight.detach(), bias: bias.detach() })).dispose();
  }
  return cases;
}

const TORCH = `
import json, os, sys, time, torch
torch.set_num_threads(os.cpu_count() or 1)
shapes = json.loads(sys.argv[1])
def median(run, seconds=2.0):
    for _ in range(5): run()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 10:
        before = time.perf_counter(); run(); times.append((time.perf_counter() - before) * 1e3)
    times.sort(); return times[len(times) // 2]
def values(count, seed):
    state, out = seed, []
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**32
        out.append(state / 2**32 * 6 - 3)
    return torch.tensor(out, dtype=torch.float32)
result = {}
for shape in shapes:
    size, channels = 1, shape[1]
    for d in shape: size *= d
    x = values(size, 1).reshape(shape)
    x_recorded = x.clone().requires_grad_(True)
    g = values(size, 2).reshape(shape)
    weight = values(channels, 3).requires_grad_(True)
    bias = values(channels, 4).requires_grad_(True)
    running_mean, running_var = values(channels, 5), values(channels, 6).abs()
    name = '[' + ','.join(str(d) for d in shape) + ']'
    def forward():
        with torch.no_grad(): torch.nn.functional.batch_norm(x, None, None, weight, bias, training=True)
    def both():
        torch.nn.functional.batch_norm(x_recorded, None, None, weight, bias, training=True).backward(g)
        x_recorded.grad = None; weight.grad = None; bias.grad = None
    def inference():
        with torch.no_grad(): torch.nn.functional.batch_norm(x, running_mean, running_var, weight, bias, training=False)
    result[name + ' forward'] = median(forward)
    result[name + ' fwd+bwd'] = median(both)
    result[name + ' inference'] = median(inference)
print(json.dumps(result))
`;

function runChild(mode: Mode): Record<string, number> {
  if (mode === 'torch') return torchMedians(TORCH, [JSON.stringify(SHAPES)]);
  return scriptMedians(import.meta.url, { BATCH_NORM_BENCH_CHILD: mode, FLINT_MKL_COMPOSITES: mode === 'fused' ? 'on' : 'off' }, mode);
}

if (process.env.BATCH_NORM_BENCH_CHILD !== undefined) {
  printMedians(apiCases());
} else {
  console.log(`${cpus().length} cores; one process per system and round, in turn`);
  const medians = alternate(Number(process.argv[2] ?? 3), MODES, runChild);
  for (const [name, fused] of Object.entries(medians.fused)) {
    const composite = medians.composite[name] as number;
    const torch = medians.torch[name] as number;
    console.log(
      `${name.padEnd(26)} fused ${fused.toFixed(3)} ms, composite ${composite.toFixed(3)} ms (${(composite / fused).toFixed(2)}x), ` +
        `PyTorch ${torch.toFixed(3)} ms (${(torch / fused).toFixed(2)}x)`,
    );
  }
}
