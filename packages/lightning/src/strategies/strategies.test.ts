import '@flint/backend-cpu';
import { DataLoader, distributed, TensorDataset, tensor, ValueError } from '@flint/api';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { LoopDriver } from '../stream/loop-driver.js';
import { Regressor, regressionLoader } from '../test-support/regression.test-support.js';
import { seedGlobalRandom } from '../trainer/rng.js';
import { Trainer } from '../trainer/trainer.js';
import { DDPStrategy } from './ddp.js';
import { setSamplerEpoch, shardLoader } from './shard.js';
import { StopSyncDriver } from './stop-sync-driver.js';
import { SingleDeviceStrategy, type Strategy } from './strategy.js';

const quiet = { logger: false, enableProgressBar: false, enableCheckpointing: false, numSanityValSteps: 0 } as const;

describe('Trainer options for several devices', () => {
  it('accepts devices and numNodes above 1 only with strategy ddp', () => {
    expect(() => new Trainer({ devices: 2 })).toThrow(/devices must be 1 or 'auto' unless strategy is 'ddp'/);
    expect(() => new Trainer({ numNodes: 2 })).toThrow(/numNodes must be 1 unless strategy is 'ddp'/);
    expect(() => new Trainer({ strategy: 'fsdp' as 'ddp' })).toThrow(/strategy must be 'auto', 'ddp' or a Strategy/);
    const trainer = new Trainer({ strategy: 'ddp', devices: 2, numNodes: 2 });
    expect(trainer.options).toMatchObject({ devices: 2, numNodes: 2, strategy: 'ddp' });
    expect(trainer.strategy).toBeInstanceOf(DDPStrategy);
    expect(new Trainer({ strategy: new DDPStrategy({ bucketCapMb: 1 }) }).strategy.name).toBe('ddp');
    expect(() => new DDPStrategy({ bucketCapMb: 0 })).toThrow(/bucketCapMb must be a positive number/);
  });

  it('says how to launch when the process count does not match devices x numNodes', async () => {
    const trainer = new Trainer({ strategy: 'ddp', devices: 2, maxEpochs: 1, ...quiet });
    await expect(trainer.fit(new Regressor(), regressionLoader())).rejects.toThrow(
      /needs 2 processes, but this process is rank 0 of 1: launch the script with `pnpm exec flint-run --nproc <devices> script.ts`/,
    );
  });

  it('DDP over one process trains exactly as the single-device strategy (in sequential order)', async () => {
    const losses = async (strategy: 'ddp' | 'auto') => {
      seedGlobalRandom(3);
      const trainer = new Trainer({ strategy, maxEpochs: 2, seed: 3, ...quiet });
      const events = await lastValueFrom(
        trainer.fit$(new Regressor(), regressionLoader({ samples: 32, batchSize: 8, shuffle: false })).pipe(toArray()),
      );
      return events.flatMap((e) => (e.type === 'batchEnd' ? [e.loss] : []));
    };
    const single = await losses('auto');
    expect(single).toHaveLength(8);
    const ddp = await losses('ddp');
    for (const [i, loss] of ddp.entries()) expect(loss).toBeCloseTo(single[i] as number, 6);
  });
});

describe('shardLoader', () => {
  const dataset = new TensorDataset(
    tensor(
      Array.from({ length: 10 }, (_, i) => i),
      { dtype: 'float32' },
    ),
  );

  it('gives each rank a disjoint share of a shuffled DataLoader, batched as before', () => {
    const loader = new DataLoader(dataset, { batchSize: 2, shuffle: true, generator: 1 });
    const seen = [0, 1].map((rank) => {
      const shard = shardLoader(loader, 'train', rank, 2, 7);
      expect(shard).toBeInstanceOf(DataLoader);
      expect(shard.length).toBe(3);
      setSamplerEpoch(shard, 1);
      return [...(shard as Iterable<[{ dataSync(): Float32Array }]>)].flatMap(([x]) => Array.from(x.dataSync()));
    });
    expect(seen.flat().sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    expect(loader.length).toBe(5);
  });

  it('keeps the order of validation loaders and leaves other sources to shard themselves', () => {
    const loader = new DataLoader(dataset, { batchSize: 5 });
    const shard = shardLoader(loader, 'val', 1, 2, 0);
    // Rank 1's half of the 10 samples, in order: one batch of 5.
    const seen = [...(shard as Iterable<[{ dataSync(): Float32Array }]>)].map(([x]) => Array.from(x.dataSync()));
    expect(seen).toEqual([[1, 3, 5, 7, 9]]);
    const batches = [[tensor([1])]];
    expect(shardLoader(batches, 'train', 1, 2, 0)).toBe(batches);
  });
});

describe('StopSyncDriver', () => {
  const inner = (go: boolean): LoopDriver => ({
    emit: () => undefined,
    boundary: () => Promise.resolve(go),
    cancelled: false,
    stopReason: go ? undefined : 'early stop',
    clearStop: () => undefined,
    attach: () => undefined,
  });
  const deciding = (anyStop: boolean): Strategy => Object.assign(new SingleDeviceStrategy(), { reduceStop: () => anyStop });

  it('stops every rank when any rank asks to stop', async () => {
    const driver = new StopSyncDriver(inner(true), deciding(true));
    expect(await driver.boundary()).toBe(false);
    expect(driver.stopReason).toBe('another rank asked to stop');
    driver.clearStop();
    expect(driver.stopReason).toBeUndefined();
    expect(await new StopSyncDriver(inner(true), deciding(false)).boundary()).toBe(true);
    const local = new StopSyncDriver(inner(false), deciding(true));
    expect(await local.boundary()).toBe(false);
    expect(local.stopReason).toBe('early stop');
  });
});

describe('DDPStrategy before setup', () => {
  it('reads its rank from the environment and refuses to shard before setup', () => {
    const strategy = new DDPStrategy();
    expect(strategy.isGlobalZero).toBe(true);
    expect(strategy.globalRank).toBe(distributed.environmentRank().rank);
    expect(() => strategy.shardSource([], 'train')).toThrow(ValueError);
  });
});
