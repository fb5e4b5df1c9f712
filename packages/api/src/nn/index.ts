/**
 * Neural networks (torch.nn): `Module` and the layers built on it, their functional forms
 * (`nn.functional`), initializers (`nn.init`), `functionalCall` for differentiating a module with
 * respect to its parameters, and `nn.utils` (packed sequences, parametrizations, gradient clipping).
 * See docs/nn.md.
 *
 * @example
 * import { nn } from '@flint/api';
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const loss = nn.functional.crossEntropy(model.forward(images), labels);
 */

export type { BackwardHook, BackwardPreHook, GradientsReplacement, ModuleGradients } from './backward-hooks.js';
export { type ClipGradNormOptions, clipGradNorm, clipGradValue, type GradientHolder } from './clip-grad.js';
export * as functional from './functional/index.js';
export { functionalCall, functionalCallWithBuffers } from './functional-call.js';
export * as init from './init.js';
export {
  CELU,
  ELU,
  GELU,
  GLU,
  Hardsigmoid,
  Hardswish,
  Hardtanh,
  LeakyReLU,
  LogSigmoid,
  LogSoftmax,
  Mish,
  PReLU,
  ReLU,
  ReLU6,
  SELU,
  Sigmoid,
  SiLU,
  Softmax,
  Softmax2d,
  Softmin,
  Softplus,
  Softsign,
  Tanh,
  Threshold,
} from './layers/activations.js';
export {
  type AdaptiveLogSoftmaxOptions,
  type AdaptiveLogSoftmaxOutput,
  AdaptiveLogSoftmaxWithLoss,
} from './layers/adaptive-log-softmax.js';
export { MultiheadAttention, type MultiheadAttentionForwardOptions, type MultiheadAttentionOptions } from './layers/attention.js';
export type { FactoryOptions } from './layers/common.js';
export { ModuleDict, ModuleList, Sequential, type TensorModule } from './layers/containers.js';
export {
  Conv1d,
  Conv2d,
  Conv3d,
  type ConvLayerOptions,
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  type ConvTransposeLayerOptions,
  type PaddingMode,
} from './layers/conv.js';
export { CosineSimilarity, PairwiseDistance } from './layers/distance.js';
export { AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout } from './layers/dropout.js';
export { Embedding, EmbeddingBag, type EmbeddingBagLayerOptions, type EmbeddingLayerOptions } from './layers/embedding.js';
export { Fold, Unfold } from './layers/fold.js';
export { FractionalMaxPool2d, FractionalMaxPool3d, type FractionalMaxPoolLayerOptions } from './layers/fractional-max-pool.js';
export { InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, type InstanceNormOptions } from './layers/instance-norm.js';
export {
  LazyBatchNorm1d,
  LazyBatchNorm2d,
  LazyBatchNorm3d,
  LazyConv1d,
  LazyConv2d,
  LazyConv3d,
  LazyConvTranspose1d,
  LazyConvTranspose2d,
  LazyConvTranspose3d,
  LazyInstanceNorm1d,
  LazyInstanceNorm2d,
  LazyInstanceNorm3d,
  LazyLinear,
} from './layers/lazy.js';
export { Bilinear, Flatten, Identity, Linear, type LinearOptions, Unflatten } from './layers/linear.js';
export {
  BCELoss,
  BCEWithLogitsLoss,
  CosineEmbeddingLoss,
  CrossEntropyLoss,
  CTCLoss,
  GaussianNLLLoss,
  HingeEmbeddingLoss,
  HuberLoss,
  KLDivLoss,
  L1Loss,
  MarginRankingLoss,
  MSELoss,
  MultiLabelMarginLoss,
  MultiLabelSoftMarginLoss,
  MultiMarginLoss,
  NLLLoss,
  PoissonNLLLoss,
  SmoothL1Loss,
  SoftMarginLoss,
  TripletMarginLoss,
  TripletMarginWithDistanceLoss,
} from './layers/losses.js';
export { LPPool1d, LPPool2d, LPPool3d } from './layers/lp-pool.js';
export { MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, type MaxUnpoolLayerOptions } from './layers/max-unpool.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNorm3d,
  type BatchNormOptions,
  GroupNorm,
  type GroupNormLayerOptions,
  LayerNorm,
  type LayerNormLayerOptions,
  LocalResponseNorm,
  RMSNorm,
  type RmsNormLayerOptions,
} from './layers/normalization.js';
export {
  CircularPad1d,
  CircularPad2d,
  CircularPad3d,
  ConstantPad1d,
  ConstantPad2d,
  ConstantPad3d,
  type PaddingArg,
  ReflectionPad1d,
  ReflectionPad2d,
  ReflectionPad3d,
  ReplicationPad1d,
  ReplicationPad2d,
  ReplicationPad3d,
  ZeroPad1d,
  ZeroPad2d,
  ZeroPad3d,
} from './layers/padding.js';
export { ParameterDict, type ParameterLike, ParameterList } from './layers/parameter-containers.js';
export { ChannelShuffle, PixelShuffle, PixelUnshuffle } from './layers/pixel-shuffle.js';
export {
  AdaptiveAvgPool1d,
  AdaptiveAvgPool2d,
  AdaptiveAvgPool3d,
  AdaptiveMaxPool1d,
  AdaptiveMaxPool2d,
  AdaptiveMaxPool3d,
  AvgPool1d,
  AvgPool2d,
  AvgPool3d,
  MaxPool1d,
  MaxPool2d,
  MaxPool3d,
  type MaxPoolOutput,
} from './layers/pooling.js';
export { GRU, LSTM, type LSTMOptions, type RecurrentOptions, RNN, type RNNOptions } from './layers/recurrent.js';
export {
  GRUCell,
  LSTMCell,
  type RecurrentCellOptions,
  type RecurrentNonlinearity,
  RNNCell,
  type RNNCellOptions,
} from './layers/recurrent-cells.js';
export { Hardshrink, RReLU, Softshrink, Tanhshrink } from './layers/shrink.js';
export { SyncBatchNorm, type SyncBatchNormOptions } from './layers/sync-batch-norm.js';
export {
  Transformer,
  TransformerDecoder,
  type TransformerDecoderForwardOptions,
  TransformerDecoderLayer,
  type TransformerDecoderLayerOptions,
  TransformerEncoder,
  type TransformerEncoderForwardOptions,
  TransformerEncoderLayer,
  type TransformerEncoderLayerOptions,
  type TransformerEncoderStackForwardOptions,
  type TransformerForwardOptions,
  type TransformerOptions,
  type TransformerStackOptions,
} from './layers/transformer.js';
export {
  type FixedUpsampleOptions,
  Upsample,
  type UpsampleOptions,
  UpsamplingBilinear2d,
  UpsamplingNearest2d,
} from './layers/upsampling.js';
export {
  type AnyModule,
  type ForwardArguments,
  type ForwardHook,
  type ForwardHookOptions,
  type ForwardOutput,
  type ForwardPreHook,
  Module,
  type RemovableHandle,
} from './module.js';
export { Parameter } from './parameter.js';
export type { LoadStateDictPostHook, LoadStateDictResult, StateDict, StateDictPreHook } from './state-dict.js';
export { isUninitializedParameter, UninitializedParameter } from './uninitialized-parameter.js';
export * as utils from './utils/index.js';
