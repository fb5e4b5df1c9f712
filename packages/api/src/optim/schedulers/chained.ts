import { ValueError } from '../../core/errors.js';
import { rejectPromise } from '../../core/promise.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/**
 * Steps several schedulers of one optimizer together: each `step()` steps every one of them in
 * order, so that their (chainable) factors multiply (torch's ChainedScheduler). Build the
 * schedulers first; each took its construction step, as in PyTorch.
 *
 * @example
 * const scheduler = new optim.ChainedScheduler([
 *   new optim.ConstantLR(optimizer, { factor: 0.1, totalIters: 2 }),
 *   new optim.ExponentialLR(optimizer, { gamma: 0.9 }),
 * ]);
 * scheduler.step();
 */
export class ChainedScheduler {
  readonly optimizer: SchedulableOptimizer;
  readonly schedulers: readonly LRScheduler[];
  private lastLrs: number[];

  constructor(schedulers: readonly LRScheduler[]) {
    if (!Array.isArray(schedulers) || schedulers.length === 0)
      throw new ValueError('ChainedScheduler: expected a non-empty list of schedulers');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler))
        throw new ValueError(`ChainedScheduler: schedulers[${i}] is not an epoch scheduler (ReduceLROnPlateau cannot be chained)`);
    });
    const optimizer = (schedulers[0] as LRScheduler).optimizer;
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer)
        throw new ValueError(
          `ChainedScheduler: expects every scheduler to belong to the same optimizer, but schedulers[0] and schedulers[${i}] differ`,
        );
    });
    this.optimizer = optimizer;
    this.schedulers = [...schedulers];
    this.lastLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Steps every scheduler once, in order. */
  step(): void {
    for (const scheduler of this.schedulers) scheduler.step();
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates after the last step, per group. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  /** Every scheduler's state, in order. */
  stateDict(): Record<string, unknown> {
    return { schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  /** Restores the states saved by `stateDict()`. */
  loadStateDict(state: Record<string, unknown>): void {
    rejectPromise('ChainedScheduler.loadStateDict', state, 'a scheduler state dict');
    const saved = state?.schedulers;
    if (!Array.isArray(saved) || saved.length !== this.schedulers.length)
      throw new ValueError(`ChainedScheduler.loadStateDict: expected states for ${this.schedulers.length} schedulers`);
    saved.forEach((s, i) => {
      (this.schedulers[i] as LRScheduler).loadStateDict(s as Record<string, unknown>);
    });
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }
}
