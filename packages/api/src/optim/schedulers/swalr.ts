import { ValueError } from '../../core/errors.js';
import { LRScheduler, perGroup, type SchedulableOptimizer } from './scheduler.js';

/** Options of `SWALR`. */
export interface SWALROptions {
  /** The learning rate to anneal to: one, or one per group (recorded as each group's `swaLr`). */
  readonly swaLr: number | readonly number[];
  /** Epochs of the annealing (an integer >= 0, default 10). */
  readonly annealEpochs?: number;
  /** 'cos' (default) or 'linear'. */
  readonly annealStrategy?: 'cos' | 'linear';
  readonly lastEpoch?: number;
}

/**
 * Anneals each group's learning rate to a fixed `swaLr` over `annealEpochs` epochs and keeps it
 * there (torch.optim.swa_utils.SWALR), for stochastic weight averaging; it starts from whatever
 * learning rate the group has, so it can take over from another scheduler.
 *
 * @example
 * const swaScheduler = new optim.swaUtils.SWALR(optimizer, { swaLr: 0.05, annealEpochs: 5 });
 */
export class SWALR extends LRScheduler {
  readonly annealEpochs: number;
  readonly annealStrategy: 'cos' | 'linear';

  constructor(optimizer: SchedulableOptimizer, options: SWALROptions) {
    const groups = optimizer?.paramGroups ?? [];
    const swaLrs = perGroup('SWALR', 'swaLr', options.swaLr, groups.length);
    groups.forEach((group, i) => {
      group.swaLr = swaLrs[i];
    });
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear')
      throw new ValueError(`SWALR: annealStrategy must be 'cos' or 'linear', got ${JSON.stringify(strategy)}`);
    const annealEpochs = options.annealEpochs ?? 10;
    if (!Number.isInteger(annealEpochs) || annealEpochs < 0)
      throw new ValueError(`SWALR: annealEpochs must be an integer >= 0, got ${JSON.stringify(annealEpochs)}`);
    super(optimizer, options.lastEpoch);
    this.annealStrategy = strategy;
    this.annealEpochs = annealEpochs;
    this.initialStep();
  }

  private anneal(t: number): number {
    return this.annealStrategy === 'linear' ? t : (1 - Math.cos(Math.PI * t)) / 2;
  }

  // PyTorch's get_lr: recover the learning rate the annealing started from out of the current
  // one (so that a rate changed by hand carries over), then take one more annealing step.
  protected computeLr(): number[] {
    const step = this.annealEpochs === 0 ? Math.max(1, this.stepCount - 1) : this.stepCount - 1;
    const previousAlpha = this.anneal(Math.max(0, Math.min(1, (step - 1) / Math.max(1, this.annealEpochs))));
    const alpha = this.anneal(Math.max(0, Math.min(1, step / Math.max(1, this.annealEpochs))));
    return this.optimizer.paramGroups.map((group) => {
      const swaLr = group.swaLr as number;
      const start = previousAlpha === 1 ? swaLr : (group.lr - previousAlpha * swaLr) / (1 - previousAlpha);
      return swaLr * alpha + start * (1 - alpha);
    });
  }
}
