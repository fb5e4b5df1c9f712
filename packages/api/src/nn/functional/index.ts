/**
 * Functional forms of the layers, activations and losses (torch.nn.functional): pure functions of
 * tensors, composed of Flint's ops, so `grad`, `vmap` and `jit` apply to every one of them.
 *
 * @example
 * import { nn } from '@flint/api';
 * const F = nn.functional;
 * const loss = F.crossEntropy(F.linear(F.relu(F.linear(x, w1, b1)), w2, b2), labels);
 */

export {
  type AdaptiveOutputSize,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
} from '../../ops/adaptive-pool.js';
export {
  type AvgPoolOptions,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  type ConvOptions,
  type ConvTransposeOptions,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  type MaxPoolFunction,
  type MaxPoolOptions,
  type MaxPoolWithIndices,
  maxPool1d,
  maxPool2d,
  maxPool3d,
} from '../../ops/conv.js';
export { oneHot } from '../../ops/indexing.js';
export { type MaxUnpoolOptions, maxUnpool1d, maxUnpool2d, maxUnpool3d } from '../../ops/max-unpool.js';
export {
  celu,
  elu,
  type GeluApproximation,
  gelu,
  glu,
  hardsigmoid,
  hardswish,
  hardtanh,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  mish,
  prelu,
  relu,
  relu6,
  selu,
  sigmoid,
  silu,
  softmax,
  softmin,
  softplus,
  softsign,
  tanh,
  threshold,
} from './activations.js';
export { type AffineGridOptions, affineGrid } from './affine-grid.js';
export {
  type MultiHeadAttentionOptions,
  type MultiHeadAttentionWeights,
  multiHeadAttention,
  type ScaledDotProductAttentionOptions,
  scaledDotProductAttention,
} from './attention.js';
export {
  type BinaryCrossEntropyOptions,
  type BinaryCrossEntropyWithLogitsOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
} from './binary-losses.js';
export { type CrossEntropyOptions, crossEntropy, type NllLossOptions, nllLoss } from './classification-losses.js';
export type { Reduction } from './common.js';
export {
  type CosineEmbeddingOptions,
  cosineEmbeddingLoss,
  type KlDivOptions,
  klDiv,
  type MarginRankingOptions,
  marginRankingLoss,
} from './comparison-losses.js';
export { type CtcLossOptions, ctcLoss } from './ctc-loss.js';
export { type CosineSimilarityOptions, cosineSimilarity, type PairwiseDistanceOptions, pairwiseDistance, pdist } from './distance.js';
export { alphaDropout, type DropoutOptions, dropout, dropout1d, dropout2d, dropout3d, featureAlphaDropout } from './dropout.js';
export { type EmbeddingOptions, embedding } from './embedding.js';
export { type EmbeddingBagMode, type EmbeddingBagOptions, embeddingBag } from './embedding-bag.js';
export { fold, type Pair, type UnfoldOptions, unfold } from './fold.js';
export {
  type FractionalMaxPoolFunction,
  type FractionalMaxPoolOptions,
  fractionalMaxPool2d,
  fractionalMaxPool3d,
} from './fractional-max-pool.js';
export { type GridSampleMode, type GridSampleOptions, type GridSamplePadding, gridSample } from './grid-sample.js';
export { type GumbelSoftmaxOptions, gumbelSoftmax } from './gumbel-softmax.js';
export { type InstanceNormOptions, instanceNorm } from './instance-norm.js';
export { type InterpolateMode, type InterpolateOptions, interpolate } from './interpolate.js';
export {
  type GaussianNllOptions,
  gaussianNllLoss,
  type PoissonNllOptions,
  poissonNllLoss,
} from './likelihood-losses.js';
export { bilinear, linear } from './linear.js';
export { type LocalResponseNormOptions, localResponseNorm } from './local-response-norm.js';
export { type LpPoolOptions, lpPool1d, lpPool2d, lpPool3d } from './lp-pool.js';
export {
  type HingeEmbeddingOptions,
  hingeEmbeddingLoss,
  type MultiLabelMarginOptions,
  type MultiLabelSoftMarginOptions,
  type MultiMarginOptions,
  multiLabelMarginLoss,
  multiLabelSoftMarginLoss,
  multiMarginLoss,
  type SoftMarginOptions,
  softMarginLoss,
  type TripletMarginOptions,
  type TripletMarginWithDistanceOptions,
  tripletMarginLoss,
  tripletMarginWithDistanceLoss,
} from './margin-losses.js';
export {
  type BatchNormOptions,
  type BatchStatistics,
  batchNorm,
  batchNormTraining,
  type GroupNormOptions,
  groupNorm,
  type LayerNormOptions,
  layerNorm,
  type NormalizeOptions,
  normalize,
  type RmsNormOptions,
  rmsNorm,
} from './normalization.js';
export { type FunctionalPadMode, type FunctionalPadOptions, pad } from './pad.js';
export { channelShuffle, pixelShuffle, pixelUnshuffle } from './pixel-shuffle.js';
export {
  type HuberOptions,
  huberLoss,
  type LossOptions,
  l1Loss,
  mseLoss,
  type SmoothL1Options,
  smoothL1Loss,
} from './regression-losses.js';
export { hardshrink, type RReluOptions, rrelu, softshrink, tanhshrink } from './shrink.js';
