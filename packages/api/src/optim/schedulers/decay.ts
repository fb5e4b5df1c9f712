import { ValueError } from '../../core/errors.js';
import { checkFiniteNumber, checkPositiveInteger } from '../checks.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** Options of `StepLR`. */
export interface StepLROptions {
  /** Epochs between decays. */
  readonly stepSize: number;
  /** Factor applied at each decay (default 0.1). */
  readonly gamma?: number;
  readonly lastEpoch?: number;
}

/**
 * Multiplies the learning rate by `gamma` every `stepSize` epochs (torch's StepLR).
 *
 * @example
 * const scheduler = new optim.StepLR(optimizer, { stepSize: 30, gamma: 0.1 });
 */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: StepLROptions) {
    super(optimizer, options.lastEpoch);
    this.stepSize = checkPositiveInteger('StepLR', 'stepSize', options.stepSize);
    this.gamma = checkFiniteNumber('StepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}

/** Options of `MultiStepLR`. */
export interface MultiStepLROptions {
  /** Epochs at which to decay (increasing; a repeated epoch decays once per repetition). */
  readonly milestones: readonly number[];
  readonly gamma?: number;
  readonly lastEpoch?: number;
}

/**
 * Multiplies the learning rate by `gamma` at each milestone epoch (torch's MultiStepLR).
 *
 * @example
 * const scheduler = new optim.MultiStepLR(optimizer, { milestones: [30, 80], gamma: 0.1 });
 */
export class MultiStepLR extends LRScheduler {
  readonly milestones: readonly number[];
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: MultiStepLROptions) {
    super(optimizer, options.lastEpoch);
    if (!Array.isArray(options.milestones) || options.milestones.some((m) => !Number.isInteger(m) || m < 0)) {
      throw new ValueError(`MultiStepLR: milestones must be a list of non-negative integers, got ${JSON.stringify(options.milestones)}`);
    }
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = checkFiniteNumber('MultiStepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    const lrs = this.groupLrs();
    if (hits === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma ** hits);
  }

  protected override closedFormLr(): number[] {
    const passed = this.milestones.filter((m) => m <= this.lastEpoch).length;
    return this.baseLrs.map((base) => base * this.gamma ** passed);
  }
}

/** Options of `ExponentialLR`. */
export interface ExponentialLROptions {
  /** Factor applied every epoch. */
  readonly gamma: number;
  readonly lastEpoch?: number;
}

/**
 * Multiplies the learning rate by `gamma` every epoch (torch's ExponentialLR).
 *
 * @example
 * const scheduler = new optim.ExponentialLR(optimizer, { gamma: 0.95 });
 */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;

  constructor(optimizer: SchedulableOptimizer, options: ExponentialLROptions) {
    super(optimizer, options.lastEpoch);
    this.gamma = checkFiniteNumber('ExponentialLR', 'gamma', options.gamma);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    return this.lastEpoch === 0 ? lrs : lrs.map((lr) => lr * this.gamma);
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => base * this.gamma ** this.lastEpoch);
  }
}
