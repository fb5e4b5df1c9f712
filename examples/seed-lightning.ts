// The seed's Lightning example in TypeScript: a model with `forward`, a `trainingStep` that
// returns the MSE loss, `configureOptimizers` returning Adam, and a Trainer with
// { maxEpochs: 10, accelerator: 'auto', devices: 1 } that fits it.
//
//   pnpm exec tsx examples/seed-lightning.ts
import { DataLoader, nn, optim, type Tensor, TensorDataset, tensor } from '@flint/api';
import '@flint/backend-cpu';
import { LightningModule, seedEverything, Trainer } from '@flint/lightning';

class LitRegression extends LightningModule {
  readonly layer = new nn.Linear(3, 1);

  forward(x: Tensor): Tensor {
    return this.layer.forward(x);
  }

  override trainingStep([x, y]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.mseLoss(this.forward(x), y);
    this.log('train_loss', loss, { progBar: true, onStep: true, onEpoch: true });
    return loss;
  }

  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 0.05 });
  }
}

// y = 2a - b + 0.5c + 0.3, sampled at 256 points.
const inputs = Array.from({ length: 256 }, (_, i) => [Math.sin(i), Math.cos(0.5 * i), (i % 7) / 7] as const);
const x = tensor(inputs.map((row) => [...row]));
const y = tensor(inputs.map(([a, b, c]) => [2 * a - b + 0.5 * c + 0.3]));
const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 32, shuffle: true, generator: 0 });

seedEverything(0);
const model = new LitRegression();
const trainer = new Trainer({ maxEpochs: 10, accelerator: 'auto', devices: 1, logEveryNSteps: 8 });
await trainer.fit(model, loader);

console.log(`trained ${trainer.globalStep} steps; final epoch loss ${trainer.callbackMetrics.train_loss_epoch?.toFixed(5)}`);
console.log(
  `weights ${JSON.stringify((await model.layer.weight.value.array()) as number[][])}, bias ${JSON.stringify(await model.layer.bias?.value.array())}`,
);
console.log(`logs and checkpoints in ${trainer.logDir}`);
