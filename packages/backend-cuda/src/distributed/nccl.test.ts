// NCCL on a machine without a GPU or libnccl: the unavailable path names what was searched, and
// in the addon's validation-only mode (host buffers, every check, nothing sent) the collectives'
// argument checks and the api's dispatch of CUDA tensors to NCCL are exercised. The collectives'
// values are checked on a GPU (gpu.checks.ts, 'NCCL on one rank', run by device-check.sh).
import { type Backend, BackendError, distributed, initBackend, registerBackend, type TypedArray, tensor } from '@flint/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CudaBackend } from '../backend.js';
import type { CudaHandle } from '../handle.js';
import type { Addon } from '../native/addon.js';
import { DTYPE_CODES } from '../native/codes.js';
import { loadAddon } from '../native/load.js';
import { createNcclCollectives, type NcclCollectives, ncclAvailability, ncclProvider } from './nccl.js';

const loaded = loadAddon();
const missing = 'reason' in loaded ? loaded.reason : undefined;
if (missing !== undefined) console.log(`backend-cuda: NCCL tests skipped, the addon is unavailable: ${missing}`);

/** A host transport of rank `rank` of 2 that records what it was asked to broadcast. */
function hostOfTwo(rank: number, broadcasts: { data: TypedArray; root: number }[]): distributed.Transport {
  return {
    name: 'fake-host',
    rank,
    worldSize: 2,
    localRank: rank,
    localWorldSize: 2,
    timeoutSeconds: 9,
    allReduce: () => {},
    broadcast: (data, root) => {
      broadcasts.push({ data: data.slice(), root });
    },
    allGather: (data) => data,
    reduceScatter: (data) => data,
    barrier: () => {},
    abort: () => {
      throw new Error('abort');
    },
    finalize: () => {},
  };
}

describe.skipIf(missing !== undefined)('NCCL without libnccl', () => {
  const addon = (loaded as { addon: Addon }).addon;

  it('reports libnccl.so.2 unavailable with the places searched (or found, where installed)', () => {
    const library = addon.ncclLibrary();
    const availability = ncclAvailability(addon);
    if (library.found) {
      expect(availability).toEqual({ available: true });
      return;
    }
    expect(availability.available).toBe(false);
    if (!availability.available) {
      expect(availability.reason).toMatch(
        /^libnccl\.so\.2 not found \(searched libnccl\.so\.2, libnccl\.so in FLINT_CUDA_LIBRARY_PATH \(.*\), the dynamic loader's path .*\/usr\/local\/cuda\/lib64/,
      );
      expect(ncclProvider.availability()).toEqual(availability);
      // The api reports the same through the provider that importing the package registers.
      distributed.registerDeviceCollectives(ncclProvider);
      expect(distributed.deviceCollectivesAvailability('cuda')).toEqual(availability);
    }
  });
});

describe.skipIf(missing !== undefined)('NCCL collectives in validation-only mode (rank 1 of 2, simulated)', () => {
  const addon = (loaded as { addon: Addon }).addon;
  let backend: CudaBackend;
  let nccl: NcclCollectives;
  const broadcasts: { data: TypedArray; root: number }[] = [];
  const upload = (values: number[], shape: number[], dtype: 'float32' | 'int32' | 'bool' = 'float32') =>
    backend.fromTypedArray(
      dtype === 'float32' ? Float32Array.from(values) : dtype === 'int32' ? Int32Array.from(values) : Uint8Array.from(values),
      shape,
      dtype,
    );

  beforeAll(() => {
    addon.initValidationOnly();
    const info = {
      device: -1,
      name: 'validation only',
      computeCapability: '0.0',
      multiprocessors: 0,
      totalMemory: 0,
      runtimeVersion: 0,
      driverVersion: 0,
    };
    backend = new CudaBackend(addon, info);
    nccl = createNcclCollectives(backend, hostOfTwo(1, broadcasts), { timeoutSeconds: 9 });
  });

  afterAll(() => {
    nccl.finalize();
  });

  it('joins with the id broadcast from rank 0 over the host transport', () => {
    expect(broadcasts).toHaveLength(1);
    expect(broadcasts[0]?.root).toBe(0);
    expect(broadcasts[0]?.data).toBeInstanceOf(Uint8Array);
    expect(broadcasts[0]?.data.length).toBe(128);
    expect(addon.ncclStatus()).toMatchObject({ initialized: true, simulated: true, rank: 1, worldSize: 2 });
    expect(() => addon.ncclInit(new Uint8Array(128), 1, 2, 9)).toThrow(/ncclCommInitRank: already initialized/);
  });

  it('returns fresh buffers of the collectives’ shapes, and packs views that are not contiguous', () => {
    const before = backend.memory().buffers;
    const x = upload([1, 2, 3, 4, 5, 6], [2, 3]);
    const reduced = nccl.allReduce(x, [2, 3], 'float32', 'sum');
    expect(reduced.shape).toEqual([2, 3]);
    expect(reduced.storage).not.toBe(x.storage);
    const gathered = nccl.allGather(x, [2, 3], 'float32');
    expect(gathered.shape).toEqual([2, 2, 3]);
    expect(gathered.storage.bytes).toBe(2 * 6 * 4);
    const scattered = nccl.reduceScatter(x, [2, 3], 'float32', 'mean');
    expect(scattered.shape).toEqual([1, 3]);
    expect(scattered.storage.bytes).toBe(3 * 4);
    const broadcast = nccl.broadcast(x, [2, 3], 'float32', 0);
    expect(broadcast.shape).toEqual([2, 3]);
    // A transposed view travels as a packed copy, released afterwards.
    const transposed: CudaHandle = { ...x, shape: [3, 2], strides: [1, 3], released: false };
    x.storage.refs++;
    const fromView = nccl.allReduce(transposed, [3, 2], 'float32', 'max');
    expect(fromView.shape).toEqual([3, 2]);
    const many = nccl.allReduceMany(
      [x, x],
      [
        [2, 3],
        [2, 3],
      ],
      'float32',
      'sum',
    );
    expect(many.map((h) => h.shape)).toEqual([
      [2, 3],
      [2, 3],
    ]);
    for (const h of [x, reduced, gathered, scattered, broadcast, transposed, fromView, ...many]) backend.dispose(h);
    expect(backend.memory().buffers).toBe(before);
    expect(addon.memory().buffers).toBe(before);
  });

  it('refuses mismatched dtypes, counts and reductions with BackendErrors naming the NCCL call', () => {
    const x = upload([1, 2, 3], [3]);
    const flags = upload([1, 0, 1], [3], 'bool');
    const ints = upload([1, 2], [2], 'int32');
    expect(() => nccl.allReduce(x, [3], 'int32', 'sum')).toThrow(BackendError);
    expect(() => nccl.allReduce(x, [3], 'int32', 'sum')).toThrow(
      /^cuda ncclAllReduce: the tensor is \[3\] int32, but its buffer holds \[3\] float32$/,
    );
    expect(() => nccl.allGather(x, [2, 2], 'float32')).toThrow(
      /ncclAllGather: the tensor is \[2, 2\] float32, but its buffer holds \[3\] float32/,
    );
    // The addon checks the buffer's dtype itself as well.
    expect(() => addon.ncclCollective(0, 0, DTYPE_CODES.int32, x.storage.id, new Int32Array([0, 1, 3, 1]), 0)).toThrow(
      /^flint-cuda ncclAllReduce: input is a float32 buffer, expected int32$/,
    );
    expect(() => nccl.reduceScatter(x, [3], 'float32', 'sum')).toThrow(
      /ncclReduceScatter: input has 3 elements, which do not divide evenly among 2 ranks/,
    );
    expect(() => nccl.allReduce(flags, [3], 'bool', 'sum')).toThrow(
      /ncclAllReduce: bool buffers reduce with max \(any\) or min \(all\) only/,
    );
    expect(nccl.allReduce(flags, [3], 'bool', 'max').shape).toEqual([3]);
    expect(() => nccl.allReduce(ints, [2], 'int32', 'mean')).toThrow(/ncclAllReduce: avg needs a floating dtype, got int32/);
    expect(() => nccl.broadcast(x, [3], 'float32', 2)).toThrow(/ncclBroadcast: root must be an integer in \[0, 1\]/);
    // A failure inside a group still ends the group: the next collective runs.
    expect(() => nccl.allReduceMany([x, ints], [[3], [2]], 'float32', 'sum')).toThrow(/buffer holds \[2\] int32/);
    expect(nccl.allReduce(x, [3], 'float32', 'sum').shape).toEqual([3]);
    expect(() => addon.ncclCollective(7, 0, DTYPE_CODES.float32, x.storage.id, new Int32Array([0, 1, 3, 1]), 0)).toThrow(RangeError);
    expect(() => addon.ncclInit(new Uint8Array(12), 0, 2, 1)).toThrow(/id must be a Uint8Array of 128 bytes/);
    expect(() => addon.ncclGroup(false)).toThrow(/ncclGroupEnd: no group was started/);
  });

  it('carries CUDA tensors’ collectives through the api to NCCL, with their shapes and dtypes', async () => {
    registerBackend({ name: 'cuda', priority: 0, create: () => backend as unknown as Backend });
    await initBackend('cuda');
    // The real provider, told libnccl is there (validation mode needs no library), on a job of two.
    let created = 0;
    distributed.registerDeviceCollectives({
      ...ncclProvider,
      availability: () => ({ available: true }),
      create: () => {
        created++;
        return nccl;
      },
    });
    distributed.registerTransport({
      name: 'fake-host',
      availability: () => ({ available: true }),
      launched: () => false,
      create: () => hostOfTwo(1, []),
    });
    distributed.init({ transport: 'fake-host' });
    try {
      const t = tensor([1, 2, 3, 4], { dtype: 'float32', backend: 'cuda', shape: [2, 2] });
      expect(distributed.allReduceSync(t, 'mean').shape).toEqual([2, 2]);
      expect((await distributed.allGather(t)).shape).toEqual([2, 2, 2]);
      expect(distributed.reduceScatterSync(t).shape).toEqual([1, 2]);
      const [a, b] = distributed.allReduceCoalescedSync([t, tensor([1], { dtype: 'int32', backend: 'cuda' })], 'sum');
      expect([a?.backend, a?.dtype, b?.dtype]).toEqual(['cuda', 'float32', 'int32']);
      expect(distributed.canReduceSync([t])).toBe(true);
      expect(created).toBe(1);
    } finally {
      // destroy() finalizes the communicator the api created; afterAll's finalize is then a no-op.
      distributed.destroy();
    }
    expect(addon.ncclStatus().initialized).toBe(false);
  });

  it('without libnccl, synchronous collectives on CUDA tensors name what is missing, and the async forms use the host', async () => {
    if (addon.ncclLibrary().found) return;
    distributed.registerDeviceCollectives(ncclProvider);
    const host = hostOfTwo(0, []);
    const reduced: number[] = [];
    host.allReduce = (data) => {
      reduced.push(data.length);
    };
    distributed.registerTransport({
      name: 'fake-host-2',
      availability: () => ({ available: true }),
      launched: () => false,
      create: () => host,
    });
    distributed.init({ transport: 'fake-host-2' });
    try {
      const t = tensor([1, 2, 3], { dtype: 'float32', backend: 'cuda' });
      expect(() => distributed.allReduceSync(t)).toThrow(
        /allReduceSync: backend 'cuda' reads asynchronously .*\(the 'nccl' device collectives are unavailable: libnccl\.so\.2 not found \(searched libnccl\.so\.2/,
      );
      expect(distributed.canReduceSync([t])).toBe(false);
      expect((await distributed.allReduce(t)).shape).toEqual([3]);
      expect(reduced).toEqual([3]);
    } finally {
      distributed.destroy();
    }
  });
});
