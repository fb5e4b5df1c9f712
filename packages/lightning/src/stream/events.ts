import type { Json } from '../core/json.js';

/**
 * What an operator or a consumer of the training stream may ask of the running loop. Every
 * event carries it as `event.control`; calls made while the event is being delivered act at
 * the step boundary the event marks, where the model, optimizers and counters are consistent.
 */
export interface TrainingControl {
  /** Asks the loop to stop at this step boundary (Lightning's `trainer.shouldStop = true`); `fitEnd` reports the reason. */
  requestStop(reason: string): void;
  /** Whether a stop has been requested. */
  readonly stopRequested: boolean;
  /** Holds the loop at this boundary until `work` settles; a rejection ends the stream with that error. */
  waitFor(work: Promise<unknown>): void;
  /**
   * Saves a checkpoint of the state at this boundary to `path`, atomically (the previous file
   * at `path` stays intact until the new one is complete). The loop waits for the write, then
   * emits a `checkpointSaved` event. `details` (monitor and score) travel on that event.
   */
  saveCheckpoint(path: string, details?: { readonly monitor?: string; readonly score?: number }): Promise<void>;
  /** Removes a checkpoint file (one that fell out of the best k); the loop waits for it. */
  removeCheckpoint(path: string): void;
  /** Where checkpoints go when no folder is given: `<logDir>/checkpoints`, or `<defaultRootDir>/checkpoints`. */
  readonly defaultCheckpointDir: string;
  /**
   * Stores state of an operator or callback in every checkpoint under `key`, read from `save`
   * when a checkpoint is written; returns what a resumed checkpoint stored under `key`, if any.
   */
  registerState(key: string, save: () => Json): Json | undefined;
}

/** Metric values by name, as numbers. */
export type Metrics = Readonly<Record<string, number>>;

interface EventBase {
  readonly control: TrainingControl;
  /** The epoch (0-based) the event belongs to. */
  readonly epoch: number;
  /** The global step: optimizer steps taken so far. */
  readonly step: number;
}

/** Training begins (after setup, checkpoint restore and configureOptimizers). */
export interface FitStartEvent extends EventBase {
  readonly type: 'fitStart';
  readonly maxEpochs: number;
  /** -1 when unlimited. */
  readonly maxSteps: number;
  /** Training batches per epoch, after limitTrainBatches / overfitBatches / fastDevRun. */
  readonly trainBatches: number;
  /** Validation batches per run, 0 when there is no validation. */
  readonly valBatches: number;
  /** The checkpoint training resumed from, or null. */
  readonly resumedFrom: string | null;
  /** The hyperparameters the module saved with `saveHyperparameters`. */
  readonly hparams: Readonly<Record<string, unknown>>;
}

/** A training epoch begins. */
export interface EpochStartEvent extends EventBase {
  readonly type: 'epochStart';
}

/** One training batch is done. */
export interface BatchEndEvent extends EventBase {
  readonly type: 'batchEnd';
  /** The batch's index in its epoch. */
  readonly batchIdx: number;
  /** The training loss of this batch (before scaling for accumulation), or null when the step returned none. */
  readonly loss: number | null;
  /** Values logged in this step with `onStep` (names get a `_step` suffix when also logged `onEpoch`). */
  readonly metrics: Metrics;
  /** The subset of `metrics` logged with `progBar: true`. */
  readonly progressBarMetrics: Metrics;
  /** Each optimizer parameter group's learning rate, named as Lightning's LearningRateMonitor names them (`lr-Adam`, `lr-Adam/pg2`). */
  readonly learningRates: Metrics;
  /** Samples in this batch. */
  readonly batchSize: number;
  /** Training samples per second over this batch. */
  readonly samplesPerSecond: number;
  /** Whether an optimizer step ended with this batch (false while gradients accumulate). */
  readonly optimizerStepped: boolean;
  /**
   * '16-mixed': the GradScaler skipped this batch's optimizer step because a gradient was
   * infinite or NaN (the weights did not change; the step still counts in `step`, as in Lightning).
   */
  readonly optimizerSkipped: boolean;
  /** Optimizer steps skipped so far in this run ('16-mixed'; 0 otherwise). */
  readonly skippedSteps: number;
  /** '16-mixed': the loss scale after this batch; null in other precisions. */
  readonly gradScale: number | null;
  /** Whether this step is due for logging (`logEveryNSteps`). */
  readonly shouldLog: boolean;
}

/** One validation loader's part of a `validationEnd` event. */
export interface DataloaderResult {
  /** Its metrics for loggers. */
  readonly metrics: Metrics;
  /** Its metrics under the names callbacks monitor. */
  readonly callbackMetrics: Metrics;
  readonly batches: number;
}

/** A validation run is done; `metrics` holds the values logged in validation, reduced over its batches. */
export interface ValidationEndEvent extends EventBase {
  readonly type: 'validationEnd';
  readonly metrics: Metrics;
  /** The subset of `metrics` logged with `progBar: true`. */
  readonly progressBarMetrics: Metrics;
  /** Every metric known at this point, training's included (Lightning's `callbackMetrics`). */
  readonly callbackMetrics: Metrics;
  /** Validation batches run, over all loaders. */
  readonly batches: number;
  /**
   * Each validation loader's results, in order: its metrics (names suffixed `/dataloader_idx_<i>`
   * when there are several loaders, plus those logged in epoch hooks) and its batches.
   */
  readonly dataloaders: readonly DataloaderResult[];
  /** Whether this is the sanity check before training (its metrics are not logged, and no checkpoint or early stop follows it). */
  readonly sanityCheck: boolean;
}

/** A training epoch is done (after its end-of-epoch validation, if any). */
export interface EpochEndEvent extends EventBase {
  readonly type: 'epochEnd';
  /** Values logged in training with `onEpoch`, reduced over the epoch (names get an `_epoch` suffix when also logged `onStep`). */
  readonly metrics: Metrics;
  /** The subset of `metrics` logged with `progBar: true`. */
  readonly progressBarMetrics: Metrics;
  /** Every metric known at this point (Lightning's `callbackMetrics`). */
  readonly callbackMetrics: Metrics;
  /** Each parameter group's learning rate, as on `batchEnd`. */
  readonly learningRates: Metrics;
}

/** A checkpoint file is complete on disk. */
export interface CheckpointSavedEvent extends EventBase {
  readonly type: 'checkpointSaved';
  readonly path: string;
  readonly monitor?: string;
  readonly score?: number;
}

/** Why training ended. */
export type FitEndReason = 'maxEpochs' | 'maxSteps' | 'stopRequested';

/** Training is done; the last event of a stream that completes. */
export interface FitEndEvent extends EventBase {
  readonly type: 'fitEnd';
  readonly reason: FitEndReason;
  /** The reason given to `requestStop`, when that ended training. */
  readonly stopReason?: string;
  readonly callbackMetrics: Metrics;
  /** Wall-clock seconds from fitStart. */
  readonly durationSeconds: number;
}

/**
 * The events of `trainer.fit$()`, a discriminated union on `type`.
 *
 * @example
 * trainer.fit$(model, data).subscribe((event) => {
 *   if (event.type === 'batchEnd') console.log(event.step, event.loss);
 * });
 */
export type TrainerEvent =
  | FitStartEvent
  | EpochStartEvent
  | BatchEndEvent
  | ValidationEndEvent
  | EpochEndEvent
  | CheckpointSavedEvent
  | FitEndEvent;

/** The event of one type. */
export type TrainerEventOf<K extends TrainerEvent['type']> = Extract<TrainerEvent, { type: K }>;

/** The event without its control handle: what loggers and tests compare. */
export type EventData<E extends TrainerEvent = TrainerEvent> = Omit<E, 'control'>;

/** A copy of `event` without `control`, for printing or comparing. */
export function eventData<E extends TrainerEvent>(event: E): EventData<E> {
  const { control: _control, ...data } = event;
  return data;
}
