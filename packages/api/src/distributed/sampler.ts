import { ValueError } from '../core/errors.js';
import { randomPermutation, SeededRandom } from '../data/random-source.js';
import type { Sampler } from '../data/sampler.js';
import { environmentRank } from './environment.js';
import { isInitialized, processGroup } from './process-group.js';

/** Options of `DistributedSampler` (torch's names). */
export interface DistributedSamplerOptions {
  /** The number of ranks sharing the data (default: the job's world size). */
  readonly numReplicas?: number;
  /** This rank's shard (default: this process's rank). */
  readonly rank?: number;
  /** A fresh permutation every epoch, the same on every rank (default true). */
  readonly shuffle?: boolean;
  /** The seed all ranks share; epoch `e` is ordered by `seed + e` (default 0). */
  readonly seed?: number;
  /** Drop the tail that does not divide evenly instead of padding it with repeated samples (default false). */
  readonly dropLast?: boolean;
}

function checkIndex(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min)
    throw new ValueError(`DistributedSampler: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * This rank's shard of a dataset's indices (torch's DistributedSampler): every epoch all ranks
 * order the indices the same way (a permutation from `seed + epoch`, or in order), pad the order
 * to a multiple of the world size by repeating its start (or drop the tail), and rank r takes
 * positions r, r + W, r + 2W, ... So the shards are disjoint, equal in length, and together one
 * pass over the data. Call `setEpoch` before each epoch (the Trainer does) to reshuffle.
 *
 * @example
 * const sampler = new DistributedSampler(dataset.length, { seed: 42 });
 * const loader = new DataLoader(dataset, { batchSize: 32, sampler });
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   sampler.setEpoch(epoch);
 *   for (const batch of loader) trainStep(batch);
 * }
 */
export class DistributedSampler implements Sampler {
  readonly datasetLength: number;
  readonly numReplicas: number;
  readonly rank: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** Indices this rank yields per epoch. */
  readonly length: number;
  private epoch = 0;

  constructor(datasetLength: number, options: DistributedSamplerOptions = {}) {
    this.datasetLength = checkIndex('datasetLength', datasetLength, 0);
    const job = isInitialized() ? processGroup() : environmentRank();
    this.numReplicas = checkIndex('numReplicas', options.numReplicas ?? job.worldSize, 1);
    this.rank = checkIndex('rank', options.rank ?? job.rank, 0);
    if (this.rank >= this.numReplicas)
      throw new ValueError(`DistributedSampler: rank ${this.rank} is not in [0, ${this.numReplicas}) (numReplicas ${this.numReplicas})`);
    this.shuffle = options.shuffle ?? true;
    this.seed = checkIndex('seed', options.seed ?? 0, 0);
    this.dropLast = options.dropLast ?? false;
    this.length =
      this.dropLast && datasetLength % this.numReplicas !== 0
        ? Math.floor(datasetLength / this.numReplicas)
        : Math.ceil(datasetLength / this.numReplicas);
  }

  /** The epoch whose order the next iteration yields (torch's set_epoch). */
  setEpoch(epoch: number): void {
    this.epoch = checkIndex('epoch', epoch, 0);
  }

  /** The epoch set last. */
  get currentEpoch(): number {
    return this.epoch;
  }

  *[Symbol.iterator](): Iterator<number> {
    const n = this.datasetLength;
    const total = this.length * this.numReplicas;
    if (n === 0 || total === 0) return;
    const order = this.shuffle ? randomPermutation(new SeededRandom(this.seed + this.epoch), n) : null;
    for (let position = this.rank; position < total; position += this.numReplicas) {
      // Positions past the end wrap to the start: the padding torch adds.
      const wrapped = position % n;
      yield order === null ? wrapped : (order[wrapped] as number);
    }
  }
}
