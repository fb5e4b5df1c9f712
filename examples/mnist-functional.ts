// The MNIST CNN of mnist-loop.ts written as pure functions over a parameter pytree, the way a JAX
// user would: initialize parameters from a random key, differentiate the loss with
// `valueAndGrad`, and update with a functional optimizer (`init` / `update` / `applyUpdates`).
//
//   pnpm exec tsx examples/mnist-functional.ts [epochs] [--max-steps N]
import { conv2d, DataLoader, dispose, keep, matmul, maxPool2d, nn, optim, random, type Tensor, tidy, valueAndGrad } from '@flint/api';
import '@flint/backend-cpu';
import { loadMnist } from '@flint/api/node';
import { parseArguments } from './mnist/arguments.js';
import { accuracy } from './mnist/evaluate.js';

const { relu, crossEntropy } = nn.functional;

// A type alias rather than an interface: parameter pytrees are indexable records.
type Layer = { weight: Tensor; bias: Tensor };
type Params = { conv1: Layer; conv2: Layer; fc1: Layer; fc2: Layer };

/** PyTorch's default initialization: uniform in ±1/sqrt(fanIn) for weights and biases. */
function layer(key: Tensor, weightShape: number[], fanIn: number): Layer {
  const [weightKey, biasKey] = random.splitKeys(key) as [Tensor, Tensor];
  const bound = 1 / Math.sqrt(fanIn);
  return {
    weight: random.uniform(weightKey, weightShape, { minval: -bound, maxval: bound }),
    bias: random.uniform(biasKey, [weightShape[0] as number], { minval: -bound, maxval: bound }),
  };
}

function initParams(seed: number): Params {
  return tidy(() => {
    const keys = random.splitKeys(random.key(seed), 4);
    return {
      conv1: layer(keys[0] as Tensor, [16, 1, 3, 3], 9),
      conv2: layer(keys[1] as Tensor, [32, 16, 3, 3], 16 * 9),
      fc1: layer(keys[2] as Tensor, [128, 800], 800),
      fc2: layer(keys[3] as Tensor, [10, 128], 128),
    };
  });
}

function predict(params: Params, images: Tensor): Tensor {
  let x = maxPool2d(relu(conv2d(images, params.conv1.weight, { bias: params.conv1.bias })), 2);
  x = maxPool2d(relu(conv2d(x, params.conv2.weight, { bias: params.conv2.bias })), 2);
  x = relu(matmul(x.flatten(1), params.fc1.weight.mT).add(params.fc1.bias));
  return matmul(x, params.fc2.weight.mT).add(params.fc2.bias);
}

const loss = (params: Params, images: Tensor, labels: Tensor): Tensor => crossEntropy(predict(params, images), labels);
const lossAndGrad = valueAndGrad(loss);

const { epochs, maxSteps } = parseArguments(process.argv.slice(2));
const train = await loadMnist({ split: 'train' });
const test = await loadMnist({ split: 'test' });
const loader = new DataLoader(train, { batchSize: 64, shuffle: true, generator: 0 });
const optimizer = optim.adam({ lr: 1e-3 });
let params = initParams(0);
let state = optimizer.init(params);

for (let epoch = 0; epoch < epochs; epoch++) {
  const start = performance.now();
  let step = 0;
  for (const [images, labels] of loader) {
    const [value, next] = tidy(() => {
      const [lossValue, grads] = lossAndGrad(params, images, labels);
      const [updates, nextState] = optimizer.update(grads, state, params);
      return [lossValue, { params: optim.applyUpdates(params, updates), state: nextState }] as const;
    });
    dispose([params, state, images, labels]);
    params = next.params;
    state = next.state;
    if (step % 50 === 0) console.log(`epoch ${epoch} step ${step} loss ${(value.item() as number).toFixed(4)}`);
    value.dispose();
    step++;
    if (step === maxSteps) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const testAccuracy = accuracy((x) => keep(predict(params, x)), test);
  console.log(`epoch ${epoch}: ${seconds.toFixed(1)} s, test accuracy ${(testAccuracy * 100).toFixed(2)}%`);
}
