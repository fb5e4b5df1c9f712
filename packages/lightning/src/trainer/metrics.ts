import { ValueError } from '@flint/api';
import type { Metrics } from '../stream/events.js';
import { readScalar, type ScalarValue } from './scalar.js';

/** Options of `LightningModule.log` (Lightning's, camelCased). */
export interface LogOptions {
  /** Log the value of each step (default: true in trainingStep, false elsewhere). */
  readonly onStep?: boolean;
  /** Log the value reduced over the epoch (default: false in trainingStep, true elsewhere). */
  readonly onEpoch?: boolean;
  /** Show it on the progress bar (default false). */
  readonly progBar?: boolean;
  /** Send it to the loggers (default true). */
  readonly logger?: boolean;
  /** How epoch values combine: 'mean' weighted by batch size (default), 'sum', 'max' or 'min'. */
  readonly reduce?: 'mean' | 'sum' | 'max' | 'min';
  /** The batch's size for the weighted mean (default: the first dimension of the batch's first tensor). */
  readonly batchSize?: number;
  /** Under strategy 'ddp', reduce the value over all ranks (with `reduce`: the mean by default) before it is recorded (default false). */
  readonly syncDist?: boolean;
}

/** Reduces values over the ranks of a distributed run (the strategy's `reduceValues`). */
export type SyncDist = (values: readonly number[], op: 'mean' | 'sum' | 'max' | 'min') => number[];

/** Where `log` is being called from, which sets its defaults. */
export type LogContext = 'trainStep' | 'evalStep' | 'epochHook';

interface Accumulator {
  reduce: 'mean' | 'sum' | 'max' | 'min';
  total: number;
  weight: number;
  progBar: boolean;
  logger: boolean;
  suffixed: boolean;
}

interface StepEntry {
  readonly name: string;
  readonly value: ScalarValue;
  readonly onStep: boolean;
  readonly onEpoch: boolean;
  readonly progBar: boolean;
  readonly logger: boolean;
  readonly reduce: 'mean' | 'sum' | 'max' | 'min';
  readonly batchSize: number;
  readonly syncDist: boolean;
}

/** Step-level and reduced metrics, split by where they go. */
export interface MetricsOut {
  /** For loggers. */
  readonly logged: Metrics;
  /** For the progress bar. */
  readonly progressBar: Metrics;
  /** Everything, under the names callbacks monitor. */
  readonly callback: Metrics;
}

/** The saved accumulators of an unfinished epoch, for mid-epoch resume. */
export type CollectorState = Record<
  string,
  { reduce: string; total: number; weight: number; progBar: boolean; logger: boolean; suffixed: boolean }
>;

const REDUCES = ['mean', 'sum', 'max', 'min'];

/**
 * Collects what a stage's steps log with `LightningModule.log`: the values of the current step,
 * and per metric an accumulator over the epoch (a batch-size-weighted mean by default). Names
 * follow Lightning: a value logged both on step and on epoch appears as `<name>_step` and
 * `<name>_epoch`, and as `<name>` for callbacks.
 */
export class MetricCollector {
  private step: StepEntry[] = [];
  private epoch = new Map<string, Accumulator>();
  private context: LogContext = 'trainStep';
  private batchSize = 1;
  private nameSuffix = '';
  /** Set under a distributed strategy: how `syncDist` values are reduced over ranks. */
  syncDist: SyncDist | undefined;

  /**
   * Starts a step (or an epoch hook) whose log calls default as `context` says. `dataloaderIdx`,
   * given when an evaluation runs several loaders, suffixes every name logged in the step with
   * `/dataloader_idx_<i>`, as Lightning does.
   */
  begin(context: LogContext, batchSize: number, dataloaderIdx?: number): void {
    this.context = context;
    this.batchSize = batchSize;
    this.nameSuffix = dataloaderIdx === undefined ? '' : `/dataloader_idx_${dataloaderIdx}`;
    this.step = [];
  }

  log(name: string, value: unknown, options: LogOptions = {}): void {
    if (typeof name !== 'string' || name === '')
      throw new ValueError(`log: the metric name must be a non-empty string, got ${JSON.stringify(name)}`);
    const isTrainStep = this.context === 'trainStep';
    const onStep = options.onStep ?? isTrainStep;
    const onEpoch = options.onEpoch ?? !isTrainStep;
    const reduce = options.reduce ?? 'mean';
    if (!REDUCES.includes(reduce))
      throw new ValueError(`log('${name}'): reduce must be one of ${REDUCES.join(', ')}, got ${JSON.stringify(reduce)}`);
    if (this.context === 'epochHook' && onStep)
      throw new ValueError(`log('${name}'): onStep is not available in epoch-end hooks; log it with onEpoch`);
    const batchSize = options.batchSize ?? this.batchSize;
    if (typeof batchSize !== 'number' || !(batchSize > 0))
      throw new ValueError(`log('${name}'): batchSize must be a positive number, got ${JSON.stringify(batchSize)}`);
    this.step.push({
      name: name + this.nameSuffix,
      value: readScalar(`log('${name}')`, value),
      onStep,
      onEpoch,
      progBar: options.progBar ?? false,
      logger: options.logger ?? true,
      reduce,
      batchSize,
      syncDist: options.syncDist ?? false,
    });
  }

  /** Whether some value of this step is still being read from an asynchronous backend. */
  get hasPending(): boolean {
    return this.step.some((e) => typeof e.value !== 'number');
  }

  /** Ends the step: folds its values into the epoch accumulators and returns its step-level metrics. */
  async endStep(): Promise<MetricsOut> {
    const entries = await Promise.all(this.step.map(async (e) => ({ ...e, value: await e.value })));
    return this.fold(entries);
  }

  /** As `endStep`, when no value is pending (the synchronous fast path). */
  endStepSync(): MetricsOut {
    return this.fold(this.step as (StepEntry & { value: number })[]);
  }

  /** Replaces `syncDist` values by their reduction over ranks: one collective per reduce kind, in log order (the same on every rank). */
  private synchronized(entries: readonly (StepEntry & { value: number })[]): readonly (StepEntry & { value: number })[] {
    const sync = this.syncDist;
    if (sync === undefined || !entries.some((e) => e.syncDist)) return entries;
    const out = [...entries];
    for (const op of REDUCES as ('mean' | 'sum' | 'max' | 'min')[]) {
      const positions = out.flatMap((e, i) => (e.syncDist && e.reduce === op ? [i] : []));
      if (positions.length === 0) continue;
      const reduced = sync(
        positions.map((i) => (out[i] as StepEntry & { value: number }).value),
        op,
      );
      positions.forEach((i, k) => {
        out[i] = { ...(out[i] as StepEntry & { value: number }), value: reduced[k] as number };
      });
    }
    return out;
  }

  private fold(unsynced: readonly (StepEntry & { value: number })[]): MetricsOut {
    this.step = [];
    const entries = this.synchronized(unsynced);
    const logged: Record<string, number> = {};
    const progressBar: Record<string, number> = {};
    const callback: Record<string, number> = {};
    for (const e of entries) {
      const suffixed = e.onStep && e.onEpoch;
      if (e.onStep) {
        const key = suffixed ? `${e.name}_step` : e.name;
        if (e.logger) logged[key] = e.value;
        if (e.progBar) progressBar[key] = e.value;
        callback[key] = e.value;
        callback[e.name] = e.value;
      }
      if (e.onEpoch) {
        let acc = this.epoch.get(e.name);
        if (acc === undefined) {
          acc = {
            reduce: e.reduce,
            total: e.reduce === 'max' ? -Infinity : e.reduce === 'min' ? Infinity : 0,
            weight: 0,
            progBar: e.progBar,
            logger: e.logger,
            suffixed,
          };
          this.epoch.set(e.name, acc);
        }
        if (acc.reduce === 'mean') {
          acc.total += e.value * e.batchSize;
          acc.weight += e.batchSize;
        } else if (acc.reduce === 'sum') acc.total += e.value;
        else if (acc.reduce === 'max') acc.total = Math.max(acc.total, e.value);
        else acc.total = Math.min(acc.total, e.value);
        acc.weight = acc.reduce === 'mean' ? acc.weight : acc.weight + 1;
      }
    }
    return { logged, progressBar, callback };
  }

  /** Ends the epoch: the reduced values of everything logged with onEpoch; the accumulators reset. */
  endEpoch(): MetricsOut {
    const logged: Record<string, number> = {};
    const progressBar: Record<string, number> = {};
    const callback: Record<string, number> = {};
    for (const [name, acc] of this.epoch) {
      const value = acc.reduce === 'mean' ? (acc.weight > 0 ? acc.total / acc.weight : Number.NaN) : acc.total;
      const key = acc.suffixed ? `${name}_epoch` : name;
      if (acc.logger) logged[key] = value;
      if (acc.progBar) progressBar[key] = value;
      callback[key] = value;
      callback[name] = value;
    }
    this.epoch.clear();
    return { logged, progressBar, callback };
  }

  /** The epoch accumulators, for a mid-epoch checkpoint. */
  stateDict(): CollectorState {
    const out: CollectorState = {};
    for (const [name, acc] of this.epoch) out[name] = { ...acc };
    return out;
  }

  loadStateDict(state: CollectorState): void {
    this.epoch.clear();
    for (const [name, acc] of Object.entries(state)) {
      this.epoch.set(name, { ...acc, reduce: acc.reduce as Accumulator['reduce'] });
    }
  }
}
