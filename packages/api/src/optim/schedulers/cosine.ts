import { ValueError } from '../../core/errors.js';
import { checkNonNegative, checkPositiveInteger } from '../checks.js';
import { LRScheduler, pythonMod, type SchedulableOptimizer } from './scheduler.js';

/** Options of `CosineAnnealingLR`. */
export interface CosineAnnealingLROptions {
  /** Epochs in a half period of the cosine. */
  readonly tMax: number;
  /** The lowest learning rate (default 0). */
  readonly etaMin?: number;
  readonly lastEpoch?: number;
}

/**
 * Cosine annealing from the base learning rate to `etaMin` over `tMax` epochs, and back up over
 * the next `tMax` (torch's CosineAnnealingLR, with its recursive update, so that learning rates
 * changed by hand carry over as in PyTorch).
 *
 * @example
 * const scheduler = new optim.CosineAnnealingLR(optimizer, { tMax: 100 });
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingLROptions) {
    super(optimizer, options.lastEpoch);
    this.tMax = checkPositiveInteger('CosineAnnealingLR', 'tMax', options.tMax);
    this.etaMin = checkNonNegative('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    const lrs = this.groupLrs();
    if (lastEpoch === 0) return lrs;
    if (this.stepCount === 1 && lastEpoch > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((lastEpoch * Math.PI) / tMax))) / 2);
    }
    if (pythonMod(lastEpoch - 1 - tMax, 2 * tMax) === 0) {
      return lrs.map((lr, i) => lr + (((this.baseLrs[i] as number) - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return lrs.map(
      (lr) => ((1 + Math.cos((Math.PI * lastEpoch) / tMax)) / (1 + Math.cos((Math.PI * (lastEpoch - 1)) / tMax))) * (lr - etaMin) + etaMin,
    );
  }

  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2);
  }
}

/** Options of `CosineAnnealingWarmRestarts`. */
export interface CosineAnnealingWarmRestartsOptions {
  /** Epochs until the first restart. */
  readonly t0: number;
  /** Factor by which each period grows after a restart (an integer >= 1, default 1). */
  readonly tMult?: number;
  readonly etaMin?: number;
  readonly lastEpoch?: number;
}

/**
 * Cosine annealing with warm restarts (SGDR, Loshchilov and Hutter): the learning rate restarts
 * at its base every period, the period growing by `tMult` (torch's CosineAnnealingWarmRestarts).
 * `step(epoch)` takes fractional epochs, to anneal per batch: `scheduler.step(epoch + i / iters)`.
 *
 * @example
 * const scheduler = new optim.CosineAnnealingWarmRestarts(optimizer, { t0: 10, tMult: 2 });
 */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  readonly t0: number;
  readonly tMult: number;
  readonly etaMin: number;
  /** The length of the current period. */
  tI: number;
  /** Epochs since the last restart (fractional when stepped with fractional epochs). */
  tCur: number;

  constructor(optimizer: SchedulableOptimizer, options: CosineAnnealingWarmRestartsOptions) {
    super(optimizer, options.lastEpoch);
    this.t0 = checkPositiveInteger('CosineAnnealingWarmRestarts', 't0', options.t0);
    this.tMult = checkPositiveInteger('CosineAnnealingWarmRestarts', 'tMult', options.tMult ?? 1);
    this.etaMin = checkNonNegative('CosineAnnealingWarmRestarts', 'etaMin', options.etaMin ?? 0);
    this.tI = this.t0;
    this.tCur = this.lastEpoch;
    this.initialStep();
  }

  protected computeLr(): number[] {
    return this.baseLrs.map((base) => this.etaMin + ((base - this.etaMin) * (1 + Math.cos((Math.PI * this.tCur) / this.tI))) / 2);
  }

  override step(epoch?: number): void {
    let target = epoch;
    if (target === undefined && this.lastEpoch < 0) target = 0;
    if (target === undefined) {
      target = this.lastEpoch + 1;
      this.tCur += 1;
      if (this.tCur >= this.tI) {
        this.tCur -= this.tI;
        this.tI *= this.tMult;
      }
    } else {
      if (!Number.isFinite(target) || target < 0)
        throw new ValueError(`CosineAnnealingWarmRestarts.step: epoch must be a non-negative number, got ${target}`);
      if (target >= this.t0) {
        if (this.tMult === 1) this.tCur = target % this.t0;
        else {
          const n = Math.floor(Math.log((target / this.t0) * (this.tMult - 1) + 1) / Math.log(this.tMult));
          this.tCur = target - (this.t0 * (this.tMult ** n - 1)) / (this.tMult - 1);
          this.tI = this.t0 * this.tMult ** n;
        }
      } else {
        this.tI = this.t0;
        this.tCur = target;
      }
    }
    // The base class advances lastEpoch by one; land it on floor(epoch) as PyTorch does.
    this.lastEpoch = Math.floor(target) - 1;
    super.step();
  }
}
