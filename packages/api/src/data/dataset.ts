import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { tensor } from '../ops/convert.js';
import { index, take } from '../ops/indexing.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { epochSource, type RandomSourceLike, randomPermutation, toRandomSource } from './random-source.js';

/**
 * A map-style dataset (torch.utils.data.Dataset): `length` samples, read by index. `get` may be
 * asynchronous (reading files, fetching); such datasets load with `for await`.
 *
 * Tensors a synchronous `get` creates are temporaries of the loader, which releases those that
 * the batch does not include; tensors the dataset already held are left alone. Tensors an
 * asynchronous `get` returns are handed over to the loader.
 */
export abstract class Dataset<T> {
  abstract readonly length: number;
  abstract get(index: number): T | Promise<T>;
}

/** Anything with `length` and `get`: a Dataset, or an object of that shape. */
export interface DatasetLike<T> {
  readonly length: number;
  get(index: number): T | Promise<T>;
  /**
   * The collated batch of these samples, where the dataset can build it faster than one sample
   * at a time (TensorDataset gathers rows in one op). Used when the loader has no custom collate;
   * returning undefined declines, and the loader reads the samples one by one.
   */
  getBatch?(indices: readonly number[]): unknown;
}

/** @internal Checks an index against a dataset's length, allowing negatives from the end. */
export function checkIndex(owner: string, i: number, length: number): number {
  if (!Number.isInteger(i) || i < -length || i >= length) {
    throw new IndexError(`${owner}: index ${i} is out of range for a dataset of ${length} samples`);
  }
  return i < 0 ? i + length : i;
}

/**
 * Samples that are rows of tensors sharing their first dimension (torch's TensorDataset):
 * `get(i)` returns the i-th row of each.
 *
 * @example
 * const dataset = new TensorDataset(images, labels);
 * const [image, label] = dataset.get(0);
 */
export class TensorDataset<T extends Tensor[] = Tensor[]> extends Dataset<T> implements DatasetLike<T> {
  readonly tensors: T;
  readonly length: number;

  constructor(...tensors: T) {
    super();
    if (tensors.length === 0) throw new ValueError('TensorDataset: expected at least one tensor');
    tensors.forEach((t, i) => {
      if (!isTensor(t)) throw new ValueError(`TensorDataset: argument ${i} is not a tensor`);
      if (t.shape.length === 0)
        throw new ShapeError(`TensorDataset: tensor ${i} is rank 0; each tensor needs a first dimension that indexes samples`);
    });
    const first = (tensors[0] as Tensor).shape[0] as number;
    tensors.forEach((t, i) => {
      if (t.shape[0] !== first) {
        throw new ShapeError(
          `TensorDataset: tensors must share their first dimension; tensor 0 has shape ${formatShape((tensors[0] as Tensor).shape)}, tensor ${i} has ${formatShape(t.shape)}`,
        );
      }
    });
    this.tensors = tensors;
    this.length = first;
  }

  get(i: number): T {
    const row = checkIndex('TensorDataset.get', i, this.length);
    return this.tensors.map((t) => index(t, row)) as T;
  }

  /** Gathers the rows of each tensor in one op. */
  getBatch(indices: readonly number[]): T {
    const rows = Int32Array.from(indices, (i) => checkIndex('TensorDataset.getBatch', i, this.length));
    const backend = (this.tensors[0] as Tensor).backend;
    const picks = tensor(rows, { backend });
    try {
      return this.tensors.map((t) => take(t, picks, 0)) as T;
    } finally {
      picks.dispose();
    }
  }
}

/**
 * The samples of `dataset` at `indices`, in that order (torch's Subset).
 *
 * @example
 * const firstHundred = new Subset(dataset, Array.from({ length: 100 }, (_, i) => i));
 */
export class Subset<T> extends Dataset<T> implements DatasetLike<T> {
  readonly dataset: DatasetLike<T>;
  readonly indices: readonly number[];

  constructor(dataset: DatasetLike<T>, indices: Iterable<number>) {
    super();
    this.dataset = dataset;
    this.indices = Array.from(indices, (i) => checkIndex('Subset', i, dataset.length));
  }

  get length(): number {
    return this.indices.length;
  }

  get(i: number): T | Promise<T> {
    return this.dataset.get(this.indices[checkIndex('Subset.get', i, this.indices.length)] as number);
  }

  getBatch(indices: readonly number[]): unknown {
    const inner = indices.map((i) => this.indices[checkIndex('Subset.getBatch', i, this.indices.length)] as number);
    return this.dataset.getBatch === undefined ? undefined : this.dataset.getBatch(inner);
  }
}

/**
 * Datasets one after another (torch's ConcatDataset).
 *
 * @example
 * const all = new ConcatDataset([trainSet, extraSet]);
 */
export class ConcatDataset<T> extends Dataset<T> implements DatasetLike<T> {
  readonly datasets: readonly DatasetLike<T>[];
  /** Running totals of the datasets' lengths. */
  readonly cumulativeSizes: readonly number[];

  constructor(datasets: Iterable<DatasetLike<T>>) {
    super();
    this.datasets = [...datasets];
    if (this.datasets.length === 0) throw new ValueError('ConcatDataset: expected at least one dataset');
    let total = 0;
    this.cumulativeSizes = this.datasets.map((d, i) => {
      if (typeof d?.length !== 'number' || typeof d.get !== 'function')
        throw new ValueError(`ConcatDataset: datasets[${i}] is not a dataset (length and get)`);
      total += d.length;
      return total;
    });
  }

  get length(): number {
    return this.cumulativeSizes[this.cumulativeSizes.length - 1] as number;
  }

  get(i: number): T | Promise<T> {
    const position = checkIndex('ConcatDataset.get', i, this.length);
    let lo = 0;
    let hi = this.cumulativeSizes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (position < (this.cumulativeSizes[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    const before = lo === 0 ? 0 : (this.cumulativeSizes[lo - 1] as number);
    return (this.datasets[lo] as DatasetLike<T>).get(position - before);
  }
}

/**
 * Splits a dataset into non-overlapping random subsets (torch.utils.data.random_split).
 * `lengths` are sample counts summing to the dataset's length, or fractions summing to 1 (the
 * remainder of the rounding goes one sample at a time to the first subsets, as in PyTorch).
 * Without a `generator`, the order comes from a seed drawn from the global generator, so it
 * repeats after the same `manualSeed`.
 *
 * @example
 * const [train, validation] = randomSplit(dataset, [0.9, 0.1], 42);
 */
export function randomSplit<T>(dataset: DatasetLike<T>, lengths: readonly number[], generator?: RandomSourceLike): Subset<T>[] {
  const owner = 'randomSplit';
  const n = dataset.length;
  if (!Array.isArray(lengths) || lengths.length === 0 || lengths.some((l) => typeof l !== 'number' || !(l >= 0))) {
    throw new ValueError(`${owner}: lengths must be a non-empty list of non-negative numbers, got ${JSON.stringify(lengths)}`);
  }
  let counts: number[];
  const sum = lengths.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) < 1e-9 && sum <= n) {
    counts = lengths.map((f) => Math.floor(n * f));
    const remainder = n - counts.reduce((a, b) => a + b, 0);
    for (let i = 0; i < remainder; i++) counts[i % counts.length] = (counts[i % counts.length] as number) + 1;
  } else {
    if (lengths.some((l) => !Number.isInteger(l)))
      throw new ValueError(`${owner}: lengths must be integers summing to ${n} or fractions summing to 1, got ${JSON.stringify(lengths)}`);
    counts = [...lengths];
  }
  const total = counts.reduce((a, b) => a + b, 0);
  if (total !== n) throw new ValueError(`${owner}: lengths sum to ${total}, but the dataset has ${n} samples`);
  const order = randomPermutation(epochSource(toRandomSource(owner, generator)), n);
  const out: Subset<T>[] = [];
  let start = 0;
  for (const count of counts) {
    out.push(new Subset(dataset, order.subarray(start, start + count)));
    start += count;
  }
  return out;
}
