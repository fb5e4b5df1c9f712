// Node-only helpers (file system, native paths) live behind `@flint/api/node` so that the main
// entry bundles for browsers without Node built-ins.
export { save, load, loadHeader, type LoadOptions } from './safetensors.js';
export { loadMnist, MnistDataset, type MnistOptions, MNIST_MEAN, MNIST_STD, MNIST_SIZE, MNIST_TRAIN_SIZE, MNIST_TEST_SIZE } from './mnist.js';
