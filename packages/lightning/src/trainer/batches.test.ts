import '@flint/backend-cpu';
import { type Backend, getBackend, initBackend, registerBackend, type Tensor, tensor } from '@flint/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchTarget, prepareBatch } from './batches.js';

// The Trainer brings each batch to its accelerator's backend (and to float64 for '64-true') before
// the step, as Lightning moves batches to the device; what it made, and the originals it owns, it
// releases, and batches it does not own are left as they were.

beforeAll(async () => {
  // The portable backend under another name: "another device" the batch can start on.
  await initBackend('cpu');
  const cpu = getBackend('cpu');
  const twin: Backend = {
    name: 'cpu-twin',
    capabilities: cpu.capabilities,
    kernels: cpu.kernels,
    fromTypedArray: (data, shape, dtype) => cpu.fromTypedArray(data, shape, dtype),
    read: (handle) => cpu.read(handle),
    readSync: (handle) => (cpu.readSync as NonNullable<Backend['readSync']>)(handle),
    dispose: (handle) => cpu.dispose(handle),
    memory: () => cpu.memory(),
  };
  registerBackend({ name: 'cpu-twin', priority: -100, create: () => twin });
  await initBackend('cpu-twin');
  // And one that reads only asynchronously, as webgpu and cuda do.
  const asyncTwin: Backend = { ...twin, name: 'async-twin', capabilities: { ...cpu.capabilities, syncRead: false }, readSync: undefined };
  registerBackend({ name: 'async-twin', priority: -100, create: () => asyncTwin });
  await initBackend('async-twin');
});

const disposed = (t: Tensor) => t.isDisposed;

describe('prepareBatch', () => {
  it('moves every tensor of a nested batch to the accelerator and keeps what is already there', async () => {
    const x = tensor([[1, 2]], { backend: 'cpu-twin' });
    const y = tensor([3], { dtype: 'int32', backend: 'cpu' });
    const raw = { inputs: [x], y, note: 'kept' };
    const { batch, created } = await prepareBatch(raw, false, batchTarget('cpu', '32-true'));
    expect(batch).not.toBe(raw);
    expect(batch.inputs[0]?.backend).toBe('cpu');
    expect(Array.from(batch.inputs[0]?.dataSync() ?? [])).toEqual([1, 2]);
    expect(batch.y).toBe(y);
    expect(batch.note).toBe('kept');
    expect(created).toEqual([batch.inputs[0]]);
    // Not owned: the original stays usable.
    expect(disposed(x)).toBe(false);
  });

  it('releases the originals it replaced when the Trainer owns the batch', async () => {
    const x = tensor([1, 2], { backend: 'cpu-twin' });
    const { batch } = await prepareBatch([x], true, batchTarget('cpu', '32-true'));
    expect(disposed(x)).toBe(true);
    expect(batch[0]?.backend).toBe('cpu');
  });

  it("casts floating tensors to float64 for '64-true', and returns the batch itself when nothing changes", async () => {
    const x = tensor([0.5], { backend: 'cpu' });
    const labels = tensor([1], { dtype: 'int32', backend: 'cpu' });
    const { batch } = await prepareBatch([x, labels], false, batchTarget('auto', '64-true'));
    expect(batch[0]?.dtype).toBe('float64');
    expect(batch[1]).toBe(labels);
    const same = [x, labels];
    const unchanged = await prepareBatch(same, true, batchTarget('auto', '32-true'));
    expect(unchanged.batch).toBe(same);
    expect(unchanged.created).toEqual([]);
    expect(disposed(x)).toBe(false);
  });

  it('moves tensors off a backend that reads only asynchronously, and releases a moved copy that was then cast', async () => {
    const remote = await tensor([1.5, 2.5]).toAsync('async-twin');
    const { batch, created } = await prepareBatch([remote], false, batchTarget('cpu', '64-true'));
    expect(batch[0]?.backend).toBe('cpu');
    expect(batch[0]?.dtype).toBe('float64');
    expect(Array.from(batch[0]?.dataSync() ?? [])).toEqual([1.5, 2.5]);
    // Only the cast reaches the step: the float32 copy in between is gone.
    expect(created).toEqual([batch[0]]);
    expect(disposed(remote)).toBe(false);
  });
});

describe("the Trainer's batches", () => {
  it("leaves a caller's batches usable after '64-true' training, int labels included", async () => {
    const { Trainer } = await import('./trainer.js');
    const { Regressor, regressionData } = await import('../test-support/regression.test-support.js');
    const { lastValueFrom, toArray } = await import('rxjs');
    const { x, y } = regressionData(16);
    const steps = tensor(
      Int32Array.from({ length: 16 }, (_, i) => i),
      { dtype: 'int32' },
    );
    // An array of batches belongs to its owner: the Trainer casts copies and must release only those.
    const batches = [[x, y, steps]];
    const trainer = new Trainer({ maxSteps: 2, precision: '64-true', logger: false, enableProgressBar: false, enableCheckpointing: false });
    const model = new (class extends Regressor {
      override trainingStep([bx, by]: [Tensor, Tensor]): Tensor {
        return this.stepLoss([bx, by]);
      }
    })();
    await lastValueFrom(trainer.fit$(model, batches as never).pipe(toArray()));
    for (const t of [x, y, steps]) expect(disposed(t)).toBe(false);
    expect(Array.from(steps.dataSync()).slice(0, 3)).toEqual([0, 1, 2]);
  });

  it('leaves the batches of an array source usable after overfitBatches training', async () => {
    const { Trainer } = await import('./trainer.js');
    const { Regressor, regressionData } = await import('../test-support/regression.test-support.js');
    const { lastValueFrom, toArray } = await import('rxjs');
    const { x, y } = regressionData(16);
    const trainer = new Trainer({ maxEpochs: 2, overfitBatches: 1, logger: false, enableProgressBar: false, enableCheckpointing: false });
    await lastValueFrom(trainer.fit$(new Regressor(), [[x, y]] as never).pipe(toArray()));
    expect(disposed(x)).toBe(false);
    expect(disposed(y)).toBe(false);
  });
});
