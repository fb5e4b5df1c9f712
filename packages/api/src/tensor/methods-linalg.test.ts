import { type Backend, BackendError, ConcretizationError, DisposedError, registerBackend, Tensor, tensor } from '@flint/api';
import { CpuBackend } from '@flint/backend-cpu';
import { describe, expect, it } from 'vitest';

// Two extra backends made from the CPU one: 'cpu-twin' reads synchronously, 'async-twin' only
// asynchronously (like a GPU), so moving data between backends can be tested without hardware.
function twin(name: string, syncRead: boolean): Backend {
  const inner = new CpuBackend() as unknown as Backend;
  const backend: Backend = {
    name,
    capabilities: { ...inner.capabilities, syncRead },
    kernels: inner.kernels,
    fromTypedArray: (data, shape, dtype) => inner.fromTypedArray(data, shape, dtype),
    read: (handle) => inner.read(handle),
    dispose: (handle) => inner.dispose(handle),
    memory: () => inner.memory(),
    ...(syncRead ? { readSync: (handle: unknown) => (inner.readSync as (h: unknown) => Float32Array)(handle) } : {}),
  };
  return backend;
}
registerBackend({ name: 'cpu-twin', priority: 0, create: () => twin('cpu-twin', true) });
registerBackend({ name: 'async-twin', priority: 0, create: () => twin('async-twin', false) });
// Importing the CPU package registered 'cpu', which stays the default (highest priority).

describe('to(backend)', () => {
  it('copies the data to another backend', () => {
    const x = tensor([
      [1.5, 2],
      [3, 4],
    ]);
    const y = x.to('cpu-twin');
    expect(y.backend).toBe('cpu-twin');
    expect(y).not.toBe(x);
    expect(y.shape).toEqual([2, 2]);
    expect(y.dtype).toBe('float32');
    expect(y.arraySync()).toEqual([
      [1.5, 2],
      [3, 4],
    ]);
    expect(y.add(1).backend).toBe('cpu-twin');
    expect(() => x.add(y)).toThrow(/different backends/);
    expect(y.to('cpu').arraySync()).toEqual(x.arraySync());
  });

  it('returns the tensor itself when it is already there', () => {
    const x = tensor([1, 2]);
    expect(x.to('cpu')).toBe(x);
  });

  it('casts when given a dtype name', () => {
    const x = tensor([1.7, -2.2]);
    const y = x.to('int32');
    expect(y.dtype).toBe('int32');
    expect(y.arraySync()).toEqual([1, -2]);
  });

  it('explains what to do when the source cannot read synchronously', async () => {
    const x = await tensor([1, 2, 3]).toAsync('async-twin');
    expect(x.backend).toBe('async-twin');
    expect(() => x.to('cpu')).toThrow(BackendError);
    expect(() => x.to('cpu')).toThrow(/await t\.toAsync\('cpu'\)/);
    expect(x.toString()).toContain("<on 'async-twin'; print await t.toStringAsync()>");
    expect(await x.toStringAsync()).toBe("tensor([1, 2, 3], backend='async-twin')");
    const back = await x.toAsync('cpu');
    expect(back.backend).toBe('cpu');
    expect(back.arraySync()).toEqual([1, 2, 3]);
  });

  it('rejects unknown backends, tracers and disposed tensors', async () => {
    const x = tensor([1]);
    expect(() => x.to('nope')).toThrow(/unknown backend 'nope'/);
    await expect(x.toAsync('nope')).rejects.toThrow(/unknown backend 'nope'/);
    expect(() => new Tensor([1], 'float32', null, undefined).to('cpu')).toThrow(ConcretizationError);
    x.dispose();
    expect(() => x.to('cpu-twin')).toThrow(DisposedError);
  });
});

describe('linear algebra methods', () => {
  it('matmul, dot and outer are methods', () => {
    expect(
      tensor([[1, 2]])
        .matmul(tensor([[3], [4]]))
        .arraySync(),
    ).toEqual([[11]]);
    expect(
      tensor([1, 2])
        .dot(tensor([3, 4]))
        .item(),
    ).toBe(11);
    expect(
      tensor([1, 2])
        .outer(tensor([3, 4]))
        .arraySync(),
    ).toEqual([
      [3, 4],
      [6, 8],
    ]);
  });
});

describe('matrix decomposition methods', () => {
  it('det, logdet, slogdet, inverse, cholesky, matrixPower, cross, kron and diagEmbed are methods', () => {
    const a = tensor([
      [4, 2],
      [2, 5],
    ]);
    expect(a.det().item()).toBeCloseTo(16, 5);
    expect(a.logdet().item()).toBeCloseTo(Math.log(16), 5);
    expect(a.slogdet().sign.item()).toBe(1);
    expect(a.inverse().matmul(a).arraySync()).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(a.cholesky().arraySync()).toEqual([
      [2, 0],
      [1, 2],
    ]);
    expect(a.cholesky(true).arraySync()).toEqual([
      [2, 1],
      [0, 2],
    ]);
    expect(a.matrixPower(2).arraySync()).toEqual([
      [20, 18],
      [18, 29],
    ]);
    expect(
      tensor([1, 0, 0])
        .cross(tensor([0, 1, 0]))
        .arraySync(),
    ).toEqual([0, 0, 1]);
    expect(
      tensor([1, 2])
        .kron(tensor([1, 10]))
        .arraySync(),
    ).toEqual([1, 10, 2, 20]);
    expect(tensor([1, 2]).diagEmbed().arraySync()).toEqual([
      [1, 0],
      [0, 2],
    ]);
  });
});
