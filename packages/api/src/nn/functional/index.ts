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
  relu,
  relu6,
  hardtanh,
  leakyRelu,
  gelu,
  silu,
  elu,
  softplus,
  logSigmoid,
  tanh,
  sigmoid,
  mish,
  softmax,
  logSoftmax,
  type GeluApproximation,
} from './activations.js';
export { mseLoss, l1Loss, smoothL1Loss, huberLoss, type LossOptions, type SmoothL1Options, type HuberOptions } from './regression-losses.js';
export { nllLoss, crossEntropy, type NllLossOptions, type CrossEntropyOptions } from './classification-losses.js';
export { binaryCrossEntropy, binaryCrossEntropyWithLogits, type BinaryCrossEntropyOptions, type BinaryCrossEntropyWithLogitsOptions } from './binary-losses.js';
export { klDiv, cosineEmbeddingLoss, marginRankingLoss, type KlDivOptions, type CosineEmbeddingOptions, type MarginRankingOptions } from './comparison-losses.js';
export {
  batchNorm,
  layerNorm,
  groupNorm,
  rmsNorm,
  normalize,
  type BatchNormOptions,
  type LayerNormOptions,
  type GroupNormOptions,
  type RmsNormOptions,
  type NormalizeOptions,
} from './normalization.js';
export { dropout, type DropoutOptions } from './dropout.js';
export { linear, bilinear } from './linear.js';
export { embedding, type EmbeddingOptions } from './embedding.js';
export {
  scaledDotProductAttention,
  multiHeadAttention,
  type ScaledDotProductAttentionOptions,
  type MultiHeadAttentionWeights,
  type MultiHeadAttentionOptions,
} from './attention.js';
export type { Reduction } from './common.js';
export {
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  type ConvOptions,
  type ConvTransposeOptions,
  type MaxPoolOptions,
  type AvgPoolOptions,
} from '../../ops/conv.js';
export { oneHot } from '../../ops/indexing.js';
export { pad } from '../../ops/movement.js';
