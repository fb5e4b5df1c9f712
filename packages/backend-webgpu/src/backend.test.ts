// Needs a WebGPU adapter (in Node: the webgpu package and a Vulkan driver, e.g. SwiftShader from
// Debian's chromium-common); without one every test here is skipped with the reason.
import '@flint/backend-cpu';
import { type Backend, bind, DTypeError, initBackend, Primitive, type Tensor, tensor } from '@flint/api';
import { describe, expect, it } from 'vitest';
import type { WebGpuBackend } from './backend.js';
import { fillKernel } from './kernels/copy.js';
import './index.js';

const started = await initBackend('webgpu').then(
  (backend) => ({ backend: backend as unknown as WebGpuBackend, reason: '' }),
  (error: Error) => ({ backend: null, reason: error.message }),
);
if (started.backend === null) console.log(`webgpu tests skipped: ${started.reason}`);
const suite = started.backend === null ? describe.skip : describe;
const gpu = (): WebGpuBackend => started.backend as WebGpuBackend;

const on = (
  values: number[] | Float32Array | Int32Array | Uint8Array,
  shape: number[],
  dtype?: 'float32' | 'int32' | 'uint8' | 'bool',
): Tensor => tensor(Array.isArray(values) ? values : values, { shape, dtype, backend: 'webgpu' });

suite(`webgpu backend (${started.backend === null ? `unavailable: ${started.reason}` : 'on a device'})`, () => {
  it('computes elementwise chains on strided views', async () => {
    const x = on([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = x
      .transpose()
      .mul(2)
      .add(on([10, 20], [2]));
    expect(Array.from(await y.data())).toEqual([12, 28, 14, 30, 16, 32]);
  });

  it('keeps uint8 and bool as one u32 word per element and reads back bytes', async () => {
    const bytes = on(new Uint8Array([0, 1, 127, 128, 255]), [5], 'uint8');
    const sum = bytes.add(on(new Uint8Array([1, 1, 1, 1, 1]), [5], 'uint8'));
    const data = await sum.data();
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual([1, 2, 128, 129, 0]);
    const flags = await bind(Primitive.Greater, [bytes, on(new Uint8Array([0, 0, 200, 0, 0]), [5], 'uint8')], {}).data();
    expect(Array.from(flags)).toEqual([0, 1, 0, 1, 1]);
  });

  it('matches the CPU backend on a matmul larger than one tile', async () => {
    const a = Float32Array.from({ length: 65 * 70 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: 70 * 33 }, (_, i) => Math.cos(i));
    const onGpu = await on(a, [65, 70])
      .matmul(on(b, [70, 33]))
      .data();
    const onCpu = tensor(a, { shape: [65, 70], backend: 'cpu' })
      .matmul(tensor(b, { shape: [70, 33], backend: 'cpu' }))
      .dataSync();
    let worst = 0;
    for (let i = 0; i < onCpu.length; i++) worst = Math.max(worst, Math.abs((onGpu[i] as number) - (onCpu[i] as number)));
    expect(worst).toBeLessThan(1e-4);
  });

  it('folds few long rows in two passes, NaN included', async () => {
    const values = Float32Array.from({ length: 3 * 20000 }, (_, i) => Math.sin(i) * 3);
    values[25000] = Number.NaN;
    const onCpu = tensor(values, { shape: [3, 20000], backend: 'cpu' });
    const onGpu = on(values, [3, 20000]);
    const sums = await onGpu.sum(1).data();
    const expected = onCpu.sum(1).dataSync();
    expect(Number.isNaN(sums[1] as number)).toBe(true);
    expect(Math.abs((sums[0] as number) - (expected[0] as number))).toBeLessThan(1e-2);
    expect(Math.abs((sums[2] as number) - (expected[2] as number))).toBeLessThan(1e-2);
    expect(Array.from(await onGpu.max(1).data())).toEqual(Array.from(onCpu.max(1).dataSync()));
    expect(Array.from(await onGpu.argmax(1).data())).toEqual(Array.from(onCpu.argmax(1).dataSync()));
  });

  it('folds columns (a bias gradient) a row of outputs at a time, and frees every buffer when a launch fails', async () => {
    // [3000, 40] over its rows: 40 neighbouring outputs, six spans folded in a second pass.
    const values = Float32Array.from({ length: 3000 * 40 }, (_, i) => Math.cos(i) * 2);
    const onGpu = on(values, [3000, 40]);
    const expected = tensor(values, { shape: [3000, 40], backend: 'cpu' })
      .sum(0)
      .dataSync();
    const sums = await onGpu.sum(0).data();
    sums.forEach((v, i) => {
      expect(Math.abs(v - (expected[i] as number)), `column ${i}`).toBeLessThan(1e-3);
    });
    const { runtime } = gpu();
    const before = gpu().memory().buffers;
    runtime.deviceFailure = 'a simulated device loss';
    try {
      expect(() => onGpu.sum(0)).toThrow(/reduceSum \(float32\): a simulated device loss/);
    } finally {
      runtime.deviceFailure = null;
    }
    expect(gpu().memory().buffers).toBe(before);
  });

  it('records kernels without submitting them until a read, in batches', async () => {
    const queue = gpu().device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (commands: Iterable<GPUCommandBuffer>) => {
      submits++;
      submit(commands);
    };
    try {
      gpu().flush();
      submits = 0;
      let x = on([1, 2, 3], [3]);
      for (let i = 0; i < 10; i++) x = x.add(1);
      expect(gpu().runtime.pendingKernels).toBe(10);
      expect(submits).toBe(0);
      expect(Array.from(await x.data())).toEqual([11, 12, 13]);
      // One submit for the ten kernels, one for the copy that reads the result back.
      expect(submits).toBe(2);
      expect(gpu().runtime.pendingKernels).toBe(0);
    } finally {
      queue.submit = submit;
    }
  });

  it('refuses synchronous reads and float64 with clear errors', () => {
    const x = on([1, 2], [2]);
    expect(() => x.dataSync()).toThrow(/reads asynchronously/);
    expect(() => tensor([1, 2], { dtype: 'float64', backend: 'webgpu' })).toThrow(DTypeError);
    expect(() => bind(Primitive.Cast, [x], { dtype: 'float64' })).toThrow(/float64 is not offered by the 'webgpu' backend/);
  });

  it('counts live buffers and reuses released ones from its pool', async () => {
    // Deltas are taken within one synchronous stretch: between awaits the finalization registry
    // may release tensors that earlier tests dropped.
    const backend = gpu() as unknown as Backend;
    const before = backend.memory();
    const x = on(new Float32Array(5000), [5000]);
    const y = x.neg();
    const during = backend.memory();
    expect(during.buffers).toBe(before.buffers + 2);
    expect(during.bytes).toBeGreaterThanOrEqual(before.bytes + 2 * 5000 * 4);
    await y.data();
    const held = backend.memory();
    x.dispose();
    y.dispose();
    expect(held.buffers - backend.memory().buffers).toBe(2);
    const pooled = gpu().pooledBytes;
    expect(pooled).toBeGreaterThanOrEqual(2 * 5000 * 4);
    const z = on(new Float32Array(5000), [5000]);
    expect(gpu().pooledBytes).toBeLessThan(pooled);
    z.dispose();
  });

  it('turns a failed kernel into a BackendError naming it, at the read of anything computed from it', async () => {
    const { context, runtime } = gpu();
    const output = context.allocate(4);
    context.launch(
      { name: 'broken (float32)', key: 'test:broken', source: () => 'this is not WGSL', params: [], workgroups: [1, 1, 1] },
      output,
      [],
    );
    const broken = context.handle(output, [4], 'float32');
    const downstream = gpu().kernels[Primitive.Add]([broken, broken], {}, { shape: [4], dtype: 'float32' });
    await expect(gpu().read(downstream)).rejects.toThrow(/kernel broken \(float32\) failed: shader test:broken did not compile/);
    // Once known, the broken shader is refused at once instead of poisoning later batches.
    expect(() =>
      runtime.run({
        name: 'broken again',
        key: 'test:broken',
        source: () => '',
        params: [],
        output: output.buffer,
        inputs: [],
        workgroups: [1, 1, 1],
      }),
    ).toThrow(/cannot run/);
    gpu().dispose(downstream);
    gpu().dispose(broken);
    // Later work on the device is unaffected.
    const filled = context.allocate(3);
    fillKernel(context, 'fill', filled, 3, 7);
    expect(Array.from(await gpu().read(context.handle(filled, [3], 'int32')))).toEqual([7, 7, 7]);
    context.release(filled);
  });
});
