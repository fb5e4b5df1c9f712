import { ValueError } from '../../core/errors.js';
import { rejectPromise } from '../../core/promise.js';
import { checkFiniteNumber } from '../checks.js';

/** A parameter group as schedulers see it: a learning rate, and room for their own fields. */
export interface SchedulableGroup {
  lr: number;
  [field: string]: unknown;
}

/** What a scheduler needs of an optimizer: its parameter groups (and defaults, for OneCycleLR's momentum). */
export interface SchedulableOptimizer {
  readonly paramGroups: readonly SchedulableGroup[];
  readonly defaults?: Readonly<Record<string, unknown>>;
}

/**
 * The base of the epoch-indexed learning-rate schedulers (torch.optim.lr_scheduler.LRScheduler).
 * As in PyTorch, constructing a scheduler performs its first step (epoch 0), which may already
 * change the learning rate (LinearLR, OneCycleLR); call `step()` once per epoch (or per batch
 * for OneCycleLR and CosineAnnealingWarmRestarts) after `optimizer.step()`.
 */
export abstract class LRScheduler {
  readonly optimizer: SchedulableOptimizer;
  /** Each group's learning rate at epoch 0 (`initialLr`). */
  readonly baseLrs: number[];
  /** The index of the current epoch: 0 after construction. */
  lastEpoch: number;
  /** @internal Steps taken since construction (PyTorch's `_step_count`). */
  protected stepCount = 0;
  private lastLrs: number[] = [];

  /**
   * Subclasses set their own fields and then call `initialStep()`: unlike Python, a JavaScript
   * base constructor cannot see the fields of the subclass it is building.
   */
  protected constructor(optimizer: SchedulableOptimizer, lastEpoch = -1) {
    const name = new.target.name;
    if (typeof optimizer !== 'object' || optimizer === null || !Array.isArray(optimizer.paramGroups)) {
      throw new ValueError(`${name}: expected an optimizer (an object with paramGroups), got ${String(optimizer)}`);
    }
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1)
      throw new ValueError(`${name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`);
    this.optimizer = optimizer;
    optimizer.paramGroups.forEach((group, i) => {
      if (lastEpoch === -1) {
        if (group.initialLr === undefined) group.initialLr = group.lr;
      } else if (typeof group.initialLr !== 'number') {
        throw new ValueError(
          `${name}: group ${i} has no initialLr; resuming (lastEpoch ${lastEpoch}) needs groups stepped by a scheduler before`,
        );
      }
    });
    this.baseLrs = optimizer.paramGroups.map((group) => group.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** @internal The step a scheduler takes when it is constructed. */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** Each group's learning rate at `lastEpoch`, from the current ones (PyTorch's chainable `get_lr`). */
  protected abstract computeLr(): number[];

  /** Each group's learning rate at `lastEpoch` from the base rates alone, where a closed form exists. */
  protected closedFormLr(): number[] | undefined {
    return undefined;
  }

  /**
   * Advances one epoch, or jumps to `epoch` (using the closed form where there is one, as
   * PyTorch's deprecated `step(epoch)`; SequentialLR relies on it), and sets the groups' `lr`.
   */
  step(epoch?: number): void {
    this.stepCount++;
    let lrs: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      lrs = this.computeLr();
    } else {
      this.lastEpoch = epoch;
      lrs = this.closedFormLr() ?? this.computeLr();
    }
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = lrs[i] as number;
    });
    this.recordLastLr();
  }

  /** @internal Remembers the groups' current learning rates for `getLastLr()`. */
  protected recordLastLr(): void {
    this.lastLrs = this.optimizer.paramGroups.map((group) => group.lr);
  }

  /** The learning rates the last step set, per group. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  /** @internal The current learning rates, per group. */
  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((group) => group.lr);
  }

  /** The scheduler's counters and numbers (not its optimizer or functions), as plain JSON. */
  stateDict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this)) {
      if (key === 'optimizer' || typeof value === 'function') continue;
      if (isPlainData(value)) out[key] = structuredClone(value);
    }
    return out;
  }

  /** Restores counters saved by `stateDict()`. */
  loadStateDict(state: Record<string, unknown>): void {
    rejectPromise(`${this.constructor.name}.loadStateDict`, state, 'a scheduler state dict');
    const self = this as unknown as Record<string, unknown>;
    for (const [key, value] of Object.entries(state)) {
      if (!(key in self) || key === 'optimizer') throw new ValueError(`${this.constructor.name}.loadStateDict: unknown field '${key}'`);
      self[key] = structuredClone(value);
    }
  }
}

function isPlainData(value: unknown): boolean {
  if (value === null || ['number', 'boolean', 'string'].includes(typeof value)) return true;
  if (Array.isArray(value)) return value.every(isPlainData);
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    return Object.values(value as object).every(isPlainData);
  return false;
}

/** Python's `%`: the result has the sign of the divisor. */
export function pythonMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** One value per parameter group: a number for all of them, or a list of one per group (checked finite). */
export function perGroup(owner: string, name: string, value: unknown, groups: number): number[] {
  if (typeof value === 'number') return Array.from({ length: groups }, () => checkFiniteNumber(owner, name, value));
  if (!Array.isArray(value) || value.length !== groups)
    throw new ValueError(`${owner}: ${name} must be a number or a list of ${groups} numbers (one per group), got ${JSON.stringify(value)}`);
  return value.map((v, i) => checkFiniteNumber(owner, `${name}[${i}]`, v));
}

/** Sets a group's momentum, or its beta1 for Adam-like optimizers (which have `betas`). */
export function setMomentum(group: SchedulableGroup, useBeta1: boolean, momentum: number): void {
  if (useBeta1) {
    const betas = group.betas as readonly number[];
    group.betas = [momentum, ...betas.slice(1)];
  } else group.momentum = momentum;
}
