import { ValueError } from '../../core/errors.js';
import { rejectPromise } from '../../core/promise.js';
import { LRScheduler, type SchedulableOptimizer } from './scheduler.js';

/** Options of `SequentialLR`. */
export interface SequentialLROptions {
  /** The schedulers, each built on the same optimizer, in the order they take over. */
  readonly schedulers: readonly LRScheduler[];
  /** The epochs at which the next scheduler takes over (one fewer than the schedulers). */
  readonly milestones: readonly number[];
  readonly lastEpoch?: number;
}

/**
 * Runs schedulers one after another, switching at the milestones; each starts from its own
 * epoch 0 when it takes over (torch's SequentialLR).
 *
 * @example
 * const warmup = new optim.LinearLR(optimizer, { startFactor: 0.1, totalIters: 5 });
 * const decay = new optim.CosineAnnealingLR(optimizer, { tMax: 95 });
 * const scheduler = new optim.SequentialLR(optimizer, { schedulers: [warmup, decay], milestones: [5] });
 */
export class SequentialLR extends LRScheduler {
  readonly schedulers: readonly LRScheduler[];
  readonly milestones: readonly number[];

  constructor(optimizer: SchedulableOptimizer, options: SequentialLROptions) {
    super(optimizer, options.lastEpoch);
    const { schedulers, milestones } = options;
    if (!Array.isArray(schedulers) || schedulers.length === 0) throw new ValueError('SequentialLR: expected at least one scheduler');
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler))
        throw new ValueError(`SequentialLR: schedulers[${i}] is not an epoch scheduler (ReduceLROnPlateau cannot be chained)`);
      if (s.optimizer !== optimizer)
        throw new ValueError(`SequentialLR: schedulers[${i}] is bound to a different optimizer than the one given`);
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new ValueError(
        `SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${JSON.stringify(milestones)}`,
      );
    }
    if (milestones.some((m, i) => !Number.isInteger(m) || m < 0 || (i > 0 && m <= (milestones[i - 1] as number)))) {
      throw new ValueError(`SequentialLR: milestones must be increasing non-negative integers, got ${JSON.stringify(milestones)}`);
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    // Each scheduler already took its construction step; undo them and start over from the
    // first scheduler's epoch 0, as PyTorch does.
    this.lastEpoch += 1;
    for (const group of optimizer.paramGroups) group.lr = group.initialLr as number;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    (this.schedulers[0] as LRScheduler).initialStep();
    this.recordLastLr();
  }

  protected computeLr(): number[] {
    return this.groupLrs();
  }

  override step(): void {
    this.stepCount++;
    this.lastEpoch += 1;
    const index = this.milestones.filter((m) => m <= this.lastEpoch).length;
    const scheduler = this.schedulers[index] as LRScheduler;
    if (index > 0 && this.milestones[index - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.recordLastLr();
  }

  override stateDict(): Record<string, unknown> {
    return { lastEpoch: this.lastEpoch, schedulers: this.schedulers.map((s) => s.stateDict()) };
  }

  override loadStateDict(state: Record<string, unknown>): void {
    rejectPromise('SequentialLR.loadStateDict', state, 'a scheduler state dict');
    const { schedulers, ...rest } = state;
    if (!Array.isArray(schedulers) || schedulers.length !== this.schedulers.length) {
      throw new ValueError(`SequentialLR.loadStateDict: expected states for ${this.schedulers.length} schedulers`);
    }
    super.loadStateDict(rest);
    schedulers.forEach((s, i) => {
      (this.schedulers[i] as LRScheduler).loadStateDict(s as Record<string, unknown>);
    });
  }
}
