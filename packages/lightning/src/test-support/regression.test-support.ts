import { DataLoader, nn, optim, type Tensor, TensorDataset, tensor } from '@flint/api';
import { LightningModule, type StepOutput } from '../module.js';
import type { OptimizerConfig } from '../trainer/optimizer-config.js';

/**
 * A small deterministic regression problem and model for the Trainer's tests: data built from
 * fixed formulas (no random draws), a two-layer network with seeded initialization, and Adam.
 */
export function regressionData(samples = 64, features = 8): { x: Tensor; y: Tensor } {
  const xs = new Float32Array(samples * features);
  const ys = new Float32Array(samples);
  for (let i = 0; i < samples; i++) {
    let target = 0;
    for (let j = 0; j < features; j++) {
      const v = Math.sin(i * 0.37 + j * 1.3) + 0.1 * Math.cos(i * j);
      xs[i * features + j] = v;
      target += v * ((j % 3) - 1) * 0.5;
    }
    ys[i] = Math.tanh(target);
  }
  return { x: tensor(xs, { shape: [samples, features] }), y: tensor(ys, { shape: [samples, 1] }) };
}

/** A loader over `regressionData`; `seed: null` shuffles from the global generator (no generator of its own). */
export function regressionLoader(
  options: { samples?: number; batchSize?: number; shuffle?: boolean; seed?: number | null } = {},
): DataLoader<[Tensor, Tensor]> {
  const { x, y } = regressionData(options.samples ?? 64);
  const seed = options.seed === undefined ? 0 : options.seed;
  return new DataLoader(new TensorDataset(x, y), {
    batchSize: options.batchSize ?? 8,
    shuffle: options.shuffle ?? true,
    ...(seed === null ? {} : { generator: seed }),
  });
}

export interface RegressorOptions {
  readonly hidden?: number;
  readonly lr?: number;
  readonly features?: number;
  readonly scheduler?: 'step' | 'epoch' | 'plateau';
  readonly dropout?: number;
}

export class Regressor extends LightningModule {
  readonly hiddenLayer: nn.Linear;
  readonly outputLayer: nn.Linear;
  readonly dropout: nn.Dropout;
  readonly options: RegressorOptions;
  readonly events: string[] = [];

  constructor(options: RegressorOptions = {}) {
    super();
    this.options = options;
    const hidden = options.hidden ?? 16;
    this.hiddenLayer = this.registerModule('hidden', new nn.Linear(options.features ?? 8, hidden));
    this.dropout = this.registerModule('dropout', new nn.Dropout(options.dropout ?? 0));
    this.outputLayer = this.registerModule('output', new nn.Linear(hidden, 1));
    this.saveHyperparameters({ hidden, lr: options.lr ?? 0.01 });
  }

  forward(x: Tensor): Tensor {
    return this.outputLayer.forward(this.dropout.forward(nn.functional.tanh(this.hiddenLayer.forward(x))));
  }

  /** The batch's mean squared error, logged as train_loss: what trainingStep returns. */
  stepLoss([x, y]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.mseLoss(this.forward(x), y);
    this.log('train_loss', loss, { progBar: true, onStep: true, onEpoch: true });
    return loss;
  }

  // Declared as LightningModule's step (any StepOutput), so that a test's subclass may return a
  // dictionary; subclasses that want the loss as a Tensor call stepLoss.
  override trainingStep(batch: [Tensor, Tensor], _batchIdx?: number): StepOutput {
    return this.stepLoss(batch);
  }

  override validationStep([x, y]: [Tensor, Tensor]): void {
    this.log('val_loss', nn.functional.mseLoss(this.forward(x), y), { progBar: true });
  }

  override testStep([x, y]: [Tensor, Tensor]): void {
    this.log('test_loss', nn.functional.mseLoss(this.forward(x), y));
  }

  override configureOptimizers(): OptimizerConfig {
    const optimizer = new optim.Adam(this.parameters(), { lr: this.options.lr ?? 0.01 });
    if (this.options.scheduler === 'step')
      return { optimizer, lrScheduler: { scheduler: new optim.StepLR(optimizer, { stepSize: 5, gamma: 0.5 }), interval: 'step' as const } };
    if (this.options.scheduler === 'epoch') return { optimizer, lrScheduler: new optim.StepLR(optimizer, { stepSize: 1, gamma: 0.5 }) };
    if (this.options.scheduler === 'plateau')
      return { optimizer, lrScheduler: { scheduler: new optim.ReduceLROnPlateau(optimizer, { patience: 0 }), monitor: 'val_loss' } };
    return optimizer;
  }
}
