import { nn, type Tensor, ValueError } from '@flint/api';
import type { Json } from './core/json.js';
import type { BatchSource, BatchSources } from './trainer/batches.js';
import type { LightningOptimizer } from './trainer/lightning-optimizer.js';
import type { LogOptions } from './trainer/metrics.js';
import type { OptimizerConfig, OptimizerLike, SchedulerLike } from './trainer/optimizer-config.js';

/** What a training, validation or test step returns: the loss, an object holding it, or nothing (skip). */
// biome-ignore lint/suspicious/noConfusingVoidType: steps that only log are declared `(): void`, which must fit.
export type StepOutput = Tensor | { readonly loss: Tensor; readonly [key: string]: unknown } | null | undefined | void;

/** The stage a run is in, as `setup` and `teardown` are told. */
export type Stage = 'fit' | 'validate' | 'test' | 'predict';

/** @internal How a module reaches the Trainer running it. */
export interface TrainerLink {
  log(name: string, value: unknown, options: LogOptions | undefined): void;
  optimizers(): readonly LightningOptimizer[];
  schedulers(): readonly SchedulerLike[];
  manualBackward(loss: Tensor): void;
  readonly currentEpoch: number;
  readonly globalStep: number;
  readonly trainer: unknown;
}

/** The checkpoint as `onSaveCheckpoint` / `onLoadCheckpoint` see it: add plain data under your own keys. */
export interface CheckpointExtras {
  [key: string]: Json;
}

function plainCopy(owner: string, value: unknown, path: string): unknown {
  if (value === null || ['number', 'string', 'boolean'].includes(typeof value)) return value;
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map((item, i) => plainCopy(owner, item, `${path}[${i}]`));
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = plainCopy(owner, item, `${path}.${key}`);
    return out;
  }
  throw new ValueError(
    `${owner}: hyperparameter ${path} is ${typeof value === 'object' ? (value as object).constructor.name : typeof value}; hyperparameters must be plain data (numbers, strings, booleans, arrays, objects)`,
  );
}

/**
 * A model that knows how to train itself (Lightning's LightningModule): an `nn.Module` with a
 * `trainingStep`, optional validation, test and predict steps, `configureOptimizers`, and hooks
 * the Trainer calls at each point of the loop. Everything else (the loop, devices, logging,
 * checkpoints) is the Trainer's.
 *
 * @example
 * class Regressor extends LightningModule {
 *   readonly layer = new nn.Linear(3, 1);
 *   forward(x: Tensor): Tensor {
 *     return this.layer.forward(x);
 *   }
 *   override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
 *     const loss = nn.functional.mseLoss(this.forward(x), y);
 *     this.log('train_loss', loss, { progBar: true });
 *     return loss;
 *   }
 *   override configureOptimizers() {
 *     return new optim.Adam(this.parameters(), { lr: 1e-2 });
 *   }
 * }
 * await new Trainer({ maxEpochs: 10 }).fit(new Regressor(), loader);
 */
export abstract class LightningModule<In extends unknown[] = [Tensor], Out = Tensor> extends nn.Module<In, Out> {
  /** False: the Trainer calls no backward or optimizer step; `trainingStep` does, with `manualBackward` and `optimizers()`. */
  automaticOptimization = true;
  /** @internal */
  _link: TrainerLink | undefined;
  #hparams: Record<string, unknown> = {};

  /** The hyperparameters saved with `saveHyperparameters` (logged at fit start and stored in checkpoints). */
  get hparams(): Readonly<Record<string, unknown>> {
    return this.#hparams;
  }

  /**
   * Records hyperparameters (plain data), for loggers and checkpoints. JavaScript cannot see a
   * constructor's arguments, so pass them: `this.saveHyperparameters({ lr, hiddenSize })`.
   */
  saveHyperparameters(params: Readonly<Record<string, unknown>>): void {
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw new ValueError('saveHyperparameters: expected an object of hyperparameters');
    this.#hparams = { ...this.#hparams, ...(plainCopy('saveHyperparameters', params, 'hparams') as Record<string, unknown>) };
  }

  /** One training step: returns the loss (or `{ loss, ... }`), or null to skip the batch. */
  trainingStep(_batch: unknown, _batchIdx: number): StepOutput {
    throw new ValueError(`${this.constructor.name}: trainingStep is not implemented; Trainer.fit needs it`);
  }

  /**
   * One validation step; log metrics here with `this.log`. With several validation loaders,
   * `dataloaderIdx` says which one the batch comes from, and logged names get Lightning's
   * `/dataloader_idx_<i>` suffix (with one loader it is not passed).
   */
  validationStep?(batch: unknown, batchIdx: number, dataloaderIdx?: number): StepOutput;
  /** One test step; log metrics here with `this.log` (several loaders: as `validationStep`). */
  testStep?(batch: unknown, batchIdx: number, dataloaderIdx?: number): StepOutput;

  /** One prediction step (default: `forward(batch)`). */
  predictStep(batch: unknown, _batchIdx: number): unknown {
    return (this.forward as (...inputs: unknown[]) => unknown)(batch);
  }

  /** The optimizers and schedulers (see `OptimizerConfig`). */
  configureOptimizers(): OptimizerConfig {
    throw new ValueError(`${this.constructor.name}: configureOptimizers is not implemented; Trainer.fit needs an optimizer`);
  }

  // Data, when the module provides its own (Lightning allows it instead of a datamodule).
  trainDataloader?(): BatchSource;
  valDataloader?(): BatchSources;
  testDataloader?(): BatchSources;
  predictDataloader?(): BatchSource;

  // Hooks, in the order the Trainer calls them.
  setup?(stage: Stage): void | Promise<void>;
  teardown?(stage: Stage): void | Promise<void>;
  onFitStart?(): void;
  onFitEnd?(): void;
  onTrainStart?(): void;
  onTrainEnd?(): void;
  onTrainEpochStart?(): void;
  onTrainEpochEnd?(): void;
  /** Return -1 to skip the rest of the epoch. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a hook that returns nothing is declared `(): void`.
  onTrainBatchStart?(batch: unknown, batchIdx: number): number | void;
  onTrainBatchEnd?(outputs: StepOutput, batch: unknown, batchIdx: number): void;
  onValidationStart?(): void;
  onValidationEnd?(): void;
  onValidationEpochStart?(): void;
  onValidationEpochEnd?(): void;
  onTestEpochStart?(): void;
  onTestEpochEnd?(): void;
  onPredictEpochStart?(): void;
  onPredictEpochEnd?(): void;
  onBeforeBackward?(loss: Tensor): void;
  onAfterBackward?(): void;
  onBeforeOptimizerStep?(optimizer: OptimizerLike): void;
  onBeforeZeroGrad?(optimizer: OptimizerLike): void;
  /** Add plain data to the checkpoint being saved. */
  onSaveCheckpoint?(checkpoint: CheckpointExtras): void;
  /** Read back what `onSaveCheckpoint` added. */
  onLoadCheckpoint?(checkpoint: Readonly<CheckpointExtras>): void;

  /**
   * Logs a metric (a number or a one-element tensor) for loggers, the progress bar and callbacks.
   * In `trainingStep` it is logged per step by default; in validation and test steps and in
   * epoch hooks, reduced over the epoch (a batch-size-weighted mean unless `reduce` says otherwise).
   *
   * @example
   * this.log('val_loss', loss, { progBar: true });
   */
  log(name: string, value: Tensor | number, options?: LogOptions): void {
    this._link?.log(name, value, options);
  }

  /** Logs several metrics with the same options. */
  logDict(values: Readonly<Record<string, Tensor | number>>, options?: LogOptions): void {
    for (const [name, value] of Object.entries(values)) this.log(name, value, options);
  }

  /** The optimizers (wrapped so that their steps count), for manual optimization: one, or a list when there are several. */
  optimizers(): LightningOptimizer | LightningOptimizer[] {
    const list = this.requireLink('optimizers').optimizers();
    return list.length === 1 ? (list[0] as LightningOptimizer) : [...list];
  }

  /** The schedulers, for manual optimization: one, a list, or null when there are none. */
  lrSchedulers(): SchedulerLike | SchedulerLike[] | null {
    const list = this.requireLink('lrSchedulers').schedulers();
    return list.length === 0 ? null : list.length === 1 ? (list[0] as SchedulerLike) : [...list];
  }

  /** `loss.backward()` for manual optimization, with the Trainer's hooks around it. */
  manualBackward(loss: Tensor): void {
    this.requireLink('manualBackward').manualBackward(loss);
  }

  /** The epoch in progress (0 outside a run). */
  get currentEpoch(): number {
    return this._link?.currentEpoch ?? 0;
  }

  /** Optimizer steps taken (0 outside a run). */
  get globalStep(): number {
    return this._link?.globalStep ?? 0;
  }

  private requireLink(what: string): TrainerLink {
    if (this._link === undefined) throw new ValueError(`${this.constructor.name}.${what}: only available while a Trainer runs this module`);
    return this._link;
  }
}
