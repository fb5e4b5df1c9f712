import '@flint/backend-cpu';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend, memory, nn, setBackend, type Tensor } from '@flint/api';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { useBackendWithoutHalf, useHalfEmulation } from '../../../api/src/amp/half-emulation.test-support.js';
import { readCheckpoint } from '../checkpoint/file.js';
import type { Logger } from '../loggers/logger.js';
import { checkpoint } from '../operators/checkpoint.js';
import { logTo } from '../operators/log-to.js';
import type { BatchEndEvent, TrainerEvent } from '../stream/events.js';
import { Regressor, regressionLoader } from '../test-support/regression.test-support.js';
import type { Precision, TrainerOptions } from './options.js';
import { checkPrecisionBackend } from './precision.js';
import { seedGlobalRandom } from './rng.js';
import { Trainer } from './trainer.js';

const quiet: TrainerOptions = { logger: false, enableProgressBar: false, enableCheckpointing: false };

let previousBackend: string;
let root: string;
beforeAll(() => {
  previousBackend = getBackend().name;
  // The CPU backend may lack half kernels; this backend emulates them on it (see the file).
  useHalfEmulation();
});
afterAll(() => {
  setBackend(previousBackend);
});
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'flint-amp-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The regressor, recording the dtypes its forward pass computes in, and blowing its loss up at one global step. */
class MixedRegressor extends Regressor {
  readonly hiddenDtypes = new Set<string>();
  readonly lossDtypes = new Set<string>();
  overflowAtStep = -1;
  override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
    const hidden = this.hiddenLayer.forward(x);
    this.hiddenDtypes.add(hidden.dtype);
    const loss = nn.functional.mseLoss(this.outputLayer.forward(nn.functional.tanh(hidden)), y);
    this.lossDtypes.add(loss.dtype);
    this.log('train_loss', loss);
    // Finite in float32, but its gradients overflow float16 once scaled.
    return this.globalStep === this.overflowAtStep ? loss.mul(1e30) : loss;
  }
}

const batchEnds = (events: readonly TrainerEvent[]) => events.filter((e): e is BatchEndEvent => e.type === 'batchEnd');
const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function train(precision: Precision, model: MixedRegressor, options: TrainerOptions = {}): Promise<TrainerEvent[]> {
  return lastValueFrom(
    new Trainer({ maxEpochs: 6, precision, ...quiet, ...options })
      .fit$(model, { trainDataloaders: regressionLoader(), valDataloaders: regressionLoader({ samples: 16, shuffle: false }) })
      .pipe(toArray()),
  );
}

describe('mixed precision training', () => {
  for (const [precision, dtype] of [
    ['16-mixed', 'float16'],
    ['bf16-mixed', 'bfloat16'],
  ] as const) {
    it(`${precision}: computes the layers in ${dtype} and the loss in float32, keeps float32 weights, and the loss falls`, async () => {
      seedGlobalRandom(7);
      const model = new MixedRegressor({ lr: 0.02 });
      const events = await train(precision, model);
      expect([...model.hiddenDtypes]).toEqual([dtype]);
      expect([...model.lossDtypes]).toEqual(['float32']);
      expect(model.parameters().every((p) => p.value.dtype === 'float32')).toBe(true);
      const losses = batchEnds(events).map((e) => e.loss as number);
      expect(losses).toHaveLength(48);
      expect(mean(losses.slice(-8))).toBeLessThan(0.6 * mean(losses.slice(0, 8)));
      const validation = events.filter((e) => e.type === 'validationEnd' && !e.sanityCheck);
      expect(validation.map((e) => e.type === 'validationEnd' && Number.isFinite(e.metrics.val_loss))).not.toContain(false);
      expect(batchEnds(events).every((e) => !e.optimizerSkipped)).toBe(true);
      expect(batchEnds(events)[0]?.gradScale).toBe(precision === '16-mixed' ? 65536 : null);
    });
  }

  it('16-mixed: a step whose gradients overflow is skipped, reported on batchEnd and logged, and the scale halves', async () => {
    seedGlobalRandom(8);
    const model = new MixedRegressor();
    model.overflowAtStep = 3;
    const rows: [Record<string, number>, number][] = [];
    const memory: Logger = {
      name: 'memory',
      version: 0,
      logHyperparams: () => undefined,
      logMetrics: (m, step) => rows.push([{ ...m }, step]),
    };
    const events: TrainerEvent[] = await lastValueFrom(
      new Trainer({ maxEpochs: 1, precision: '16-mixed', logEveryNSteps: 100, ...quiet })
        .fit$(model, regressionLoader())
        .pipe(logTo(memory), toArray()),
    );
    const ends = batchEnds(events);
    expect(ends.map((e) => e.optimizerSkipped)).toEqual([false, false, false, true, false, false, false, false]);
    expect(ends.map((e) => e.skippedSteps)).toEqual([0, 0, 0, 1, 1, 1, 1, 1]);
    expect(ends.map((e) => e.gradScale)).toEqual([65536, 65536, 65536, 32768, 32768, 32768, 32768, 32768]);
    // The skipped step still counts, as in Lightning.
    expect(ends.map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.filter(([m]) => 'skipped_steps' in m)).toEqual([[{ skipped_steps: 1, grad_scale: 32768, epoch: 0 }, 4]]);

    // The weights do not move in the skipped step.
    seedGlobalRandom(8);
    const again = new MixedRegressor();
    again.overflowAtStep = 3;
    const seen: number[][] = [];
    again.onTrainBatchEnd = () => {
      seen.push(Array.from(again.outputLayer.weight.value.dataSync()));
    };
    await train('16-mixed', again, { maxEpochs: 1 });
    expect(seen[3]).toEqual(seen[2]);
    expect(seen[4]).not.toEqual(seen[3]);
  });

  it('16-mixed: stores the scaler in checkpoints, and a resumed run continues exactly', async () => {
    const options: TrainerOptions = { maxEpochs: 2, precision: '16-mixed', ...quiet };
    const data = () => regressionLoader({ samples: 48, batchSize: 6, seed: 3 });
    const model = (seed: number) => {
      seedGlobalRandom(seed);
      const m = new MixedRegressor();
      m.overflowAtStep = 2;
      return m;
    };
    const reference = batchEnds(await lastValueFrom(new Trainer(options).fit$(model(31), data()).pipe(toArray())));
    expect(reference.map((e) => e.loss)).toHaveLength(16);

    const dir = join(root, 'ckpt');
    const interrupted = new Trainer(options);
    await new Promise<void>((resolve) => {
      const subscription = interrupted
        .fit$(model(31), data())
        .pipe(checkpoint({ dirpath: dir, everyNTrainSteps: 1, saveTopK: -1, filename: 'step-{step}' }))
        .subscribe((event) => {
          if (event.type === 'checkpointSaved' && event.step === 6) {
            subscription.unsubscribe();
            resolve();
          }
        });
    });
    await interrupted.idle();
    const path = join(dir, 'step-step=6.ckpt');
    const { state, tensors } = await readCheckpoint(path);
    for (const t of Object.values(tensors)) t.dispose();
    expect(state.gradScaler).toEqual({ scale: 32768, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000, growthTracker: 3 });
    expect(state.loop.skippedSteps).toBe(1);
    expect(Object.keys(tensors).filter((name) => name.startsWith('model.'))).toHaveLength(4);

    const resumed = batchEnds(await lastValueFrom(new Trainer(options).fit$(model(77), data(), { ckptPath: path }).pipe(toArray())));
    expect(resumed.map((e) => e.loss)).toEqual(reference.slice(6).map((e) => e.loss));
    expect(resumed.map((e) => [e.gradScale, e.skippedSteps])).toEqual(reference.slice(6).map((e) => [e.gradScale, e.skippedSteps]));
  });

  it('16-mixed keeps memory flat across steps, a skipped one included', async () => {
    seedGlobalRandom(10);
    const model = new MixedRegressor();
    model.overflowAtStep = 12;
    const buffers: number[] = [];
    let skipped = 0;
    await new Promise<void>((resolve, reject) =>
      new Trainer({ maxEpochs: 4, precision: '16-mixed', ...quiet })
        .fit$(model, { trainDataloaders: regressionLoader(), valDataloaders: regressionLoader({ samples: 16 }) })
        .subscribe({
          next: (e) => {
            if (e.type === 'epochEnd') buffers.push(memory().buffers);
            if (e.type === 'batchEnd' && e.optimizerSkipped) skipped++;
          },
          error: reject,
          complete: resolve,
        }),
    );
    expect(skipped).toBe(1);
    expect(buffers).toHaveLength(4);
    expect(buffers[3]).toBe(buffers[1]);
  });

  it('explains at fit start that the backend lacks the half dtype', async () => {
    useBackendWithoutHalf();
    try {
      const model = new MixedRegressor();
      await expect(
        lastValueFrom(new Trainer({ maxEpochs: 1, precision: '16-mixed', ...quiet }).fit$(model, regressionLoader())),
      ).rejects.toThrow("Trainer: precision '16-mixed' computes in float16, which backend 'no-half' does not support");
    } finally {
      useHalfEmulation();
    }
  });

  it('checks half support where the model lives, not on the default backend', () => {
    const onHalf = new MixedRegressor();
    useBackendWithoutHalf();
    try {
      expect(() => checkPrecisionBackend('16-mixed', onHalf)).not.toThrow();
      expect(() => checkPrecisionBackend('bf16-mixed', new MixedRegressor())).toThrow(
        "Trainer: precision 'bf16-mixed' computes in bfloat16, which backend 'no-half' does not support",
      );
    } finally {
      useHalfEmulation();
    }
    expect(() => checkPrecisionBackend('16-mixed', new MixedRegressor())).not.toThrow();
  });

  it('16-mixed in manual optimization: manualBackward scales, and the optimizer step goes through the scaler', async () => {
    seedGlobalRandom(9);
    class Manual extends MixedRegressor {
      constructor() {
        super();
        this.automaticOptimization = false;
      }
      override trainingStep(batch: [Tensor, Tensor]): Tensor {
        const optimizer = this.optimizers() as { zeroGrad(): void; step(): void };
        optimizer.zeroGrad();
        const loss = super.trainingStep(batch);
        this.manualBackward(loss);
        optimizer.step();
        return loss;
      }
    }
    const model = new Manual();
    model.overflowAtStep = 1;
    const ends = batchEnds(await train('16-mixed', model, { maxEpochs: 1 }));
    expect([...model.hiddenDtypes]).toEqual(['float16']);
    expect(ends.map((e) => e.optimizerSkipped)).toEqual([false, true, false, false, false, false, false, false]);
    expect(ends.at(-1)?.gradScale).toBe(32768);
    expect(model.parameters().every((p) => p.value.dtype === 'float32')).toBe(true);
  });
});
