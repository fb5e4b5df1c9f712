// Measures the Trainer's overhead against a hand-written loop: the same MNIST CNN, data, batch
// order, optimizer and number of steps, on the same backend, alternating the two several times
// and comparing CPU time (less sensitive than wall time to other processes on the machine).
//
//   TSX_TSCONFIG_PATH=packages/lightning/src/test-support/tsconfig.json \
//     node --import tsx packages/lightning/bench/overhead.ts [steps] [rounds]
import { DataLoader, nn, optim, Subset, type Tensor, tidy } from '@flint/api';
import '@flint/backend-cpu';
import { loadMnist } from '@flint/api/node';
import { LightningModule, seedEverything, Trainer } from '@flint/lightning';
import { MnistCnn } from '../../../examples/mnist/model.js';

const steps = Number(process.argv[2] ?? 40);
const rounds = Number(process.argv[3] ?? 3);
const batchSize = 64;
const train = await loadMnist({ split: 'train' });
const subset = new Subset(
  train,
  Array.from({ length: steps * batchSize }, (_, i) => i),
);
const loader = () => new DataLoader(subset, { batchSize, shuffle: true, generator: 0 });

class LitMnist extends LightningModule {
  readonly cnn = this.registerModule('cnn', new MnistCnn());
  forward(images: Tensor): Tensor {
    return this.cnn.forward(images);
  }
  override trainingStep([images, labels]: [Tensor, Tensor]): Tensor {
    const loss = nn.functional.crossEntropy(this.forward(images), labels);
    this.log('train_loss', loss);
    return loss;
  }
  override configureOptimizers() {
    return new optim.Adam(this.parameters(), { lr: 1e-3 });
  }
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function handWritten(): Promise<number[]> {
  seedEverything(0);
  const model = new MnistCnn();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const losses: number[] = [];
  for (const [images, labels] of loader()) {
    optimizer.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(images), labels);
    loss.backward();
    optimizer.step();
    losses.push(loss.item() as number);
    loss.dispose();
    images.dispose();
    labels.dispose();
  }
  return losses;
}

/** The hand-written loop with each step's intermediates released at once, as the Trainer does. */
async function handWrittenTidy(): Promise<number[]> {
  seedEverything(0);
  const model = new MnistCnn();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const losses: number[] = [];
  for (const [images, labels] of loader()) {
    optimizer.zeroGrad();
    const loss = tidy(() => {
      const value = nn.functional.crossEntropy(model.forward(images), labels);
      value.backward();
      return value;
    });
    optimizer.step();
    losses.push(loss.item() as number);
    loss.dispose();
    images.dispose();
    labels.dispose();
  }
  return losses;
}

async function withTrainer(): Promise<number[]> {
  seedEverything(0);
  const model = new LitMnist();
  const losses: number[] = [];
  const trainer = new Trainer({ maxEpochs: 1, logger: false, enableCheckpointing: false, enableProgressBar: false });
  await new Promise<void>((resolve, reject) =>
    trainer.fit$(model, loader()).subscribe({
      next: (e) => {
        if (e.type === 'batchEnd') losses.push(e.loss as number);
      },
      error: reject,
      complete: resolve,
    }),
  );
  return losses;
}

const times = { handWritten: [] as number[], handWrittenTidy: [] as number[], trainer: [] as number[] };
const walls = { handWritten: [] as number[], handWrittenTidy: [] as number[], trainer: [] as number[] };
let reference: number[] | undefined;
await handWritten(); // warm-up: kernels, caches, JIT
for (let round = 0; round < rounds; round++) {
  for (const [name, run] of [
    ['handWritten', handWritten],
    ['handWrittenTidy', handWrittenTidy],
    ['trainer', withTrainer],
  ] as const) {
    const cpu = cpuSeconds();
    const wall = performance.now();
    const losses = await run();
    times[name].push(cpuSeconds() - cpu);
    walls[name].push((performance.now() - wall) / 1000);
    if (reference === undefined) reference = losses;
    else if (losses.some((l, i) => l !== reference?.[i])) throw new Error(`${name}: the losses differ from the hand-written loop's`);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const a = median(times.handWritten);
const t = median(times.handWrittenTidy);
const b = median(times.trainer);
console.log(`steps per run: ${steps}, rounds: ${rounds}; identical losses in every run`);
console.log(`hand-written loop:          ${a.toFixed(2)} s CPU (median; wall ${median(walls.handWritten).toFixed(2)} s)`);
console.log(`hand-written loop, tidy:    ${t.toFixed(2)} s CPU (median; wall ${median(walls.handWrittenTidy).toFixed(2)} s)`);
console.log(`Trainer.fit$:               ${b.toFixed(2)} s CPU (median; wall ${median(walls.trainer).toFixed(2)} s)`);
console.log(
  `overhead against the plain loop: ${(((b - a) / a) * 100).toFixed(2)}%; against the tidy loop: ${(((b - t) / t) * 100).toFixed(2)}%`,
);
