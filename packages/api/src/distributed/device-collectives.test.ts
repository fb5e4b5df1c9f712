import '@flint/backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { getBackend, registerBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import type { DType, TypedArray } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { tensor } from '../ops/convert.js';
import * as distributed from './index.js';

// A job of two ranks simulated in one process: the host transport doubles every reduction (as
// if the other rank held the same values) and counts its calls; the device collectives of the
// 'cpu' backend do the same on handles, so the tests see which path a collective took.

const calls = { host: [] as string[], device: [] as string[] };
let deviceAvailable = true;
let failNextCreate = false;

const twoRanks: distributed.Transport = {
  name: 'fake-two',
  rank: 0,
  worldSize: 2,
  localRank: 0,
  localWorldSize: 2,
  timeoutSeconds: 7,
  allReduce(data: TypedArray) {
    calls.host.push(`allReduce:${data.length}`);
    for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) * 2;
  },
  broadcast(data: TypedArray, root: number) {
    calls.host.push(`broadcast:${data.length}:${root}`);
  },
  allGather(data: TypedArray) {
    calls.host.push('allGather');
    const out = new (data.constructor as new (n: number) => TypedArray)(data.length * 2);
    out.set(data);
    out.set(data, data.length);
    return out;
  },
  reduceScatter(data: TypedArray) {
    calls.host.push('reduceScatter');
    return data.slice(0, data.length / 2).map((v) => v * 2);
  },
  barrier() {},
  abort(): never {
    throw new Error('abort');
  },
  finalize() {},
};

distributed.registerTransport({
  name: 'fake-two',
  availability: () => ({ available: true }),
  launched: () => false,
  create: (options) => {
    expect(options.timeoutSeconds).toBeGreaterThan(0);
    return twoRanks;
  },
});

function hostValues(backend: Backend, handle: unknown): TypedArray {
  if (backend.readSync === undefined) throw new Error('the fake device collectives need a backend that reads synchronously');
  return backend.readSync(handle);
}

function doubled(backend: Backend, handle: unknown, dtype: DType, times = 2): unknown {
  const values = (hostValues(backend, handle) as TypedArray).map((v) => v * times);
  return backend.fromTypedArray(values, [values.length], dtype);
}

let createdWith: { host: string; timeout: number } | undefined;
let finalized = 0;

distributed.registerDeviceCollectives({
  name: 'fake-nccl',
  backend: 'cpu',
  availability: () => (deviceAvailable ? { available: true } : { available: false, reason: 'libfake.so.2 not found (searched here)' }),
  create(backend, host, options) {
    if (failNextCreate) {
      failNextCreate = false;
      throw new Error('peer 1 never joined');
    }
    createdWith = { host: host.name, timeout: options.timeoutSeconds };
    return {
      name: 'fake-nccl',
      backend: 'cpu',
      allReduce(handle, _shape: Shape, dtype, op) {
        calls.device.push(`allReduce:${op}`);
        return doubled(backend, handle, dtype, op === 'mean' ? 1 : 2);
      },
      broadcast(handle, _shape, dtype, root) {
        calls.device.push(`broadcast:${root}`);
        return doubled(backend, handle, dtype, 1);
      },
      allGather(handle, _shape, dtype) {
        calls.device.push('allGather');
        const values = hostValues(backend, handle) as Float32Array;
        const out = new Float32Array(values.length * 2);
        out.set(values);
        out.set(values, values.length);
        return backend.fromTypedArray(out, [out.length], dtype);
      },
      reduceScatter(handle, shape, dtype) {
        calls.device.push('reduceScatter');
        const values = (hostValues(backend, handle) as Float32Array).map((v) => 2 * v);
        return backend.fromTypedArray(values.slice(0, values.length / 2), [(shape[0] as number) / 2], dtype);
      },
      allReduceMany(handles, _shapes, dtype, op) {
        calls.device.push(`allReduceMany:${handles.length}:${dtype}`);
        return handles.map((h) => doubled(backend, h, dtype, op === 'mean' ? 1 : 2));
      },
      finalize() {
        finalized++;
      },
    };
  },
});

afterEach(() => {
  distributed.destroy();
  calls.host.length = 0;
  calls.device.length = 0;
  deviceAvailable = true;
});

describe('device collectives', () => {
  it('reduce tensors of a backend that has them on the device, created once with the job’s timeout', async () => {
    distributed.init({ transport: 'fake-two' });
    const t = tensor([1, 2, 3], { dtype: 'float32' });
    expect(distributed.allReduceSync(t, 'sum').arraySync()).toEqual([2, 4, 6]);
    expect((await distributed.allReduce(t, 'mean')).arraySync()).toEqual([1, 2, 3]);
    expect(distributed.broadcastSync(t, 1).arraySync()).toEqual([1, 2, 3]);
    const gathered = distributed.allGatherSync(t);
    expect(gathered.shape).toEqual([2, 3]);
    expect(gathered.arraySync()).toEqual([
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const scattered = distributed.reduceScatterSync(tensor([1, 2, 3, 4], { dtype: 'float32' }), 'sum');
    expect(scattered.shape).toEqual([2]);
    expect(scattered.arraySync()).toEqual([2, 4]);
    expect(calls.device).toEqual(['allReduce:sum', 'allReduce:mean', 'broadcast:1', 'allGather', 'reduceScatter']);
    expect(calls.host).toEqual([]);
    expect(createdWith).toEqual({ host: 'fake-two', timeout: 7 });
    distributed.destroy();
    expect(finalized).toBe(1);
  });

  it('group a coalesced reduction per dtype on the device', () => {
    distributed.init({ transport: 'fake-two' });
    const [a, b, c] = distributed.allReduceCoalescedSync(
      [tensor([1, 2], { dtype: 'float32' }), tensor([3], { dtype: 'int32' }), tensor([4], { dtype: 'float32' })],
      'sum',
    );
    expect(calls.device.sort()).toEqual(['allReduceMany:1:int32', 'allReduceMany:2:float32']);
    expect([a?.arraySync(), b?.arraySync(), c?.arraySync()]).toEqual([[2, 4], [6], [8]]);
    expect(b?.dtype).toBe('int32');
  });

  it('fall back to the host transport when the library is unavailable, and report why', () => {
    deviceAvailable = false;
    distributed.init({ transport: 'fake-two' });
    expect(distributed.deviceCollectivesAvailability('cpu')).toEqual({
      available: false,
      reason: 'libfake.so.2 not found (searched here)',
    });
    expect(distributed.deviceCollectivesAvailability('webgpu').available).toBe(false);
    expect(distributed.allReduceSync(tensor([5], { dtype: 'float32' })).arraySync()).toEqual([10]);
    expect(calls.host).toEqual(['allReduce:1']);
    expect(calls.device).toEqual([]);
  });

  it('fail alike on every later call when they could not start, instead of retrying alone', () => {
    failNextCreate = true;
    distributed.init({ transport: 'fake-two' });
    const t = tensor([1], { dtype: 'float32' });
    expect(() => distributed.allReduceSync(t)).toThrow(/the 'fake-nccl' device collectives could not start: peer 1 never joined/);
    expect(() => distributed.allReduceSync(t)).toThrow(/peer 1 never joined/);
    expect(calls.host).toEqual([]);
  });

  it('are skipped with FLINT_DEVICE_COLLECTIVES=off', () => {
    process.env.FLINT_DEVICE_COLLECTIVES = 'off';
    try {
      distributed.init({ transport: 'fake-two' });
      distributed.allReduceSync(tensor([1], { dtype: 'float32' }));
      expect(calls.device).toEqual([]);
      expect(calls.host).toEqual(['allReduce:1']);
    } finally {
      delete process.env.FLINT_DEVICE_COLLECTIVES;
    }
  });
});

describe('collectives on a backend that reads asynchronously', () => {
  const cpu = getBackend('cpu');
  const asyncBackend: Backend = {
    name: 'async-cpu',
    capabilities: { ...cpu.capabilities, syncRead: false },
    kernels: cpu.kernels,
    fromTypedArray: (data, shape, dtype) => cpu.fromTypedArray(data, shape, dtype),
    read: (handle) => cpu.read(handle),
    dispose: (handle) => cpu.dispose(handle),
    memory: () => cpu.memory(),
  };
  registerBackend({ name: 'async-cpu', priority: -100, create: () => asyncBackend });
  const onAsync = (values: number[]) => tensor(values, { dtype: 'float32', backend: 'async-cpu' });

  it('say to await the asynchronous form instead of failing inside dataSync', () => {
    deviceAvailable = false;
    distributed.init({ transport: 'fake-two' });
    expect(() => distributed.allReduceSync(onAsync([1]))).toThrow(
      /allReduceSync: backend 'async-cpu' reads asynchronously .*use `await distributed.allReduce\(...\)`/,
    );
    expect(distributed.canReduceSync([onAsync([1])])).toBe(false);
    expect(distributed.canReduceSync([tensor([1])])).toBe(true);
  });

  it('reduce coalesced buckets after reading every tensor asynchronously', async () => {
    deviceAvailable = false;
    distributed.init({ transport: 'fake-two' });
    const [a, b] = await distributed.allReduceCoalesced([onAsync([1, 2]), onAsync([3])], 'mean');
    expect(calls.host).toEqual(['allReduce:3']);
    expect(a?.backend).toBe('async-cpu');
    expect(Array.from((await a?.data()) as Float32Array)).toEqual([1, 2]);
    expect(Array.from((await b?.data()) as Float32Array)).toEqual([3]);
  });
});
