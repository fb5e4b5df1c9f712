import '@flint/backend-cpu';
import { nn, type Tensor, ValueError } from '@flint/api';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { LightningDataModule } from '../datamodule.js';
import type { TrainerEvent, ValidationEndEvent } from '../stream/events.js';
import { Regressor, regressionData, regressionLoader } from '../test-support/regression.test-support.js';
import type { TrainerOptions } from './options.js';
import { seedGlobalRandom } from './rng.js';
import { Trainer } from './trainer.js';

const quiet: TrainerOptions = { logger: false, enableProgressBar: false, enableCheckpointing: false };

/** Records which loader each evaluation batch came from, and logs a loss per loader and one in the epoch hook. */
class MultiLoader extends Regressor {
  readonly seen: (string | number)[][] = [];
  override validationStep([x, y]: [Tensor, Tensor], batchIdx = 0, dataloaderIdx?: number): void {
    this.seen.push(['val', batchIdx, dataloaderIdx ?? 'none']);
    this.log('val_loss', nn.functional.mseLoss(this.forward(x), y));
  }
  override testStep([x, y]: [Tensor, Tensor], batchIdx = 0, dataloaderIdx?: number): void {
    this.seen.push(['test', batchIdx, dataloaderIdx ?? 'none']);
    this.log('test_loss', nn.functional.mseLoss(this.forward(x), y));
  }
  override onValidationEpochEnd(): void {
    this.log('val_runs', 1);
  }
}

const loaders = () => [regressionLoader({ samples: 16, shuffle: false }), regressionLoader({ samples: 24, shuffle: false, batchSize: 4 })];

describe('several validation and test loaders', () => {
  it('validates each loader in turn in fit, suffixing names with /dataloader_idx_<i>, with per-loader results on the event', async () => {
    seedGlobalRandom(3);
    const model = new MultiLoader();
    const trainer = new Trainer({ maxEpochs: 1, numSanityValSteps: 1, limitValBatches: 3, ...quiet });
    const events: TrainerEvent[] = await lastValueFrom(
      trainer.fit$(model, { trainDataloaders: regressionLoader({ samples: 16 }), valDataloaders: loaders() }).pipe(toArray()),
    );
    expect(events[0]).toMatchObject({ type: 'fitStart', valBatches: 2 + 3 });
    const [sanity, validation] = events.filter((e): e is ValidationEndEvent => e.type === 'validationEnd');
    // The sanity check runs numSanityValSteps batches of each loader.
    expect(sanity?.dataloaders.map((d) => d.batches)).toEqual([1, 1]);
    expect(validation?.batches).toBe(5);
    expect(validation?.dataloaders.map((d) => d.batches)).toEqual([2, 3]);
    expect(Object.keys(validation?.metrics ?? {}).sort()).toEqual(['val_loss/dataloader_idx_0', 'val_loss/dataloader_idx_1', 'val_runs']);
    expect(Object.keys(validation?.dataloaders[1]?.metrics ?? {}).sort()).toEqual(['val_loss/dataloader_idx_1', 'val_runs']);
    expect(validation?.dataloaders[0]?.metrics['val_loss/dataloader_idx_0']).toBe(validation?.metrics['val_loss/dataloader_idx_0']);
    expect(validation?.callbackMetrics['val_loss/dataloader_idx_1']).toBe(validation?.metrics['val_loss/dataloader_idx_1']);
    expect(model.seen.slice(-5)).toEqual([
      ['val', 0, 0],
      ['val', 1, 0],
      ['val', 0, 1],
      ['val', 1, 1],
      ['val', 2, 1],
    ]);
  });

  it('returns one metrics object per loader from validate and test, each matching a run on that loader alone', async () => {
    seedGlobalRandom(4);
    const model = new MultiLoader();
    const trainer = new Trainer({ ...quiet });
    const [first, second] = await trainer.validate(model, loaders());
    expect(Object.keys(first ?? {}).sort()).toEqual(['val_loss/dataloader_idx_0', 'val_runs']);
    expect(Object.keys(second ?? {}).sort()).toEqual(['val_loss/dataloader_idx_1', 'val_runs']);
    const [alone] = await trainer.validate(model, loaders()[1]);
    expect(Object.keys(alone ?? {}).sort()).toEqual(['val_loss', 'val_runs']);
    expect(second?.['val_loss/dataloader_idx_1']).toBeCloseTo(alone?.val_loss ?? Number.NaN, 6);
    expect(model.seen.at(-1)).toEqual(['val', 5, 'none']);

    class Data extends LightningDataModule {
      override testDataloader() {
        return loaders();
      }
    }
    const results = await trainer.test(model, new Data());
    expect(results).toHaveLength(2);
    expect(Object.keys(results[1] ?? {})).toEqual(['test_loss/dataloader_idx_1']);
    expect(model.seen.filter(([stage]) => stage === 'test').map(([, , idx]) => idx)).toEqual([0, 0, 1, 1, 1, 1, 1, 1]);
  });

  it('keeps an array of batches as one loader, and refuses several training loaders', async () => {
    seedGlobalRandom(5);
    const { x, y } = regressionData(8);
    const batches = [
      [x, y],
      [x, y],
    ];
    const model = new MultiLoader();
    const trainer = new Trainer({ ...quiet });
    const results = await trainer.validate(model, batches);
    expect(results).toHaveLength(1);
    expect(model.seen).toEqual([
      ['val', 0, 'none'],
      ['val', 1, 'none'],
    ]);
    await expect(new Trainer({ maxEpochs: 1, ...quiet }).fit(model, { trainDataloaders: loaders() as never })).rejects.toThrow(ValueError);
    await expect(new Trainer({ maxEpochs: 1, ...quiet }).fit(model, { trainDataloaders: loaders() as never })).rejects.toThrow(
      'Trainer.fit: 2 training loaders given',
    );
    x.dispose();
    y.dispose();
  });
});
