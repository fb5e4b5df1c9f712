/**
 * Neural networks (torch.nn): `Module` and the layers built on it, their functional forms
 * (`nn.functional`), initializers (`nn.init`), `functionalCall` for differentiating a module with
 * respect to its parameters, and gradient clipping. See docs/nn.md.
 *
 * @example
 * import { nn } from '@flint/api';
 * const model = new nn.Sequential(new nn.Linear(784, 128), new nn.ReLU(), new nn.Linear(128, 10));
 * const loss = nn.functional.crossEntropy(model.forward(images), labels);
 */
export * as functional from './functional/index.js';
export * as init from './init.js';
export { Module, type AnyModule } from './module.js';
export { Parameter } from './parameter.js';
export type { StateDict, LoadStateDictResult } from './state-dict.js';
export { functionalCall } from './functional-call.js';
export { clipGradNorm, clipGradValue, type ClipGradNormOptions, type GradientHolder } from './clip-grad.js';
export type { FactoryOptions } from './layers/common.js';
export { ReLU, ReLU6, Hardtanh, LeakyReLU, GELU, SiLU, ELU, Softplus, Tanh, Sigmoid, Mish, Softmax, LogSoftmax } from './layers/activations.js';
export { Linear, Bilinear, Identity, Flatten, type LinearOptions } from './layers/linear.js';
export { Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, type ConvLayerOptions, type ConvTransposeLayerOptions, type PaddingMode } from './layers/conv.js';
export { MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d } from './layers/pooling.js';
export {
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  GroupNorm,
  RMSNorm,
  type BatchNormOptions,
  type LayerNormLayerOptions,
  type GroupNormLayerOptions,
  type RmsNormLayerOptions,
} from './layers/normalization.js';
export { Dropout } from './layers/dropout.js';
export { Embedding, type EmbeddingLayerOptions } from './layers/embedding.js';
export { MultiheadAttention, type MultiheadAttentionOptions, type MultiheadAttentionForwardOptions } from './layers/attention.js';
export { TransformerEncoderLayer, type TransformerEncoderLayerOptions, type TransformerEncoderForwardOptions } from './layers/transformer.js';
export { LSTM, GRU, type RecurrentOptions } from './layers/recurrent.js';
export { Sequential, ModuleList, ModuleDict, type TensorModule } from './layers/containers.js';
