/**
 * @flint/lightning: Lightning-style training for Flint. `LightningModule` and
 * `LightningDataModule` hold the model-specific parts; the `Trainer` runs the loops. The training
 * loop is a cold RxJS stream of typed events (`trainer.fit$`), and logging, checkpointing, early
 * stopping, progress bars and learning-rate monitoring are operators on it; `await trainer.fit()`
 * applies them as Lightning-style callbacks. Node only (loggers and checkpoints use the file system).
 */

export { Callback } from './callbacks/callback.js';
export { EarlyStopping, type EarlyStoppingOptions } from './callbacks/early-stopping.js';
export { formatCheckpointName } from './callbacks/filename.js';
export { LearningRateMonitor, type LearningRateMonitorOptions } from './callbacks/learning-rate-monitor.js';
export { ModelCheckpoint, type ModelCheckpointOptions } from './callbacks/model-checkpoint.js';
export { ProgressBar, type ProgressBarOptions, renderProgressLine, type Terminal } from './callbacks/progress-bar.js';
export { type CheckpointContents, readCheckpoint } from './checkpoint/file.js';
export type { CheckpointState, LoopState } from './checkpoint/state.js';
export { CheckpointError, TrainingStepError } from './core/errors.js';
export type { Json } from './core/json.js';
export { LightningDataModule } from './datamodule.js';
export { writeFileAtomic } from './io/atomic-write.js';
export { ConsoleLogger, type ConsoleLoggerOptions, type TextSink } from './loggers/console-logger.js';
export { CSVLogger, type CSVLoggerOptions } from './loggers/csv-logger.js';
export { JSONLinesLogger } from './loggers/jsonl-logger.js';
export type { Logger, RunStatus } from './loggers/logger.js';
export { TensorBoardLogger, type TensorBoardLoggerOptions } from './loggers/tensorboard-logger.js';
export type { FileLoggerOptions } from './loggers/version-dir.js';
export { type CheckpointExtras, LightningModule, type Stage, type StepOutput } from './module.js';
export { checkpoint } from './operators/checkpoint.js';
export { earlyStopping } from './operators/early-stopping.js';
export { logTo } from './operators/log-to.js';
export { lrMonitor } from './operators/lr-monitor.js';
export { progressBar } from './operators/progress-bar.js';
export { DDPStrategy, type DDPStrategyOptions, SingleDeviceStrategy, type Strategy } from './strategies/index.js';
export * from './stream/events.js';
export { type EventObserver, observeEvents } from './stream/observe.js';
export type { BatchSource, BatchSources } from './trainer/batches.js';
export { LightningOptimizer } from './trainer/lightning-optimizer.js';
export type { LogOptions } from './trainer/metrics.js';
export type {
  LRSchedulerConfig,
  OptimizerConfig,
  OptimizerLike,
  OptimizerWithScheduler,
  SchedulerLike,
} from './trainer/optimizer-config.js';
export {
  type Accelerator,
  type Precision,
  type PrecisionInput,
  type ResolvedTrainerOptions,
  resolveTrainerOptions,
  type TrainerOptions,
  validateTrainerOptions,
} from './trainer/options.js';
export { type Profiler, SimpleProfiler, type SimpleProfilerOptions } from './trainer/profiler.js';
export { seedEverything } from './trainer/rng.js';
export { type EvalData, type EvalOptions, type FitData, type FitOptions, Trainer } from './trainer/trainer.js';
