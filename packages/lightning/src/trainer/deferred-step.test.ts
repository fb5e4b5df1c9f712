import '@flint/backend-cpu';
import { memory, type optim, type Tensor } from '@flint/api';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { StepOutput } from '../module.js';
import { SingleDeviceStrategy } from '../strategies/strategy.js';
import { Regressor, regressionData, regressionLoader } from '../test-support/regression.test-support.js';
import { Trainer } from './trainer.js';

/** A one-process strategy whose gradient sync must be awaited, as DDP's host transport on an asynchronous backend. */
class AwaitedSyncStrategy extends SingleDeviceStrategy {
  readonly order: string[];
  constructor(order: string[]) {
    super();
    this.order = order;
  }
  override syncGradients(): Promise<void> {
    this.order.push('sync');
    return new Promise((resolve) => setTimeout(resolve, 1));
  }
  gradientSyncIsAsync(_params: readonly optim.ParameterLike[]): boolean {
    return true;
  }
}

/** Records the order of the step's hooks, and reads the training step's output in the batch-end hook. */
class OrderedRegressor extends Regressor {
  readonly order: string[] = [];
  readonly seenLosses: number[] = [];
  override onBeforeOptimizerStep(): void {
    this.order.push('optimizerStep');
  }
  override onTrainBatchEnd(outputs: StepOutput): void {
    this.order.push('batchEnd');
    this.seenLosses.push((outputs as Tensor).item() as number);
  }
}

describe('a gradient sync that must be awaited', () => {
  it('runs onTrainBatchEnd after the optimizer step, with the step output alive, and frees it after', async () => {
    // What a fit leaves allocated (parameters, optimizer state) with a synchronous sync, for comparison.
    const fit = async (model: OrderedRegressor, strategy?: SingleDeviceStrategy) => {
      const before = memory().buffers;
      const options = { maxEpochs: 1, limitTrainBatches: 3, logger: false, enableProgressBar: false, enableCheckpointing: false } as const;
      const trainer = new Trainer(strategy ? { ...options, strategy } : options);
      await lastValueFrom(trainer.fit$(model, { trainDataloaders: regressionLoader() }).pipe(toArray()));
      return memory().buffers - before;
    };
    const reference = await fit(new OrderedRegressor());
    const model = new OrderedRegressor();
    const left = await fit(model, new AwaitedSyncStrategy(model.order));
    expect(model.order).toEqual([
      'sync',
      'optimizerStep',
      'batchEnd',
      'sync',
      'optimizerStep',
      'batchEnd',
      'sync',
      'optimizerStep',
      'batchEnd',
    ]);
    expect(model.seenLosses).toHaveLength(3);
    for (const loss of model.seenLosses) expect(Number.isFinite(loss)).toBe(true);
    // The outputs kept for the hook were released after it.
    expect(left).toBe(reference);
  });

  it('keeps the batch tensors a step returns: the hook frees only what the step made', async () => {
    class ReturnsTarget extends OrderedRegressor {
      override trainingStep([x, y]: [Tensor, Tensor]): StepOutput {
        return { loss: this.stepLoss([x, y]), target: y };
      }
      override onTrainBatchEnd(outputs: StepOutput): void {
        this.order.push('batchEnd');
        this.seenLosses.push((outputs as { loss: Tensor }).loss.item() as number);
      }
    }
    const model = new ReturnsTarget();
    // A plain array: the Trainer does not own these batches, and they serve both epochs.
    const batches = [regressionData(16)].map(({ x, y }) => [x, y] as [Tensor, Tensor]);
    const trainer = new Trainer({
      maxEpochs: 2,
      strategy: new AwaitedSyncStrategy(model.order),
      logger: false,
      enableProgressBar: false,
      enableCheckpointing: false,
    });
    await lastValueFrom(trainer.fit$(model, { trainDataloaders: batches }).pipe(toArray()));
    expect(model.seenLosses).toHaveLength(2);
    for (const [x, y] of batches) {
      expect(x.isDisposed).toBe(false);
      expect(y.isDisposed).toBe(false);
    }
  });
});
