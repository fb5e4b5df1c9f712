/**
 * torch.nn.utils: variable-length sequences for the recurrent layers (`rnn`), parametrizations of
 * a module's tensors (`parametrize`, and the ready-made `parametrizations`: weight norm, spectral
 * norm, orthogonal), the parameters as one vector, and gradient clipping. See docs/nn.md.
 *
 * @example
 * const packed = nn.utils.rnn.packPaddedSequence(padded, lengths, { enforceSorted: false });
 * nn.utils.parametrizations.weightNorm(layer);
 * nn.utils.clipGradNorm(model.parameters(), 1.0);
 */

export { type ClipGradNormOptions, clipGradNorm, clipGradValue, type GradientHolder } from '../clip-grad.js';
export { parametersToVector, vectorToParameters } from './convert-parameters.js';
export * as parametrizations from './parametrizations/index.js';
export * as parametrize from './parametrize.js';
export * as rnn from './rnn/index.js';
