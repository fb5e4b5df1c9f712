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
    this.lambdas = lambdasPerGroup('LambdaLR', options.lrLambda, optimizer.paramGroups.length);
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((base, i) => base * factorAt('LambdaLR', this.lambdas[i] as LrLambda, this.lastEpoch));
  }
}

/** Options of `MultiplicativeLR`. */
export interface MultiplicativeLROptions {
  /** The factor each epoch multiplies the learning rate by: one function for every group, or one per group. */
  readonly lrLambda: LrLambda | readonly LrLambda[];
  readonly lastEpoch?: number;
}

/**
 * Multiplies each group's learning rate by `lrLambda(epoch)` every epoch after the first
 * (torch's MultiplicativeLR).
 *
 * @example
 * const scheduler = new optim.MultiplicativeLR(optimizer, { lrLambda: () => 0.95 });
 */
export class MultiplicativeLR extends LRScheduler {
  private readonly lambdas: readonly LrLambda[];

  constructor(optimizer: SchedulableOptimizer, options: MultiplicativeLROptions) {
    super(optimizer, options.lastEpoch);
    this.lambdas = lambdasPerGroup('MultiplicativeLR', options.lrLambda, optimizer.paramGroups.length);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch <= 0) return lrs;
    return lrs.map((lr, i) => lr * factorAt('MultiplicativeLR', this.lambdas[i] as LrLambda, this.lastEpoch));
  }
}

function lambdasPerGroup(owner: string, given: LrLambda | readonly LrLambda[], groups: number): LrLambda[] {
  if (typeof given === 'function') return Array.from({ length: groups }, () => given);
  if (Array.isArray(given) && given.length === groups && given.every((f) => typeof f === 'function')) return [...given];
  throw new ValueError(
    `${owner}: lrLambda must be a function or a list of ${groups} functions (one per parameter group), got ${Array.isArray(given) ? `a list of ${given.length}` : typeof given}`,
  );
}

function factorAt(owner: string, lambda: LrLambda, epoch: number): number {
  const factor = lambda(epoch);
  if (typeof factor !== 'number' || Number.isNaN(factor))
    throw new ValueError(`${owner}: lrLambda(${epoch}) returned ${String(factor)}, not a number`);
  return factor;
}
