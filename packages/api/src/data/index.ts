// Datasets, samplers and the DataLoader (torch.utils.data's design). See docs/optim-data-io.md.

export { type Collated, defaultCollate } from './collate.js';
export { ConcatDataset, Dataset, type DatasetLike, randomSplit, Subset, TensorDataset } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { type RandomSource, type RandomSourceLike, SeededRandom } from './random-source.js';
export {
  BatchSampler,
  type BatchSamplerLike,
  RandomSampler,
  type RandomSamplerOptions,
  type Sampler,
  SequentialSampler,
  SubsetRandomSampler,
} from './sampler.js';
