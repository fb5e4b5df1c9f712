// The page's model and training loop, free of the DOM so that it also runs in Node: an MLP
// (784 -> 128 -> 10) trained with Adam on the bundled digits. Every read of a result is awaited,
// because WebGPU has no synchronous reads, and those waits are where the page redraws.
import { DataLoader, dispose, manualSeed, nn, optim, type Tensor, TensorDataset, tensor, tidy } from '@flint/api';
import { type DigitSplit, PIXELS } from './digits.js';

/** torchvision's MNIST normalization (mean and standard deviation of pixel/255). */
const MNIST_MEAN = 0.1307;
const MNIST_STD = 0.3081;

export interface TrainingOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
  readonly seed?: number;
  /** Called after every step with its number (from 0) and loss. */
  readonly onStep?: (step: number, loss: number) => void | Promise<void>;
}

export interface TrainingResult {
  readonly losses: readonly number[];
  /** Fraction of the test digits classified correctly after training. */
  readonly accuracy: number;
}

/** Images [N, 784] (float32, normalized) and labels [N] (int32) on the current default backend. */
export function splitTensors(split: DigitSplit): [Tensor, Tensor] {
  const count = split.labels.length;
  const images = new Float32Array(count * PIXELS);
  const scale = 1 / (255 * MNIST_STD);
  const shift = MNIST_MEAN / MNIST_STD;
  for (let i = 0; i < images.length; i++) images[i] = (split.pixels[i] as number) * scale - shift;
  return [tensor(images, { shape: [count, PIXELS] }), tensor(Int32Array.from(split.labels), { shape: [count] })];
}

export function createModel(): nn.Sequential {
  return new nn.Sequential(new nn.Linear(PIXELS, 128), new nn.ReLU(), new nn.Linear(128, 10));
}

/** Fraction of the digits whose highest logit is their label. */
export async function accuracy(model: nn.Sequential, images: Tensor, labels: Tensor): Promise<number> {
  const correct = tidy(() => model.forward(images).argmax(1).equal(labels).sum());
  const [count] = await correct.data();
  correct.dispose();
  return (count as number) / (labels.shape[0] as number);
}

/** Trains a fresh model on `train` and measures it on `test`, on the current default backend. */
export async function trainMlp(train: DigitSplit, test: DigitSplit, options: TrainingOptions = {}): Promise<TrainingResult> {
  const { epochs = 3, batchSize = 64, learningRate = 2e-3, seed = 0, onStep } = options;
  manualSeed(seed);
  const [trainImages, trainLabels] = splitTensors(train);
  const [testImages, testLabels] = splitTensors(test);
  const model = createModel();
  const optimizer = new optim.Adam(model.parameters(), { lr: learningRate });
  const loader = new DataLoader(new TensorDataset(trainImages, trainLabels), { batchSize, shuffle: true, generator: seed, dropLast: true });
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [images, labels] of loader) {
      optimizer.zeroGrad();
      const loss = nn.functional.crossEntropy(model.forward(images), labels);
      loss.backward();
      optimizer.step();
      const [value] = await loss.data();
      dispose([loss, images, labels]);
      losses.push(value as number);
      await onStep?.(losses.length - 1, value as number);
    }
  }
  model.eval();
  const result = await accuracy(model, testImages, testLabels);
  dispose([trainImages, trainLabels, testImages, testLabels]);
  return { losses, accuracy: result };
}
