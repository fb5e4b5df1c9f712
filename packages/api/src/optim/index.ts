// Optimizers in imperative form (classes over Parameters) and functional form (pure functions
// over parameter pytrees), sharing one update rule each; and learning-rate schedulers.
// See docs/optim-data-io.md.
export { Optimizer, type BaseHyper, type ParamGroup, type ParamGroupInput, type ParamsInput } from './optimizer.js';
export type { ParameterLike } from './parameter.js';
export type { OptimizerStateDict, ParameterStateEntry, ParamGroupEntry } from './state-dict.js';
export { applyUpdates, type GradientTransformation, type LearningRate, type OptimizerState } from './functional.js';
export type { ParamTree } from './tree.js';
export { SGD, sgd, type SGDHyper, type SGDOptions } from './sgd.js';
export { Adam, AdamW, adam, adamw, type AdamHyper, type AdamOptions } from './adam.js';
export { Adamax, adamax, type AdamaxHyper, type AdamaxOptions } from './adamax.js';
export { NAdam, nadam, type NAdamHyper, type NAdamOptions } from './nadam.js';
export { RMSprop, rmsprop, type RMSpropHyper, type RMSpropOptions } from './rmsprop.js';
export { Adagrad, adagrad, type AdagradHyper, type AdagradOptions } from './adagrad.js';
export { LRScheduler, type SchedulableGroup, type SchedulableOptimizer } from './schedulers/scheduler.js';
export { StepLR, MultiStepLR, ExponentialLR, type StepLROptions, type MultiStepLROptions, type ExponentialLROptions } from './schedulers/decay.js';
export { CosineAnnealingLR, CosineAnnealingWarmRestarts, type CosineAnnealingLROptions, type CosineAnnealingWarmRestartsOptions } from './schedulers/cosine.js';
export { LinearLR, type LinearLROptions } from './schedulers/linear.js';
export { LambdaLR, type LambdaLROptions, type LrLambda } from './schedulers/lambda.js';
export { OneCycleLR, type OneCycleLROptions } from './schedulers/one-cycle.js';
export { SequentialLR, type SequentialLROptions } from './schedulers/sequential.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './schedulers/plateau.js';
