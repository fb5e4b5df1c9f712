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
});

const disposed = (t: Tensor) => t.isDisposed;

describe('prepareBatch', () => {
  it('moves every tensor of a nested batch to the accelerator and keeps what is already there', () => {
    const x = tensor([[1, 2]], { backend: 'cpu-twin' });
    const y = tensor([3], { dtype: 'int32', backend: 'cpu' });
    const raw = { inputs: [x], y, note: 'kept' };
    const { batch, created } = prepareBatch(raw, false, batchTarget('cpu', '32-true'));
    expect(batch).not.toBe(raw);
    expect(batch.inputs[0]?.backend).toBe('cpu');
    expect(Array.from(batch.inputs[0]?.dataSync() ?? [])).toEqual([1, 2]);
    expect(batch.y).toBe(y);
    expect(batch.note).toBe('kept');
    expect(created).toEqual([batch.inputs[0]]);
    // Not owned: the original stays usable.
    expect(disposed(x)).toBe(false);
  });

  it('releases the originals it replaced when the Trainer owns the batch', () => {
    const x = tensor([1, 2], { backend: 'cpu-twin' });
    const { batch } = prepareBatch([x], true, batchTarget('cpu', '32-true'));
    expect(disposed(x)).toBe(true);
    expect(batch[0]?.backend).toBe('cpu');
  });

  it("casts floating tensors to float64 for '64-true', and returns the batch itself when nothing changes", () => {
    const x = tensor([0.5], { backend: 'cpu' });
    const labels = tensor([1], { dtype: 'int32', backend: 'cpu' });
    const { batch } = prepareBatch([x, labels], false, batchTarget('auto', '64-true'));
    expect(batch[0]?.dtype).toBe('float64');
    expect(batch[1]).toBe(labels);
    const same = [x, labels];
    expect(prepareBatch(same, true, batchTarget('auto', '32-true'))).toEqual({ batch: same, created: [] });
    expect(disposed(x)).toBe(false);
  });
});
