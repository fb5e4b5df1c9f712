import { optim, type Tensor, ValueError } from '@flint/api';

/** What the Trainer needs of an optimizer: Flint's `optim.Optimizer`, or any object of its shape. */
export interface OptimizerLike {
  readonly paramGroups: readonly { lr: number; params: optim.ParameterLike[]; [option: string]: unknown }[];
  step(): unknown;
  zeroGrad(): void;
  stateDict(): unknown;
  loadStateDict(state: unknown): void;
  /** Moves the optimizer's state to another backend (Flint's optimizers have it; the Trainer moves it home after a run). */
  toAsync?(target: string): Promise<unknown>;
  readonly name?: string;
}

/** What the Trainer needs of a learning-rate scheduler: Flint's schedulers, or any object of this shape. */
export interface SchedulerLike {
  /** Epoch-based schedulers take nothing; ReduceLROnPlateau takes the monitored metric. */
  step(metric?: number | Tensor): void;
  stateDict(): Record<string, unknown>;
  loadStateDict(state: Record<string, unknown>): void;
}

/** A scheduler with Lightning's configuration (`lr_scheduler_config`). */
export interface LRSchedulerConfig {
  readonly scheduler: SchedulerLike;
  /** 'epoch' (default): step after each epoch; 'step': after each optimizer step. */
  readonly interval?: 'epoch' | 'step';
  /** Step every this many intervals (default 1). */
  readonly frequency?: number;
  /** The metric passed to the scheduler's step (required for ReduceLROnPlateau). */
  readonly monitor?: string;
  /** The name under which LearningRateMonitor reports it. */
  readonly name?: string;
  /** Fail when `monitor` is not among the metrics (default true); false skips the step. */
  readonly strict?: boolean;
}

/** An optimizer with its scheduler, as a dict (Lightning's `{"optimizer": ..., "lr_scheduler": ...}`). */
export interface OptimizerWithScheduler {
  readonly optimizer: OptimizerLike;
  readonly lrScheduler?: SchedulerLike | LRSchedulerConfig;
}

/**
 * What `configureOptimizers` may return, as in Lightning: an optimizer; a list of them; a pair
 * of lists `[optimizers, schedulers]`; an `{ optimizer, lrScheduler }` object or a list of them;
 * or null for no optimizer (manual optimization only).
 */
export type OptimizerConfig =
  | OptimizerLike
  | readonly OptimizerLike[]
  | readonly [readonly OptimizerLike[], readonly (SchedulerLike | LRSchedulerConfig)[]]
  | OptimizerWithScheduler
  | readonly OptimizerWithScheduler[]
  | null
  | undefined;

/** A scheduler with its configuration resolved. */
export interface ResolvedScheduler {
  readonly scheduler: SchedulerLike;
  readonly interval: 'epoch' | 'step';
  readonly frequency: number;
  readonly monitor: string | undefined;
  readonly name: string | undefined;
  readonly strict: boolean;
  /** The index of the optimizer it schedules. */
  readonly optimizerIndex: number;
}

export interface ResolvedOptimizers {
  readonly optimizers: readonly OptimizerLike[];
  readonly schedulers: readonly ResolvedScheduler[];
}

function isOptimizer(value: unknown): value is OptimizerLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as OptimizerLike).paramGroups) &&
    typeof (value as OptimizerLike).step === 'function' &&
    typeof (value as OptimizerLike).zeroGrad === 'function'
  );
}

function isScheduler(value: unknown): value is SchedulerLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SchedulerLike).step === 'function' &&
    typeof (value as SchedulerLike).stateDict === 'function' &&
    !isOptimizer(value)
  );
}

function isWithScheduler(value: unknown): value is OptimizerWithScheduler {
  return typeof value === 'object' && value !== null && 'optimizer' in value && isOptimizer((value as OptimizerWithScheduler).optimizer);
}

/** Whether the scheduler steps on a metric (ReduceLROnPlateau). */
export function isPlateauScheduler(scheduler: SchedulerLike): boolean {
  return scheduler instanceof optim.ReduceLROnPlateau;
}

function resolveScheduler(value: unknown, optimizerIndex: number, where: string, problems: string[]): ResolvedScheduler | undefined {
  const config: Partial<LRSchedulerConfig> = isScheduler(value)
    ? { scheduler: value }
    : typeof value === 'object' && value !== null
      ? (value as LRSchedulerConfig)
      : {};
  if (!isScheduler(config.scheduler)) {
    problems.push(`${where} is not a scheduler (an object with step and stateDict) or { scheduler, interval, frequency, monitor }`);
    return undefined;
  }
  const interval = config.interval ?? 'epoch';
  if (interval !== 'epoch' && interval !== 'step')
    problems.push(`${where}.interval must be 'epoch' or 'step', got ${JSON.stringify(interval)}`);
  const frequency = config.frequency ?? 1;
  if (!Number.isInteger(frequency) || frequency < 1)
    problems.push(`${where}.frequency must be an integer >= 1, got ${JSON.stringify(frequency)}`);
  if (config.monitor !== undefined && typeof config.monitor !== 'string') problems.push(`${where}.monitor must be a metric name`);
  if (isPlateauScheduler(config.scheduler) && config.monitor === undefined) {
    problems.push(`${where}: ReduceLROnPlateau needs a monitor; return { optimizer, lrScheduler: { scheduler, monitor: 'val_loss' } }`);
  }
  return {
    scheduler: config.scheduler,
    interval,
    frequency,
    monitor: config.monitor,
    name: config.name,
    strict: config.strict ?? true,
    optimizerIndex,
  };
}

/** Normalizes what `configureOptimizers` returned into optimizers and scheduler configurations. */
export function resolveOptimizerConfig(value: OptimizerConfig | unknown): ResolvedOptimizers {
  const problems: string[] = [];
  const optimizers: OptimizerLike[] = [];
  const schedulers: ResolvedScheduler[] = [];
  const addPair = (item: OptimizerWithScheduler, where: string) => {
    optimizers.push(item.optimizer);
    if (item.lrScheduler !== undefined) {
      const s = resolveScheduler(item.lrScheduler, optimizers.length - 1, `${where}.lrScheduler`, problems);
      if (s !== undefined) schedulers.push(s);
    }
  };
  if (value === null || value === undefined) {
    // No optimizer: allowed for manual optimization and evaluation.
  } else if (isOptimizer(value)) optimizers.push(value);
  else if (isWithScheduler(value)) addPair(value, 'configureOptimizers()');
  else if (Array.isArray(value)) {
    const isPair = value.length === 2 && Array.isArray(value[0]) && Array.isArray(value[1]);
    if (isPair) {
      const [opts, scheds] = value as [unknown[], unknown[]];
      opts.forEach((o, i) => {
        if (isOptimizer(o)) optimizers.push(o);
        else problems.push(`configureOptimizers()[0][${i}] is not an optimizer`);
      });
      scheds.forEach((s, i) => {
        // Lightning's rule for the two-list form: schedulers pair with optimizers by position.
        const r = resolveScheduler(s, Math.min(i, Math.max(0, optimizers.length - 1)), `configureOptimizers()[1][${i}]`, problems);
        if (r !== undefined) schedulers.push(r);
      });
    } else {
      value.forEach((item: unknown, i) => {
        if (isOptimizer(item)) optimizers.push(item);
        else if (isWithScheduler(item)) addPair(item, `configureOptimizers()[${i}]`);
        else problems.push(`configureOptimizers()[${i}] is not an optimizer or { optimizer, lrScheduler }`);
      });
    }
  } else {
    problems.push(
      'configureOptimizers() returned something that is not an optimizer, a list of optimizers, [optimizers, schedulers], or { optimizer, lrScheduler }',
    );
  }
  if (problems.length > 0) throw new ValueError(`configureOptimizers: ${problems.join('; ')}`);
  return { optimizers, schedulers };
}

/** LearningRateMonitor's names: `lr-Adam`, `lr-Adam/pg2` for several groups, `lr-Adam-1` for a second Adam. */
export function learningRateNames(resolved: ResolvedOptimizers): string[][] {
  const seen = new Map<string, number>();
  return resolved.optimizers.map((optimizer, i) => {
    const scheduler = resolved.schedulers.find((s) => s.optimizerIndex === i);
    let base = scheduler?.name ?? `lr-${optimizer.name ?? optimizer.constructor.name}`;
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    if (n > 0) base = `${base}-${n}`;
    const groups = optimizer.paramGroups.length;
    return optimizer.paramGroups.map((_, g) => (groups === 1 ? base : `${base}/pg${g + 1}`));
  });
}
