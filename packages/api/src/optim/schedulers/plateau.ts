import { ValueError } from '../../core/errors.js';
import { rejectPromise } from '../../core/promise.js';
import { isTensor } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkFiniteNumber, checkNonNegative } from '../checks.js';
import type { SchedulableOptimizer } from './scheduler.js';

/** Options of `ReduceLROnPlateau` (PyTorch's names and defaults). */
export interface ReduceLROnPlateauOptions {
  /** 'min' (default): lower metrics are better; 'max': higher are. */
  readonly mode?: 'min' | 'max';
  /** Factor applied on a plateau (< 1, default 0.1). */
  readonly factor?: number;
  /** Epochs without improvement to tolerate before reducing (default 10). */
  readonly patience?: number;
  /** How much better counts as better (default 1e-4). */
  readonly threshold?: number;
  /** 'rel' (default): relative to the best; 'abs': absolute. */
  readonly thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting again (default 0). */
  readonly cooldown?: number;
  /** Lower bound on the learning rate: one, or one per group (default 0). */
  readonly minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  readonly eps?: number;
}

/**
 * Reduces the learning rate when a metric stops improving (torch's ReduceLROnPlateau). Call
 * `step(metric)` after each validation.
 *
 * @example
 * const scheduler = new optim.ReduceLROnPlateau(optimizer, { patience: 5 });
 * scheduler.step(validationLoss);
 */
export class ReduceLROnPlateau {
  readonly optimizer: SchedulableOptimizer;
  readonly mode: 'min' | 'max';
  readonly factor: number;
  readonly patience: number;
  readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs';
  readonly cooldown: number;
  readonly minLrs: readonly number[];
  readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  lastEpoch = 0;
  private lastLrs: number[];

  constructor(optimizer: SchedulableOptimizer, options: ReduceLROnPlateauOptions = {}) {
    const owner = 'ReduceLROnPlateau';
    if (typeof optimizer !== 'object' || optimizer === null || !Array.isArray(optimizer.paramGroups)) {
      throw new ValueError(`${owner}: expected an optimizer (an object with paramGroups)`);
    }
    this.optimizer = optimizer;
    this.mode = options.mode ?? 'min';
    if (this.mode !== 'min' && this.mode !== 'max')
      throw new ValueError(`${owner}: mode must be 'min' or 'max', got ${JSON.stringify(this.mode)}`);
    this.factor = checkFiniteNumber(owner, 'factor', options.factor ?? 0.1);
    if (this.factor >= 1) throw new ValueError(`${owner}: factor must be < 1, got ${this.factor}`);
    this.patience = checkNonNegative(owner, 'patience', options.patience ?? 10);
    this.threshold = checkNonNegative(owner, 'threshold', options.threshold ?? 1e-4);
    this.thresholdMode = options.thresholdMode ?? 'rel';
    if (this.thresholdMode !== 'rel' && this.thresholdMode !== 'abs')
      throw new ValueError(`${owner}: thresholdMode must be 'rel' or 'abs', got ${JSON.stringify(this.thresholdMode)}`);
    this.cooldown = checkNonNegative(owner, 'cooldown', options.cooldown ?? 0);
    const minLr = options.minLr ?? 0;
    const groups = optimizer.paramGroups.length;
    if (typeof minLr === 'number') this.minLrs = Array.from({ length: groups }, () => checkNonNegative(owner, 'minLr', minLr));
    else if (Array.isArray(minLr) && minLr.length === groups) this.minLrs = minLr.map((v, i) => checkNonNegative(owner, `minLr[${i}]`, v));
    else
      throw new ValueError(`${owner}: minLr must be a number or a list of ${groups} numbers (one per group), got ${JSON.stringify(minLr)}`);
    this.eps = checkNonNegative(owner, 'eps', options.eps ?? 1e-8);
    this.best = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.lastLrs = optimizer.paramGroups.map((g) => g.lr);
  }

  /** Records one epoch's metric (a number, or a one-element tensor read synchronously). */
  step(metric: number | Tensor): void {
    const current = isTensor(metric) ? Number(metric.item()) : metric;
    if (typeof current !== 'number' || Number.isNaN(current))
      throw new ValueError(`ReduceLROnPlateau.step: metric must be a number, got ${String(metric)}`);
    this.lastEpoch += 1;
    if (this.isBetter(current)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLrs = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The learning rates after the last step, per group. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  private isBetter(current: number): boolean {
    const { best, threshold } = this;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? current < best * (1 - threshold) : current < best - threshold;
    return this.thresholdMode === 'rel' ? current > best * (threshold + 1) : current > best + threshold;
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const old = group.lr;
      const next = Math.max(old * this.factor, this.minLrs[i] as number);
      if (old - next > this.eps) group.lr = next;
    });
  }

  /** The scheduler's counters, as plain JSON. */
  stateDict(): Record<string, number> {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }

  loadStateDict(state: Record<string, number>): void {
    rejectPromise('ReduceLROnPlateau.loadStateDict', state, 'a scheduler state dict');
    for (const key of ['best', 'numBadEpochs', 'cooldownCounter', 'lastEpoch'] as const) {
      const value = state[key];
      if (typeof value !== 'number')
        throw new ValueError(`ReduceLROnPlateau.loadStateDict: ${key} must be a number, got ${JSON.stringify(value)}`);
      this[key] = value;
    }
  }
}
