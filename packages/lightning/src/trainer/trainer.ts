import { join } from 'node:path';
import { backendStatus, ValueError } from '@flint/api';
import { lastValueFrom, type MonoTypeOperatorFunction, type Observable } from 'rxjs';
import type { Callback } from '../callbacks/callback.js';
import { ModelCheckpoint } from '../callbacks/model-checkpoint.js';
import { ProgressBar } from '../callbacks/progress-bar.js';
import { readCheckpoint } from '../checkpoint/file.js';
import { isDataModule, type LightningDataModule } from '../datamodule.js';
import { CSVLogger } from '../loggers/csv-logger.js';
import type { Logger } from '../loggers/logger.js';
import type { LightningModule, Stage } from '../module.js';
import { logTo } from '../operators/log-to.js';
import { DDPStrategy } from '../strategies/ddp.js';
import { StopSyncDriver } from '../strategies/stop-sync-driver.js';
import { SingleDeviceStrategy, type Strategy } from '../strategies/strategy.js';
import type { Metrics, TrainerEvent } from '../stream/events.js';
import { loopObservable } from '../stream/loop-driver.js';
import { type BatchSource, type BatchSources, batchTarget, checkSource, checkSources, isSourceList, sourceLength } from './batches.js';
import { runEvaluation, runPrediction } from './evaluation.js';
import { FitRun, limitBatches } from './fit-run.js';
import { guardAsync } from './guard.js';
import { MetricCollector } from './metrics.js';
import { type Accelerator, type ResolvedTrainerOptions, resolveTrainerOptions, type TrainerOptions } from './options.js';
import { claimDefaultBackend, claimModulePlacement } from './placement.js';
import { checkPrecisionBackend, precisionScope } from './precision.js';
import { NO_PROFILER, type Profiler, SimpleProfiler } from './profiler.js';

/**
 * The data of a run: a LightningDataModule, a loader of training batches, or loaders by stage
 * (Lightning's `train_dataloaders` / `val_dataloaders` / `datamodule` arguments).
 */
export type FitData<B = unknown> =
  | LightningDataModule
  | BatchSource<B>
  | { readonly trainDataloaders?: BatchSource<B>; readonly valDataloaders?: BatchSources<B>; readonly datamodule?: LightningDataModule };

/** Data for validate, test and predict: a datamodule, or the loader (or, for validate and test, the loaders) of that stage. */
export type EvalData<B = unknown> =
  | LightningDataModule
  | BatchSources<B>
  | { readonly dataloaders?: BatchSources<B>; readonly datamodule?: LightningDataModule };

/** Options of `fit` and `fit$`. */
export interface FitOptions {
  /** Resume from this checkpoint: weights, optimizers, schedulers, loop position, data order, random state, callbacks. */
  readonly ckptPath?: string;
}

/** Options of `validate`, `test` and `predict`. */
export interface EvalOptions {
  /** Load weights first: a checkpoint path, 'best' (the ModelCheckpoint's best) or 'last'. */
  readonly ckptPath?: string;
}

type Module = LightningModule<never[], unknown>;

/**
 * Lightning's Trainer: runs a LightningModule's training, validation, test and prediction loops,
 * with Lightning's options (camelCased). `fit$` is the training loop as a cold RxJS stream of
 * typed events; `fit` runs it with the configured callbacks and loggers applied as operators.
 *
 * @example
 * const trainer = new Trainer({ maxEpochs: 10, accelerator: 'auto', devices: 1 });
 * await trainer.fit(model, trainLoader);
 *
 * @example
 * trainer.fit$(model, data).pipe(
 *   checkpoint({ dirpath: 'ckpt', monitor: 'val_loss', saveTopK: 2 }),
 *   earlyStopping({ monitor: 'val_loss', patience: 3 }),
 *   logTo(new CSVLogger({ saveDir: 'runs' })),
 *   progressBar(),
 * ).subscribe();
 */
export class Trainer {
  readonly options: ResolvedTrainerOptions;
  /** The loggers `fit` writes to (none in fastDevRun). */
  readonly loggers: readonly Logger[];
  /** The callbacks `fit` applies: those given, plus a ModelCheckpoint and a ProgressBar unless disabled or given. */
  readonly callbacks: readonly Callback[];
  readonly profiler: Profiler;
  /** How training is spread over processes: one process, or DDP over several. */
  readonly strategy: Strategy;
  /** The epoch in progress (or the next to run). */
  currentEpoch = 0;
  /** Optimizer steps taken. */
  globalStep = 0;
  /** The metrics of the last run, as callbacks saw them. */
  callbackMetrics: Metrics = {};
  private running: Promise<void> | undefined;
  private lastRun: FitRun | undefined;
  private lastModule: Module | undefined;

  constructor(options: TrainerOptions = {}) {
    this.options = resolveTrainerOptions(options);
    const o = this.options;
    this.profiler = o.profiler === 'simple' ? new SimpleProfiler() : (o.profiler ?? NO_PROFILER);
    this.strategy = o.strategy === 'ddp' ? new DDPStrategy() : o.strategy === 'auto' ? new SingleDeviceStrategy() : o.strategy;
    if (this.strategy instanceof DDPStrategy) this.strategy.useSeed(o.seed);
    this.loggers = o.logger === true ? [new CSVLogger({ saveDir: o.defaultRootDir })] : o.logger === false ? [] : [...o.logger];
    const callbacks = [...o.callbacks];
    if (o.enableCheckpointing && !callbacks.some((c) => c instanceof ModelCheckpoint)) callbacks.push(new ModelCheckpoint());
    if (!o.enableCheckpointing && callbacks.some((c) => c instanceof ModelCheckpoint)) {
      throw new ValueError('Trainer: enableCheckpointing is false, but a ModelCheckpoint is among the callbacks; remove one of them');
    }
    if (o.enableProgressBar && !callbacks.some((c) => c instanceof ProgressBar)) callbacks.push(new ProgressBar());
    // Checkpointing last among the user's callbacks, as Lightning orders them, so it sees their metrics; the bar after.
    const rank = (c: Callback) => (c instanceof ProgressBar ? 2 : c instanceof ModelCheckpoint ? 1 : 0);
    this.callbacks = callbacks
      .map((c, i) => [c, i] as const)
      .sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1])
      .map(([c]) => c);
  }

  /** The first logger, or undefined. */
  get logger(): Logger | undefined {
    return this.loggers[0];
  }

  /** The first logger's folder (where checkpoints go by default), or undefined. */
  get logDir(): string | undefined {
    return this.loggers.find((l) => l.logDir !== undefined)?.logDir;
  }

  /** The first ModelCheckpoint among the callbacks. */
  get checkpointCallback(): ModelCheckpoint | undefined {
    return this.callbacks.find((c): c is ModelCheckpoint => c instanceof ModelCheckpoint);
  }

  /** Resolves when no run of this trainer is in progress (a stream unsubscribed from stops at its next step boundary). */
  async idle(): Promise<void> {
    await this.running?.catch(() => undefined);
  }

  private defaultCheckpointDir(): string {
    return join(this.logDir ?? this.options.defaultRootDir, 'checkpoints');
  }

  /**
   * Puts the run on the accelerator: makes it the default backend (tensors a step creates land
   * there) and moves the module to it. The returned function undoes both when the run ends, as
   * Lightning's teardown moves the model back to the CPU: code after `fit` finds the default
   * backend and the module's parameters where they were before it (placement.ts counts runs that
   * overlap, so the last one to end restores).
   */
  private async selectAccelerator(module: Module): Promise<() => Promise<void>> {
    const accelerator: Accelerator = this.options.accelerator;
    if (accelerator === 'auto') return async () => undefined;
    const status = backendStatus().find((b) => b.name === accelerator);
    if (status === undefined) {
      throw new ValueError(
        `Trainer: accelerator '${accelerator}' needs the backend package: import '@flint/backend-${accelerator}' (registered backends: ${
          backendStatus()
            .map((b) => b.name)
            .join(', ') || 'none'
        })`,
      );
    }
    if (!status.available)
      throw new ValueError(`Trainer: accelerator '${accelerator}' is unavailable: ${status.reason ?? 'unknown reason'}`);
    const releaseDefault = claimDefaultBackend(accelerator);
    try {
      const releaseModule = await claimModulePlacement(module, accelerator);
      return async () => {
        releaseDefault();
        await releaseModule();
      };
    } catch (error) {
      releaseDefault();
      throw error;
    }
  }

  /** Readies the module for a run; the returned function restores its placement (see selectAccelerator). */
  private async prepareModule(module: Module): Promise<() => Promise<void>> {
    const restorePlacement = await this.selectAccelerator(module);
    try {
      if (this.options.precision === '64-true') module.to('float64');
      // Mixed precision keeps float32 master weights: autocast casts at the matmuls and convolutions.
      checkPrecisionBackend(this.options.precision, module);
    } catch (error) {
      await restorePlacement();
      throw error;
    }
    return restorePlacement;
  }

  /**
   * The training loop as a cold Observable of typed events. Subscribing starts training;
   * unsubscribing stops it at the next step boundary (pending checkpoint writes complete first);
   * an error in user code ends the stream with a TrainingStepError naming the step and batch.
   * The Trainer's configured callbacks and loggers are not applied: pipe operators instead.
   */
  fit$(module: LightningModule<never[], unknown> | LightningModule, data?: FitData, options: FitOptions = {}): Observable<TrainerEvent> {
    const target = checkModule('fit', module);
    const fitOptions = checkFitOptions(options);
    return loopObservable(async (driver) => {
      if (this.running !== undefined)
        throw new ValueError(
          'Trainer.fit: this trainer is already running a fit; wait for it (await trainer.idle()) or use another Trainer',
        );
      let settle: () => void = () => undefined;
      this.running = new Promise<void>((resolve) => {
        settle = resolve;
      });
      const o = this.options;
      let restorePlacement: () => Promise<void> = async () => undefined;
      let failed = false;
      const where = (phase: string) => ({ stage: 'fit', phase, epoch: this.currentEpoch, step: this.globalStep, batchIdx: -1 });
      try {
        const resolved = resolveFitData(target, data);
        const datamodule = resolved.datamodule;
        if (datamodule !== undefined) {
          await guardAsync(where('prepareData'), () => datamodule.prepareData?.());
          await guardAsync(where('setup'), () => datamodule.setup?.('fit'));
        }
        await guardAsync(where('setup'), () => target.setup?.('fit'));
        const trainSource = resolved.train ?? loaderOf(target, datamodule, 'train');
        if (trainSource === undefined)
          throw new ValueError(
            'Trainer.fit: no training data: pass a loader, a datamodule with trainDataloader(), or define trainDataloader() on the module',
          );
        if (isSourceList(trainSource))
          throw new ValueError(
            `Trainer.fit: ${trainSource.length} training loaders given; training iterates one (several are supported for validation and test)`,
          );
        const valSource = resolved.val ?? loaderOf(target, datamodule, 'val');
        // Where the module lives before the run: its optimizers' state goes there when the run ends.
        const home = target.parameters()[0]?.value.backend;
        restorePlacement = await this.prepareModule(target);
        const strategy = this.strategy;
        strategy.setup(o.devices, o.numNodes);
        const checkpoint =
          fitOptions.ckptPath === undefined ? undefined : await readCheckpoint(this.resolveCheckpointPath(fitOptions.ckptPath));
        if (this.lastModule !== target) {
          this.currentEpoch = 0;
          this.globalStep = 0;
        }
        this.lastModule = target;
        const run = new FitRun(
          {
            options: o,
            module: target,
            datamodule,
            trainSource: strategy.shardSource(checkSource('Trainer.fit', 'the training data', trainSource), 'train'),
            valSources:
              valSource === undefined
                ? []
                : checkSources('Trainer.fit', 'the validation data', valSource).map((source) => strategy.shardSource(source, 'val')),
            strategy,
            checkpoint,
            checkpointPath: fitOptions.ckptPath,
            defaultCheckpointDir: this.defaultCheckpointDir(),
            profiler: this.profiler,
            trainer: this,
            onProgress: (epoch, step) => {
              this.currentEpoch = epoch;
              this.globalStep = step;
            },
          },
          strategy.worldSize > 1 ? new StopSyncDriver(driver, strategy) : driver,
        );
        this.lastRun = run;
        if (o.accelerator !== 'auto') {
          const restoreModule = restorePlacement;
          restorePlacement = async () => {
            await restoreModule();
            // The optimizers' state follows the module home, so a fit leaves nothing on the accelerator.
            if (home !== undefined) await run.moveOptimizerState(home);
          };
        }
        try {
          await run.run();
        } catch (error) {
          // Under DDP the other ranks would wait for this one in their next collective: end them all.
          strategy.failed(error);
          throw error;
        } finally {
          this.callbackMetrics = run.currentMetrics();
          await guardAsync(where('teardown'), () => target.teardown?.('fit'));
          if (datamodule !== undefined) await guardAsync(where('teardown'), () => datamodule.teardown?.('fit'));
        }
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        try {
          await endPlacement(restorePlacement, failed);
        } finally {
          this.running = undefined;
          settle();
        }
      }
    });
  }

  /**
   * Trains `module` (Lightning's `trainer.fit`), applying the configured callbacks and loggers
   * to the stream. Resolves when training ends; rejects with the first error.
   *
   * @example
   * await trainer.fit(model, datamodule, { ckptPath: 'checkpoints/last.ckpt' });
   */
  async fit(module: LightningModule<never[], unknown> | LightningModule, data?: FitData, options: FitOptions = {}): Promise<void> {
    const fastDevRun = this.options.fastDevRun > 0;
    // Under DDP only rank 0 logs and shows progress (its checkpoints are written by rank 0 alone, in FitRun).
    const rankZero = this.strategy.isGlobalZero;
    const callbacks = rankZero ? this.callbacks : this.callbacks.filter((c) => !(c instanceof ProgressBar));
    const operators: MonoTypeOperatorFunction<TrainerEvent>[] = callbacks.map((c) => c.operator());
    if (!fastDevRun && rankZero && this.loggers.length > 0)
      operators.splice(operators.length - (this.options.enableProgressBar ? 1 : 0), 0, logTo([...this.loggers]));
    const stream = operators.reduce((source, operator) => source.pipe(operator), this.fit$(module, data, options));
    try {
      await lastValueFrom(stream, { defaultValue: undefined });
    } finally {
      await this.idle();
      if (this.profiler instanceof SimpleProfiler) this.profiler.report();
    }
  }

  private resolveCheckpointPath(path: string): string {
    if (path === 'best' || path === 'last') {
      const callback = this.checkpointCallback;
      const resolved = path === 'best' ? callback?.bestModelPath : callback?.lastModelPath || callback?.bestModelPath;
      if (resolved === undefined || resolved === '')
        throw new ValueError(`Trainer: ckptPath '${path}' needs a ModelCheckpoint that has saved a checkpoint`);
      return resolved;
    }
    return path;
  }

  /**
   * Writes a checkpoint of the last fit's state to `path` (Lightning's `trainer.save_checkpoint`),
   * atomically.
   */
  async saveCheckpoint(path: string): Promise<void> {
    if (this.lastRun === undefined) throw new ValueError('Trainer.saveCheckpoint: nothing to save; call fit first');
    if (!(await this.lastRun.writeCheckpoint(path, {}))) throw new ValueError('Trainer.saveCheckpoint: fastDevRun writes no checkpoints');
  }

  private async evaluate(
    stage: 'validate' | 'test',
    module: Module | undefined,
    data: EvalData | undefined,
    options: EvalOptions,
  ): Promise<Metrics[]> {
    const target = checkModule(stage, module ?? this.lastModule);
    const stepName = stage === 'validate' ? 'validationStep' : 'testStep';
    const step = stage === 'validate' ? target.validationStep : target.testStep;
    if (step === undefined) throw new ValueError(`Trainer.${stage}: ${target.constructor.name} has no ${stepName}`);
    const { sources, datamodule } = await this.evalSources(stage, target, data);
    const restorePlacement = await this.prepareModule(target);
    let failed = false;
    try {
      return await this.evaluatePrepared(stage, target, step.bind(target), datamodule, sources, options);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await endPlacement(restorePlacement, failed);
    }
  }

  private async evaluatePrepared(
    stage: 'validate' | 'test',
    target: Module,
    step: NonNullable<Module['testStep']>,
    datamodule: LightningDataModule | undefined,
    sources: BatchSource[],
    options: EvalOptions,
  ): Promise<Metrics[]> {
    const stepName = stage === 'validate' ? 'validationStep' : 'testStep';
    if (options.ckptPath !== undefined) await this.loadWeights(target, options.ckptPath);
    const strategy = this.strategy;
    // As in fit: under DDP each rank evaluates its shard, and syncDist values are reduced over ranks.
    strategy.setup(this.options.devices, this.options.numNodes);
    const limitOption = stage === 'validate' ? 'limitValBatches' : 'limitTestBatches';
    const loaders = sources.map((unsharded) => {
      const source = strategy.shardSource(unsharded, 'val');
      let limit = limitBatches(limitOption, this.options[limitOption], sourceLength(source));
      if (this.options.fastDevRun > 0) limit = Math.min(limit, this.options.fastDevRun);
      return { source, limit };
    });
    const collector = new MetricCollector();
    if (strategy.worldSize > 1) collector.syncDist = (values, op) => strategy.reduceValues(values, op);
    const link = target._link;
    target._link = {
      log: (name, value, logOptions) => collector.log(name, value, logOptions),
      optimizers: () => [],
      schedulers: () => [],
      manualBackward: () => {
        throw new ValueError(`manualBackward: not available in ${stage}`);
      },
      currentEpoch: this.currentEpoch,
      globalStep: this.globalStep,
      trainer: this,
    };
    try {
      const { metrics, dataloaders } = await runEvaluation({
        module: target,
        loaders,
        stage,
        stepName,
        step,
        onStart: stage === 'validate' ? () => target.onValidationEpochStart?.() : () => target.onTestEpochStart?.(),
        onEnd: stage === 'validate' ? () => target.onValidationEpochEnd?.() : () => target.onTestEpochEnd?.(),
        collector,
        profiler: this.profiler,
        target: batchTarget(this.options.accelerator, this.options.precision),
        precisionScope: precisionScope(this.options.precision),
        epoch: this.currentEpoch,
        globalStep: this.globalStep,
      });
      if (this.options.fastDevRun === 0 && strategy.isGlobalZero) {
        for (const logger of this.loggers) {
          logger.logMetrics({ ...metrics.logged }, this.globalStep);
          logger.save?.();
        }
      }
      return dataloaders.map((d) => ({ ...d.callbackMetrics }));
    } finally {
      target._link = link;
      await target.teardown?.(stage);
      await datamodule?.teardown?.(stage);
    }
  }

  /**
   * Runs the validation loop once (Lightning's `trainer.validate`): the metrics logged in
   * `validationStep`, reduced over the data, one object per data loader.
   */
  validate(module?: LightningModule<never[], unknown> | LightningModule, data?: EvalData, options: EvalOptions = {}): Promise<Metrics[]> {
    return this.evaluate('validate', module as Module | undefined, data, options);
  }

  /**
   * Runs the test loop once (Lightning's `trainer.test`).
   *
   * @example
   * const [{ test_acc }] = await trainer.test(model, datamodule);
   */
  test(module?: LightningModule<never[], unknown> | LightningModule, data?: EvalData, options: EvalOptions = {}): Promise<Metrics[]> {
    return this.evaluate('test', module as Module | undefined, data, options);
  }

  /** Runs `predictStep` over the data (Lightning's `trainer.predict`); the outputs, in order (their tensors are the caller's). */
  async predict(
    module?: LightningModule<never[], unknown> | LightningModule,
    data?: EvalData,
    options: EvalOptions = {},
  ): Promise<unknown[]> {
    const target = checkModule('predict', module ?? this.lastModule);
    const { sources, datamodule } = await this.evalSources('predict', target, data);
    if (sources.length > 1) throw new ValueError(`Trainer.predict: ${sources.length} loaders given; predict runs one`);
    const source = sources[0] as BatchSource;
    const restorePlacement = await this.prepareModule(target);
    let failed = false;
    try {
      return await this.predictPrepared(target, source, datamodule, options);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      await endPlacement(restorePlacement, failed);
    }
  }

  private async predictPrepared(
    target: Module,
    source: BatchSource,
    datamodule: LightningDataModule | undefined,
    options: EvalOptions,
  ): Promise<unknown[]> {
    if (options.ckptPath !== undefined) await this.loadWeights(target, options.ckptPath);
    let limit = limitBatches('limitPredictBatches', this.options.limitPredictBatches, sourceLength(source));
    if (this.options.fastDevRun > 0) limit = Math.min(limit, this.options.fastDevRun);
    try {
      return await runPrediction({
        module: target,
        source,
        stage: 'predict',
        step: (batch, batchIdx) => target.predictStep(batch, batchIdx),
        onStart: () => target.onPredictEpochStart?.(),
        onEnd: () => target.onPredictEpochEnd?.(),
        limit,
        profiler: this.profiler,
        target: batchTarget(this.options.accelerator, this.options.precision),
        precisionScope: precisionScope(this.options.precision),
        epoch: this.currentEpoch,
        globalStep: this.globalStep,
      });
    } finally {
      await target.teardown?.('predict');
      await datamodule?.teardown?.('predict');
    }
  }

  private async evalSources(
    stage: 'validate' | 'test' | 'predict',
    module: Module,
    data: EvalData | undefined,
  ): Promise<{ sources: BatchSource[]; datamodule: LightningDataModule | undefined }> {
    let datamodule: LightningDataModule | undefined;
    let source: BatchSources | undefined;
    if (isDataModule(data)) datamodule = data;
    else if (data !== undefined && typeof data === 'object' && ('dataloaders' in data || 'datamodule' in data) && !isIterable(data)) {
      const d = data as { dataloaders?: BatchSources; datamodule?: LightningDataModule };
      datamodule = d.datamodule;
      source = d.dataloaders;
    } else if (data !== undefined) source = data as BatchSources;
    if (datamodule !== undefined) {
      await datamodule.prepareData?.();
      await datamodule.setup?.(stage);
    }
    await module.setup?.(stage);
    const kind = stage === 'validate' ? 'val' : stage;
    source ??= loaderOf(module, datamodule, kind);
    if (source === undefined)
      throw new ValueError(
        `Trainer.${stage}: no data: pass a loader or a datamodule with ${kind}Dataloader(), or define ${kind}Dataloader() on the module`,
      );
    return { sources: checkSources(`Trainer.${stage}`, 'the data', source), datamodule };
  }

  private async loadWeights(module: Module, ckptPath: string): Promise<void> {
    const { tensors } = await readCheckpoint(this.resolveCheckpointPath(ckptPath));
    try {
      const weights = Object.fromEntries(
        Object.entries(tensors)
          .filter(([name]) => name.startsWith('model.'))
          .map(([name, t]) => [name.slice('model.'.length), t]),
      );
      module.loadStateDict(weights);
    } finally {
      for (const t of Object.values(tensors)) t.dispose();
    }
  }
}

/**
 * Ends a run's placement (the default backend and the module back where they were). After a
 * failed run, a failure to move back is said on stderr and the run's own error goes on; after a
 * run that succeeded it is the error.
 */
async function endPlacement(restorePlacement: () => Promise<void>, runFailed: boolean): Promise<void> {
  if (!runFailed) return restorePlacement();
  try {
    await restorePlacement();
  } catch (error) {
    console.error(`Trainer: after the run failed, its module could not be moved back: ${(error as Error).message}`);
  }
}

function isIterable(value: object): boolean {
  return Symbol.iterator in value || Symbol.asyncIterator in value;
}

function checkModule(op: string, module: unknown): Module {
  const m = module as Module | undefined;
  if (
    typeof m !== 'object' ||
    m === null ||
    typeof m.trainingStep !== 'function' ||
    typeof m.configureOptimizers !== 'function' ||
    typeof m.parameters !== 'function'
  ) {
    throw new ValueError(
      `Trainer.${op}: expected a LightningModule${module === undefined ? ' (none given, and no module was fitted before)' : `, got ${module === null ? 'null' : typeof module}`}`,
    );
  }
  return m;
}

function checkFitOptions(options: unknown): FitOptions {
  if (typeof options !== 'object' || options === null) throw new ValueError('Trainer.fit: options must be an object such as { ckptPath }');
  const { ckptPath, ...rest } = options as FitOptions & Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new ValueError(
      `Trainer.fit: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; the fit options are { ckptPath }`,
    );
  if (ckptPath !== undefined && (typeof ckptPath !== 'string' || ckptPath === ''))
    throw new ValueError(`Trainer.fit: ckptPath must be a path, 'best' or 'last', got ${JSON.stringify(ckptPath)}`);
  return ckptPath === undefined ? {} : { ckptPath };
}

function resolveFitData(
  module: Module,
  data: FitData | undefined,
): { datamodule?: LightningDataModule; train?: BatchSource; val?: BatchSources } {
  if (data === undefined) return {};
  if (isDataModule(data)) return { datamodule: data };
  if (typeof data === 'object' && data !== null && !isIterable(data)) {
    const d = data as { trainDataloaders?: BatchSource; valDataloaders?: BatchSources; datamodule?: LightningDataModule };
    const known = ['trainDataloaders', 'valDataloaders', 'datamodule'];
    const unknown = Object.keys(d).filter((k) => !known.includes(k));
    if (unknown.length > 0)
      throw new ValueError(
        `Trainer.fit: unknown data key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; expected { trainDataloaders, valDataloaders, datamodule }`,
      );
    if (d.datamodule !== undefined && (d.trainDataloaders !== undefined || d.valDataloaders !== undefined)) {
      throw new ValueError('Trainer.fit: pass either a datamodule or data loaders, not both');
    }
    return {
      ...(d.datamodule === undefined ? {} : { datamodule: d.datamodule }),
      ...(d.trainDataloaders === undefined ? {} : { train: d.trainDataloaders }),
      ...(d.valDataloaders === undefined ? {} : { val: d.valDataloaders }),
    };
  }
  void module;
  return { train: data as BatchSource };
}

function loaderOf(
  module: Module,
  datamodule: LightningDataModule | undefined,
  kind: 'train' | 'val' | 'test' | 'predict',
): BatchSources | undefined {
  const method = `${kind}Dataloader` as const;
  const owner = datamodule?.[method] !== undefined ? datamodule : module[method] !== undefined ? module : undefined;
  if (owner === undefined) return undefined;
  return (owner[method] as () => BatchSources).call(owner);
}

export type { Stage };
