import '@flint/backend-cpu';
import { afterEach, describe, expect, it } from 'vitest';
import { DTypeError, ValueError } from '../core/errors.js';
import { tensor } from '../ops/convert.js';
import * as distributed from './index.js';

afterEach(() => distributed.destroy());

describe('environmentRank', () => {
  it('reads the launchers’ variables, and is rank 0 of 1 alone', () => {
    expect(distributed.environmentRank({})).toEqual({ rank: 0, worldSize: 1, localRank: 0, localWorldSize: 1 });
    expect(
      distributed.environmentRank({
        OMPI_COMM_WORLD_RANK: '3',
        OMPI_COMM_WORLD_SIZE: '4',
        OMPI_COMM_WORLD_LOCAL_RANK: '1',
        OMPI_COMM_WORLD_LOCAL_SIZE: '2',
      }),
    ).toEqual({ rank: 3, worldSize: 4, localRank: 1, localWorldSize: 2 });
    expect(distributed.environmentRank({ RANK: '1', WORLD_SIZE: '2', LOCAL_RANK: '1' })).toMatchObject({
      rank: 1,
      worldSize: 2,
      localRank: 1,
    });
    expect(distributed.defaultTimeoutSeconds({ FLINT_DISTRIBUTED_TIMEOUT: '12' })).toBe(12);
    expect(distributed.defaultTimeoutSeconds({ FLINT_DISTRIBUTED_TIMEOUT: 'soon' })).toBe(300);
  });
});

describe('init', () => {
  it('needs init before a collective', () => {
    expect(() => distributed.allReduceSync(tensor([1]))).toThrow(/allReduce: call distributed.init\(\) first/);
  });

  it('is a job of one process when started alone, and every collective is the identity there', async () => {
    const group = distributed.init();
    expect(group).toMatchObject({ name: 'local', rank: 0, worldSize: 1 });
    expect(distributed.init()).toBe(group);
    const t = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float32' },
    );
    expect(distributed.allReduceSync(t, 'sum').arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect((await distributed.allReduce(t, 'mean')).arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(distributed.broadcastSync(t, 0).arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(distributed.allGatherSync(t).shape).toEqual([1, 2, 2]);
    expect(distributed.reduceScatterSync(t, 'max').arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(distributed.allReduceValues([2, 5], 'max')).toEqual([2, 5]);
    const [a, b] = distributed.allReduceCoalescedSync([t, tensor([7], { dtype: 'int32' })], 'sum');
    expect(a?.arraySync()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(b?.dtype).toBe('int32');
    distributed.barrier();
  });

  it('checks reductions, roots and dtypes', () => {
    distributed.init();
    expect(() => distributed.allReduceSync(tensor([1, 2], { dtype: 'int32' }), 'mean')).toThrow(DTypeError);
    expect(() => distributed.allReduceSync(tensor([true]), 'sum')).toThrow(/bool tensors reduce with 'max'/);
    expect(() => distributed.allReduceSync(tensor([1]), 'avg' as distributed.ReduceOp)).toThrow(ValueError);
    expect(() => distributed.broadcastSync(tensor([1]), 1)).toThrow(/root must be a rank in \[0, 1\), got 1/);
  });

  it('names the package to import when a transport is not registered', () => {
    expect(() => distributed.init({ transport: 'nccl' })).toThrow(/NCCL is not a host transport: import '@flint\/backend-cuda'/);
    expect(distributed.transportAvailability('nccl').available).toBe(false);
  });

  it('reports an unavailable transport with its reason', () => {
    distributed.registerTransport({
      name: 'fake-mpi',
      availability: () => ({ available: false, reason: distributed.MPI_NOT_INSTALLED }),
      launched: () => false,
      create: () => {
        throw new Error('unreachable');
      },
    });
    expect(() => distributed.init({ transport: 'fake-mpi' })).toThrow(
      /unavailable: MPI is not installed: apt-get install libopenmpi-dev openmpi-bin/,
    );
  });

  it('refuses to run alone when a launcher started several processes but no transport is registered', () => {
    const saved = { ...process.env };
    process.env.OMPI_COMM_WORLD_SIZE = '2';
    process.env.OMPI_COMM_WORLD_RANK = '1';
    try {
      expect(() => distributed.init()).toThrow(/rank 1 of 2 .*import '@flint\/distributed-mpi'/);
    } finally {
      delete process.env.OMPI_COMM_WORLD_SIZE;
      delete process.env.OMPI_COMM_WORLD_RANK;
      Object.assign(process.env, saved);
    }
  });
});

describe('DistributedSampler', () => {
  const shards = (length: number, ranks: number, options: distributed.DistributedSamplerOptions = {}, epoch = 0) =>
    Array.from({ length: ranks }, (_, rank) => {
      const sampler = new distributed.DistributedSampler(length, { ...options, numReplicas: ranks, rank });
      sampler.setEpoch(epoch);
      return [...sampler];
    });

  it('gives each rank a disjoint shard, together the whole dataset', () => {
    const parts = shards(12, 3, { seed: 5 });
    expect(parts.map((p) => p.length)).toEqual([4, 4, 4]);
    expect(parts.flat().sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
  });

  it('pads an uneven split with repeated samples, or drops the tail', () => {
    const padded = shards(10, 4, { shuffle: false });
    expect(padded).toEqual([
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 0],
      [3, 7, 1],
    ]);
    const dropped = shards(10, 4, { shuffle: false, dropLast: true });
    expect(dropped.map((p) => p.length)).toEqual([2, 2, 2, 2]);
    expect(new Set(dropped.flat()).size).toBe(8);
  });

  it('reshuffles every epoch with the shared seed, identically on every rank', () => {
    const epoch0 = shards(16, 2, { seed: 3 }, 0);
    const epoch1 = shards(16, 2, { seed: 3 }, 1);
    expect(epoch1).not.toEqual(epoch0);
    expect(shards(16, 2, { seed: 3 }, 1)).toEqual(epoch1);
    expect(epoch1.flat().sort((a, b) => a - b)).toEqual([...Array(16).keys()]);
    // One rank's order over W ranks interleaves the single-process order of the same seed.
    const [whole] = shards(16, 1, { seed: 3 }, 1);
    expect(epoch1[0]).toEqual(whole?.filter((_, i) => i % 2 === 0));
  });

  it('checks its arguments', () => {
    expect(() => new distributed.DistributedSampler(10, { numReplicas: 2, rank: 2 })).toThrow(/rank 2 is not in \[0, 2\)/);
    expect(() => new distributed.DistributedSampler(-1)).toThrow(/datasetLength must be an integer >= 0/);
  });
});
