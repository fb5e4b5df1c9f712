import '@flint/backend-cpu';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataLoader, keep, memory, nn, optim, type Tensor, TensorDataset, tensor, ValueError } from '@flint/api';
import { lastValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EarlyStopping } from '../callbacks/early-stopping.js';
import { LearningRateMonitor } from '../callbacks/learning-rate-monitor.js';
import { ModelCheckpoint } from '../callbacks/model-checkpoint.js';
import { readCheckpoint } from '../checkpoint/file.js';
import { TrainingStepError } from '../core/errors.js';
import { LightningDataModule } from '../datamodule.js';
import { CSVLogger } from '../loggers/csv-logger.js';
import { LightningModule, type Stage } from '../module.js';
import { checkpoint } from '../operators/checkpoint.js';
import { earlyStopping } from '../operators/early-stopping.js';
import type { BatchEndEvent, TrainerEvent } from '../stream/events.js';
import { Regressor, regressionData, regressionLoader } from '../test-support/regression.test-support.js';
import type { LightningOptimizer } from './lightning-optimizer.js';
import type { TrainerOptions } from './options.js';
import { seedGlobalRandom } from './rng.js';
import { Trainer } from './trainer.js';

const quiet: TrainerOptions = { logger: false, enableProgressBar: false, enableCheckpointing: false };

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flint-trainer-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function collect(stream: ReturnType<Trainer['fit$']>): Promise<TrainerEvent[]> {
  return lastValueFrom(stream.pipe(toArray()));
}

const losses = (events: readonly TrainerEvent[]) => events.filter((e): e is BatchEndEvent => e.type === 'batchEnd').map((e) => e.loss);

describe('the seed example', () => {
  it('trains a linear model on the MSE loss with Adam through the Trainer', async () => {
    class Model extends LightningModule {
      readonly layer = new nn.Linear(3, 1);
      forward(x: Tensor): Tensor {
        return this.layer.forward(x);
      }
      override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
        return nn.functional.mseLoss(this.forward(x), y);
      }
      override configureOptimizers() {
        return new optim.Adam(this.parameters(), { lr: 0.05 });
      }
    }
    seedGlobalRandom(0);
    const xs = Array.from({ length: 64 }, (_, i) => [Math.sin(i), Math.cos(i * 0.5), (i % 7) / 7]);
    const x = tensor(xs);
    const y = tensor(xs.map(([a, b, c]) => [2 * (a as number) - (b as number) + 0.5 * (c as number) + 0.3]));
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 16, shuffle: true, generator: 0 });
    const trainer = new Trainer({ maxEpochs: 10, accelerator: 'auto', devices: 1, ...quiet });
    const events = await collect(trainer.fit$(new Model(), loader));
    const perEpoch = losses(events).map(Number);
    expect(perEpoch).toHaveLength(40);
    const first = perEpoch.slice(0, 4).reduce((a, b) => a + b) / 4;
    const last = perEpoch.slice(-4).reduce((a, b) => a + b) / 4;
    expect(last).toBeLessThan(first * 0.25);
    expect(trainer.globalStep).toBe(40);
    expect(trainer.currentEpoch).toBe(10);
    expect(events.at(-1)).toMatchObject({ type: 'fitEnd', reason: 'maxEpochs', epoch: 10, step: 40 });
  });
});

describe('Trainer.fit$', () => {
  it('emits the typed events in order with counters, metrics and learning rates', async () => {
    seedGlobalRandom(1);
    const trainer = new Trainer({ maxEpochs: 2, numSanityValSteps: 1, logEveryNSteps: 2, ...quiet });
    const events = await collect(
      trainer.fit$(new Regressor(), {
        trainDataloaders: regressionLoader({ samples: 32 }),
        valDataloaders: regressionLoader({ samples: 16, shuffle: false }),
      }),
    );
    const types = events.map((e) => (e.type === 'validationEnd' && e.sanityCheck ? 'sanity' : e.type));
    expect(types).toEqual([
      'fitStart',
      'sanity',
      'epochStart',
      'batchEnd',
      'batchEnd',
      'batchEnd',
      'batchEnd',
      'validationEnd',
      'epochEnd',
      'epochStart',
      'batchEnd',
      'batchEnd',
      'batchEnd',
      'batchEnd',
      'validationEnd',
      'epochEnd',
      'fitEnd',
    ]);
    expect(events[0]).toMatchObject({
      type: 'fitStart',
      trainBatches: 4,
      valBatches: 2,
      maxEpochs: 2,
      resumedFrom: null,
      hparams: { hidden: 16, lr: 0.01 },
    });
    const sanity = events[1];
    expect(sanity).toMatchObject({ type: 'validationEnd', batches: 1, sanityCheck: true });
    const batches = events.filter((e): e is BatchEndEvent => e.type === 'batchEnd');
    expect(batches.map((b) => [b.epoch, b.step, b.batchIdx, b.shouldLog])).toEqual([
      [0, 1, 0, false],
      [0, 2, 1, true],
      [0, 3, 2, false],
      [0, 4, 3, true],
      [1, 5, 0, false],
      [1, 6, 1, true],
      [1, 7, 2, false],
      [1, 8, 3, true],
    ]);
    for (const b of batches) {
      expect(Object.keys(b.metrics)).toEqual(['train_loss_step']);
      expect(b.metrics.train_loss_step).toBe(b.loss);
      expect(b.progressBarMetrics).toEqual(b.metrics);
      expect(b.learningRates).toEqual({ 'lr-Adam': 0.01 });
      expect(b.batchSize).toBe(8);
      expect(b.optimizerStepped).toBe(true);
      expect(b.samplesPerSecond).toBeGreaterThan(0);
    }
    const epochEnd = events.find((e) => e.type === 'epochEnd');
    const firstFour = batches.slice(0, 4).map((b) => b.loss as number);
    expect(epochEnd?.type === 'epochEnd' && epochEnd.metrics.train_loss_epoch).toBeCloseTo(firstFour.reduce((a, b) => a + b) / 4, 6);
    const validation = events.filter((e) => e.type === 'validationEnd' && !e.sanityCheck);
    expect(validation.map((v) => v.type === 'validationEnd' && Object.keys(v.metrics))).toEqual([['val_loss'], ['val_loss']]);
    expect(events.at(-1)).toMatchObject({ type: 'fitEnd', reason: 'maxEpochs', step: 8 });
    expect(trainer.callbackMetrics).toHaveProperty('val_loss');
  });

  it('does nothing until subscribed, and stops at the step boundary when unsubscribed', async () => {
    seedGlobalRandom(2);
    const model = new Regressor();
    const trainer = new Trainer({ maxEpochs: 5, ...quiet });
    const stream = trainer.fit$(model, regressionLoader());
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(trainer.globalStep).toBe(0);
    const seen: number[] = [];
    const subscription = stream.subscribe((event) => {
      if (event.type !== 'batchEnd') return;
      seen.push(event.step);
      if (event.step === 3) subscription.unsubscribe();
    });
    await new Promise((resolve) => setTimeout(resolve, 0));
    await trainer.idle();
    expect(seen).toEqual([1, 2, 3]);
    expect(trainer.globalStep).toBe(3);
    // The model is usable and consistent: parameters are live tensors, gradients cleared.
    for (const p of model.parameters()) {
      expect(p.value.isDisposed).toBe(false);
      expect(p.grad).toBeNull();
    }
  });

  it('reports an error in a step as the stream error, naming the step and the batch', async () => {
    class Failing extends Regressor {
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        if (this.globalStep === 5) throw new RangeError('bad batch');
        return this.stepLoss(batch);
      }
    }
    seedGlobalRandom(3);
    const trainer = new Trainer({ maxEpochs: 3, ...quiet });
    const error = await collect(trainer.fit$(new Failing(), regressionLoader())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TrainingStepError);
    const stepError = error as TrainingStepError;
    expect(stepError.step).toBe(6);
    expect(stepError.batchIdx).toBe(5);
    expect(stepError.epoch).toBe(0);
    expect(stepError.phase).toBe('trainingStep');
    expect(stepError.message).toBe('train: trainingStep failed at epoch 0, step 6, batch 5: RangeError: bad batch');
    expect((stepError.cause as Error).message).toBe('bad batch');
    await trainer.idle();
  });

  it('accumulates gradients and ends at maxSteps', async () => {
    seedGlobalRandom(4);
    const trainer = new Trainer({ maxEpochs: 10, maxSteps: 5, accumulateGradBatches: 3, ...quiet });
    const events = await collect(trainer.fit$(new Regressor(), regressionLoader({ samples: 64, batchSize: 8 })));
    const batches = events.filter((e): e is BatchEndEvent => e.type === 'batchEnd');
    // 8 batches per epoch: steps after batches 3, 6 and the last (8), then 11, 14.
    expect(batches.filter((b) => b.optimizerStepped).map((b) => [b.epoch, b.batchIdx])).toEqual([
      [0, 2],
      [0, 5],
      [0, 7],
      [1, 2],
      [1, 5],
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'fitEnd', reason: 'maxSteps', step: 5 });
  });

  it('stops when an operator asks, after minEpochs', async () => {
    seedGlobalRandom(5);
    const trainer = new Trainer({ maxEpochs: 20, minEpochs: 3, ...quiet });
    const events = await collect(
      trainer
        .fit$(new Regressor(), {
          trainDataloaders: regressionLoader({ samples: 16 }),
          valDataloaders: regressionLoader({ samples: 16, shuffle: false }),
        })
        .pipe(earlyStopping({ monitor: 'val_loss', stoppingThreshold: 100 })),
    );
    const end = events.at(-1);
    expect(end).toMatchObject({ type: 'fitEnd', reason: 'stopRequested', epoch: 3 });
    expect(end?.type === 'fitEnd' && end.stopReason).toMatch(/Stopping threshold reached: val_loss/);
    expect(events.filter((e) => e.type === 'epochEnd')).toHaveLength(3);
  });

  it('steps schedulers per step or per epoch, and on a monitored metric', async () => {
    seedGlobalRandom(6);
    const epochEvents = await collect(
      new Trainer({ maxEpochs: 3, ...quiet }).fit$(new Regressor({ scheduler: 'epoch' }), regressionLoader({ samples: 16 })),
    );
    expect(epochEvents.filter((e) => e.type === 'epochEnd').map((e) => e.type === 'epochEnd' && e.learningRates['lr-Adam'])).toEqual([
      0.005, 0.0025, 0.00125,
    ]);
    const stepEvents = await collect(
      new Trainer({ maxSteps: 11, ...quiet }).fit$(new Regressor({ scheduler: 'step' }), regressionLoader({ samples: 16 })),
    );
    const rates = stepEvents.filter((e): e is BatchEndEvent => e.type === 'batchEnd').map((b) => b.learningRates['lr-Adam']);
    expect(rates).toEqual([0.01, 0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.005, 0.005, 0.0025, 0.0025]);
    const plateau = await collect(
      new Trainer({ maxEpochs: 2, ...quiet }).fit$(new Regressor({ scheduler: 'plateau', lr: 5 }), {
        trainDataloaders: regressionLoader({ samples: 16 }),
        valDataloaders: regressionLoader({ samples: 8 }),
      }),
    );
    expect(plateau.at(-1)?.type).toBe('fitEnd');
    const noMonitor = new Trainer({ maxEpochs: 1, ...quiet }).fit$(
      new Regressor({ scheduler: 'plateau' }),
      regressionLoader({ samples: 16 }),
    );
    await expect(collect(noMonitor)).rejects.toThrow(/the scheduler's monitor 'val_loss' is not among the logged metrics/);
  });

  it('keeps memory flat across steps', async () => {
    seedGlobalRandom(7);
    const buffers: number[] = [];
    const trainer = new Trainer({ maxEpochs: 4, ...quiet });
    const stream = trainer
      .fit$(new Regressor(), { trainDataloaders: regressionLoader(), valDataloaders: regressionLoader({ samples: 16 }) })
      .pipe(earlyStopping({ monitor: 'val_loss', patience: 100 }), checkpoint({ dirpath: root, monitor: 'val_loss' }));
    await new Promise<void>((resolve, reject) =>
      stream.subscribe({
        next: (e) => {
          if (e.type === 'epochEnd') buffers.push(memory().buffers);
        },
        error: reject,
        complete: resolve,
      }),
    );
    expect(buffers).toHaveLength(4);
    expect(buffers[3]).toBe(buffers[1]);
  });

  it('supports manual optimization', async () => {
    class Manual extends Regressor {
      constructor() {
        super();
        this.automaticOptimization = false;
      }
      override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
        const opt = this.optimizers() as LightningOptimizer;
        opt.zeroGrad();
        const loss = nn.functional.mseLoss(this.forward(x), y);
        this.manualBackward(loss);
        opt.step();
        return loss;
      }
    }
    seedGlobalRandom(8);
    const trainer = new Trainer({ maxEpochs: 6, ...quiet });
    const events = await collect(trainer.fit$(new Manual(), regressionLoader()));
    const values = losses(events) as number[];
    expect(trainer.globalStep).toBe(48);
    expect(values.slice(-8).reduce((a, b) => a + b)).toBeLessThan(values.slice(0, 8).reduce((a, b) => a + b));
    expect(events.filter((e): e is BatchEndEvent => e.type === 'batchEnd').every((b) => b.optimizerStepped)).toBe(true);
  });

  it('clips gradients by norm before the optimizer step', async () => {
    const norms: number[] = [];
    class Clipped extends Regressor {
      override onBeforeZeroGrad() {
        let total = 0;
        for (const p of this.parameters()) for (const g of (p.grad as Tensor).dataSync()) total += (g as number) ** 2;
        norms.push(Math.sqrt(total));
      }
    }
    seedGlobalRandom(9);
    await collect(new Trainer({ maxSteps: 4, gradientClipVal: 0.01, ...quiet }).fit$(new Clipped({ lr: 1 }), regressionLoader()));
    expect(norms).toHaveLength(4);
    for (const n of norms) expect(n).toBeLessThanOrEqual(0.0101);
  });

  it("trains in float64 with 64-true precision, and refuses '16-true' clearly", async () => {
    seedGlobalRandom(10);
    const model = new Regressor();
    await collect(new Trainer({ maxSteps: 2, precision: '64-true', ...quiet }).fit$(model, regressionLoader()));
    expect(model.parameters().every((p) => p.value.dtype === 'float64')).toBe(true);
    expect(() => new Trainer({ precision: '16-true' as never })).toThrow(
      "precision \"16-true\" is not supported: Flint keeps float32 master weights; use '16-mixed' or 'bf16-mixed'",
    );
    expect(() => new Trainer({ precision: 'bf16-true' as never })).toThrow(ValueError);
  });

  it('honours limits, overfitBatches and fastDevRun', async () => {
    seedGlobalRandom(11);
    const limited = await collect(
      new Trainer({ maxEpochs: 1, limitTrainBatches: 0.5, limitValBatches: 2, numSanityValSteps: 0, ...quiet }).fit$(new Regressor(), {
        trainDataloaders: regressionLoader(),
        valDataloaders: regressionLoader({ samples: 24 }),
      }),
    );
    expect(losses(limited)).toHaveLength(4);
    expect(limited.find((e) => e.type === 'validationEnd')).toMatchObject({ batches: 2 });
    const overfit = await collect(
      new Trainer({ maxEpochs: 3, overfitBatches: 2, numSanityValSteps: 0, ...quiet }).fit$(new Regressor(), regressionLoader()),
    );
    expect(overfit[0]).toMatchObject({ trainBatches: 2, valBatches: 2 });
    expect(losses(overfit)).toHaveLength(6);
    const fast = new Trainer({ fastDevRun: true, defaultRootDir: root });
    await fast.fit(new Regressor(), { trainDataloaders: regressionLoader(), valDataloaders: regressionLoader() });
    expect(fast.globalStep).toBe(1);
    expect(readdirSync(root)).toEqual([]);
  });

  it('refuses a second concurrent fit on one trainer', async () => {
    seedGlobalRandom(12);
    const trainer = new Trainer({ maxEpochs: 2, ...quiet });
    const first = collect(trainer.fit$(new Regressor(), regressionLoader()));
    const second = collect(trainer.fit$(new Regressor(), regressionLoader()));
    await expect(second).rejects.toThrow(/already running a fit/);
    expect((await first).at(-1)?.type).toBe('fitEnd');
  });
});

describe('more of the Trainer', () => {
  it('finishes a checkpoint write that was pending when the subscriber left', async () => {
    seedGlobalRandom(50);
    const trainer = new Trainer({ maxEpochs: 3, ...quiet });
    const dir = join(root, 'pending');
    const subscription = trainer
      .fit$(new Regressor(), regressionLoader())
      .pipe(checkpoint({ dirpath: dir, everyNTrainSteps: 1, saveTopK: -1, filename: 'step-{step}' }))
      .subscribe((event) => {
        // The checkpoint operator has just asked for this step's file; leave at once.
        if (event.type === 'batchEnd' && event.step === 3) subscription.unsubscribe();
      });
    await new Promise((resolve) => setTimeout(resolve, 0));
    await trainer.idle();
    expect(trainer.globalStep).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['step-step=1.ckpt', 'step-step=2.ckpt', 'step-step=3.ckpt']);
    const { state, tensors } = await readCheckpoint(join(dir, 'step-step=3.ckpt'));
    for (const t of Object.values(tensors)) t.dispose();
    expect(state.globalStep).toBe(3);
  });

  it('selects the accelerator by backend name, and explains a missing one', async () => {
    seedGlobalRandom(51);
    const model = new Regressor();
    await collect(new Trainer({ maxSteps: 1, accelerator: 'cpu', ...quiet }).fit$(model, regressionLoader()));
    expect(model.parameters()[0]?.value.backend).toBe('cpu');
    const missing = collect(new Trainer({ maxSteps: 1, accelerator: 'webgpu', ...quiet }).fit$(new Regressor(), regressionLoader()));
    await expect(missing).rejects.toThrow(
      /accelerator 'webgpu' (needs the backend package: import '@flint\/backend-webgpu'|is unavailable)/,
    );
  });

  it('profiles the phases of training with the simple profiler', async () => {
    seedGlobalRandom(52);
    const trainer = new Trainer({ maxSteps: 3, profiler: 'simple', ...quiet });
    await collect(trainer.fit$(new Regressor(), regressionLoader()));
    const summary = trainer.profiler.summary();
    for (const action of ['trainingStep', 'backward', 'optimizerStep', 'fetchBatch'])
      expect(summary).toMatch(new RegExp(`\\n${action}\\s+3\\s`));
  });

  it('logs dictionaries, and ends an epoch when onTrainBatchStart returns -1', async () => {
    class Short extends Regressor {
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const loss = this.stepLoss(batch);
        this.logDict({ twice: loss.mul(2), constant: 7 }, { onStep: true });
        return loss;
      }
      override onTrainBatchStart(_batch: unknown, batchIdx: number): number | undefined {
        return batchIdx === 2 ? -1 : undefined;
      }
    }
    seedGlobalRandom(53);
    const events = await collect(new Trainer({ maxEpochs: 2, ...quiet }).fit$(new Short(), regressionLoader()));
    const batches = events.filter((e): e is BatchEndEvent => e.type === 'batchEnd');
    expect(batches.map((b) => b.batchIdx)).toEqual([0, 1, 0, 1]);
    for (const b of batches) {
      expect(b.metrics.constant).toBe(7);
      expect(b.metrics.twice).toBeCloseTo(2 * (b.loss as number), 6);
    }
  });

  it('trains from asynchronous datasets and from plain arrays of batches, leaving the arrays intact', async () => {
    const { x, y } = regressionData(32);
    const xs = x.arraySync() as number[][];
    const ys = y.arraySync() as number[][];
    // An asynchronous dataset (as one reading files) hands each sample over to the loader.
    const asyncDataset = {
      length: 32,
      get: async (i: number): Promise<[Tensor, Tensor]> => {
        await Promise.resolve();
        return [tensor(xs[i] as number[]), tensor(ys[i] as number[])];
      },
    };
    seedGlobalRandom(55);
    const fromAsync = await collect(
      new Trainer({ maxEpochs: 2, ...quiet }).fit$(
        new Regressor(),
        new DataLoader(asyncDataset, { batchSize: 8, shuffle: true, generator: 1 }),
      ),
    );
    expect(losses(fromAsync)).toHaveLength(8);
    seedGlobalRandom(55);
    const sameOrder = new DataLoader(new TensorDataset(x, y), { batchSize: 8, shuffle: true, generator: 1 });
    expect(losses(await collect(new Trainer({ maxEpochs: 2, ...quiet }).fit$(new Regressor(), sameOrder)))).toEqual(losses(fromAsync));
    const batches: [Tensor, Tensor][] = [
      [x, y],
      [x.mul(0.5), y],
    ];
    const fromArray = await collect(new Trainer({ maxEpochs: 3, ...quiet }).fit$(new Regressor(), batches));
    expect(fromArray[0]).toMatchObject({ trainBatches: 2 });
    expect(losses(fromArray)).toHaveLength(6);
    expect(batches.flat().every((t) => !t.isDisposed)).toBe(true);
  });

  it('steps several optimizers in manual optimization', async () => {
    class TwoOptimizers extends Regressor {
      constructor() {
        super();
        this.automaticOptimization = false;
      }
      override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
        const [first, second] = this.optimizers() as LightningOptimizer[];
        const loss = nn.functional.mseLoss(this.forward(x), y);
        first?.zeroGrad();
        second?.zeroGrad();
        this.manualBackward(loss);
        first?.step();
        if (this.globalStep % 4 === 1) second?.step();
        return loss;
      }
      override configureOptimizers() {
        return [new optim.SGD(this.hiddenLayer.parameters(), { lr: 0.1 }), new optim.Adam(this.outputLayer.parameters(), { lr: 0.01 })];
      }
    }
    seedGlobalRandom(54);
    const trainer = new Trainer({ maxEpochs: 1, ...quiet });
    const events = await collect(trainer.fit$(new TwoOptimizers(), regressionLoader()));
    // Each optimizer step counts: 8 of the first, and 3 of the second (after global steps 1, 5 and 9).
    expect(trainer.globalStep).toBe(8 + 3);
    const rates = events.find((e): e is BatchEndEvent => e.type === 'batchEnd')?.learningRates;
    expect(rates).toEqual({ 'lr-SGD': 0.1, 'lr-Adam': 0.01 });
    const automatic = new (class extends TwoOptimizers {
      constructor() {
        super();
        this.automaticOptimization = true;
      }
    })();
    await expect(collect(new Trainer({ maxEpochs: 1, ...quiet }).fit$(automatic, regressionLoader()))).rejects.toThrow(
      /returned 2 optimizers; automatic optimization steps one/,
    );
  });
});

describe('resuming', () => {
  /** A run with everything that must be restored: shuffling, dropout, a per-step scheduler, mid-epoch validation. */
  const makeOptions = (): TrainerOptions => ({ maxEpochs: 3, valCheckInterval: 0.5, numSanityValSteps: 1, deterministic: true, ...quiet });
  /** `dataSeed: null`: the training loader shuffles from the global generator, as PyTorch's without a generator. */
  const makeDataFrom = (dataSeed: number | null) => () => ({
    trainDataloaders: regressionLoader({ samples: 48, batchSize: 6, seed: dataSeed }),
    valDataloaders: regressionLoader({ samples: 12, batchSize: 6, shuffle: false }),
  });
  const makeData = makeDataFrom(3);
  const makeModel = (seed: number) => {
    seedGlobalRandom(seed);
    return new Regressor({ dropout: 0.2, scheduler: 'step' });
  };

  it.each([
    ['a seeded generator', 3],
    ['no generator (the global one)', null],
  ])('produces the same losses as an uninterrupted run, bit for bit, from any checkpoint, shuffling with %s', async (_, dataSeed) => {
    const makeData = makeDataFrom(dataSeed);
    const reference = await collect(new Trainer(makeOptions()).fit$(makeModel(21), makeData()));
    const referenceLosses = losses(reference);
    expect(referenceLosses).toHaveLength(24);

    // Interrupted: a checkpoint after every step; unsubscribe after step 12 (mid-epoch 1).
    const dir = join(root, 'ckpt');
    const interrupted = new Trainer(makeOptions());
    const firstLosses: (number | null)[] = [];
    await new Promise<void>((resolve) => {
      const subscription = interrupted
        .fit$(makeModel(21), makeData())
        .pipe(checkpoint({ dirpath: dir, everyNTrainSteps: 1, saveTopK: -1, filename: 'step-{step}' }))
        .subscribe((event) => {
          if (event.type === 'batchEnd') firstLosses.push(event.loss);
          if (event.type === 'checkpointSaved' && event.step === 12) {
            subscription.unsubscribe();
            resolve();
          }
        });
    });
    await interrupted.idle();
    expect(firstLosses).toEqual(referenceLosses.slice(0, 12));

    // A fresh model (other initial weights), loaders and trainer, as a new process would have.
    const resumed = await collect(new Trainer(makeOptions()).fit$(makeModel(99), makeData(), { ckptPath: join(dir, 'step-step=11.ckpt') }));
    expect(resumed[0]).toMatchObject({ type: 'fitStart', step: 11, epoch: 1, resumedFrom: join(dir, 'step-step=11.ckpt') });
    expect(losses(resumed)).toEqual(referenceLosses.slice(11));
    const referenceValidation = reference
      .filter((e) => e.type === 'validationEnd' && !e.sanityCheck)
      .map((e) => e.type === 'validationEnd' && e.metrics.val_loss);
    const resumedValidation = resumed
      .filter((e) => e.type === 'validationEnd' && !e.sanityCheck)
      .map((e) => e.type === 'validationEnd' && e.metrics.val_loss);
    expect(resumedValidation).toEqual(referenceValidation.slice(-resumedValidation.length));
    const epochMetrics = (events: TrainerEvent[]) =>
      events.filter((e) => e.type === 'epochEnd').map((e) => e.type === 'epochEnd' && e.metrics.train_loss_epoch);
    expect(epochMetrics(resumed)).toEqual(epochMetrics(reference).slice(1));

    // From the checkpoint taken between batch 12's end and its validation check (valCheckInterval 0.5).
    const atValidation = await collect(
      new Trainer(makeOptions()).fit$(makeModel(98), makeData(), { ckptPath: join(dir, 'step-step=12.ckpt') }),
    );
    expect(losses(atValidation)).toEqual(referenceLosses.slice(12));
    // The validation check due after step 12 runs first, then those after steps 16, 20 and 24.
    const validationAt = atValidation
      .filter((e) => e.type === 'validationEnd' && !e.sanityCheck)
      .map((e) => e.type === 'validationEnd' && e.metrics.val_loss);
    expect(validationAt).toEqual(referenceValidation.slice(-4));

    // From the checkpoint after epoch 0's last batch: its batches are all skipped, and epoch 1 draws its order as the reference did.
    const atEpochEnd = await collect(
      new Trainer(makeOptions()).fit$(makeModel(97), makeData(), { ckptPath: join(dir, 'step-step=8.ckpt') }),
    );
    expect(losses(atEpochEnd)).toEqual(referenceLosses.slice(8));
  });

  it('repeats the data order of a loader without a generator under the same Trainer seed, and changes it with the seed', async () => {
    const run = async (seed: number) => {
      const model = makeModel(1);
      return losses(await collect(new Trainer({ ...makeOptions(), maxEpochs: 2, seed }).fit$(model, makeDataFrom(null)())));
    };
    const first = await run(5);
    expect(await run(5)).toEqual(first);
    expect(await run(6)).not.toEqual(first);
  });

  it('stores the checkpoint as one safetensors file with the trainer state in its metadata', async () => {
    const dir = join(root, 'one');
    const trainer = new Trainer({ maxEpochs: 1, ...quiet });
    await collect(trainer.fit$(makeModel(1), makeData()).pipe(checkpoint({ dirpath: dir, saveLast: true })));
    expect(readdirSync(dir).sort()).toEqual(['epoch=0-step=8.ckpt', 'last.ckpt']);
    const { state, tensors } = await readCheckpoint(join(dir, 'last.ckpt'));
    expect(Object.keys(tensors).sort()).toEqual([
      'model.hidden.bias',
      'model.hidden.weight',
      'model.output.bias',
      'model.output.weight',
      'optimizer.0.state.0.expAvg',
      'optimizer.0.state.0.expAvgSq',
      'optimizer.0.state.1.expAvg',
      'optimizer.0.state.1.expAvgSq',
      'optimizer.0.state.2.expAvg',
      'optimizer.0.state.2.expAvgSq',
      'optimizer.0.state.3.expAvg',
      'optimizer.0.state.3.expAvgSq',
    ]);
    for (const t of Object.values(tensors)) t.dispose();
    // Saved at the end-of-epoch validation: the epoch's last batch is done, its end hooks not yet run.
    expect(state).toMatchObject({
      format: 'flint-lightning-checkpoint',
      epoch: 0,
      globalStep: 8,
      loop: { epoch: 0, batchesDone: 8 },
      hyperParameters: { hidden: 16, lr: 0.01 },
    });
    expect(state.lrSchedulers).toHaveLength(1);
  });

  it('checkpoints a module with tied weights under both names, its optimizer over the shared one once, and resumes', async () => {
    class TiedAutoencoder extends LightningModule {
      readonly encode = new nn.Linear(8, 8);
      readonly decode = new nn.Linear(8, 8, { bias: false });
      constructor() {
        super();
        Object.assign(this.decode, { weight: this.encode.weight });
      }
      forward(x: Tensor): Tensor {
        return this.decode.forward(nn.functional.tanh(this.encode.forward(x)));
      }
      override trainingStep([x]: [Tensor, Tensor]): Tensor {
        return nn.functional.mseLoss(this.forward(x), x);
      }
      override configureOptimizers() {
        return new optim.Adam(this.parameters(), { lr: 0.01 });
      }
    }
    const dir = join(root, 'tied');
    seedGlobalRandom(4);
    await collect(
      new Trainer({ maxEpochs: 1, ...quiet }).fit$(new TiedAutoencoder(), makeData()).pipe(checkpoint({ dirpath: dir, saveLast: true })),
    );
    const { tensors } = await readCheckpoint(join(dir, 'last.ckpt'));
    expect(
      Object.keys(tensors)
        .filter((k) => k.startsWith('model.'))
        .sort(),
    ).toEqual(['model.decode.weight', 'model.encode.bias', 'model.encode.weight']);
    expect(
      Object.keys(tensors)
        .filter((k) => k.startsWith('optimizer.0.state.'))
        .sort(),
    ).toEqual(['optimizer.0.state.0.expAvg', 'optimizer.0.state.0.expAvgSq', 'optimizer.0.state.1.expAvg', 'optimizer.0.state.1.expAvgSq']);
    const saved = [...(tensors['model.encode.weight'] as Tensor).dataSync()];
    for (const t of Object.values(tensors)) t.dispose();
    const resumed = new TiedAutoencoder();
    const trainer = new Trainer({ maxEpochs: 1, ...quiet });
    await collect(trainer.fit$(resumed, makeData(), { ckptPath: join(dir, 'last.ckpt') }));
    expect(resumed.decode.weight).toBe(resumed.encode.weight);
    expect([...resumed.encode.weight.value.dataSync()]).toEqual(saved);
  });

  it('fails clearly on a checkpoint that does not fit the module', async () => {
    const dir = join(root, 'mismatch');
    await collect(
      new Trainer({ maxSteps: 1, ...quiet }).fit$(makeModel(1), makeData()).pipe(checkpoint({ dirpath: dir, everyNTrainSteps: 1 })),
    );
    seedGlobalRandom(1);
    const other = new Regressor({ hidden: 4 });
    const run = collect(new Trainer({ maxSteps: 2, ...quiet }).fit$(other, makeData(), { ckptPath: join(dir, 'epoch=0-step=1.ckpt') }));
    await expect(run).rejects.toThrow(/does not fit this module/);
    await expect(collect(new Trainer(quiet).fit$(other, makeData(), { ckptPath: join(dir, 'nothing.ckpt') }))).rejects.toThrow(
      /cannot be read: no such file/,
    );
  });
});

describe('Trainer.fit with callbacks and loggers', () => {
  it("writes Lightning's CSV logs and best-k checkpoints, and stops early", async () => {
    seedGlobalRandom(30);
    const best = new ModelCheckpoint({ monitor: 'val_loss', saveTopK: 2, saveLast: true });
    const stopper = new EarlyStopping({ monitor: 'val_loss', patience: 1, minDelta: 10 });
    const trainer = new Trainer({
      maxEpochs: 10,
      defaultRootDir: root,
      logEveryNSteps: 1,
      enableProgressBar: false,
      callbacks: [stopper, best, new LearningRateMonitor()],
    });
    await trainer.fit(new Regressor(), {
      trainDataloaders: regressionLoader({ samples: 16 }),
      valDataloaders: regressionLoader({ samples: 8 }),
    });
    // patience 1 with a huge minDelta: the second check fails to improve.
    expect(trainer.currentEpoch).toBe(2);
    expect(stopper.stoppingReason).toMatch(/did not improve/);
    const logDir = join(root, 'lightning_logs', 'version_0');
    expect(trainer.logDir).toBe(logDir);
    const csv = readFileSync(join(logDir, 'metrics.csv'), 'utf8').trimEnd().split('\n');
    expect(csv[0]).toBe('train_loss_step,lr-Adam,epoch,step,val_loss,train_loss_epoch');
    expect(csv).toHaveLength(1 + 4 + 2 + 2);
    expect(readFileSync(join(logDir, 'hparams.yaml'), 'utf8')).toBe('hidden: 16\nlr: 0.01\n');
    const files = readdirSync(join(logDir, 'checkpoints')).sort();
    expect(files).toEqual(['epoch=0-step=2.ckpt', 'epoch=1-step=4.ckpt', 'last.ckpt']);
    expect(best.bestModelPath).toMatch(/epoch=\d-step=\d\.ckpt$/);
    const [metrics] = await trainer.test(undefined, regressionLoader({ samples: 8 }), { ckptPath: 'best' });
    expect(Object.keys(metrics ?? {})).toEqual(['test_loss']);
  });

  it('rejects with the step error, and finalizes loggers as failed', async () => {
    class Failing extends Regressor {
      override trainingStep(): Tensor {
        throw new Error('nope');
      }
    }
    const statuses: string[] = [];
    const logger = new CSVLogger({ saveDir: root });
    const finalize = logger.finalize.bind(logger);
    logger.finalize = () => {
      statuses.push('failed?');
      finalize();
    };
    const trainer = new Trainer({ maxEpochs: 1, logger, enableProgressBar: false, enableCheckpointing: false });
    await expect(trainer.fit(new Failing(), regressionLoader())).rejects.toBeInstanceOf(TrainingStepError);
    expect(statuses).toEqual(['failed?']);
  });
});

describe('validate, test, predict and the data module', () => {
  class Data extends LightningDataModule {
    readonly calls: string[] = [];
    restored: unknown;
    override prepareData() {
      this.calls.push('prepareData');
    }
    override setup(stage: Stage) {
      this.calls.push(`setup ${stage}`);
    }
    override trainDataloader() {
      return regressionLoader({ samples: 16 });
    }
    override valDataloader() {
      return regressionLoader({ samples: 8, shuffle: false });
    }
    override testDataloader() {
      return regressionLoader({ samples: 8, shuffle: false });
    }
    override predictDataloader() {
      const { x } = regressionData(12);
      return new DataLoader(new TensorDataset(x), { batchSize: 5, collate: (rows: Tensor[][]) => keep(tensorStack(rows)) });
    }
    override stateDict() {
      return { seen: this.calls.length };
    }
    override loadStateDict(state: unknown) {
      this.restored = state;
    }
  }
  function tensorStack(rows: Tensor[][]): Tensor {
    return tensor(rows.map((r) => Array.from((r[0] as Tensor).dataSync())));
  }

  it('runs the hooks in order and returns metrics and predictions', async () => {
    seedGlobalRandom(40);
    const data = new Data();
    const model = new Regressor();
    const trainer = new Trainer({ maxEpochs: 1, ...quiet });
    await trainer.fit(model, data);
    expect(data.calls).toEqual(['prepareData', 'setup fit']);
    const [validation] = await trainer.validate(model, data);
    const [test] = await trainer.test(model, data);
    expect(Object.keys(validation ?? {})).toEqual(['val_loss']);
    expect(test?.test_loss).toBeCloseTo(validation?.val_loss ?? Number.NaN, 6);
    const predictions = (await trainer.predict(model, { dataloaders: data.predictDataloader() })) as Tensor[];
    expect(predictions.map((p) => p.shape)).toEqual([
      [5, 1],
      [5, 1],
      [2, 1],
    ]);
    for (const p of predictions) p.dispose();
    expect(() =>
      trainer.validate(
        new (class extends LightningModule {
          forward(x: Tensor) {
            return x;
          }
        })(),
        data,
      ),
    ).rejects.toThrow(ValueError);
  });

  it('stores the datamodule state in checkpoints and restores it on resume', async () => {
    seedGlobalRandom(41);
    const dir = join(root, 'dm');
    const first = new Data();
    await collect(new Trainer({ maxEpochs: 1, ...quiet }).fit$(new Regressor(), first).pipe(checkpoint({ dirpath: dir, saveLast: true })));
    expect(existsSync(join(dir, 'last.ckpt'))).toBe(true);
    const second = new Data();
    const events = await collect(
      new Trainer({ maxEpochs: 2, ...quiet }).fit$(new Regressor(), second, { ckptPath: join(dir, 'last.ckpt') }),
    );
    expect(second.restored).toEqual({ seen: 2 });
    expect(losses(events)).toHaveLength(2);
  });
});
