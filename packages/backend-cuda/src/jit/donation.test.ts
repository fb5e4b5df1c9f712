// Fused kernels writing into donated inputs' buffers (jit/compile.ts donatedOutputs, the addon's
// jitLaunch `into`): a jitted update with a donated argument returns its result in that
// argument's buffer, with eager's values, and the addon refuses every `into` that could corrupt
// what the kernel reads. On a GPU with NVRTC, or on the CPU emulation (the cuda-emulation project
// of vitest.config.ts); skipped with the reason elsewhere.
import { jit, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { CudaBackend } from '../backend.js';
import { cudaUnavailable } from '../cuda-availability.test-support.js';
import type { CudaHandle } from '../handle.js';
import { createCudaBackend } from '../index.js';
import type { Addon } from '../native/addon.js';

const reason = cudaUnavailable('jit donation tests');

const storageOf = (t: Tensor) => (t._handle as CudaHandle).storage;

describe.skipIf(reason !== undefined)('fused kernels writing into donated buffers on cuda', () => {
  const cuda = () => createCudaBackend() as CudaBackend;

  it('writes an update into its donated argument, with eager values, and leaves arguments it may not take', async () => {
    const update = (p: Tensor, g: Tensor) => p.sub(g.mul(0.1)).mul(0.99);
    const values = Array.from({ length: 96 }, (_, i) => Math.sin(i));
    const donating = jit(update, { donateArgnums: [0] });
    const p = tensor(values, { shape: [8, 12], backend: 'cuda' });
    const g = tensor(
      values.map((v) => v * 2),
      { shape: [8, 12], backend: 'cuda' },
    );
    const expected = await update(p, g).data();
    const id = storageOf(p).id;
    const next = donating(p, g) as Tensor;
    expect(storageOf(next).id).toBe(id);
    expect(Array.from(await next.data())).toEqual(Array.from(expected));
    // Without donation the argument stays the caller's: a fresh buffer.
    const kept = jit(update)(next, g) as Tensor;
    expect(storageOf(kept).id).not.toBe(id);
    expect(Array.from(await next.data())).toEqual(Array.from(expected));
    // A donated argument something else still views (here a reshape of it) is not written.
    const q = tensor(values, { shape: [8, 12], backend: 'cuda' });
    const alias = q.reshape([96]);
    const fresh = donating(q, g) as Tensor;
    expect(storageOf(fresh).id).not.toBe(storageOf(alias).id);
    expect(Array.from(await alias.data())).toEqual(values.map((v) => Math.fround(v)));
    for (const t of [g, next, kept, alias, fresh]) t.dispose();
  });

  it('refuses output buffers that could corrupt what the kernel reads', () => {
    const addon = (cuda() as unknown as { addon: Addon }).addon;
    // Capture a compiled elementwise kernel and a launch of it.
    const launch = addon.jitLaunch.bind(addon);
    let captured: Parameters<Addon['jitLaunch']> | null = null;
    addon.jitLaunch = (...args: Parameters<Addon['jitLaunch']>) => {
      captured ??= args;
      return launch(...args);
    };
    try {
      // float32 (integer JavaScript numbers would make int32 tensors).
      const x = tensor(
        Array.from({ length: 12 }, (_, i) => i),
        { shape: [3, 4], dtype: 'float32', backend: 'cuda' },
      );
      const y = tensor([1, 2, 3, 4], { dtype: 'float32', backend: 'cuda' });
      (jit((a: Tensor, b: Tensor) => a.mul(2).add(b))(x, y) as Tensor).dispose();
      expect(captured).not.toBeNull();
      const [kernel, shape, , ...pairs] = captured as unknown as [number, Int32Array, number[], ...(number | Int32Array)[]];
      const [xId, xLayout, yId, yLayout] = pairs as [number, Int32Array, number, Int32Array];
      const run = (into: unknown) => addon.jitLaunch(kernel, shape, into as number[], xId, xLayout, yId, yLayout);
      expect(() => run([])).toThrow(/one handle \(or 0\) per output/);
      expect(() => run(['1'])).toThrow(/a handle or 0/);
      expect(() => run([1e12])).toThrow(/names no live buffer/);
      // y is broadcast over the launch (zero strides): writing into it would clobber what later elements read.
      expect(() => run([yId])).toThrow(/launch's 12 elements/);
      // Twelve elements of another dtype, of another size or of the same size (read as the wrong type).
      const wide = tensor(
        Array.from({ length: 12 }, (_, i) => i),
        { shape: [3, 4], dtype: 'float64', backend: 'cuda' },
      );
      const ints = tensor(
        Array.from({ length: 12 }, (_, i) => i),
        { shape: [3, 4], dtype: 'int32', backend: 'cuda' },
      );
      for (const other of [wide, ints])
        expect(() => run([storageOf(other).id])).toThrow(/exactly the launch's 12 elements of the output's dtype/);
      // The kernel was generated for its launch shape: another is refused.
      expect(() => addon.jitLaunch(kernel, Int32Array.from([2, 4]), [0], xId, xLayout, yId, yLayout)).toThrow(/compiled for/);
      // x read through a transposed view of its buffer: an element is read at another index than it is written.
      const transposed = Int32Array.from([0, 2, 3, 4, 1, 3]);
      const xT = tensor(
        Array.from({ length: 12 }, (_, i) => i),
        { shape: [4, 3], dtype: 'float32', backend: 'cuda' },
      );
      expect(() => addon.jitLaunch(kernel, shape, [storageOf(xT).id], storageOf(xT).id, transposed, yId, yLayout)).toThrow(
        /read whole, contiguous/,
      );
      // x itself, read whole: allowed, and the result is its buffer.
      const [out] = run([xId]);
      expect(out).toBe(xId);
      for (const t of [x, y, wide, ints, xT]) t.dispose();
    } finally {
      addon.jitLaunch = launch;
    }
  });
});
