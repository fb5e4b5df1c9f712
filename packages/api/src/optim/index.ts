// Optimizers in imperative form (classes over Parameters) and functional form (pure functions
// over parameter pytrees), sharing one update rule each (LBFGS, closure-driven, is imperative
// only); learning-rate schedulers; and stochastic weight averaging (swaUtils).
// See docs/optim-data-io.md.

export { Adadelta, type AdadeltaHyper, type AdadeltaOptions, adadelta } from './adadelta.js';
export { Adagrad, type AdagradHyper, type AdagradOptions, adagrad } from './adagrad.js';
export { Adam, type AdamHyper, type AdamOptions, AdamW, adam, adamw } from './adam.js';
export { Adamax, type AdamaxHyper, type AdamaxOptions, adamax } from './adamax.js';
export { ASGD, type ASGDHyper, type ASGDOptions, asgd } from './asgd.js';
export { applyUpdates, type GradientTransformation, type LearningRate, type OptimizerState } from './functional.js';
export { LBFGS, type LBFGSGroup, type LBFGSHyper, type LBFGSOptions, type LBFGSStateDict, type LBFGSStateEntry } from './lbfgs.js';
export { NAdam, type NAdamHyper, type NAdamOptions, nadam } from './nadam.js';
export { type BaseHyper, Optimizer, type ParamGroup, type ParamGroupInput, type ParamsInput, type StepOptions } from './optimizer.js';
export type { ParameterLike } from './parameter.js';
export { RAdam, type RAdamHyper, type RAdamOptions, radam } from './radam.js';
export { RMSprop, type RMSpropHyper, type RMSpropOptions, rmsprop } from './rmsprop.js';
export { Rprop, type RpropHyper, type RpropOptions, rprop } from './rprop.js';
export { ChainedScheduler } from './schedulers/chained.js';
export { ConstantLR, type ConstantLROptions } from './schedulers/constant.js';
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  CosineAnnealingWarmRestarts,
  type CosineAnnealingWarmRestartsOptions,
} from './schedulers/cosine.js';
export { CyclicLR, type CyclicLROptions } from './schedulers/cyclic.js';
export {
  ExponentialLR,
  type ExponentialLROptions,
  MultiStepLR,
  type MultiStepLROptions,
  StepLR,
  type StepLROptions,
} from './schedulers/decay.js';
export { LambdaLR, type LambdaLROptions, type LrLambda, MultiplicativeLR, type MultiplicativeLROptions } from './schedulers/lambda.js';
export { LinearLR, type LinearLROptions } from './schedulers/linear.js';
export { OneCycleLR, type OneCycleLROptions } from './schedulers/one-cycle.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './schedulers/plateau.js';
export { PolynomialLR, type PolynomialLROptions } from './schedulers/polynomial.js';
export { LRScheduler, type SchedulableGroup, type SchedulableOptimizer } from './schedulers/scheduler.js';
export { SequentialLR, type SequentialLROptions } from './schedulers/sequential.js';
export { SGD, type SGDHyper, type SGDOptions, sgd } from './sgd.js';
export type { OptimizerStateDict, ParameterStateEntry, ParamGroupEntry } from './state-dict.js';
export * as swaUtils from './swa-utils/index.js';
export type { ParamTree } from './tree.js';
