// Per-primitive eager time of the bench's MLP, CNN and transformer steps on mkl (or BACKEND=cpu) (WARMUP=n untimed steps first,
// default 3: V8 optimizes the step's functions over its first hundred or so steps).
import * as api from '@flint/api';
import '@flint/backend-mkl';
import { PRIMITIVE_COUNT, primitiveName } from '@flint/api';
import { seededValues } from './inputs.js';

// BACKEND=cpu profiles the portable backend the same way.
const backend = api.setBackend(process.env.BACKEND ?? 'mkl') as unknown as {
  kernels: unknown[];
  compile(k: api.KernelProgram): api.CompiledKernel<unknown> | null;
};
const compiledTimes = new Map<string, { ms: number; n: number }>();
const compileHook = backend.compile.bind(backend);
backend.compile = (kernel) => {
  const compiled = compileHook(kernel);
  if (compiled === null) return null;
  const label = `${kernel.kind} ${kernel.ops
    .map((o) => primitiveName(o.primitive))
    .join(',')
    .slice(0, 60)} ${JSON.stringify(kernel.ops[0]!.aval.shape)}`;
  return {
    run(inputs, consumable) {
      if (!profiling) return compiled.run(inputs, consumable);
      const t0 = performance.now();
      const r = compiled.run(inputs, consumable);
      const entry = compiledTimes.get(label) ?? { ms: 0, n: 0 };
      entry.ms += performance.now() - t0;
      entry.n++;
      compiledTimes.set(label, entry);
      return r;
    },
  };
};
const kernels = backend.kernels as ((...a: unknown[]) => unknown)[];
const times = new Float64Array(PRIMITIVE_COUNT);
const counts = new Float64Array(PRIMITIVE_COUNT);
let profiling = false;
const details = new Map<string, { ms: number; n: number }>();
for (let p = 0; p < PRIMITIVE_COUNT; p++) {
  const k = kernels[p]!;
  kernels[p] = (...args: unknown[]) => {
    if (!profiling) return k(...args);
    const t0 = performance.now();
    const r = k(...args);
    const ms = performance.now() - t0;
    times[p]! += ms;
    counts[p]! += 1;
    if (process.env.DETAIL === primitiveName(p as never)) {
      const inputs = args[0] as { shape: number[]; strides: number[] }[];
      const label = `${JSON.stringify(inputs.map((h) => [h.shape, h.strides]))} ${JSON.stringify(args[1])}`;
      const entry = details.get(label) ?? { ms: 0, n: 0 };
      entry.ms += ms;
      entry.n++;
      details.set(label, entry);
    }
    return r;
  };
}
type T = api.Tensor;
type Params = Record<string, T>;
const rand = seededValues();
const which = process.argv[2] ?? 'cnn';
const t = (d: Float32Array, shape: number[]) => api.tensor(d, { shape });
// As bench/runners/flint.ts writes it.
const logSoftmax = (x: T) => {
  const shifted = api.sub(x, api.max(x, -1, true));
  return api.sub(shifted, api.log(api.sum(api.exp(shifted), -1, true)));
};
const ce = (logits: T, y: T, b: number) => api.div(api.neg(api.sum(api.mul(y, logSoftmax(logits)))), b);
// `imperative` mode writes the step as bench/runners/flint.ts's eager case does (relu, logSoftmax).
const imperative = process.argv[4] === 'imperative';
const relu = (x: T) => (imperative ? api.relu(x) : api.maximum(x, 0));
let params: Params;
let loss: (p: Params) => T;
let logitsOf: (p: Params) => T;
let yTarget: T;
let batchSize: number;
if (which === 'cnn') {
  const b = 64,
    img = 28,
    c1 = 32,
    c2 = 64,
    hidden = 128,
    classes = 10,
    flat = c2 * 7 * 7;
  const x = t(rand(b * img * img), [b, 1, img, img]);
  const yd = new Float32Array(b * classes);
  for (let i = 0; i < b; i++) yd[i * classes + (i % classes)] = 1;
  const y = t(yd, [b, classes]);
  params = {
    k1: t(rand(c1 * 9, 1 / 3), [c1, 1, 3, 3]),
    kb1: api.zeros([c1]),
    k2: t(rand(c2 * c1 * 9, 0.05), [c2, c1, 3, 3]),
    kb2: api.zeros([c2]),
    w3: t(rand(flat * hidden, 0.02), [flat, hidden]),
    b3: api.zeros([hidden]),
    w4: t(rand(hidden * classes, 0.1), [hidden, classes]),
    b4: api.zeros([classes]),
  };
  yTarget = y;
  batchSize = b;
  logitsOf = (p) => {
    const a1 = api.maxPool2d(relu(api.conv2d(x, p.k1!, { padding: 1, bias: p.kb1! })), 2);
    const a2 = api.maxPool2d(relu(api.conv2d(a1, p.k2!, { padding: 1, bias: p.kb2! })), 2);
    const h = relu(api.add(api.matmul(api.reshape(a2, [b, flat]), p.w3!), p.b3!));
    return api.add(api.matmul(h, p.w4!), p.b4!);
  };
  loss = (p) => ce(logitsOf(p), y, b);
} else if (which === 'transformer') {
  // As bench/runners/flint.ts's transformer step: pre-LN encoder layer, 4 heads, d 256, ffn 1024, 8 x 128 tokens.
  const batch = 8,
    tokens = 128,
    d = 256,
    heads = 4,
    dh = 64,
    ffn = 1024,
    rows = batch * tokens;
  const x = t(rand(rows * d), [rows, d]);
  const target = t(rand(rows * d), [rows, d]);
  params = {
    wq: t(rand(d * d, 0.06), [d, d]),
    wk: t(rand(d * d, 0.06), [d, d]),
    wv: t(rand(d * d, 0.06), [d, d]),
    wo: t(rand(d * d, 0.06), [d, d]),
    w1: t(rand(d * ffn, 0.06), [d, ffn]),
    w2: t(rand(ffn * d, 0.03), [ffn, d]),
    bq: api.zeros([d]),
    bk: api.zeros([d]),
    bv: api.zeros([d]),
    bo: api.zeros([d]),
    b1: api.zeros([ffn]),
    b2: api.zeros([d]),
    g1: api.ones([d]),
    n1: api.zeros([d]),
    g2: api.ones([d]),
    n2: api.zeros([d]),
  };
  const layerNorm = (v: T, gain: T, bias: T) => {
    const centered = api.sub(v, api.mean(v, -1, true));
    const variance = api.mean(api.mul(centered, centered), -1, true);
    return api.add(api.mul(api.mul(centered, api.rsqrt(api.add(variance, 1e-5))), gain), bias);
  };
  const splitHeads = (v: T) => api.transpose(api.reshape(v, [batch, tokens, heads, dh]), [0, 2, 1, 3]);
  const forward = (p: Params) => {
    const h = layerNorm(x, p.g1!, p.n1!);
    const q = splitHeads(api.add(api.matmul(h, p.wq!), p.bq!));
    const k = splitHeads(api.add(api.matmul(h, p.wk!), p.bk!));
    const v = splitHeads(api.add(api.matmul(h, p.wv!), p.bv!));
    const scores = api.mul(api.matmul(q, api.transpose(k, [0, 1, 3, 2])), 1 / Math.sqrt(dh));
    const context = api.reshape(api.transpose(api.matmul(api.nn.functional.softmax(scores, -1), v), [0, 2, 1, 3]), [rows, d]);
    const x1 = api.add(x, api.add(api.matmul(context, p.wo!), p.bo!));
    const f = api.add(api.matmul(relu(api.add(api.matmul(layerNorm(x1, p.g2!, p.n2!), p.w1!), p.b1!)), p.w2!), p.b2!);
    const diff = api.sub(api.add(x1, f), target);
    return api.mean(api.mul(diff, diff));
  };
  yTarget = target;
  batchSize = rows;
  logitsOf = forward;
  loss = forward;
} else {
  const b = 128,
    i0 = 784,
    h = 512,
    c = 10;
  const x = t(rand(b * i0), [b, i0]);
  const yd = new Float32Array(b * c);
  for (let i = 0; i < b; i++) yd[i * c + (i % c)] = 1;
  const y = t(yd, [b, c]);
  params = {
    w1: t(rand(i0 * h, 0.03), [i0, h]),
    b1: api.zeros([h]),
    w2: t(rand(h * h, 0.04), [h, h]),
    b2: api.zeros([h]),
    w3: t(rand(h * c, 0.04), [h, c]),
    b3: api.zeros([c]),
  };
  yTarget = y;
  batchSize = b;
  logitsOf = (p) => {
    const h1 = relu(api.add(api.matmul(x, p.w1!), p.b1!));
    const h2 = relu(api.add(api.matmul(h1, p.w2!), p.b2!));
    return api.add(api.matmul(h2, p.w3!), p.b3!);
  };
  loss = (p) => ce(logitsOf(p), y, b);
}
const vg = api.valueAndGrad(loss);
let m: Params = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, api.zeros(w.shape)]));
let v: Params = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, api.zeros(w.shape)]));
let step = 0;
const adamStep = () => {
  const prev = { params, m, v };
  const next = api.tidy(() => {
    const [value, grads] = vg(params) as unknown as [T, Params];
    step++;
    const c1 = 1 - 0.9 ** step,
      c2 = 1 - 0.999 ** step;
    const np: Params = {},
      nm: Params = {},
      nv: Params = {};
    for (const [name, p] of Object.entries(params)) {
      const g = grads[name]!;
      const mN = api.add(api.mul(m[name]!, 0.9), api.mul(g, 0.1));
      const vN = api.add(api.mul(v[name]!, 0.999), api.mul(api.mul(g, g), 0.001));
      const den = api.add(api.sqrt(api.div(vN, c2)), 1e-8);
      np[name] = api.sub(p, api.div(api.mul(mN, 1e-3 / c1), den));
      nm[name] = mN;
      nv[name] = vN;
    }
    return { np, nm, nv, value };
  });
  api.dispose([prev.params, prev.m, prev.v]);
  params = next.np;
  m = next.nm;
  v = next.nv;
  return next.value;
};
const useJit = process.argv[4] === 'jit';
const jitted = api.jit(
  (p: Params, m0: Params, v0: Params, count: T) => {
    const [value, grads] = vg(p) as unknown as [T, Params];
    const c1 = api.sub(1, api.exp(api.mul(count, Math.log(0.9))));
    const c2 = api.sub(1, api.exp(api.mul(count, Math.log(0.999))));
    const out = { p: {} as Params, m: {} as Params, v: {} as Params, value };
    for (const [name, w] of Object.entries(p)) {
      const g = grads[name]!;
      const mN = api.add(api.mul(m0[name]!, 0.9), api.mul(g, 0.1));
      const vN = api.add(api.mul(v0[name]!, 0.999), api.mul(api.mul(g, g), 0.001));
      out.p[name] = api.sub(w, api.div(api.mul(api.div(mN, c1), 1e-3), api.add(api.sqrt(api.div(vN, c2)), 1e-8)));
      out.m[name] = mN;
      out.v[name] = vN;
    }
    return out;
  },
  { donateArgnums: [0, 1, 2] },
);
const jitStep = () => {
  step++;
  const count = api.tensor(new Float32Array([step]), { shape: [1] });
  const out = jitted(params, m, v, count) as unknown as { p: Params; m: Params; v: Params; value: T };
  count.dispose();
  params = out.p;
  m = out.m;
  v = out.v;
  return out.value;
};
// As the bench's eager case: Parameters, backward(), optim.Adam.
const imperativeStep = (() => {
  if (!imperative) return adamStep;
  const cells = Object.fromEntries(Object.entries(params).map(([k, w]) => [k, new api.Parameter(w)]));
  const optimizer = new api.optim.Adam(Object.values(cells), { lr: 1e-3, betas: [0.9, 0.999] as const, eps: 1e-8 });
  const values = (): Params => Object.fromEntries(Object.entries(cells).map(([k, p]) => [k, p.value]));
  const step = () => {
    optimizer.zeroGrad();
    const value =
      which === 'transformer' ? loss(values()) : api.div(api.neg(api.sum(api.mul(yTarget, logSoftmax(logitsOf(values()))))), batchSize);
    value.backward();
    optimizer.step();
    return value;
  };
  // TIDY=1 frees the step's intermediates when it ends (the pool then recycles them) instead of
  // leaving them to the garbage collector.
  return process.env.TIDY === '1' ? () => api.tidy(step) : step;
})();
const run = useJit ? jitStep : imperativeStep;
// Fresh arrays of pool size (misses) versus pooled ones, to see whether a step recycles its buffers.
type Ledger = { allocateUninitialized(d: string, n: number): ArrayLike<number> };
// mkl's ledger; the portable backend has none to wrap, and its allocations go uncounted.
const ledger = (backend as unknown as { memoryLedger?: Ledger }).memoryLedger ?? { allocateUninitialized: () => [] };
const allocate = ledger.allocateUninitialized.bind(ledger);
let poolMisses = 0;
let poolMissBytes = 0;
let poolCalls = 0;
ledger.allocateUninitialized = (dtype, size) => {
  const before = (ledger as unknown as { pooledBytes: number }).pooledBytes;
  const r = allocate(dtype, size);
  if (profiling && size >= 16384) {
    poolCalls++;
    if ((ledger as unknown as { pooledBytes: number }).pooledBytes === before) {
      poolMisses++;
      poolMissBytes += size * 4;
      if (process.env.SHOW_MISSES) console.log(`fresh ${dtype} ${size}`);
    }
  }
  return r;
};
for (let i = 0; i < Number(process.env.WARMUP ?? 3); i++) run().dispose();
const N = Number(process.argv[3] ?? 10);
if (process.env.MARK) console.log('=== MEASURE START');
profiling = true;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let i = 0; i < N; i++) run().dispose();
const wall = (performance.now() - t0) / N;
const cpu = process.cpuUsage(cpu0);
profiling = false;
const rows = [...times]
  .map((ms, p) => ({ p: primitiveName(p as never), ms: ms / N, n: counts[p]! / N }))
  .filter((r) => r.n > 0)
  .sort((a, b) => b.ms - a.ms);
let total = 0;
for (const r of rows) total += r.ms;
console.log(
  `${which}: step ${wall.toFixed(2)} ms wall, cpu ${((cpu.user + cpu.system) / 1000 / N).toFixed(2)} ms, kernels ${total.toFixed(2)} ms`,
);
for (const r of rows) console.log(`  ${r.p.padEnd(14)} ${r.ms.toFixed(3).padStart(8)} ms  x${r.n}`);
for (const [label, e] of details) console.log(`  ${(e.ms / N).toFixed(3)} ms x${e.n / N} ${label}`);
const fused = [...compiledTimes].map(([label, e]) => ({ label, ms: e.ms / N, n: e.n / N })).sort((a, b) => b.ms - a.ms);
let fusedTotal = 0;
for (const f of fused) fusedTotal += f.ms;
if (fused.length > 0) console.log(`compiled kernels ${fusedTotal.toFixed(2)} ms`);
for (const f of fused.slice(0, 25)) console.log(`  ${f.ms.toFixed(3).padStart(8)} ms x${f.n} ${f.label}`);
console.log(
  `pool: ${(poolCalls / N).toFixed(1)} large allocations per step, ${(poolMisses / N).toFixed(1)} fresh (${(poolMissBytes / N / 1048576).toFixed(2)} MiB)`,
);
