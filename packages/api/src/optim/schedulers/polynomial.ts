import { checkFiniteNumber, checkPositiveInteger } from '../checks.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** Options of `PolynomialLR`. */
export interface PolynomialLROptions {
  /** Epochs over which the learning rate decays to 0 (default 5). */
  readonly totalIters?: number;
  /** The power of the polynomial (default 1: linear). */
  readonly power?: number;
  readonly lastEpoch?: number;
}

/**
 * Decays the learning rate to 0 over `totalIters` epochs as (1 - epoch / totalIters)^power
 * (torch's PolynomialLR).
 *
 * @example
 * const scheduler = new optim.PolynomialLR(optimizer, { totalIters: 100, power: 2 });
 */
export class PolynomialLR extends LRScheduler {
  readonly totalIters: number;
  readonly power: number;

  constructor(optimizer: SchedulableOptimizer, options: PolynomialLROptions = {}) {
    super(optimizer, options.lastEpoch);
    this.totalIters = checkPositiveInteger('PolynomialLR', 'totalIters', options.totalIters ?? 5);
    this.power = checkFiniteNumber('PolynomialLR', 'power', options.power ?? 1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { lastEpoch, totalIters, power } = this;
    const lrs = this.groupLrs();
    if (lastEpoch === 0 || lastEpoch > totalIters) return lrs;
    const decay = ((1 - lastEpoch / totalIters) / (1 - (lastEpoch - 1) / totalIters)) ** power;
    return lrs.map((lr) => lr * decay);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * (1 - Math.min(this.totalIters, this.lastEpoch) / this.totalIters) ** this.power);
  }
}
