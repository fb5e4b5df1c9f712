/**
 * @flint/lightning: Lightning-style training for Flint. `LightningModule` and
 * `LightningDataModule` hold the model-specific parts; the `Trainer` runs the loops. The training
 * loop is a cold RxJS stream of typed events (`trainer.fit$`), and logging, checkpointing, early
 * stopping, progress bars and learning-rate monitoring are operators on it; `await trainer.fit()`
 * applies them as Lightning-style callbacks. Node only (loggers and checkpoints use the file system).
 */
export { LightningModule, type StepOutput, type Stage, type CheckpointExtras } from './module.js';
export { LightningDataModule } from './datamodule.js';
export { Trainer, type FitData, type EvalData, type FitOptions, type EvalOptions } from './trainer/trainer.js';
export { type TrainerOptions, type ResolvedTrainerOptions, type Accelerator, type Precision, type PrecisionInput, validateTrainerOptions, resolveTrainerOptions } from './trainer/options.js';
export type { BatchSource } from './trainer/batches.js';
export { seedEverything } from './trainer/rng.js';
export type { LogOptions } from './trainer/metrics.js';
export { LightningOptimizer } from './trainer/lightning-optimizer.js';
export type { OptimizerConfig, OptimizerLike, SchedulerLike, LRSchedulerConfig, OptimizerWithScheduler } from './trainer/optimizer-config.js';
export { SimpleProfiler, type Profiler, type SimpleProfilerOptions } from './trainer/profiler.js';
export * from './stream/events.js';
export { observeEvents, type EventObserver } from './stream/observe.js';
export { logTo } from './operators/log-to.js';
export { checkpoint } from './operators/checkpoint.js';
export { earlyStopping } from './operators/early-stopping.js';
export { progressBar } from './operators/progress-bar.js';
export { lrMonitor } from './operators/lr-monitor.js';
export { Callback } from './callbacks/callback.js';
export { ModelCheckpoint, type ModelCheckpointOptions } from './callbacks/model-checkpoint.js';
export { EarlyStopping, type EarlyStoppingOptions } from './callbacks/early-stopping.js';
export { LearningRateMonitor, type LearningRateMonitorOptions } from './callbacks/learning-rate-monitor.js';
export { ProgressBar, type ProgressBarOptions, type Terminal, renderProgressLine } from './callbacks/progress-bar.js';
export { formatCheckpointName } from './callbacks/filename.js';
export type { Logger, RunStatus } from './loggers/logger.js';
export { CSVLogger, type CSVLoggerOptions } from './loggers/csv-logger.js';
export { JSONLinesLogger } from './loggers/jsonl-logger.js';
export { ConsoleLogger, type ConsoleLoggerOptions, type TextSink } from './loggers/console-logger.js';
export { TensorBoardLogger, type TensorBoardLoggerOptions } from './loggers/tensorboard-logger.js';
export type { FileLoggerOptions } from './loggers/version-dir.js';
export { readCheckpoint, type CheckpointContents } from './checkpoint/file.js';
export type { CheckpointState, LoopState } from './checkpoint/state.js';
export { TrainingStepError, CheckpointError } from './core/errors.js';
export type { Json } from './core/json.js';
export { writeFileAtomic } from './io/atomic-write.js';
