// The eager MLP training step of bench/ (784-512-512-10, batch 128, Adam) in float32 and under
// bfloat16 autocast (products in bfloat16 on oneDNN, their casts and the elementwise ops between
// them in the addon's half kernels), on mkl and on PyTorch (torch.autocast('cpu', torch.bfloat16)):
//   pnpm exec tsx packages/backend-mkl/bench/autocast.ts [rounds=3]
// Each round runs one process per system in turn (PyTorch with as many threads as cores and the
// spin count the mkl backend sets); prints each process's medians and the median over the rounds.
import { cpus } from 'node:os';
import * as api from '@flint/api';
import '../src/index.js';
import { alternate, printMedians, scriptMedians, torchMedians } from './alternating.js';

const SYSTEMS = ['flint', 'torch'] as const;
type System = (typeof SYSTEMS)[number];

function values(count: number, seed: number, scale: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return ((state / 2 ** 32) * 2 - 1) * scale;
  });
}

/** The step in float32 and under bfloat16 autocast, as a user writes it (Parameters, backward(), optim.Adam). */
function flintCases(): Record<string, () => void> {
  api.setBackend('mkl');
  const [batch, inputs, hidden, classes] = [128, 784, 512, 10];
  const x = api.tensor(values(batch * inputs, 1, 1), { shape: [batch, inputs] });
  const labels = new Float32Array(batch * classes);
  for (let i = 0; i < batch; i++) labels[i * classes + (i % classes)] = 1;
  const y = api.tensor(labels, { shape: [batch, classes] });
  const parameter = (shape: number[], seed: number, scale: number) =>
    new api.Parameter(api.tensor(values(shape[0]! * (shape[1] ?? 1), seed, scale), { shape }));
  const p = {
    w1: parameter([hidden, inputs], 2, 0.03),
    b1: parameter([hidden], 3, 0),
    w2: parameter([hidden, hidden], 4, 0.04),
    b2: parameter([hidden], 5, 0),
    w3: parameter([classes, hidden], 6, 0.04),
    b3: parameter([classes], 7, 0),
  };
  const optimizer = new api.optim.Adam(Object.values(p), { lr: 1e-3 });
  const F = api.nn.functional;
  const forward = () => {
    const h1 = api.relu(F.linear(x, p.w1.value, p.b1.value));
    const h2 = api.relu(F.linear(h1, p.w2.value, p.b2.value));
    const logits = api.cast(F.linear(h2, p.w3.value, p.b3.value), 'float32');
    return api.div(api.neg(api.sum(api.mul(y, F.logSoftmax(logits, -1)))), batch);
  };
  const step = (autocast: boolean) => () =>
    optimizer
      .step(() => {
        optimizer.zeroGrad();
        const loss = autocast ? api.amp.autocast({ dtype: 'bfloat16' }, forward) : forward();
        loss.backward();
        return loss;
      })
      .dispose();
  const cases = { float32: step(false), 'bfloat16 autocast': step(true) };
  // V8 optimizes the step's functions over its first hundred or so steps.
  for (const run of Object.values(cases)) for (let i = 0; i < 150; i++) run();
  return cases;
}

const TORCH = `
import json, os, time, torch
torch.set_num_threads(os.cpu_count() or 1)
def median(run, seconds=2.0):
    for _ in range(150): run()
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 10:
        before = time.perf_counter(); run(); times.append((time.perf_counter() - before) * 1e3)
    times.sort(); return times[len(times) // 2]
def values(count, seed, scale):
    state, out = seed, []
    for _ in range(count):
        state = (state * 1103515245 + 12345) % 2**32
        out.append((state / 2**32 * 2 - 1) * scale)
    return torch.tensor(out, dtype=torch.float32)
batch, inputs, hidden, classes = 128, 784, 512, 10
x = values(batch * inputs, 1, 1).reshape(batch, inputs)
y = torch.zeros(batch, classes)
for i in range(batch): y[i, i % classes] = 1
shapes = [(hidden, inputs, 2, 0.03), (hidden, 0, 3, 0), (hidden, hidden, 4, 0.04), (hidden, 0, 5, 0), (classes, hidden, 6, 0.04), (classes, 0, 7, 0)]
params = [torch.nn.Parameter(values(r * (c or 1), seed, scale).reshape((r, c) if c else (r,))) for r, c, seed, scale in shapes]
optimizer = torch.optim.Adam(params, lr=1e-3)
F = torch.nn.functional
def forward():
    h1 = F.relu(F.linear(x, params[0], params[1]))
    h2 = F.relu(F.linear(h1, params[2], params[3]))
    logits = F.linear(h2, params[4], params[5]).float()
    return -(y * F.log_softmax(logits, -1)).sum() / batch
def step(autocast):
    def run():
        optimizer.zero_grad()
        if autocast:
            with torch.autocast('cpu', dtype=torch.bfloat16): loss = forward()
        else:
            loss = forward()
        loss.backward(); optimizer.step()
    return run
print(json.dumps({'float32': median(step(False)), 'bfloat16 autocast': median(step(True))}))
`;

function runChild(system: System): Record<string, number> {
  return system === 'torch' ? torchMedians(TORCH, []) : scriptMedians(import.meta.url, { AUTOCAST_BENCH_CHILD: '1' }, system);
}

if (process.env.AUTOCAST_BENCH_CHILD !== undefined) {
  printMedians(flintCases());
} else {
  console.log(`${cpus().length} cores; one process per system and round, in turn`);
  const medians = alternate(Number(process.argv[2] ?? 3), SYSTEMS, runChild);
  for (const [name, flint] of Object.entries(medians.flint)) {
    const torch = medians.torch[name] as number;
    console.log(`${name.padEnd(18)} Flint ${flint.toFixed(2)} ms, PyTorch ${torch.toFixed(2)} ms (${(torch / flint).toFixed(2)}x)`);
  }
}
