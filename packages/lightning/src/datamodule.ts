import { ValueError } from '@flint/api';
import type { Json } from './core/json.js';
import type { Stage } from './module.js';
import type { BatchSource, BatchSources } from './trainer/batches.js';

/**
 * The data of an experiment in one place (Lightning's LightningDataModule): downloading or
 * preparing it once (`prepareData`), splitting and building datasets per stage (`setup`), and
 * the loaders of each stage. Its `stateDict` is stored in checkpoints.
 *
 * @example
 * class Digits extends LightningDataModule {
 *   private train?: DataLoader<[Tensor, Tensor]>;
 *   override async setup(stage: Stage) {
 *     const { images, labels } = await loadMnist({ split: 'train' });
 *     this.train = new DataLoader(new TensorDataset(images, labels), { batchSize: 64, shuffle: true, generator: 0 });
 *   }
 *   override trainDataloader() {
 *     return this.train!;
 *   }
 * }
 */
export abstract class LightningDataModule {
  #hparams: Record<string, unknown> = {};

  get hparams(): Readonly<Record<string, unknown>> {
    return this.#hparams;
  }

  saveHyperparameters(params: Readonly<Record<string, unknown>>): void {
    if (typeof params !== 'object' || params === null) throw new ValueError('saveHyperparameters: expected an object of hyperparameters');
    this.#hparams = { ...this.#hparams, ...structuredClone(params) };
  }

  /** Download or prepare data once (runs before setup). */
  prepareData?(): void | Promise<void>;
  /** Build the datasets of a stage. */
  setup?(stage: Stage): void | Promise<void>;
  teardown?(stage: Stage): void | Promise<void>;
  trainDataloader?(): BatchSource;
  /** One loader, or several (each validated in turn, its index passed to `validationStep`). */
  valDataloader?(): BatchSources;
  testDataloader?(): BatchSources;
  predictDataloader?(): BatchSource;

  /** State to store in checkpoints (default: none). */
  stateDict(): Json {
    return {};
  }

  /** Restores what `stateDict` returned. */
  loadStateDict(_state: Json): void {}
}

/** Whether `value` is a LightningDataModule (or an object of its shape). */
export function isDataModule(value: unknown): value is LightningDataModule {
  return value instanceof LightningDataModule;
}
