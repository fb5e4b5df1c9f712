// Stochastic weight averaging (torch.optim.swa_utils): a running average of a model's weights,
// the learning-rate scheduler that goes with it, and the BatchNorm statistics pass.

export { SWALR, type SWALROptions } from '../schedulers/swalr.js';
export { AveragedModel, type AveragedModelOptions, type AveragingFunction, emaAverage, runningMean } from './averaged-model.js';
export { type UpdateBnOptions, updateBn, updateBnAsync } from './update-bn.js';
