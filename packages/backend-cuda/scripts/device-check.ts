// The CUDA backend's one-shot check on a GPU machine, bundled with esbuild (device-check.sh
// prepare) so that it runs with a bare Node binary: the conformance tables of test/conformance
// on 'cuda', the GPU checks of src/gpu.checks.ts, and benchmarks (matmul through cuBLASLt and the
// own kernel, convolution and max pooling through cuDNN and the own kernels, bandwidth of elementwise ops,
// reductions and transfers, dispatch overhead, a jit-fused chain). Results go to
// <out>/cuda-<date>.json and .md (out: the first argument, else $OUT, else bench/results).
//
// It also takes the measurements issue 10 asks for side by side with PyTorch (`issue` in the
// report; scripts/torch-bench.py times PyTorch on the same GPU and writes the ratios): a fused
// chain of 10 elementwise ops against the device-to-device copy bandwidth, the CNN and transformer
// training steps (device-models.ts), and the launch overhead of eager small ops.
//
//   node device-check.mjs [outDir] [--quick] [--rehearsal] [--gradient-stride=k]
//
// --rehearsal runs the conformance tables, the checks and the issue's measurements at toy sizes
// and skips the other benchmarks: for the CPU emulation of the addon (FLINT_CUDA_ADDON), which
// rehearses the whole script on a machine without a GPU.
// --gradient-stride=k compares every primitive's gradients but only every k-th composite case's:
// the rehearsals on the emulation (device-check.test.ts, native/sanitized.test.ts) check that the
// phase runs and reports, while gradients.test.ts compares every case there once.
import '@flint/backend-cpu';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Backend, bind, initBackend, jit, Primitive, primitiveName, registerBackend, type Tensor, tensor, tidy } from '@flint/api';
import { CASES } from '../../../test/conformance/cases/index.js';
import type { PrimitiveTable } from '../../../test/conformance/cases/types.js';
import { ALL_PRIMITIVES, caseDTypes, runCase } from '../../../test/conformance/harness.js';
import { compositeCases } from '../../../test/gradcheck/cases/composites.js';
import { primitiveCases } from '../../../test/gradcheck/cases/index.js';
import { compareGradients } from '../../../test/gradcheck/cross-backend.js';
import type { OpCase } from '../../../test/gradcheck/harness.js';
import { type CudaBackend, CudaBackend as CudaBackendClass } from '../src/backend.js';
import { GPU_CHECKS } from '../src/gpu.checks.js';
import { createCudaBackend } from '../src/index.js';
import { loadAddon } from '../src/native/load.js';
import { CNN_PARAMS, cnnStep, TRANSFORMER_PARAMS, type TrainingStep, transformerStep } from './device-models.js';

interface Benchmark {
  readonly name: string;
  readonly medianMs: number;
  readonly value: number;
  readonly unit: string;
  readonly note?: string;
}

const args = process.argv.slice(2);
const quick = args.includes('--quick');
// Runs everything against the addon's validation-only mode (no GPU; values are not computed), to
// smoke-test this script and its bundle on the machine that prepares it.
const validationOnly = args.includes('--validation-only');
const rehearsal = args.includes('--rehearsal');
const outDir = args.find((a) => !a.startsWith('--')) ?? process.env.OUT ?? 'bench/results';
const gradientStride = gradientStrideOf(args);
const started = Date.now();

function gradientStrideOf(options: readonly string[]): number {
  const option = options.find((a) => a.startsWith('--gradient-stride='));
  if (option === undefined) return 1;
  const stride = Number(option.slice('--gradient-stride='.length));
  if (!Number.isInteger(stride) || stride < 1) throw new Error(`device-check: ${option}: expected a positive integer`);
  return stride;
}

function log(message: string): void {
  process.stdout.write(`[device-check ${((Date.now() - started) / 1000).toFixed(1)}s] ${message}\n`);
}

function validationBackend(): CudaBackend {
  const loaded = loadAddon();
  if ('reason' in loaded) throw new Error(loaded.reason);
  loaded.addon.initValidationOnly();
  const info = {
    device: -1,
    name: 'validation only',
    computeCapability: '0.0',
    multiprocessors: 0,
    totalMemory: 0,
    runtimeVersion: 0,
    driverVersion: 0,
  };
  const backend = new CudaBackendClass(loaded.addon, info);
  registerBackend({ name: 'cuda', priority: 0, create: () => backend as unknown as Backend });
  return backend;
}

async function conformance(
  cuda: Backend,
): Promise<{ passed: number; failed: number; failures: string[]; perPrimitive: Record<string, string> }> {
  let passed = 0;
  let failed = 0;
  const failures: string[] = [];
  const perPrimitive: Record<string, string> = {};
  for (const p of ALL_PRIMITIVES) {
    const table = CASES[p] as PrimitiveTable<Primitive>;
    let ok = 0;
    let bad = 0;
    for (const kase of table.cases) {
      for (const dtype of caseDTypes(table, kase, cuda.capabilities.dtypes)) {
        const result = await runCase(cuda, p, table, kase, dtype);
        if (result.failure === null) ok++;
        else {
          bad++;
          failures.push(`${primitiveName(p)} ${result.label}: ${result.failure.slice(0, 600)}`);
        }
      }
    }
    passed += ok;
    failed += bad;
    perPrimitive[primitiveName(p)] = `${ok}/${ok + bad}`;
  }
  return { passed, failed, failures, perPrimitive };
}

/** Median milliseconds of `run` (which queues work) over `repeats`, after `warmup` runs, synchronizing around each. */
async function time(cuda: CudaBackend, run: () => Tensor | Tensor[] | null, repeats: number, warmup = 2): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < warmup + repeats; i++) {
    await cuda.synchronize();
    const t0 = performance.now();
    const out = run();
    await cuda.synchronize();
    const elapsed = performance.now() - t0;
    if (i >= warmup) samples.push(elapsed);
    for (const t of out === null ? [] : Array.isArray(out) ? out : [out]) t.dispose();
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

function uniform(cuda: CudaBackend, shape: number[], dtype: 'float32' | 'float64' | 'float16' | 'bfloat16', seed: number): Tensor {
  const key = tensor([seed, 12345], { dtype: 'int32', backend: 'cuda' });
  const out = bind(Primitive.RandomUniform, [key], { shape, dtype }, cuda as unknown as Backend);
  key.dispose();
  return out;
}

/**
 * Seconds into the run after which no further benchmark section starts: device-check.sh stops
 * the script at 190 s, and what was measured must reach the report first.
 */
const DEADLINE_SECONDS = 175;

class DeadlinePassed extends Error {}

/** Throws DeadlinePassed once the run is past its deadline (between benchmark sections). */
function checkpoint(section: string): void {
  if (!rehearsal && (Date.now() - started) / 1000 > DEADLINE_SECONDS)
    throw new DeadlinePassed(`the ${DEADLINE_SECONDS} s deadline passed before ${section}`);
}

/** The benchmarks, each handed to `progress` with those before it as it is recorded (so the report keeps them if the run is cut short). */
async function benchmarks(cuda: CudaBackend, progress: (so: readonly Benchmark[]) => void): Promise<Benchmark[]> {
  const results: Benchmark[] = [];
  const record = (name: string, ms: number, value: number, unit: string, note?: string) => {
    results.push({ name, medianMs: ms, value, unit, ...(note ? { note } : {}) });
    progress(results);
    log(`${name}: ${ms.toFixed(3)} ms, ${value.toFixed(1)} ${unit}${note ? ` (${note})` : ''}`);
  };
  const lt = cuda.libraries().cublasLt.found;
  const dnn = cuda.libraries().cudnn.found;

  // Matmul: GFLOP/s = 2 n^3 / time.
  const sizes = quick ? [1024, 4096] : [1024, 4096, 8192];
  for (const n of sizes) {
    const a = uniform(cuda, [n, n], 'float32', 1);
    const b = uniform(cuda, [n, n], 'float32', 2);
    const flops = 2 * n ** 3;
    for (const engine of lt ? (['cublasLt', 'kernel'] as const) : (['kernel'] as const)) {
      if (engine === 'kernel' && n > 4096) continue;
      cuda.configure({ matmulEngine: engine });
      const ms = await time(cuda, () => a.matmul(b), 5);
      record(`matmul f32 ${n} (${engine})`, ms, flops / ms / 1e6, 'GFLOP/s', 'TF32 off');
    }
    if (lt && n >= 4096) {
      cuda.configure({ matmulEngine: 'cublasLt', allowTf32: true });
      const ms = await time(cuda, () => a.matmul(b), 5);
      record(`matmul f32 ${n} (cublasLt)`, ms, flops / ms / 1e6, 'GFLOP/s', 'TF32 on');
      cuda.configure({ allowTf32: false });
    }
    a.dispose();
    b.dispose();
  }
  checkpoint('the float64 matmul');
  {
    const n = 2048;
    const a = uniform(cuda, [n, n], 'float64', 3);
    const b = uniform(cuda, [n, n], 'float64', 4);
    for (const engine of lt ? (['cublasLt', 'kernel'] as const) : (['kernel'] as const)) {
      cuda.configure({ matmulEngine: engine });
      const ms = await time(cuda, () => a.matmul(b), 5);
      record(`matmul f64 ${n} (${engine})`, ms, (2 * n ** 3) / ms / 1e6, 'GFLOP/s');
    }
    a.dispose();
    b.dispose();
  }
  checkpoint('the half matmuls');
  // Half matmuls on the tensor cores (float32 accumulation). The bf16 operands and product are
  // left in FLINT_TORCH_COMPARE (device-check.sh) for scripts/torch-compare.py, which checks the
  // product against torch's and times torch on the same matrices.
  if (lt) {
    cuda.configure({ matmulEngine: 'cublasLt' });
    const n = quick ? 4096 : 8192;
    for (const dtype of ['bfloat16', 'float16'] as const) {
      const a = uniform(cuda, [n, n], dtype, 11);
      const b = uniform(cuda, [n, n], dtype, 12);
      const ms = await time(cuda, () => a.matmul(b), 5);
      record(`matmul ${dtype} ${n} (cublasLt)`, ms, (2 * n ** 3) / ms / 1e6, 'GFLOP/s', 'tensor cores, f32 accumulation');
      const folder = process.env.FLINT_TORCH_COMPARE;
      if (dtype === 'bfloat16' && folder) {
        mkdirSync(folder, { recursive: true });
        const c = a.matmul(b);
        const bits = (t: Tensor) => cuda.read(t._handle as never);
        const [aBits, bBits, cBits] = await Promise.all([bits(a), bits(b), bits(c)]);
        writeFileSync(join(folder, 'a.bin'), aBits as Uint16Array);
        writeFileSync(join(folder, 'b.bin'), bBits as Uint16Array);
        writeFileSync(join(folder, 'c.bin'), cBits as Uint16Array);
        writeFileSync(join(folder, 'meta.json'), JSON.stringify({ n, dtype, flintMs: ms }));
        c.dispose();
      }
      a.dispose();
      b.dispose();
    }
  }
  cuda.configure({ matmulEngine: 'auto' });

  checkpoint('the convolutions');
  // Convolution: the bench suite's conv2d shape and a ResNet-like layer.
  for (const [xShape, wShape] of [
    [
      [16, 32, 32, 32],
      [64, 32, 3, 3],
    ],
    [
      [32, 64, 56, 56],
      [64, 64, 3, 3],
    ],
  ] as const) {
    const x = uniform(cuda, [...xShape], 'float32', 5);
    const w = uniform(cuda, [...wShape], 'float32', 6);
    const params = {
      strides: [1, 1],
      padding: [
        [1, 1],
        [1, 1],
      ],
      lhsDilation: [1, 1],
      rhsDilation: [1, 1],
      groups: 1,
    };
    const [n, c, h, width] = xShape;
    const flops = 2 * n * wShape[0] * h * width * c * 9;
    for (const engine of dnn ? (['cudnn', 'kernel'] as const) : (['kernel'] as const)) {
      cuda.configure({ convEngine: engine });
      const ms = await time(cuda, () => bind(Primitive.Conv, [x, w], params as never, cuda as unknown as Backend), 5);
      record(`conv2d ${xShape.join('x')} * ${wShape.join('x')} (${engine})`, ms, flops / ms / 1e6, 'GFLOP/s');
    }
    x.dispose();
    w.dispose();
  }
  cuda.configure({ convEngine: 'auto' });

  checkpoint('max pooling');
  // Max pooling (ResNet's stem pool): bytes read plus written, through cuDNN and the own kernel.
  {
    const x = uniform(cuda, [32, 64, 112, 112], 'float32', 7);
    const params = {
      op: 'max',
      window: [1, 1, 3, 3],
      strides: [1, 1, 2, 2],
      padding: [
        [0, 0],
        [0, 0],
        [1, 1],
        [1, 1],
      ],
      dilation: [1, 1, 1, 1],
    };
    const bytes = 4 * (32 * 64 * 112 * 112 + 32 * 64 * 56 * 56);
    for (const engine of dnn ? (['cudnn', 'kernel'] as const) : (['kernel'] as const)) {
      cuda.configure({ poolEngine: engine });
      const ms = await time(cuda, () => bind(Primitive.ReduceWindow, [x], params as never, cuda as unknown as Backend), 5);
      record(`max pool 3x3/2 32x64x112x112 (${engine})`, ms, bytes / ms / 1e6, 'GB/s');
    }
    x.dispose();
  }
  cuda.configure({ poolEngine: 'auto' });

  checkpoint('the bandwidth benchmarks');
  // Bandwidth: bytes read plus written.
  const count = quick ? 1 << 24 : 1 << 26;
  const x = uniform(cuda, [count], 'float32', 7);
  const y = uniform(cuda, [count], 'float32', 8);
  record(`add f32 ${count}`, ...(await bandwidth(cuda, () => x.add(y), 3 * 4 * count)));
  record(`exp f32 ${count}`, ...(await bandwidth(cuda, () => x.exp(), 2 * 4 * count)));
  record(`sum f32 ${count}`, ...(await bandwidth(cuda, () => x.sum(), 4 * count)));
  // Column sums, as a bias's gradient over a [tokens, features] cotangent (reduce.cu's column kernels).
  const rows = x.reshape([count / 2048, 2048]);
  record(`column sums f32 [${count / 2048}, 2048]`, ...(await bandwidth(cuda, () => rows.sum(0), 4 * count)));
  const strided = x.reshape([count / 1024, 1024]).transpose();
  record(`transpose copy f32 ${count}`, ...(await bandwidth(cuda, () => strided.add(0), 2 * 4 * count)));
  const chain = (a: Tensor, b: Tensor) => a.mul(2).add(b).tanh().mul(a).maximum(0.25);
  record(`eager chain of 5 ops f32 ${count}`, ...(await bandwidth(cuda, () => chain(x, y), 3 * 4 * count, 'GB/s (one-pass bytes)')));
  if (cuda.libraries().nvrtc.found) {
    const fused = jit(chain);
    (fused(x, y) as Tensor).dispose();
    record(`jit-fused chain of 5 ops f32 ${count}`, ...(await bandwidth(cuda, () => fused(x, y) as Tensor, 3 * 4 * count)));
  }
  strided.dispose();
  rows.dispose();

  checkpoint('the transfers');
  // Transfers through pinned staging.
  const host = new Float32Array(count);
  for (let i = 0; i < count; i += 4096) host[i] = i;
  {
    const samples: number[] = [];
    for (let i = 0; i < 4; i++) {
      await cuda.synchronize();
      const t0 = performance.now();
      const t = tensor(host, { backend: 'cuda' });
      await cuda.synchronize();
      samples.push(performance.now() - t0);
      t.dispose();
    }
    samples.sort((a, b) => a - b);
    const ms = samples[2] as number;
    record(`upload ${4 * count} bytes`, ms, (4 * count) / ms / 1e6, 'GB/s');
  }
  {
    const samples: number[] = [];
    for (let i = 0; i < 4; i++) {
      await cuda.synchronize();
      const t0 = performance.now();
      await x.data();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const ms = samples[2] as number;
    record(`read ${4 * count} bytes`, ms, (4 * count) / ms / 1e6, 'GB/s');
  }
  x.dispose();
  y.dispose();

  checkpoint('the dispatch rate');
  // Dispatch: small adds queued back to back, then one read.
  {
    let c = tensor([1], { backend: 'cuda' });
    const b = tensor([1], { backend: 'cuda' });
    const steps = 20000;
    await c.data();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) {
      const next = c.add(b);
      c.dispose();
      c = next;
    }
    await c.data();
    const ms = performance.now() - t0;
    record('dispatch add of 1 element', ms / steps, (steps / ms) * 1000, 'ops/s');
    c.dispose();
    b.dispose();
  }
  return results;
}

/** The issue's 10-op elementwise chain: two inputs read, one output written. */
function chainOfTen(x: Tensor, y: Tensor): Tensor {
  return x.mul(2).add(y).tanh().mul(x).maximum(0.25).sub(y).abs().sqrt().add(1).log();
}

/**
 * A training step timed (median milliseconds, synchronized, after warm-up steps), and one more
 * step profiled: how long issuing it took on the host (when that is most of the step, the step
 * waits on JavaScript and launches, not on the GPU) and which engines it ran (the addon's counters
 * that moved: cuDNN or the own kernels, cuBLASLt, composite kernels, device allocations, which
 * should be none once the caching allocator is warm). A last step counts the addon calls that
 * enqueue device work (`deviceCalls`, by entry in `calls`), which torch-bench.py sets beside the
 * kernels and copies PyTorch's profiler sees in its step.
 */
async function timeStep(cuda: CudaBackend, make: () => TrainingStep, repeats: number): Promise<{ ms: number; profile: string }> {
  const training = make();
  try {
    const ms = await time(cuda, () => training.step(), repeats, 3);
    await cuda.synchronize();
    const before = cuda.deviceMemory() as unknown as Record<string, number>;
    const t0 = performance.now();
    const loss = training.step();
    const issued = performance.now() - t0;
    await cuda.synchronize();
    const total = performance.now() - t0;
    loss.dispose();
    const after = cuda.deviceMemory() as unknown as Record<string, number>;
    const moved = STEP_COUNTERS.filter((key) => (after[key] ?? 0) !== (before[key] ?? 0));
    const counts = Object.fromEntries(moved.map((key) => [key, (after[key] ?? 0) - (before[key] ?? 0)]));
    const calls = countAddonCalls(cuda, () => training.step().dispose());
    const deviceCalls = Object.values(calls).reduce((a, b) => a + b, 0);
    return { ms, profile: JSON.stringify({ issuedMs: issued, totalMs: total, ...counts, deviceCalls, calls }) };
  } finally {
    training.dispose();
  }
}

/** Addon entries that enqueue no device work: setup, statistics, allocation and release, compiles. */
const HOST_ONLY_ENTRIES = new Set([
  'probe',
  'init',
  'initValidationOnly',
  'libraries',
  'memory',
  'emptyCache',
  'configure',
  'free',
  'synchronize',
  'empty',
  'jitCompile',
  'ncclLibrary',
  'ncclUniqueId',
  'ncclStatus',
  'ncclDestroy',
]);

/** How many times `run` called each addon entry that enqueues device work (kernels, copies, vendor calls). */
function countAddonCalls(cuda: CudaBackend, run: () => void): Record<string, number> {
  const addon = cuda.context.addon as unknown as Record<string, unknown>;
  const calls: Record<string, number> = {};
  const originals = new Map<string, (...args: unknown[]) => unknown>();
  for (const [name, entry] of Object.entries(addon)) {
    if (typeof entry !== 'function' || HOST_ONLY_ENTRIES.has(name)) continue;
    const original = entry as (...args: unknown[]) => unknown;
    originals.set(name, original);
    addon[name] = (...args: unknown[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      return original.apply(addon, args);
    };
  }
  try {
    run();
  } finally {
    for (const [name, original] of originals) addon[name] = original;
  }
  return calls;
}

/** The addon's counters a training step's profile reports (NativeMemoryStats). */
const STEP_COUNTERS = [
  'matmulKernel',
  'matmulCublasLt',
  'convKernel',
  'convCudnn',
  'convCudnnBackwardFilter',
  'convCudnnBackwardData',
  'dnnAlgorithmQueries',
  'poolKernel',
  'poolCudnn',
  'compositeKernel',
  'normCudnn',
  'vendorFailures',
  'jitLaunches',
  'deviceAllocations',
] as const;

/**
 * What issue 10 compares with PyTorch on the same GPU (torch-bench.py reads these from the
 * report): copy bandwidth and the fused chain of 10 ops, the training steps, and the launch
 * overhead of eager small ops.
 */
async function issueMeasurements(cuda: CudaBackend): Promise<Record<string, number | string>> {
  const out: Record<string, number | string> = {};
  const count = rehearsal ? 1 << 12 : quick ? 1 << 24 : 1 << 28;
  out.elements = count;
  const x = uniform(cuda, [count], 'float32', 21);
  const y = uniform(cuda, [count], 'float32', 22);
  // The addon's copy kernel on a contiguous view: a plain device-to-device copy.
  const copy = () => {
    cuda.dispose(cuda.context.copyContiguous(x._handle as never));
    return null;
  };
  out.copyMs = await time(cuda, copy, 10, 3);
  out.copyGBs = (2 * 4 * count) / (out.copyMs as number) / 1e6;
  out.eagerChainMs = await time(cuda, () => tidy(() => chainOfTen(x, y)), 5, 2);
  if (cuda.libraries().nvrtc.found) {
    const fused = jit(chainOfTen);
    (fused(x, y) as Tensor).dispose();
    out.fusedChainMs = await time(cuda, () => fused(x, y) as Tensor, 10, 3);
    out.fusedChainGBs = (3 * 4 * count) / (out.fusedChainMs as number) / 1e6;
    out.fusedOverCopy = (out.fusedChainGBs as number) / (out.copyGBs as number);
  } else {
    out.fusedChain = 'NVRTC not found: no fused kernels';
  }
  x.dispose();
  y.dispose();
  log(
    `issue: copy ${(out.copyGBs as number).toFixed(1)} GB/s; fused chain of 10 ${out.fusedChainGBs ?? '-'} GB/s (${out.fusedOverCopy ?? '-'} of copy)`,
  );

  const cnn = rehearsal ? { ...CNN_PARAMS, batch: 2, image: 8, channels1: 2, channels2: 4, hidden: 8 } : CNN_PARAMS;
  const encoder = rehearsal ? { ...TRANSFORMER_PARAMS, batch: 2, tokens: 4, model: 16, heads: 2, ffn: 32 } : TRANSFORMER_PARAMS;
  out.cnnShape = JSON.stringify(cnn);
  out.transformerShape = JSON.stringify(encoder);
  const cnnTimed = await timeStep(cuda, () => cnnStep('cuda', cnn), rehearsal ? 2 : 10);
  const encoderTimed = await timeStep(cuda, () => transformerStep('cuda', encoder), rehearsal ? 2 : 10);
  out.cnnStepMs = cnnTimed.ms;
  out.cnnStepProfile = cnnTimed.profile;
  out.transformerStepMs = encoderTimed.ms;
  out.transformerStepProfile = encoderTimed.profile;
  log(`issue: CNN step ${cnnTimed.ms.toFixed(3)} ms, transformer step ${encoderTimed.ms.toFixed(3)} ms`);
  log(`issue: one CNN step: ${cnnTimed.profile}; one transformer step: ${encoderTimed.profile}`);

  // Launch overhead: eager adds of one element, queued back to back, one read at the end.
  const steps = rehearsal ? 200 : 20000;
  let c = tensor([1], { backend: 'cuda' });
  const one = tensor([1], { backend: 'cuda' });
  await c.data();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) {
    const next = c.add(one);
    c.dispose();
    c = next;
  }
  await c.data();
  out.smallOpMicroseconds = ((performance.now() - t0) * 1000) / steps;
  c.dispose();
  one.dispose();
  return out;
}

async function bandwidth(cuda: CudaBackend, run: () => Tensor, bytes: number, unit = 'GB/s'): Promise<[number, number, string]> {
  const ms = await time(cuda, run, 10, 3);
  return [ms, bytes / ms / 1e6, unit];
}

function markdown(report: Record<string, unknown>, benches: readonly Benchmark[]): string {
  const lines = [`# CUDA backend device check, ${String(report.date)}`, '', '```json', JSON.stringify(report.device, null, 2), '```', ''];
  const conf = report.conformance as { passed: number; failed: number; failures: string[] } | undefined;
  if (conf)
    lines.push(`Conformance: ${conf.passed} passed, ${conf.failed} failed.`, '', ...conf.failures.slice(0, 40).map((f) => `- ${f}`), '');
  const checks = report.checks as { name: string; ok: boolean; error?: string }[] | undefined;
  if (checks)
    lines.push(
      '| GPU check | result |',
      '| --- | --- |',
      ...checks.map((c) => `| ${c.name} | ${c.ok ? 'ok' : `FAILED: ${c.error}`} |`),
      '',
    );
  const gradients = report.gradients as { checked: number; failures: string[] } | undefined;
  if (gradients)
    lines.push(
      `Gradient checks against the CPU backend: ${gradients.checked - gradients.failures.length} of ${gradients.checked} samples agree.`,
      '',
      ...gradients.failures.slice(0, 40).map((f) => `- ${f}`),
      '',
    );
  const issue = report.issue as Record<string, number | string> | undefined;
  if (issue) {
    lines.push('| issue 10 measurement (Flint) | value |', '| --- | --- |');
    for (const [name, value] of Object.entries(issue))
      lines.push(`| ${name} | ${typeof value === 'number' ? value.toPrecision(4) : value} |`);
    lines.push('', 'PyTorch on the same GPU, and the ratios: torch-bench.json / .md beside this file.', '');
  }
  lines.push('| benchmark | median ms | rate |', '| --- | --- | --- |');
  for (const b of benches)
    lines.push(`| ${b.name} | ${b.medianMs.toFixed(3)} | ${b.value.toFixed(1)} ${b.unit}${b.note ? ` (${b.note})` : ''} |`);
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().slice(0, 10);
  const base = join(outDir, `cuda-${stamp}`);
  const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, quick, validationOnly, rehearsal };
  let cuda: CudaBackend;
  try {
    cuda = validationOnly ? validationBackend() : createCudaBackend();
  } catch (error) {
    report.unavailable = (error as Error).message;
    writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
    log(`the cuda backend is unavailable: ${(error as Error).message}`);
    return 2;
  }
  const backend = await initBackend('cuda');
  report.device = { ...cuda.info, libraries: cuda.libraries() };
  log(`device: ${JSON.stringify(report.device)}`);
  const save = (benches: readonly Benchmark[]) => {
    writeFileSync(`${base}.json`, `${JSON.stringify({ ...report, benchmarks: benches }, null, 2)}\n`);
    writeFileSync(`${base}.md`, markdown(report, benches));
  };

  log('conformance tables on cuda');
  const conf = await conformance(backend);
  report.conformance = conf;
  log(`conformance: ${conf.passed} passed, ${conf.failed} failed`);
  for (const failure of conf.failures.slice(0, 30)) log(`  FAIL ${failure.slice(0, 300)}`);
  save([]);

  const cpu = await initBackend('cpu');
  const checks: { name: string; ok: boolean; error?: string }[] = [];
  for (const c of GPU_CHECKS) {
    try {
      await c.run({ cuda, cpu });
      checks.push({ name: c.name, ok: true });
      log(`check ok: ${c.name}`);
    } catch (error) {
      checks.push({ name: c.name, ok: false, error: (error as Error).stack?.slice(0, 800) ?? String(error) });
      log(`check FAILED: ${c.name}: ${(error as Error).message}`);
    }
  }
  report.checks = checks;
  save([]);

  // Gradient checks: every differentiable primitive's and composite op's VJP, JVP and backward()
  // in float64 against the CPU backend's (test/gradcheck/cross-backend.ts).
  log('gradient checks on cuda against the CPU backend');
  const composites = (compositeCases as unknown as OpCase<never>[]).filter((_, i) => i % gradientStride === 0);
  const gradients = await compareGradients('cuda', 'cpu', [...primitiveCases, ...composites], {
    samples: quick || rehearsal ? 2 : 3,
  });
  report.gradients = { ...gradients, compositeStride: gradientStride };
  log(`gradients: ${gradients.checked} samples, ${gradients.failures.length} failures`);
  for (const failure of gradients.failures.slice(0, 20)) log(`  FAIL ${failure.slice(0, 300)}`);
  save([]);

  try {
    report.issue = await issueMeasurements(cuda);
  } catch (error) {
    report.issueError = (error as Error).stack ?? String(error);
    log(`the issue's measurements stopped: ${(error as Error).message}`);
  }
  save([]);

  let benches: Benchmark[] = [];
  try {
    if (!rehearsal)
      await benchmarks(cuda, (so) => {
        benches = [...so];
        save(benches);
      });
  } catch (error) {
    report.benchmarkError = error instanceof DeadlinePassed ? error.message : ((error as Error).stack ?? String(error));
    log(`benchmarks stopped: ${(error as Error).message}`);
  }
  const memory = cuda.deviceMemory();
  report.memory = memory;
  save(benches);
  const failedChecks = checks.filter((c) => !c.ok).length;
  log(
    `done: conformance ${conf.passed}/${conf.passed + conf.failed}, checks ${checks.length - failedChecks}/${checks.length}, gradients ${gradients.checked - gradients.failures.length}/${gradients.checked}, ${benches.length} benchmarks, ${memory.vendorFailures} failed vendor calls (stderr names them); results in ${base}.{json,md}`,
  );
  return conf.failed === 0 && failedChecks === 0 && gradients.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(3);
  },
);
