import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type amp, dispose, isTensor, keepOwned, noGrad, type optim, type Tensor, tidy, ValueError } from '@flint/api';
import {
  type CheckpointContents,
  encodeCheckpoint,
  joinTensors,
  removeCheckpointFile,
  splitTensors,
  writeCheckpointFile,
} from '../checkpoint/file.js';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointState, type LoopState } from '../checkpoint/state.js';
import { CheckpointError } from '../core/errors.js';
import { type Json, parseState, stringifyState } from '../core/json.js';
import type { LightningDataModule } from '../datamodule.js';
import type { CheckpointExtras, LightningModule, StepOutput, TrainerLink } from '../module.js';
import { setSamplerEpoch } from '../strategies/shard.js';
import { SingleDeviceStrategy, type Strategy } from '../strategies/strategy.js';
import type { FitEndReason, Metrics } from '../stream/events.js';
import type { CheckpointHost, LoopDriver } from '../stream/loop-driver.js';
import {
  type BatchSource,
  batchTarget,
  epochBatches,
  getSamplerState,
  inferBatchSize,
  ownsBatches,
  prepareBatch,
  setSamplerState,
  sourceLength,
} from './batches.js';
import { clipGradients } from './clip.js';
import { runEvaluation } from './evaluation.js';
import { guard, guardAsync, wrapError } from './guard.js';
import { keepOptimizerTensors, LightningOptimizer } from './lightning-optimizer.js';
import { type CollectorState, type LogOptions, MetricCollector } from './metrics.js';
import {
  isPlateauScheduler,
  learningRateNames,
  type OptimizerLike,
  type ResolvedOptimizers,
  type ResolvedScheduler,
  resolveOptimizerConfig,
} from './optimizer-config.js';
import type { ResolvedTrainerOptions } from './options.js';
import { createGradScaler, outsideAutocast, type PrecisionScope, precisionScope } from './precision.js';
import type { Profiler } from './profiler.js';
import { getGlobalRandomState, seedGlobalRandom, setGlobalRandomState } from './rng.js';
import { readScalar, type ScalarValue } from './scalar.js';

/** A module as the loop handles it, whatever its forward's signature. */
export type AnyLightningModule = LightningModule<never[], unknown>;

/** Everything a fit run starts from. */
export interface FitRunInput {
  readonly options: ResolvedTrainerOptions;
  readonly module: AnyLightningModule;
  readonly datamodule: LightningDataModule | undefined;
  readonly trainSource: BatchSource;
  /** The validation loaders (none: no validation). */
  readonly valSources: readonly BatchSource[];
  readonly checkpoint: CheckpointContents | undefined;
  readonly checkpointPath: string | undefined;
  readonly defaultCheckpointDir: string;
  readonly profiler: Profiler;
  /** The Trainer, as `module.trainer` shows it. */
  readonly trainer: unknown;
  /** Progress the Trainer reports (currentEpoch, globalStep) while the run goes. */
  readonly onProgress: (epoch: number, step: number) => void;
  /** How training is spread over processes (default: one process). */
  readonly strategy?: Strategy;
}

/** A batch count from a limit option: a fraction (<= 1) of the source's batches, or a whole count. */
export function limitBatches(option: string, limit: number, length: number): number {
  if (limit <= 1) {
    if (limit === 1) return length;
    if (!Number.isFinite(length))
      throw new ValueError(`Trainer: ${option} ${limit} is a fraction, but the data loader has no length; give a whole number of batches`);
    return Math.floor(length * limit);
  }
  return Math.min(limit, length);
}

function extractLoss(output: StepOutput, phase: string): Tensor | null {
  if (output === null || output === undefined) return null;
  if (isTensor(output)) return output;
  if (typeof output === 'object' && 'loss' in output && isTensor(output.loss)) return output.loss;
  throw new ValueError(
    `${phase} must return the loss (a tensor), an object { loss, ... }, or null to skip the batch; got ${typeof output === 'object' ? `an object with keys ${Object.keys(output).join(', ')}` : typeof output}`,
  );
}

/**
 * One run of `fit`: the training loop, driven step by step by the stream's subscription. State
 * lives here, so that a checkpoint taken at any step boundary can describe exactly where the
 * loop stands, and a run started from that checkpoint continues identically.
 */
export class FitRun implements CheckpointHost {
  private readonly options: ResolvedTrainerOptions;
  private readonly module: AnyLightningModule;
  private readonly profiler: Profiler;
  private readonly train: BatchSource;
  private readonly val: readonly BatchSource[];
  private optimizers: ResolvedOptimizers = { optimizers: [], schedulers: [] };
  private wrapped: LightningOptimizer[] = [];
  /** trainStep left the automatic optimizer step to finishDeferredStep (see there). */
  private deferredStep = false;
  /**
   * The batch-end hook of a deferred step: Lightning calls on_train_batch_end after the optimizer
   * step, so it waits for the step, with the training step's outputs kept alive until it has run.
   */
  private deferredBatchEnd: { readonly run: () => void; readonly release: () => void } | undefined;
  private lrNames: string[][] = [];
  private readonly trainCollector = new MetricCollector();
  private readonly valCollector = new MetricCollector();
  private activeCollector: MetricCollector = this.trainCollector;
  private callbackMetrics: Record<string, number> = {};

  // Loop position: what a checkpoint taken now records.
  private epoch = 0;
  private globalStep = 0;
  private batchesDone = 0;
  private batchesSinceValidation = 0;
  private samplerStateAtEpochStart: Json = null;
  /** Resume: batches of the first epoch to skip, and the random state to restore before the next. */
  private skipBatches = 0;
  private pendingRandomState: Json | undefined;
  private readonly restoredCallbacks: Readonly<Record<string, Json>>;
  private readonly trainBatches: number;
  /** Validation batches per run, over all loaders, and per loader. */
  private readonly valBatches: number;
  private readonly valLimits: readonly number[];
  private readonly owned: boolean;
  private overfitCache: unknown[] | undefined;
  private deferredStopReason: string | undefined;
  /** A validation check is due after the batch just finished (and has not run yet). */
  private validationPending = false;
  /** Resume: the checkpoint was taken between a batch and its validation check. */
  private resumeValidationPending = false;
  private startedAt = 0;
  private readonly strategy: Strategy;
  /** Mixed precision: the autocast scope steps run in, and ('16-mixed') the loss scaler. */
  private readonly scope: PrecisionScope | undefined;
  private readonly scaler: amp.GradScaler | undefined;
  /** Optimizer steps the GradScaler skipped because gradients overflowed, and whether the last one was. */
  private skippedSteps = 0;
  private lastStepSkipped = false;

  constructor(
    private readonly input: FitRunInput,
    private readonly driver: LoopDriver,
  ) {
    this.options = input.options;
    this.strategy = input.strategy ?? new SingleDeviceStrategy();
    this.module = input.module;
    this.profiler = input.profiler;
    this.train = input.trainSource;
    this.val = input.valSources;
    this.owned = ownsBatches(this.train);
    this.restoredCallbacks = input.checkpoint?.state.callbacks ?? {};
    const o = this.options;
    this.scope = precisionScope(o.precision);
    this.scaler = createGradScaler(o.precision);
    const trainLength = sourceLength(this.train);
    let train = limitBatches('limitTrainBatches', o.limitTrainBatches, trainLength);
    let val =
      this.module.validationStep === undefined
        ? []
        : this.val.map((source) => limitBatches('limitValBatches', o.limitValBatches, sourceLength(source)));
    if (o.overfitBatches > 0) {
      train =
        o.overfitBatches >= 1 ? Math.min(o.overfitBatches, trainLength) : limitBatches('overfitBatches', o.overfitBatches, trainLength);
      // Overfitting validates on the cached training batches, as one loader.
      val = this.module.validationStep === undefined ? [] : [train];
    }
    if (o.fastDevRun > 0) {
      train = Math.min(train, o.fastDevRun);
      val = val.map((n) => Math.min(n, o.fastDevRun));
    }
    this.trainBatches = train;
    this.valLimits = val;
    this.valBatches = val.reduce((a, b) => a + b, 0);
  }

  // ---- CheckpointHost ------------------------------------------------------------------------

  get defaultCheckpointDir(): string {
    return this.input.defaultCheckpointDir;
  }

  position(): { epoch: number; step: number } {
    return { epoch: this.epoch, step: this.globalStep };
  }

  restoredCallbackState(key: string): Json | undefined {
    return this.restoredCallbacks[key];
  }

  removeCheckpoint(path: string): Promise<void> {
    // Rank 0 owns the checkpoint files (other ranks may share its file system).
    if (!this.strategy.isGlobalZero) return Promise.resolve();
    return removeCheckpointFile(path);
  }

  writeCheckpoint(path: string, callbackStates: Readonly<Record<string, Json>>): Promise<boolean> {
    if (this.options.fastDevRun > 0 || !this.strategy.isGlobalZero) return Promise.resolve(false);
    // Everything is captured now, at the boundary; only encoding and writing wait.
    this.profiler.start('checkpointCapture');
    const tensors: Record<string, Tensor> = {};
    // Off the tape: handles recorded there would keep the parameters' old values alive.
    for (const [name, t] of Object.entries(noGrad(() => this.module.stateDict()))) tensors[`model.${name}`] = t;
    const optimizerStates = this.optimizers.optimizers.map((o, k) =>
      splitTensors(
        noGrad(() => o.stateDict()),
        `optimizer.${k}`,
        tensors,
      ),
    );
    const extra: CheckpointExtras = {};
    guard(this.where('train', 'onSaveCheckpoint', -1), () => this.module.onSaveCheckpoint?.(extra));
    const loop: LoopState = {
      epoch: this.epoch,
      batchesDone: this.batchesDone,
      globalStep: this.globalStep,
      batchesSinceValidation: this.batchesSinceValidation,
      samplerState: this.samplerStateAtEpochStart,
      validationPending: this.validationPending,
      trainAccumulators: this.trainCollector.stateDict() as unknown as Json,
      callbackMetrics: { ...this.callbackMetrics },
      skippedSteps: this.skippedSteps,
    };
    const state: CheckpointState = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      epoch: this.epoch,
      globalStep: this.globalStep,
      loop,
      optimizerStates,
      lrSchedulers: this.optimizers.schedulers.map((s) => s.scheduler.stateDict() as Json),
      rng: getGlobalRandomState(),
      callbacks: { ...callbackStates },
      datamodule: this.input.datamodule?.stateDict() ?? null,
      hyperParameters: this.module.hparams as Record<string, Json>,
      extra,
      gradScaler: this.scaler === undefined ? null : ({ ...this.scaler.stateDict() } as Json),
    };
    // A deep copy, so that nothing that changes after this boundary leaks into the file.
    const frozen = parseState(stringifyState(state)) as CheckpointState;
    this.profiler.stop('checkpointCapture');
    return (async () => {
      let bytes: Uint8Array;
      try {
        bytes = await encodeCheckpoint(frozen, tensors);
      } finally {
        dispose(tensors);
      }
      await mkdir(dirname(path), { recursive: true });
      await writeCheckpointFile(path, bytes);
      return true;
    })();
  }

  /** Moves the optimizers' state (Adam's moments, ...) to `target`, as Lightning moves optimizers with their module. */
  async moveOptimizerState(target: string): Promise<void> {
    for (const optimizer of this.optimizers.optimizers) await optimizer.toAsync?.(target);
  }

  /** Lightning's callbackMetrics as they stand. */
  currentMetrics(): Record<string, number> {
    return { ...this.callbackMetrics };
  }

  // ---- the module's view of the Trainer ------------------------------------------------------

  private link(): TrainerLink {
    const run = this;
    return {
      log: (name: string, value: unknown, options: LogOptions | undefined) => run.activeCollector.log(name, value, options),
      optimizers: () => run.wrapped,
      schedulers: () => run.optimizers.schedulers.map((s) => s.scheduler),
      manualBackward: (loss: Tensor) => {
        run.module.onBeforeBackward?.(loss);
        const scaled = run.scaler === undefined ? loss : run.scaler.scale(loss);
        outsideAutocast(() => scaled.backward());
        run.module.onAfterBackward?.();
      },
      get currentEpoch() {
        return run.epoch;
      },
      get globalStep() {
        return run.globalStep;
      },
      trainer: this.input.trainer,
    };
  }

  private where(stage: string, phase: string, batchIdx: number) {
    return { stage, phase, epoch: this.epoch, step: this.globalStep, batchIdx };
  }

  // ---- the run -------------------------------------------------------------------------------

  /** Runs training to its end, or until the subscriber leaves. */
  async run(): Promise<void> {
    const module = this.module;
    const o = this.options;
    this.startedAt = performance.now();
    module._link = this.link();
    try {
      if (o.seed !== undefined) seedGlobalRandom(o.seed);
      await this.strategy.broadcastModule(module);
      if (this.strategy.worldSize > 1) {
        const sync = (values: readonly number[], op: 'mean' | 'sum' | 'max' | 'min') => this.strategy.reduceValues(values, op);
        this.trainCollector.syncDist = sync;
        this.valCollector.syncDist = sync;
      }
      this.optimizers = guard(this.where('fit', 'configureOptimizers', -1), () => resolveOptimizerConfig(module.configureOptimizers()));
      if (module.automaticOptimization && this.optimizers.optimizers.length > 1) {
        throw new ValueError(
          `Trainer.fit: configureOptimizers returned ${this.optimizers.optimizers.length} optimizers; automatic optimization steps one. Set automaticOptimization = false and step them in trainingStep with this.optimizers()`,
        );
      }
      if (module.automaticOptimization && this.optimizers.optimizers.length === 0) {
        throw new ValueError(
          'Trainer.fit: configureOptimizers returned no optimizer; automatic optimization needs one (or set automaticOptimization = false)',
        );
      }
      this.wrapped = this.optimizers.optimizers.map(
        (optimizer) =>
          new LightningOptimizer(
            optimizer,
            (opt) => this.beforeOptimizerStep(opt),
            () => this.countStep(),
            (opt) => this.runOptimizerStep(opt),
          ),
      );
      this.lrNames = learningRateNames(this.optimizers);
      if (this.input.checkpoint !== undefined) this.restore(this.input.checkpoint);
      // An optimizer kept from an earlier fit (configureOptimizers returning the same one) had its
      // state moved home when that fit ended: bring it to the accelerator with the module.
      if (o.accelerator !== 'auto') await this.moveOptimizerState(o.accelerator);
      this.driver.attach(this);
      module.zeroGrad();

      this.driver.emit({
        type: 'fitStart',
        epoch: this.epoch,
        step: this.globalStep,
        maxEpochs: o.fastDevRun > 0 ? 1 : o.maxEpochs,
        maxSteps: o.maxSteps,
        trainBatches: this.trainBatches,
        valBatches: this.valBatches,
        resumedFrom: this.input.checkpointPath ?? null,
        hparams: module.hparams,
      });
      guard(this.where('fit', 'onFitStart', -1), () => module.onFitStart?.());
      if (!(await this.driver.boundary()) && this.driver.cancelled) return;

      // As in Lightning, the sanity check runs numSanityValSteps batches of each loader.
      const sanitySteps = o.fastDevRun > 0 ? 0 : o.numSanityValSteps === -1 ? Infinity : o.numSanityValSteps;
      if (sanitySteps > 0 && this.valBatches > 0) await this.validate(true, sanitySteps);
      if (this.driver.cancelled) return;

      module.train();
      guard(this.where('fit', 'onTrainStart', -1), () => module.onTrainStart?.());
      const reason = await this.epochs();
      if (reason === undefined) return;

      guard(this.where('fit', 'onTrainEnd', -1), () => module.onTrainEnd?.());
      this.driver.emit({
        type: 'fitEnd',
        epoch: this.epoch,
        step: this.globalStep,
        reason,
        ...(reason === 'stopRequested' ? { stopReason: this.driver.stopReason ?? this.deferredStopReason ?? 'stop requested' } : {}),
        callbackMetrics: { ...this.callbackMetrics },
        durationSeconds: (performance.now() - this.startedAt) / 1000,
      });
      guard(this.where('fit', 'onFitEnd', -1), () => module.onFitEnd?.());
      await this.driver.boundary();
    } finally {
      module._link = undefined;
      // The cached batches are the Trainer's only when it owns its source's batches (a DataLoader's).
      if (this.overfitCache !== undefined && this.owned) dispose(this.overfitCache);
    }
  }

  private maxEpochs(): number {
    if (this.options.fastDevRun > 0) return 1;
    return this.options.maxEpochs === -1 ? Infinity : this.options.maxEpochs;
  }

  private maxStepsReached(): boolean {
    return this.options.maxSteps !== -1 && this.globalStep >= this.options.maxSteps;
  }

  /** The epoch loop; the reason it ended, or undefined when the subscriber left. */
  private async epochs(): Promise<FitEndReason | undefined> {
    for (;;) {
      if (this.maxStepsReached()) return 'maxSteps';
      if (this.epoch >= this.maxEpochs()) return 'maxEpochs';
      const outcome = await this.trainEpoch();
      if (outcome === 'cancelled') return undefined;
      const epochOutcome = await this.endEpoch();
      if (epochOutcome === 'cancelled') return undefined;
      if (outcome === 'stop' || epochOutcome === 'stop') return 'stopRequested';
      if (this.maxStepsReached()) return 'maxSteps';
    }
  }

  /**
   * Decides what a stop request at this boundary means: a stop before minEpochs is held back (as
   * Lightning does) and takes effect once enough epochs are done.
   */
  private stopNow(): boolean {
    if (this.driver.stopReason === undefined && this.deferredStopReason === undefined) return false;
    if (this.epoch + 1 < this.options.minEpochs) {
      this.deferredStopReason ??= this.driver.stopReason;
      this.driver.clearStop();
      return false;
    }
    return true;
  }

  private async trainEpoch(): Promise<'done' | 'stop' | 'cancelled'> {
    const module = this.module;
    const resuming = this.skipBatches > 0;
    if (resuming) setSamplerState(this.train, this.samplerStateAtEpochStart);
    else {
      this.batchesDone = 0;
      this.samplerStateAtEpochStart = getSamplerState(this.train);
    }
    setSamplerEpoch(this.train, this.epoch);
    module.train();
    this.activeCollector = this.trainCollector;
    this.trainCollector.begin('epochHook', 1);
    guard(this.where('train', 'onTrainEpochStart', -1), () => module.onTrainEpochStart?.());
    this.driver.emit({ type: 'epochStart', epoch: this.epoch, step: this.globalStep });
    if (this.trainBatches === 0) return 'done';

    const started = this.samplerStateAtEpochStart;
    const batches = this.overfitCache ?? epochBatches(this.train, () => setSamplerState(this.train, started));
    const fillCache = this.options.overfitBatches > 0 && this.overfitCache === undefined;
    const cache: unknown[] = [];
    let batchIdx = 0;
    let last = performance.now();
    let fetching = true;
    this.profiler.start('fetchBatch');
    for await (const raw of batches) {
      this.profiler.stop('fetchBatch');
      fetching = false;
      if (fillCache) {
        cache.push(raw);
        if (cache.length >= this.trainBatches) this.overfitCache = cache;
      }
      const owned = this.owned && !fillCache && this.overfitCache === undefined;
      if (batchIdx < this.skipBatches) {
        if (owned) dispose(raw);
        batchIdx++;
        if (batchIdx >= this.trainBatches) break;
        this.profiler.start('fetchBatch');
        fetching = true;
        continue;
      }
      this.skipBatches = 0;
      if (this.resumeValidationPending && (await this.resumeValidation()) === 'cancelled') return 'cancelled';
      this.restorePendingRandomState();
      let batch = raw;
      let created: Tensor[] = [];
      let stepped: boolean;
      let skipRest = false;
      let lossValue: number | null;
      let batchSize: number;
      try {
        ({ batch, created } = await prepareBatch(raw, owned, batchTarget(this.options.accelerator, this.options.precision)));
        batchSize = inferBatchSize(batch);
        const start = guard(this.where('train', 'onTrainBatchStart', batchIdx), () => module.onTrainBatchStart?.(batch, batchIdx));
        if (start === -1) {
          skipRest = true;
          stepped = false;
          lossValue = null;
        } else {
          const isLast = batchIdx + 1 >= this.trainBatches;
          this.lastStepSkipped = false;
          const result = this.trainStep(batch, batchIdx, batchSize, isLast);
          stepped = (await this.finishDeferredStep(batchIdx)) || result.stepped;
          lossValue = result.loss === null ? null : await result.loss;
        }
      } finally {
        dispose(owned ? batch : created);
      }
      if (skipRest) break;
      const skipped = this.lastStepSkipped;
      this.batchesDone = batchIdx + 1;
      this.batchesSinceValidation++;
      const out = this.trainCollector.hasPending ? await this.trainCollector.endStep() : this.trainCollector.endStepSync();
      Object.assign(this.callbackMetrics, out.callback);
      this.validationPending = this.validationDue(batchIdx);
      const now = performance.now();
      const seconds = (now - last) / 1000;
      last = now;
      this.input.onProgress(this.epoch, this.globalStep);
      this.driver.emit({
        type: 'batchEnd',
        epoch: this.epoch,
        step: this.globalStep,
        batchIdx,
        loss: lossValue,
        metrics: out.logged,
        progressBarMetrics: out.progressBar,
        learningRates: this.learningRates(),
        batchSize,
        samplesPerSecond: seconds > 0 ? batchSize / seconds : 0,
        optimizerStepped: stepped,
        optimizerSkipped: skipped,
        skippedSteps: this.skippedSteps,
        gradScale: this.scaler === undefined ? null : this.scaler.getScale(),
        shouldLog: stepped && this.globalStep % this.options.logEveryNSteps === 0,
      });
      if (this.validationPending) {
        if (!(await this.driver.boundary()) && this.driver.cancelled) return 'cancelled';
        await this.validate(false);
      }
      const go = await this.driver.boundary();
      if (this.driver.cancelled) return 'cancelled';
      if (!go && this.stopNow()) return 'stop';
      if (this.maxStepsReached()) return 'done';
      batchIdx++;
      if (batchIdx >= this.trainBatches) break;
      this.profiler.start('fetchBatch');
      fetching = true;
    }
    if (fetching) this.profiler.stop('fetchBatch');
    if (fillCache) this.overfitCache = cache;
    this.skipBatches = 0;
    if (this.resumeValidationPending && (await this.resumeValidation()) === 'cancelled') return 'cancelled';
    // A checkpoint taken after the epoch's last batch resumes here, with every batch skipped: the
    // epoch's end draws next (a loader without a generator draws the next epoch's seed).
    this.restorePendingRandomState();
    return 'done';
  }

  /** Puts back the checkpoint's random state (once, on resume) where the interrupted run's next draw came. */
  private restorePendingRandomState(): void {
    if (this.pendingRandomState === undefined) return;
    setGlobalRandomState(this.pendingRandomState);
    this.pendingRandomState = undefined;
  }

  /** Runs the validation check a checkpoint was taken just before. */
  private async resumeValidation(): Promise<'done' | 'cancelled'> {
    this.resumeValidationPending = false;
    await this.validate(false);
    await this.driver.boundary();
    return this.driver.cancelled ? 'cancelled' : 'done';
  }

  /** One training batch: the step, backward, and (when due) the optimizer step. */
  private trainStep(batch: unknown, batchIdx: number, batchSize: number, isLast: boolean): { loss: ScalarValue | null; stepped: boolean } {
    const module = this.module;
    const accumulate = this.options.accumulateGradBatches;
    const stepBefore = this.globalStep;
    let phase = 'trainingStep';
    let loss: ScalarValue | null = null;
    this.trainCollector.begin('trainStep', batchSize);
    try {
      tidy(() => {
        this.profiler.start('trainingStep');
        const scope = this.scope;
        const output = scope === undefined ? module.trainingStep(batch, batchIdx) : scope(() => module.trainingStep(batch, batchIdx));
        this.profiler.stop('trainingStep');
        const lossTensor = extractLoss(output, 'trainingStep');
        if (lossTensor !== null) loss = readScalar('trainingStep loss', lossTensor);
        if (module.automaticOptimization && lossTensor !== null) {
          phase = 'backward';
          this.profiler.start('backward');
          module.onBeforeBackward?.(lossTensor);
          const averaged = accumulate > 1 ? lossTensor.div(accumulate) : lossTensor;
          (this.scaler === undefined ? averaged : this.scaler.scale(averaged)).backward();
          module.onAfterBackward?.();
          this.profiler.stop('backward');
          if ((batchIdx + 1) % accumulate === 0 || isLast) {
            phase = 'optimizerStep';
            // A gradient sync that must be awaited (a host transport on a backend that reads
            // asynchronously) moves the step out of this synchronous tidy: finishDeferredStep.
            if (this.strategy.gradientSyncIsAsync?.(this.stepParams()) === true) this.deferredStep = true;
            else this.automaticOptimizerStep();
          }
        }
        if (this.deferredStep && module.onTrainBatchEnd) {
          // Only what the step made is held and freed later: batch tensors and parameters in the
          // output belong to others.
          const made = keepOwned(output);
          const hook = module.onTrainBatchEnd.bind(module);
          const release = () => dispose(made);
          this.deferredBatchEnd = {
            run: () => {
              try {
                tidy(() => hook(output, batch, batchIdx));
              } finally {
                release();
              }
            },
            release,
          };
          return;
        }
        phase = 'onTrainBatchEnd';
        module.onTrainBatchEnd?.(output, batch, batchIdx);
      });
    } catch (error) {
      throw wrapError({ stage: 'train', phase, epoch: this.epoch, step: stepBefore + 1, batchIdx }, error);
    }
    return { loss, stepped: this.globalStep > stepBefore };
  }

  private stepParams(): optim.ParameterLike[] {
    return (this.optimizers.optimizers[0] as OptimizerLike).paramGroups.flatMap((group) => group.params);
  }

  /** The automatic optimizer step trainStep deferred: awaits the strategy's gradient sync, then steps. */
  private async finishDeferredStep(batchIdx: number): Promise<boolean> {
    if (!this.deferredStep) return false;
    this.deferredStep = false;
    const batchEnd = this.deferredBatchEnd;
    this.deferredBatchEnd = undefined;
    try {
      await this.strategy.syncGradients(this.stepParams());
      tidy(() => this.automaticOptimizerStep(true));
    } catch (error) {
      batchEnd?.release();
      throw wrapError({ stage: 'train', phase: 'optimizerStep', epoch: this.epoch, step: this.globalStep + 1, batchIdx }, error);
    }
    try {
      batchEnd?.run();
    } catch (error) {
      throw wrapError({ stage: 'train', phase: 'onTrainBatchEnd', epoch: this.epoch, step: this.globalStep, batchIdx }, error);
    }
    return true;
  }

  private beforeOptimizerStep(optimizer: OptimizerLike, synced = false): void {
    const params = optimizer.paramGroups.flatMap((group) => group.params);
    if (!synced && this.strategy.gradientSyncIsAsync?.(params) === true)
      throw new ValueError(
        `Trainer: strategy '${this.strategy.name}' cannot sync gradients inside a manual optimizer step on a backend that reads asynchronously; use automatic optimization, or CUDA tensors (NCCL)`,
      );
    if (!synced) void this.strategy.syncGradients(params);
    // Mixed precision: unscaled after the sync, so that the hook and clipping see the true gradients.
    this.scaler?.unscale(optimizer);
    this.module.onBeforeOptimizerStep?.(optimizer);
  }

  /** The optimizer's step; under '16-mixed' the scaler's, which skips it when a gradient overflowed, then adjusts the scale. */
  private runOptimizerStep(optimizer: OptimizerLike): void {
    if (this.scaler === undefined) {
      optimizer.step();
      return;
    }
    const stepped = this.scaler.step(optimizer);
    this.scaler.update();
    if (!stepped) {
      this.skippedSteps++;
      this.lastStepSkipped = true;
    }
  }

  private countStep(): void {
    this.globalStep++;
    this.stepSchedulers('step');
  }

  private automaticOptimizerStep(synced = false): void {
    const optimizer = this.optimizers.optimizers[0] as OptimizerLike;
    this.profiler.start('optimizerStep');
    this.beforeOptimizerStep(optimizer, synced);
    const clip = this.options.gradientClipVal;
    if (clip !== undefined)
      clipGradients(
        optimizer.paramGroups.flatMap((g) => g.params),
        clip,
        this.options.gradientClipAlgorithm,
      );
    this.runOptimizerStep(optimizer);
    keepOptimizerTensors(optimizer);
    this.module.onBeforeZeroGrad?.(optimizer);
    optimizer.zeroGrad();
    this.profiler.stop('optimizerStep');
    this.countStep();
  }

  /** Steps the schedulers of an interval whose frequency is due. */
  private stepSchedulers(interval: 'step' | 'epoch'): void {
    const count = interval === 'step' ? this.globalStep : this.epoch + 1;
    for (const config of this.optimizers.schedulers) {
      if (config.interval !== interval || count % config.frequency !== 0) continue;
      this.stepScheduler(config);
    }
  }

  private stepScheduler(config: ResolvedScheduler): void {
    if (config.monitor === undefined && !isPlateauScheduler(config.scheduler)) {
      config.scheduler.step();
      return;
    }
    const metric = config.monitor === undefined ? undefined : this.callbackMetrics[config.monitor];
    if (metric === undefined) {
      if (!config.strict) return;
      throw new ValueError(
        `Trainer: the scheduler's monitor '${config.monitor}' is not among the logged metrics (${Object.keys(this.callbackMetrics).join(', ') || 'none'}); log it, or set strict: false in the scheduler config`,
      );
    }
    config.scheduler.step(metric);
  }

  private learningRates(): Metrics {
    const out: Record<string, number> = {};
    this.optimizers.optimizers.forEach((optimizer, k) => {
      optimizer.paramGroups.forEach((group, g) => {
        out[(this.lrNames[k] as string[])[g] as string] = group.lr;
      });
    });
    return out;
  }

  private validationEnabled(): boolean {
    if (this.valBatches === 0 || (this.val.length === 0 && this.overfitCache === undefined)) return false;
    const every = this.options.checkValEveryNEpoch;
    return every === null || (this.epoch + 1) % every === 0;
  }

  /** Whether validation runs after batch `batchIdx` (Lightning's val_check_interval rules). */
  private validationDue(batchIdx: number): boolean {
    if (!this.validationEnabled()) return false;
    const interval = this.options.valCheckInterval;
    const isLast = batchIdx + 1 >= this.trainBatches;
    if (interval <= 1) {
      if (!Number.isFinite(this.trainBatches)) return false;
      const every = Math.max(1, Math.floor(this.trainBatches * interval));
      return (batchIdx + 1) % every === 0 || (interval === 1 && isLast);
    }
    if (this.options.checkValEveryNEpoch === null) return this.batchesSinceValidation >= interval;
    return (batchIdx + 1) % interval === 0;
  }

  /** One validation run over every loader (at most `perLoader` batches of each, for the sanity check). */
  private async validate(sanityCheck: boolean, perLoader = Infinity): Promise<void> {
    const module = this.module;
    this.activeCollector = this.valCollector;
    this.profiler.start(sanityCheck ? 'sanityCheck' : 'validation');
    const step = module.validationStep?.bind(module) as (batch: unknown, batchIdx: number, dataloaderIdx?: number) => StepOutput;
    const sources = this.overfitCache !== undefined || this.val.length === 0 ? [this.train] : this.val;
    const { metrics, batches, dataloaders } = await runEvaluation({
      module,
      loaders: sources.map((source, i) => ({
        source,
        cached: this.overfitCache,
        limit: Math.min(perLoader, this.valLimits[i] ?? 0),
      })),
      stage: sanityCheck ? 'sanityCheck' : 'validate',
      stepName: 'validationStep',
      step,
      onStart: () => {
        module.onValidationStart?.();
        module.onValidationEpochStart?.();
      },
      onEnd: () => {
        module.onValidationEpochEnd?.();
        module.onValidationEnd?.();
      },
      collector: this.valCollector,
      profiler: this.profiler,
      target: batchTarget(this.options.accelerator, this.options.precision),
      precisionScope: this.scope,
      epoch: this.epoch,
      globalStep: this.globalStep,
    });
    this.profiler.stop(sanityCheck ? 'sanityCheck' : 'validation');
    this.activeCollector = this.trainCollector;
    if (!sanityCheck) {
      Object.assign(this.callbackMetrics, metrics.callback);
      this.batchesSinceValidation = 0;
      this.validationPending = false;
    }
    this.driver.emit({
      type: 'validationEnd',
      epoch: this.epoch,
      step: this.globalStep,
      metrics: metrics.logged,
      progressBarMetrics: metrics.progressBar,
      callbackMetrics: sanityCheck ? { ...this.callbackMetrics, ...metrics.callback } : { ...this.callbackMetrics },
      batches,
      dataloaders,
      sanityCheck,
    });
  }

  private async endEpoch(): Promise<'next' | 'stop' | 'cancelled'> {
    const module = this.module;
    this.trainCollector.begin('epochHook', 1);
    await guardAsync(this.where('train', 'onTrainEpochEnd', -1), () => noGrad(() => tidy(() => module.onTrainEpochEnd?.())));
    if (this.trainCollector.hasPending) await this.trainCollector.endStep();
    else this.trainCollector.endStepSync();
    const epochMetrics = this.trainCollector.endEpoch();
    Object.assign(this.callbackMetrics, epochMetrics.callback);
    guard(this.where('train', 'lrSchedulerStep', -1), () => this.stepSchedulers('epoch'));
    // The epoch is complete: a checkpoint taken from here on resumes at the next one.
    const finished = this.epoch;
    this.epoch++;
    this.batchesDone = 0;
    this.samplerStateAtEpochStart = getSamplerState(this.train);
    this.input.onProgress(this.epoch, this.globalStep);
    this.driver.emit({
      type: 'epochEnd',
      epoch: finished,
      step: this.globalStep,
      metrics: epochMetrics.logged,
      progressBarMetrics: epochMetrics.progressBar,
      callbackMetrics: { ...this.callbackMetrics },
      learningRates: this.learningRates(),
    });
    const go = await this.driver.boundary();
    if (this.driver.cancelled) return 'cancelled';
    if (this.deferredStopReason !== undefined && this.epoch >= this.options.minEpochs) return 'stop';
    if (!go && this.stopNow()) return 'stop';
    return 'next';
  }

  /** Puts module, optimizers, schedulers, data order, random state and counters where the checkpoint left them. */
  private restore(contents: CheckpointContents): void {
    const { state, tensors } = contents;
    const source = this.input.checkpointPath ?? 'the checkpoint';
    try {
      const modelState: Record<string, Tensor> = {};
      for (const [name, t] of Object.entries(tensors)) if (name.startsWith('model.')) modelState[name.slice('model.'.length)] = t;
      try {
        this.module.loadStateDict(modelState);
      } catch (error) {
        throw new CheckpointError(`checkpoint '${source}' does not fit this module: ${(error as Error).message}`, { cause: error });
      }
      if (state.optimizerStates.length !== this.optimizers.optimizers.length) {
        throw new CheckpointError(
          `checkpoint '${source}' holds ${state.optimizerStates.length} optimizer states, configureOptimizers returned ${this.optimizers.optimizers.length} optimizers`,
        );
      }
      state.optimizerStates.forEach((saved, k) => {
        const missing: string[] = [];
        const dict = joinTensors(saved, tensors, missing);
        if (missing.length > 0)
          throw new CheckpointError(`checkpoint '${source}': optimizer ${k}'s state names tensors the file lacks: ${missing.join(', ')}`);
        try {
          (this.optimizers.optimizers[k] as OptimizerLike).loadStateDict(dict);
        } catch (error) {
          throw new CheckpointError(`checkpoint '${source}': optimizer ${k}'s state does not fit: ${(error as Error).message}`, {
            cause: error,
          });
        }
      });
      if (state.lrSchedulers.length !== this.optimizers.schedulers.length) {
        throw new CheckpointError(
          `checkpoint '${source}' holds ${state.lrSchedulers.length} scheduler states, configureOptimizers returned ${this.optimizers.schedulers.length} schedulers`,
        );
      }
      state.lrSchedulers.forEach((saved, k) => {
        (this.optimizers.schedulers[k] as ResolvedScheduler).scheduler.loadStateDict(saved as Record<string, unknown>);
      });
    } finally {
      dispose(tensors);
    }
    if (this.input.datamodule !== undefined && state.datamodule !== null) this.input.datamodule.loadStateDict(state.datamodule);
    guard(this.where('fit', 'onLoadCheckpoint', -1), () => this.module.onLoadCheckpoint?.(state.extra as CheckpointExtras));
    const loop = state.loop;
    this.epoch = loop.epoch;
    this.globalStep = loop.globalStep;
    this.batchesDone = loop.batchesDone;
    this.batchesSinceValidation = loop.batchesSinceValidation;
    this.samplerStateAtEpochStart = loop.samplerState;
    this.skipBatches = loop.batchesDone;
    this.callbackMetrics = { ...loop.callbackMetrics };
    this.skippedSteps = loop.skippedSteps ?? 0;
    // A checkpoint of another precision has no scaler state (or one this run does not use): start afresh.
    if (this.scaler !== undefined && state.gradScaler !== undefined && state.gradScaler !== null)
      this.scaler.loadStateDict(state.gradScaler as unknown as amp.GradScalerState);
    this.trainCollector.loadStateDict(loop.trainAccumulators as unknown as CollectorState);
    if (loop.batchesDone === 0) setSamplerState(this.train, loop.samplerState);
    // Restored right before the next training batch, so that what runs before it (the sanity
    // check, hooks) cannot shift the numbers training draws.
    this.pendingRandomState = state.rng;
    this.resumeValidationPending = loop.validationPending === true;
  }
}
