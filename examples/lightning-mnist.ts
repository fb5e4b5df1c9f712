// Trains the MNIST CNN through the Lightning-style Trainer: a LightningModule around the CNN, a
// LightningDataModule over the 8,000 training digits (7,000 to train, 1,000 to validate) and
// the 2,000 held-out ones, a progress bar, CSV logs, the 2 best checkpoints by validation loss,
// early stopping, and the test accuracy of the best checkpoint. The precision is the Trainer's:
// '32-true' (default), '16-mixed' or 'bf16-mixed' (float32 weights, convolutions and linear layers
// under autocast; needs a backend with that half dtype).
//
//   pnpm exec tsx examples/lightning-mnist.ts [maxEpochs] [precision]
import { DataLoader, nn, optim, randomSplit, type Tensor } from '@flint/api';
import '@flint/backend-cpu';
import { loadMnist, type MnistDataset } from '@flint/api/node';
import {
  CSVLogger,
  EarlyStopping,
  LightningDataModule,
  LightningModule,
  ModelCheckpoint,
  type PrecisionInput,
  type Stage,
  seedEverything,
  Trainer,
} from '@flint/lightning';
import { MnistCnn } from './mnist/model.js';

const maxEpochs = Number(process.argv[2] ?? 3);
const precision = (process.argv[3] ?? '32-true') as PrecisionInput;

class MnistData extends LightningDataModule {
  private train?: DataLoader<[Tensor, Tensor]>;
  private validation?: DataLoader<[Tensor, Tensor]>;
  private test?: MnistDataset;

  constructor(readonly batchSize = 64) {
    super();
    this.saveHyperparameters({ batchSize });
  }

  override async setup(stage: Stage): Promise<void> {
    if (stage === 'fit' && this.train === undefined) {
      const [train, validation] = randomSplit(await loadMnist({ split: 'train' }), [7000, 1000], 0);
      this.train = new DataLoader(train as NonNullable<typeof train>, { batchSize: this.batchSize, shuffle: true, generator: 0 });
      this.validation = new DataLoader(validation as NonNullable<typeof validation>, { batchSize: 500 });
    }
    if (stage === 'test') this.test ??= await loadMnist({ split: 'test' });
  }

  override trainDataloader() {
    return this.train as DataLoader<[Tensor, Tensor]>;
  }

  override valDataloader() {
    return this.validation as DataLoader<[Tensor, Tensor]>;
  }

  override testDataloader() {
    return new DataLoader(this.test as MnistDataset, { batchSize: 500 });
  }
}

class LitMnist extends LightningModule {
  readonly cnn = new MnistCnn();

  constructor(readonly lr = 1e-3) {
    super();
    this.saveHyperparameters({ lr });
  }

  forward(images: Tensor): Tensor {
    return this.cnn.forward(images);
  }

  override trainingStep([images, labels]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.crossEntropy(this.forward(images), labels);
    this.log('train_loss', loss, { onEpoch: true });
    return loss;
  }

  private evaluate([images, labels]: [Tensor, Tensor], stage: 'val' | 'test'): void {
    const logits = this.forward(images);
    this.log(`${stage}_loss`, nn.functional.crossEntropy(logits, labels), { progBar: true });
    this.log(`${stage}_acc`, logits.argmax(1).equal(labels).cast('float32').mean(), { progBar: true });
  }

  override validationStep(batch: [Tensor, Tensor]): void {
    this.evaluate(batch, 'val');
  }

  override testStep(batch: [Tensor, Tensor]): void {
    this.evaluate(batch, 'test');
  }

  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: this.lr });
  }
}

seedEverything(0);
const model = new LitMnist();
const data = new MnistData();
const best = new ModelCheckpoint({ monitor: 'val_loss', mode: 'min', saveTopK: 2, filename: '{epoch}-{val_loss:.4f}', saveLast: true });
const trainer = new Trainer({
  maxEpochs,
  precision,
  logger: new CSVLogger({ saveDir: '.' }),
  callbacks: [new EarlyStopping({ monitor: 'val_loss', patience: 2 }), best],
  logEveryNSteps: 20,
  deterministic: true,
});

const start = performance.now();
await trainer.fit(model, data);
const seconds = (performance.now() - start) / 1000;
const [test] = await trainer.test(model, data, { ckptPath: 'best' });

console.log(`trained ${trainer.currentEpoch} epochs (${trainer.globalStep} steps) in ${seconds.toFixed(1)} s`);
console.log(`best checkpoint: ${best.bestModelPath} (val_loss ${best.bestModelScore?.toFixed(4)})`);
console.log(`logs: ${trainer.logDir}/metrics.csv`);
console.log(`test accuracy: ${((test?.test_acc ?? Number.NaN) * 100).toFixed(2)}% (test loss ${test?.test_loss?.toFixed(4)})`);
