// Node-only helpers (file system, native paths) live behind `@flint/api/node` so that the main
// entry bundles for browsers without Node built-ins.

export {
  loadMnist,
  MNIST_MEAN,
  MNIST_SIZE,
  MNIST_STD,
  MNIST_TEST_SIZE,
  MNIST_TRAIN_SIZE,
  MnistDataset,
  type MnistOptions,
} from './mnist.js';
export { type LoadOptions, load, loadHeader, save } from './safetensors.js';
