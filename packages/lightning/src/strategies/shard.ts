import { BatchSampler, DataLoader, distributed, RandomSampler, SequentialSampler } from '@flint/api';
import type { BatchSource } from '../trainer/batches.js';

/** Whether `source`'s sample order is one the Trainer may replace by a distributed one. */
function replaceableOrder(loader: DataLoader<unknown, unknown>): 'shuffle' | 'sequential' | undefined {
  const batches = loader.batchSampler;
  if (!(batches instanceof BatchSampler)) return undefined;
  if (batches.sampler instanceof RandomSampler && !batches.sampler.replacement && batches.sampler.length === batches.sampler.datasetLength)
    return 'shuffle';
  if (batches.sampler instanceof SequentialSampler) return 'sequential';
  return undefined;
}

/**
 * A DataLoader's view that iterates only this rank's shard (Lightning's distributed sampler
 * injection): the loader's random or sequential order becomes a `DistributedSampler` with the
 * same batch size, dropLast, collate and prefetch. Other sources (custom samplers, plain
 * iterables, loaders already on a DistributedSampler) are returned as they are: they shard
 * themselves.
 *
 * The view inherits everything else from the loader (it is created with the loader as its
 * prototype), so it is still a DataLoader, its batches still belong to the Trainer, and the
 * user's loader is left untouched.
 */
export function shardLoader(source: BatchSource, kind: 'train' | 'val', rank: number, worldSize: number, seed: number): BatchSource {
  if (!(source instanceof DataLoader)) return source;
  const loader = source as DataLoader<unknown, unknown>;
  const order = replaceableOrder(loader);
  if (order === undefined) return source;
  const sampler = new distributed.DistributedSampler(loader.dataset.length, {
    numReplicas: worldSize,
    rank,
    // Validation keeps its order (and is sharded only to split the work), as in Lightning.
    shuffle: kind === 'train' && order === 'shuffle',
    seed,
    dropLast: loader.dropLast,
  });
  const batchSampler = new BatchSampler(sampler, loader.batchSize, loader.dropLast);
  return Object.create(loader, { batchSampler: { value: batchSampler, enumerable: true } }) as BatchSource;
}

/** Points the source's DistributedSampler (if it has one) at `epoch`, so each epoch reshuffles. */
export function setSamplerEpoch(source: BatchSource, epoch: number): void {
  const sampler = (source as { batchSampler?: { sampler?: unknown } }).batchSampler?.sampler as { setEpoch?: unknown } | undefined;
  if (sampler !== undefined && typeof sampler.setEpoch === 'function') (sampler.setEpoch as (epoch: number) => void)(epoch);
}
