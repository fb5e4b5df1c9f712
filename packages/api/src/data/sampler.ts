import { ValueError } from '../core/errors.js';
import { epochSource, type RandomSource, type RandomSourceLike, randomBelow, randomPermutation, toRandomSource } from './random-source.js';

/** An iterable of dataset indices with a known length (torch's Sampler). Each iteration is one epoch. */
export interface Sampler {
  readonly length: number;
  [Symbol.iterator](): Iterator<number>;
}

/** An iterable of index batches with a known length (torch's BatchSampler, or any batch sampler). */
export interface BatchSamplerLike {
  readonly length: number;
  [Symbol.iterator](): Iterator<readonly number[]>;
}

function checkCount(owner: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ValueError(`${owner}: ${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Indices 0 .. length-1 in order.
 *
 * @example
 * new SequentialSampler(dataset.length);
 */
export class SequentialSampler implements Sampler {
  readonly length: number;

  constructor(length: number) {
    this.length = checkCount('SequentialSampler', 'length', length);
  }

  *[Symbol.iterator](): Iterator<number> {
    for (let i = 0; i < this.length; i++) yield i;
  }
}

/** Options of `RandomSampler`. */
export interface RandomSamplerOptions {
  /** Draw with replacement (default false: a permutation each epoch). */
  readonly replacement?: boolean;
  /** Indices per epoch (default: the dataset's length). */
  readonly numSamples?: number;
  /**
   * A seed or RandomSource; each epoch continues its sequence, so epochs differ yet replay exactly.
   * Without one, each epoch draws a seed from the global generator (`manualSeed`), as PyTorch's.
   */
  readonly generator?: RandomSourceLike;
}

/**
 * Random indices: a fresh permutation every epoch, or draws with replacement (torch's RandomSampler).
 *
 * @example
 * new RandomSampler(dataset.length, { generator: 42 });
 */
export class RandomSampler implements Sampler {
  readonly datasetLength: number;
  readonly replacement: boolean;
  readonly length: number;
  readonly generator: RandomSource;

  constructor(datasetLength: number, options: RandomSamplerOptions = {}) {
    this.datasetLength = checkCount('RandomSampler', 'datasetLength', datasetLength);
    this.replacement = options.replacement ?? false;
    this.length = options.numSamples === undefined ? datasetLength : checkCount('RandomSampler', 'numSamples', options.numSamples);
    if (this.length > 0 && datasetLength === 0) throw new ValueError('RandomSampler: cannot draw samples from an empty dataset');
    this.generator = toRandomSource('RandomSampler', options.generator);
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.datasetLength;
    const source = epochSource(this.generator);
    if (this.replacement) {
      for (let i = 0; i < this.length; i++) yield randomBelow(source, n);
      return;
    }
    // As PyTorch: whole permutations, then part of one more when numSamples exceeds the length.
    let remaining = this.length;
    while (remaining > 0) {
      const order = randomPermutation(source, n);
      const take = Math.min(remaining, n);
      for (let i = 0; i < take; i++) yield order[i] as number;
      remaining -= take;
    }
  }
}

/**
 * The given indices in a random order, fresh every epoch (torch's SubsetRandomSampler).
 *
 * @example
 * new SubsetRandomSampler(validationIndices, 0);
 */
export class SubsetRandomSampler implements Sampler {
  readonly indices: readonly number[];
  readonly generator: RandomSource;

  constructor(indices: Iterable<number>, generator?: RandomSourceLike) {
    this.indices = [...indices];
    this.generator = toRandomSource('SubsetRandomSampler', generator);
  }

  get length(): number {
    return this.indices.length;
  }

  *[Symbol.iterator](): Iterator<number> {
    const order = randomPermutation(epochSource(this.generator), this.indices.length);
    for (const i of order) yield this.indices[i] as number;
  }
}

/**
 * Groups a sampler's indices into batches of `batchSize`; the last one is smaller unless
 * `dropLast` (torch's BatchSampler).
 *
 * @example
 * new BatchSampler(new SequentialSampler(100), 32, false); // 4 batches, the last of 4
 */
export class BatchSampler implements BatchSamplerLike {
  readonly sampler: Sampler;
  readonly batchSize: number;
  readonly dropLast: boolean;

  constructor(sampler: Sampler, batchSize: number, dropLast: boolean) {
    if (typeof batchSize !== 'number' || !Number.isInteger(batchSize) || batchSize <= 0) {
      throw new ValueError(`BatchSampler: batchSize must be a positive integer, got ${JSON.stringify(batchSize)}`);
    }
    this.sampler = sampler;
    this.batchSize = batchSize;
    this.dropLast = dropLast;
  }

  get length(): number {
    return this.dropLast ? Math.floor(this.sampler.length / this.batchSize) : Math.ceil(this.sampler.length / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<readonly number[]> {
    let batch: number[] = [];
    for (const i of this.sampler) {
      batch.push(i);
      if (batch.length === this.batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0 && !this.dropLast) yield batch;
  }
}
