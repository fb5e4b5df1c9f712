import { ValueError } from '../../core/errors.js';
import { checkBoolean, checkFiniteNumber, checkPositive } from '../checks.js';
import { LRScheduler, perGroup, type SchedulableOptimizer, setMomentum } from './scheduler.js';

/** Options of `CyclicLR` (PyTorch's names and defaults). */
export interface CyclicLROptions {
  /** The lower bound of the cycle: one, or one per group. */
  readonly baseLr: number | readonly number[];
  /** The upper bound of the cycle (its amplitude may be scaled down): one, or one per group. */
  readonly maxLr: number | readonly number[];
  /** Iterations in the increasing half of a cycle (default 2000). */
  readonly stepSizeUp?: number;
  /** Iterations in the decreasing half (default stepSizeUp). */
  readonly stepSizeDown?: number;
  /**
   * 'triangular' (default): constant amplitude; 'triangular2': halved every cycle;
   * 'exp_range': scaled by gamma^iteration. Ignored when `scaleFn` is given.
   */
  readonly mode?: 'triangular' | 'triangular2' | 'exp_range';
  /** The base of 'exp_range' (default 1). */
  readonly gamma?: number;
  /** A custom amplitude scale, of the cycle number or of the iteration (see `scaleMode`); 0 <= scaleFn(x) <= 1. */
  readonly scaleFn?: (x: number) => number;
  /** What `scaleFn` takes: 'cycle' (default) or 'iterations'. */
  readonly scaleMode?: 'cycle' | 'iterations';
  /** Cycle momentum (or Adam's beta1) inversely to the learning rate (default true). */
  readonly cycleMomentum?: boolean;
  /** The momentum at the top of the learning-rate cycle (default 0.8): one, or one per group. */
  readonly baseMomentum?: number | readonly number[];
  /** The momentum at the bottom (default 0.9): one, or one per group. */
  readonly maxMomentum?: number | readonly number[];
  readonly lastEpoch?: number;
}

const MODES = ['triangular', 'triangular2', 'exp_range'] as const;

/**
 * Cycles the learning rate between `baseLr` and `maxLr` (Smith's cyclical learning rates, torch's
 * CyclicLR), moving momentum the other way. Step it after every batch. Unlike torch 1.13 (which
 * requires `momentum`), an optimizer with `betas` has its beta1 cycled, as in PyTorch 2.
 *
 * @example
 * const scheduler = new optim.CyclicLR(optimizer, { baseLr: 0.01, maxLr: 0.1, stepSizeUp: 500, mode: 'triangular2' });
 */
export class CyclicLR extends LRScheduler {
  readonly maxLrs: readonly number[];
  /** Iterations in a whole cycle. */
  readonly totalSize: number;
  /** The fraction of the cycle spent increasing. */
  readonly stepRatio: number;
  readonly mode: (typeof MODES)[number];
  readonly gamma: number;
  readonly scaleMode: 'cycle' | 'iterations';
  readonly cycleMomentum: boolean;
  readonly baseMomentums: readonly number[];
  readonly maxMomentums: readonly number[];
  private readonly scaleFn: (x: number) => number;
  private readonly useBeta1: boolean;

  constructor(optimizer: SchedulableOptimizer, options: CyclicLROptions) {
    const owner = 'CyclicLR';
    const groups = optimizer?.paramGroups ?? [];
    const baseLrs = perGroup(owner, 'baseLr', options.baseLr, groups.length);
    const lastEpoch = options.lastEpoch ?? -1;
    if (lastEpoch === -1) for (const [i, group] of groups.entries()) group.lr = baseLrs[i] as number;
    const cycleMomentum = checkBoolean(owner, 'cycleMomentum', options.cycleMomentum ?? true);
    const defaults = optimizer?.defaults ?? {};
    const useBeta1 = !('momentum' in defaults) && 'betas' in defaults;
    if (cycleMomentum && !('momentum' in defaults) && !useBeta1)
      throw new ValueError('CyclicLR: the optimizer has neither momentum nor betas; pass cycleMomentum: false');
    super(optimizer, lastEpoch);
    this.baseLrs.splice(0, this.baseLrs.length, ...baseLrs);
    this.maxLrs = perGroup(owner, 'maxLr', options.maxLr, groups.length);
    const up = checkPositive(owner, 'stepSizeUp', options.stepSizeUp ?? 2000);
    const down = options.stepSizeDown === undefined ? up : checkPositive(owner, 'stepSizeDown', options.stepSizeDown);
    this.totalSize = up + down;
    this.stepRatio = up / this.totalSize;
    const mode = options.mode ?? 'triangular';
    if (!MODES.includes(mode) && options.scaleFn === undefined)
      throw new ValueError(`CyclicLR: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
    this.mode = mode;
    this.gamma = checkFiniteNumber(owner, 'gamma', options.gamma ?? 1);
    if (options.scaleFn !== undefined) {
      if (typeof options.scaleFn !== 'function')
        throw new ValueError(`CyclicLR: scaleFn must be a function, got ${typeof options.scaleFn}`);
      const scaleMode = options.scaleMode ?? 'cycle';
      if (scaleMode !== 'cycle' && scaleMode !== 'iterations')
        throw new ValueError(`CyclicLR: scaleMode must be 'cycle' or 'iterations', got ${JSON.stringify(scaleMode)}`);
      this.scaleFn = options.scaleFn;
      this.scaleMode = scaleMode;
    } else if (mode === 'triangular') {
      [this.scaleFn, this.scaleMode] = [() => 1, 'cycle'];
    } else if (mode === 'triangular2') {
      [this.scaleFn, this.scaleMode] = [(cycle) => 1 / 2 ** (cycle - 1), 'cycle'];
    } else {
      [this.scaleFn, this.scaleMode] = [(iteration) => this.gamma ** iteration, 'iterations'];
    }
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.baseMomentums = cycleMomentum ? perGroup(owner, 'baseMomentum', options.baseMomentum ?? 0.8, groups.length) : [];
    this.maxMomentums = cycleMomentum ? perGroup(owner, 'maxMomentum', options.maxMomentum ?? 0.9, groups.length) : [];
    this.initialStep();
  }

  protected computeLr(): number[] {
    const cycle = Math.floor(1 + this.lastEpoch / this.totalSize);
    const x = 1 + this.lastEpoch / this.totalSize - cycle;
    const scaleFactor = x <= this.stepRatio ? x / this.stepRatio : (x - 1) / (this.stepRatio - 1);
    const scale = this.scaleFn(this.scaleMode === 'cycle' ? cycle : this.lastEpoch);
    const lrs = this.baseLrs.map((base, i) => base + ((this.maxLrs[i] as number) - base) * scaleFactor * scale);
    if (this.cycleMomentum) {
      this.optimizer.paramGroups.forEach((group, i) => {
        const [base, top] = [this.baseMomentums[i] as number, this.maxMomentums[i] as number];
        setMomentum(group, this.useBeta1, top - (top - base) * scaleFactor * scale);
      });
    }
    return lrs;
  }
}
