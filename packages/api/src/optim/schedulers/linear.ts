import { ValueError } from '../../core/errors.js';
import { checkFiniteNumber, checkPositiveInteger } from '../checks.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** Options of `LinearLR`. */
export interface LinearLROptions {
  /** Factor of the base learning rate at epoch 0 (in (0, 1], default 1/3). */
  readonly startFactor?: number;
  /** Factor reached after `totalIters` epochs (in [0, 1], default 1). */
  readonly endFactor?: number;
  /** Epochs over which the factor moves linearly (default 5). */
  readonly totalIters?: number;
  readonly lastEpoch?: number;
}

/**
 * Scales the learning rate by a factor that moves linearly from `startFactor` to `endFactor`
 * over `totalIters` epochs, then stays (torch's LinearLR; a common warm-up).
 *
 * @example
 * const warmup = new optim.LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: LinearLROptions = {}) {
    super(optimizer, options.lastEpoch);
    const startFactor = checkFiniteNumber('LinearLR', 'startFactor', options.startFactor ?? 1 / 3);
    const endFactor = checkFiniteNumber('LinearLR', 'endFactor', options.endFactor ?? 1);
    if (startFactor <= 0 || startFactor > 1) throw new ValueError(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (endFactor < 0 || endFactor > 1) throw new ValueError(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    this.startFactor = startFactor;
    this.endFactor = endFactor;
    this.totalIters = checkPositiveInteger('LinearLR', 'totalIters', options.totalIters ?? 5);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    const lrs = this.groupLrs();
    if (lastEpoch === 0) return lrs.map((lr) => lr * startFactor);
    if (lastEpoch > totalIters) return lrs;
    const factor = 1 + (endFactor - startFactor) / (totalIters * startFactor + (lastEpoch - 1) * (endFactor - startFactor));
    return lrs.map((lr) => lr * factor);
  }

  protected override closedFormLr(): number[] {
    const { startFactor, endFactor, totalIters, lastEpoch } = this;
    return this.baseLrs.map((base) => base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, lastEpoch)) / totalIters));
  }
}
