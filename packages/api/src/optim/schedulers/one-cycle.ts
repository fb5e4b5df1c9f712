import { ValueError } from '../../core/errors.js';
import { checkBoolean, checkFiniteNumber, checkPositive, checkPositiveInteger } from '../checks.js';
import { LRScheduler, perGroup, type SchedulableOptimizer, setMomentum } from './scheduler.js';

/** Options of `OneCycleLR`. */
export interface OneCycleLROptions {
  /** The peak learning rate: one number, or one per group. */
  readonly maxLr: number | readonly number[];
  /** Steps in the cycle; or give `epochs` and `stepsPerEpoch`. */
  readonly totalSteps?: number;
  readonly epochs?: number;
  readonly stepsPerEpoch?: number;
  /** Fraction of the cycle spent increasing the learning rate (default 0.3). */
  readonly pctStart?: number;
  /** 'cos' (default) or 'linear'. */
  readonly annealStrategy?: 'cos' | 'linear';
  /** Move momentum (or Adam's beta1) inversely to the learning rate (default true). */
  readonly cycleMomentum?: boolean;
  readonly baseMomentum?: number | readonly number[];
  readonly maxMomentum?: number | readonly number[];
  /** initialLr = maxLr / divFactor (default 25). */
  readonly divFactor?: number;
  /** minLr = initialLr / finalDivFactor (default 1e4). */
  readonly finalDivFactor?: number;
  /** Three phases (up, down to initialLr, then down to minLr) instead of two (default false). */
  readonly threePhase?: boolean;
  readonly lastEpoch?: number;
}

interface Phase {
  readonly endStep: number;
  readonly startLr: string;
  readonly endLr: string;
  readonly startMomentum: string;
  readonly endMomentum: string;
}

/**
 * The 1cycle policy (Smith and Topin): the learning rate rises from maxLr / divFactor to maxLr
 * and anneals to a much lower one, while momentum moves the other way (torch's OneCycleLR).
 * Step it after every batch.
 *
 * @example
 * const scheduler = new optim.OneCycleLR(optimizer, { maxLr: 0.01, totalSteps: 1000 });
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly phases: readonly Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly cycleMomentum: boolean;
  private readonly useBeta1: boolean;

  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    // The groups get their initialLr before the base constructor reads it.
    const groups = optimizer?.paramGroups ?? [];
    const forGroups = (name: string, value: number | readonly number[]): number[] => perGroup('OneCycleLR', name, value, groups.length);
    let totalSteps: number;
    if (options.totalSteps !== undefined) totalSteps = checkPositiveInteger('OneCycleLR', 'totalSteps', options.totalSteps);
    else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
      totalSteps =
        checkPositiveInteger('OneCycleLR', 'epochs', options.epochs) *
        checkPositiveInteger('OneCycleLR', 'stepsPerEpoch', options.stepsPerEpoch);
    } else throw new ValueError('OneCycleLR: give totalSteps, or both epochs and stepsPerEpoch');
    const pctStart = checkFiniteNumber('OneCycleLR', 'pctStart', options.pctStart ?? 0.3);
    if (pctStart < 0 || pctStart > 1) throw new ValueError(`OneCycleLR: pctStart must be in [0, 1], got ${pctStart}`);
    const strategy = options.annealStrategy ?? 'cos';
    if (strategy !== 'cos' && strategy !== 'linear')
      throw new ValueError(`OneCycleLR: annealStrategy must be 'cos' or 'linear', got ${JSON.stringify(strategy)}`);
    const divFactor = checkPositive('OneCycleLR', 'divFactor', options.divFactor ?? 25);
    const finalDivFactor = checkPositive('OneCycleLR', 'finalDivFactor', options.finalDivFactor ?? 1e4);
    const cycleMomentum = checkBoolean('OneCycleLR', 'cycleMomentum', options.cycleMomentum ?? true);
    const maxLrs = forGroups('maxLr', options.maxLr);
    const lastEpoch = options.lastEpoch ?? -1;
    if (lastEpoch === -1) {
      groups.forEach((group, i) => {
        const initialLr = (maxLrs[i] as number) / divFactor;
        group.initialLr = initialLr;
        group.lr = initialLr;
        group.maxLr = maxLrs[i];
        group.minLr = initialLr / finalDivFactor;
      });
    }
    const defaults = optimizer?.defaults ?? {};
    const useBeta1 = 'betas' in defaults;
    if (cycleMomentum) {
      if (!('momentum' in defaults) && !useBeta1) {
        throw new ValueError('OneCycleLR: the optimizer has neither momentum nor betas; pass cycleMomentum: false');
      }
      const maxMomenta = forGroups('maxMomentum', options.maxMomentum ?? 0.95);
      const baseMomenta = forGroups('baseMomentum', options.baseMomentum ?? 0.85);
      if (lastEpoch === -1) {
        groups.forEach((group, i) => {
          setMomentum(group, useBeta1, maxMomenta[i] as number);
          group.maxMomentum = maxMomenta[i];
          group.baseMomentum = baseMomenta[i];
        });
      }
    }
    super(optimizer, lastEpoch);
    this.totalSteps = totalSteps;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.anneal =
      strategy === 'cos'
        ? (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1)
        : (start, end, pct) => (end - start) * pct + start;
    this.phases = options.threePhase
      ? [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          {
            endStep: 2 * pctStart * totalSteps - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          { endStep: totalSteps - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          {
            endStep: pctStart * totalSteps - 1,
            startLr: 'initialLr',
            endLr: 'maxLr',
            startMomentum: 'maxMomentum',
            endMomentum: 'baseMomentum',
          },
          { endStep: totalSteps - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    this.initialStep();
  }

  protected computeLr(): number[] {
    const stepNumber = this.lastEpoch;
    if (stepNumber > this.totalSteps) {
      throw new ValueError(`OneCycleLR: stepped ${stepNumber} times, more than totalSteps (${this.totalSteps})`);
    }
    return this.optimizer.paramGroups.map((group) => {
      let startStep = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i] as Phase;
        if (stepNumber <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNumber - startStep) / (phase.endStep - startStep);
          if (this.cycleMomentum) {
            setMomentum(group, this.useBeta1, this.anneal(group[phase.startMomentum] as number, group[phase.endMomentum] as number, pct));
          }
          return this.anneal(group[phase.startLr] as number, group[phase.endLr] as number, pct);
        }
        startStep = phase.endStep;
      }
      return group.lr;
    });
  }
}
