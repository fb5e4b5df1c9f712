/**
 * Ready-made parametrizations (torch.nn.utils.parametrizations), registered with
 * `nn.utils.parametrize.registerParametrization`: weight normalization, spectral normalization and
 * orthogonality.
 *
 * @example
 * const layer = nn.utils.parametrizations.spectralNorm(new nn.Linear(20, 40));
 */

export { Orthogonal, type OrthogonalMap, type OrthogonalOptions, orthogonal } from './orthogonal.js';
export { SpectralNorm, type SpectralNormOptions, spectralNorm } from './spectral-norm.js';
export { WeightNorm, type WeightNormOptions, weightNorm } from './weight-norm.js';
