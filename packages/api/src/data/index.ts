// Datasets, samplers and the DataLoader (torch.utils.data's design). See docs/optim-data-io.md.
export { Dataset, type DatasetLike, TensorDataset, Subset, ConcatDataset, randomSplit } from './dataset.js';
export { DataLoader, type DataLoaderOptions } from './loader.js';
export { defaultCollate, type Collated } from './collate.js';
export { type Sampler, type BatchSamplerLike, SequentialSampler, RandomSampler, type RandomSamplerOptions, SubsetRandomSampler, BatchSampler } from './sampler.js';
export { type RandomSource, type RandomSourceLike, SeededRandom } from './random-source.js';
