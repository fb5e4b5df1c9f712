import { ValueError } from '../../core/errors.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** A learning-rate factor as a function of the epoch. */
export type LrLambda = (epoch: number) => number;

/** Options of `LambdaLR`. */
export interface LambdaLROptions {
  /** One function for every group, or one per group. */
  readonly lrLambda: LrLambda | readonly LrLambda[];
  readonly lastEpoch?: number;
}

/**
 * Sets each group's learning rate to its base rate times `lrLambda(epoch)` (torch's LambdaLR).
 *
 * @example
 * const scheduler = new optim.LambdaLR(optimizer, { lrLambda: (epoch) => 0.95 ** epoch });
 */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: readonly LrLambda[];

  constructor(optimizer: SchedulableOptimizer, options: LambdaLROptions) {
    super(optimizer, options.lastEpoch);
    const groups = optimizer.paramGroups.length;
    const given = options.lrLambda;
    if (typeof given === 'function') this.lambdas = Array.from({ length: groups }, () => given);
    else if (Array.isArray(given) && given.length === groups && given.every((f) => typeof f === 'function')) this.lambdas = [...given];
    else {
      throw new ValueError(
        `LambdaLR: lrLambda must be a function or a list of ${groups} functions (one per parameter group), got ${Array.isArray(given) ? `a list of ${given.length}` : typeof given}`,
      );
    }
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((base, i) => {
      const factor = (this.lambdas[i] as LrLambda)(this.lastEpoch);
      if (typeof factor !== 'number' || Number.isNaN(factor))
        throw new ValueError(`LambdaLR: lrLambda(${this.lastEpoch}) returned ${String(factor)}, not a number`);
      return base * factor;
    });
  }
}
