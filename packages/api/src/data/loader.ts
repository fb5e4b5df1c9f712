import { ValueError } from '../core/errors.js';
import { isPromiseLike } from '../core/promise.js';
import { dispose, forEachTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { type Collated, defaultCollate } from './collate.js';
import type { DatasetLike } from './dataset.js';
import type { RandomSourceLike } from './random-source.js';
import { BatchSampler, type BatchSamplerLike, RandomSampler, type Sampler, SequentialSampler } from './sampler.js';

/** Options of `DataLoader` (PyTorch's names, camelCased). */
export interface DataLoaderOptions<T, B> {
  /** Samples per batch (default 1). */
  readonly batchSize?: number;
  /** Reshuffle the samples every epoch (default false). */
  readonly shuffle?: boolean;
  /**
   * Seed or RandomSource for `shuffle`, so that the order of every epoch can be replayed. Without
   * one, each epoch shuffles with a seed drawn from the global generator (`manualSeed`), as PyTorch's.
   */
  readonly generator?: RandomSourceLike;
  /** Drop the last batch when it is smaller than `batchSize` (default false). */
  readonly dropLast?: boolean;
  /** Turns a list of samples into a batch (default `defaultCollate`). */
  readonly collate?: (samples: T[]) => B;
  /** Chooses the indices of each epoch (exclusive with `shuffle`). */
  readonly sampler?: Sampler;
  /** Chooses whole batches of indices (exclusive with batchSize, shuffle, sampler and dropLast). */
  readonly batchSampler?: BatchSamplerLike;
  /** Batches fetched ahead while the current one is in use, in `for await` loops (default 1). */
  readonly prefetch?: number;
}

/**
 * Iterates over a dataset in batches (torch.utils.data.DataLoader): `for (const batch of loader)`
 * for synchronous datasets, `for await (const batch of loader)` for any dataset, fetching the
 * next batch while the current one is in use. Each iteration is one epoch. The tensors of each
 * batch belong to the loop body, which disposes them (or runs in `tidy`).
 *
 * @example
 * const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 64, shuffle: true, generator: 0 });
 * for (const [inputs, targets] of loader) {
 *   tidy(() => trainStep(inputs, targets));
 *   dispose([inputs, targets]);
 * }
 */
export class DataLoader<T, B = Collated<T>> {
  readonly dataset: DatasetLike<T>;
  readonly batchSize: number;
  readonly dropLast: boolean;
  readonly batchSampler: BatchSamplerLike;
  readonly prefetch: number;
  private readonly collate: ((samples: T[]) => B) | undefined;

  constructor(dataset: DatasetLike<T>, options: DataLoaderOptions<T, B> = {}) {
    const owner = 'DataLoader';
    if (typeof dataset !== 'object' || dataset === null || typeof dataset.get !== 'function' || typeof dataset.length !== 'number') {
      throw new ValueError(`${owner}: expected a dataset (an object with length and get(index)), got ${String(dataset)}`);
    }
    this.dataset = dataset;
    const { batchSize, shuffle = false, dropLast = false, sampler, batchSampler } = options;
    if (batchSampler !== undefined) {
      if (batchSize !== undefined || shuffle || sampler !== undefined || dropLast) {
        throw new ValueError(`${owner}: batchSampler is exclusive with batchSize, shuffle, sampler and dropLast`);
      }
      this.batchSampler = batchSampler;
      this.batchSize = Number.NaN;
      this.dropLast = false;
    } else {
      if (sampler !== undefined && shuffle)
        throw new ValueError(`${owner}: sampler is exclusive with shuffle; give the sampler its own order`);
      const size = batchSize ?? 1;
      if (!Number.isInteger(size) || size <= 0)
        throw new ValueError(`${owner}: batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
      const indices =
        sampler ??
        (shuffle
          ? new RandomSampler(dataset.length, options.generator === undefined ? {} : { generator: options.generator })
          : new SequentialSampler(dataset.length));
      this.batchSampler = new BatchSampler(indices, size, dropLast);
      this.batchSize = size;
      this.dropLast = dropLast;
    }
    const prefetch = options.prefetch ?? 1;
    if (!Number.isInteger(prefetch) || prefetch < 0)
      throw new ValueError(`${owner}: prefetch must be a non-negative integer, got ${JSON.stringify(prefetch)}`);
    this.prefetch = prefetch;
    if (options.collate !== undefined && typeof options.collate !== 'function')
      throw new ValueError(`${owner}: collate must be a function`);
    this.collate = options.collate;
  }

  /** Batches per epoch. */
  get length(): number {
    return this.batchSampler.length;
  }

  private collateSamples(samples: T[]): B {
    return this.collate === undefined ? (defaultCollate(samples) as B) : this.collate(samples);
  }

  /** The batch the dataset builds itself, when it can and no custom collate is set. */
  private datasetBatch(indices: readonly number[]): B | undefined {
    if (this.collate !== undefined || this.dataset.getBatch === undefined) return undefined;
    return this.dataset.getBatch(indices) as B | undefined;
  }

  /**
   * One batch, synchronously. Tensors that `get` and the collation create are released unless
   * the batch holds them.
   */
  private fetchSync(indices: readonly number[]): B {
    return tidy(() => {
      const built = this.datasetBatch(indices);
      if (built !== undefined) return built;
      const samples = indices.map((i) => {
        const sample = this.dataset.get(i);
        if (isPromiseLike(sample)) {
          // Its tensors arrive after this throws: release them then.
          sample.then(dispose, () => undefined);
          throw new ValueError(
            `DataLoader: the dataset's get(${i}) returned a Promise; iterate asynchronously with \`for await (const batch of loader)\``,
          );
        }
        return sample;
      });
      return this.collateSamples(samples);
    });
  }

  /**
   * One batch from a dataset whose `get` may be asynchronous. The samples are requested outside
   * any `tidy` scope, because an async `get` may create its tensors before its first `await` and
   * still return them afterwards; the loader then releases the sample tensors the batch does not
   * include.
   */
  private async fetchAsync(indices: readonly number[]): Promise<B> {
    const built = this.datasetBatch(indices);
    if (built !== undefined) return built;
    const requested = indices.map((i) => this.dataset.get(i));
    const samples = requested.some(isPromiseLike) ? await Promise.all(requested) : (requested as T[]);
    const batch = tidy(() => this.collateSamples(samples));
    const kept = new Set<Tensor>();
    forEachTensor(batch, (t) => kept.add(t));
    forEachTensor(samples, (t) => {
      if (!kept.has(t)) t.dispose();
    });
    return batch;
  }

  /** One epoch, synchronously. */
  *[Symbol.iterator](): Iterator<B> {
    for (const indices of this.batchSampler) yield this.fetchSync(indices);
  }

  /** One epoch, fetching up to `prefetch` batches ahead of the one in use. */
  async *[Symbol.asyncIterator](): AsyncIterator<B> {
    const batches = this.batchSampler[Symbol.iterator]();
    const pending: Promise<B>[] = [];
    const fill = () => {
      while (pending.length < this.prefetch + 1) {
        const next = batches.next();
        if (next.done) return;
        const promise = this.fetchAsync(next.value);
        // Rejections surface when the batch is awaited; until then they are not "unhandled".
        promise.catch(() => undefined);
        pending.push(promise);
      }
    };
    try {
      fill();
      while (pending.length > 0) {
        const current = pending.shift() as Promise<B>;
        const batch = await current;
        fill();
        yield batch;
      }
    } finally {
      // A loop left early: release the batches fetched ahead.
      for (const promise of pending) promise.then(dispose, () => undefined);
    }
  }
}
