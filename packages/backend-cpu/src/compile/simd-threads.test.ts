import {
  type Aval,
  type CompiledKernel,
  getBackend,
  type KernelOp,
  type KernelProgram,
  type KernelRef,
  Primitive,
  slice,
  type Tensor,
  tensor,
} from '@flint/api';
import { afterAll, describe, expect, it } from 'vitest';
import '@flint/backend-cpu';
import { gemmThreadsStarted, setGemmThreading } from '../kernels/gemm.js';
import { threadedMapJobs } from '../threads/gemm-pool.js';
import type { CpuHandle } from '../view.js';
import { setThreadedMapMinimum } from './wasm/threaded-kernel.js';

// Fused float32 SIMD kernels split over the thread pool: every thread runs the same generated
// code on its own ranges of the same arrays, so the threaded result equals the one-thread result
// bit for bit, whatever the size (tails that are not multiples of 4 or of the task size), the
// operands (scalars, arrays at an offset, several outputs) or the machine load.

const backend = getBackend('cpu');
const input = (index: number): KernelRef => ({ kind: 'input', index });
const op = (index: number): KernelRef => ({ kind: 'op', index });
const literal = (value: number): KernelRef => ({ kind: 'literal', value });

function compile(inputs: Aval[], ops: KernelOp[], outputs: number[]): CompiledKernel<CpuHandle> {
  const k: KernelProgram = { kind: 'elementwise', inputs, ops, outputs, reusable: inputs.map(() => false), text: '' };
  const compiled = backend.compile?.(k) as CompiledKernel<CpuHandle> | null;
  if (!compiled) throw new Error('kernel did not compile');
  return compiled;
}

const read = (h: CpuHandle, size: number): number[] => Array.from((h.storage.data as Float32Array).subarray(h.offset, h.offset + size));

/** The kernel's outputs on one thread and on the pool, and the threaded jobs that ran. */
function both(
  kernel: CompiledKernel<CpuHandle>,
  inputs: Tensor[],
  size: number,
): { single: number[][]; threaded: number[][]; jobs: number } {
  const handles = inputs.map((t) => t._handle as CpuHandle);
  const consumable = inputs.map(() => false);
  setThreadedMapMinimum(Number.POSITIVE_INFINITY);
  const single = kernel.run(handles, consumable).map((h) => read(h, size));
  setThreadedMapMinimum(0);
  const before = threadedMapJobs();
  const threaded = kernel.run(handles, consumable).map((h) => read(h, size));
  return { single, threaded, jobs: threadedMapJobs() - before };
}

function values(size: number, seed: number): Float32Array {
  const data = new Float32Array(size);
  for (let i = 0; i < size; i++) data[i] = Math.sin((i + seed) * 12.9898) * 6;
  return data;
}

afterAll(() => {
  setThreadedMapMinimum(undefined);
  setGemmThreading(undefined);
});

describe('threaded SIMD elementwise kernels', () => {
  it('equal the one-thread result bit for bit for sizes that are not multiples of 4 or of the task size', async () => {
    setGemmThreading(3);
    const workers = await gemmThreadsStarted();
    if (workers === 0) {
      console.warn('skipped: no worker threads here (SharedArrayBuffer or worker_threads missing)');
      return;
    }
    for (const size of [4097, 8190, 65537, 300_001]) {
      const a: Aval = { shape: [size], dtype: 'float32' };
      const x = tensor(values(size, 1), { shape: [size] });
      const ops: KernelOp[] = [
        { primitive: Primitive.Mul, params: {}, args: [input(0), literal(0.5)], aval: a },
        { primitive: Primitive.Tanh, params: {}, args: [op(0)], aval: a },
        { primitive: Primitive.Mul, params: {}, args: [op(1), input(0)], aval: a },
        { primitive: Primitive.Exp, params: {}, args: [op(2)], aval: a },
        { primitive: Primitive.Sqrt, params: {}, args: [op(3)], aval: a },
        { primitive: Primitive.Max, params: {}, args: [op(4), input(0)], aval: a },
      ];
      const { single, threaded, jobs } = both(compile([a], ops, [5]), [x], size);
      expect(jobs, `size ${size}`).toBe(1);
      expect(threaded, `size ${size}`).toEqual(single);
      expect(single[0]?.length).toBe(size);
    }
  });

  it('reads scalars and arrays at an offset, and writes several outputs', async () => {
    setGemmThreading(2);
    if ((await gemmThreadsStarted()) === 0) {
      console.warn('skipped: no worker threads here');
      return;
    }
    const size = 50_003;
    const a: Aval = { shape: [size], dtype: 'float32' };
    const x = tensor(values(size, 2), { shape: [size] });
    // A view at element 7 of a longer array: the kernel reads from its offset.
    const y = slice(tensor(values(size + 9, 3), { shape: [size + 9] }), [7], [size + 7]);
    expect((y._handle as CpuHandle).offset).toBe(7);
    const s = tensor(new Float32Array([1.5]), { shape: [] });
    const ops: KernelOp[] = [
      { primitive: Primitive.Broadcast, params: { shape: [size] }, args: [input(2)], aval: a },
      { primitive: Primitive.Mul, params: {}, args: [input(0), op(0)], aval: a },
      { primitive: Primitive.Logistic, params: {}, args: [op(1)], aval: a },
      { primitive: Primitive.Sub, params: {}, args: [op(2), input(1)], aval: a },
      { primitive: Primitive.Abs, params: {}, args: [op(3)], aval: a },
    ];
    const { single, threaded, jobs } = both(compile([a, a, { shape: [], dtype: 'float32' }], ops, [2, 4]), [x, y, s], size);
    expect(jobs).toBe(1);
    expect(threaded).toEqual(single);
    const xs = values(size, 2);
    // Spot check against the definition, so that both paths reading the wrong elements would fail.
    for (const i of [0, 1, 12_345, size - 1]) {
      const want = 1 / (1 + Math.exp(-(xs[i] as number) * 1.5));
      expect(Math.abs((threaded[0]?.[i] as number) - want)).toBeLessThan(1e-6);
    }
  });

  it('writes into a consumable input in place, as on one thread', async () => {
    setGemmThreading(2);
    if ((await gemmThreadsStarted()) === 0) {
      console.warn('skipped: no worker threads here');
      return;
    }
    const size = 40_001;
    const a: Aval = { shape: [size], dtype: 'float32' };
    const ops: KernelOp[] = [
      { primitive: Primitive.Tanh, params: {}, args: [input(0)], aval: a },
      { primitive: Primitive.Add, params: {}, args: [op(0), input(0)], aval: a },
    ];
    const kernel = compile([a], ops, [1]);
    const expected = both(kernel, [tensor(values(size, 5), { shape: [size] })], size).single[0];
    setThreadedMapMinimum(0);
    const x = tensor(values(size, 5), { shape: [size] });
    const handle = x._handle as CpuHandle;
    const before = threadedMapJobs();
    const [out] = kernel.run([handle], [true]);
    expect(threadedMapJobs() - before).toBe(1);
    expect(out).toBe(handle);
    expect(read(handle, size)).toEqual(expected);
  });

  it('gives every kernel its own code on the workers, also after older kernels were dropped from their cache', async () => {
    setGemmThreading(2);
    if ((await gemmThreadsStarted()) === 0) {
      console.warn('skipped: no worker threads here');
      return;
    }
    const size = 12_000;
    const a: Aval = { shape: [size], dtype: 'float32' };
    const x = tensor(values(size, 6), { shape: [size] });
    // 70 kernels (workers keep 64) that differ only in a constant: a worker running a stale
    // kernel would give another kernel's values.
    const kernels = Array.from({ length: 70 }, (_, i) =>
      compile([a], [{ primitive: Primitive.Mul, params: {}, args: [input(0), literal(i + 2)], aval: a }], [0]),
    );
    for (const round of [0, 1]) {
      kernels.forEach((kernel, i) => {
        const { single, threaded, jobs } = both(kernel, [x], size);
        expect(jobs, `kernel ${i}, round ${round}`).toBe(1);
        expect(threaded, `kernel ${i}, round ${round}`).toEqual(single);
      });
    }
  });

  it('stays on one thread when FLINT_CPU_THREADS-style settings ask for one thread', async () => {
    setGemmThreading(1);
    expect(await gemmThreadsStarted()).toBe(0);
    const size = 20_000;
    const a: Aval = { shape: [size], dtype: 'float32' };
    const x = tensor(values(size, 4), { shape: [size] });
    const kernel = compile([a], [{ primitive: Primitive.Exp, params: {}, args: [input(0)], aval: a }], [0]);
    setThreadedMapMinimum(0);
    const before = threadedMapJobs();
    const [out] = kernel.run([x._handle as CpuHandle], [false]);
    expect(threadedMapJobs()).toBe(before);
    expect(read(out as CpuHandle, size)[3]).toBeCloseTo(Math.exp(values(size, 4)[3] as number), 3);
  });
});
