import { ValueError } from '../../core/errors.js';
import { checkFiniteNumber, checkPositiveInteger } from '../checks.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** Options of `ConstantLR`. */
export interface ConstantLROptions {
  /** The factor applied until `totalIters` (in [0, 1], default 1/3). */
  readonly factor?: number;
  /** The epoch at which the base learning rate returns (default 5). */
  readonly totalIters?: number;
  readonly lastEpoch?: number;
}

/**
 * Scales the learning rate by a constant `factor` for the first `totalIters` epochs, then
 * restores it (torch's ConstantLR; a warm-up at a reduced rate).
 *
 * @example
 * const warmup = new optim.ConstantLR(optimizer, { factor: 0.5, totalIters: 4 });
 */
export class ConstantLR extends LRScheduler {
  readonly factor: number;
  readonly totalIters: number;

  constructor(optimizer: SchedulableOptimizer, options: ConstantLROptions = {}) {
    super(optimizer, options.lastEpoch);
    const factor = checkFiniteNumber('ConstantLR', 'factor', options.factor ?? 1 / 3);
    if (factor < 0 || factor > 1) throw new ValueError(`ConstantLR: factor must be in [0, 1], got ${factor}`);
    this.factor = factor;
    this.totalIters = checkPositiveInteger('ConstantLR', 'totalIters', options.totalIters ?? 5);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0) return lrs.map((lr) => lr * this.factor);
    if (this.lastEpoch !== this.totalIters) return lrs;
    return lrs.map((lr) => lr * (1 / this.factor));
  }

  protected override closedFormLr(): number[] {
    const restored = this.lastEpoch >= this.totalIters ? 1 : 0;
    return this.baseLrs.map((base) => base * (this.factor + restored * (1 - this.factor)));
  }
}
