import { noGrad } from '../../../autograd/grad-mode.js';
import { ValueError } from '../../../core/errors.js';
import { normalizeAxis } from '../../../core/shape.js';
import { div, mul } from '../../../ops/elementwise.js';
import { matmul } from '../../../ops/linalg.js';
import { moveaxis, reshape, transpose } from '../../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../../ops/options-argument.js';
import { sum } from '../../../ops/reduce.js';
import { randn } from '../../../random/generator.js';
import { tidy } from '../../../tensor/memory.js';
import type { Tensor } from '../../../tensor/tensor.js';
import { stopGradient } from '../../functional/common.js';
import { normalize } from '../../functional/normalization.js';
import { ConvTranspose1d, ConvTranspose2d, ConvTranspose3d } from '../../layers/conv.js';
import { backendOption } from '../../layers/recurrent-cells.js';
import { type AnyModule, Module } from '../../module.js';
import { registerParametrization } from '../parametrize.js';
import { currentValue } from './current-value.js';

// Spectral normalization (torch.nn.utils.parametrizations.spectral_norm; Miyato et al., 2018):
// w / σ(w), σ the largest singular value of the weight seen as a matrix [size of `axis`, rest],
// estimated by power iteration. The singular vectors' estimates u and v are buffers '_u' and '_v'
// (torch's names, so torch's state dicts load); in training mode every forward refines them by
// `nPowerIterations` steps, outside the gradient (torch runs them under no_grad), as BatchNorm
// updates its running statistics.

/** Options of spectralNorm. */
export interface SpectralNormOptions {
  /** The parameter to parametrize (default 'weight'). */
  readonly name?: string;
  /** Power-iteration steps per training-mode forward (default 1). */
  readonly nPowerIterations?: number;
  /** Lower bound of the norms divided by (default 1e-12). */
  readonly eps?: number;
  /** The axis that becomes the matrix's rows (default 0; 1 for the transposed convolutions). */
  readonly axis?: number;
}

/** The spectral-norm parametrization: forward(w) = w / σ(w), with σ from the power iteration's u and v. */
export class SpectralNorm extends Module<[Tensor], Tensor> {
  readonly axis: number;
  readonly eps: number;
  readonly nPowerIterations: number;

  /** `weight` gives the matrix's shape and the vectors' dtype and backend; u and v start random, refined by 15 steps. */
  constructor(weight: Tensor, nPowerIterations = 1, axis = 0, eps = 1e-12) {
    super();
    const op = 'spectralNorm';
    if (!Number.isInteger(nPowerIterations) || nPowerIterations <= 0) {
      throw new ValueError(`${op}: nPowerIterations must be a positive integer, got ${String(nPowerIterations)}`);
    }
    if (typeof eps !== 'number' || !(eps >= 0)) throw new ValueError(`${op}: eps must be a non-negative number, got ${String(eps)}`);
    this.axis = normalizeAxis(op, axis, Math.max(weight.ndim, 1));
    this.eps = eps;
    this.nPowerIterations = nPowerIterations;
    if (weight.ndim > 1) {
      const [rows, columns] = this.#matrix(weight).shape as [number, number];
      const options = { dtype: weight.dtype, ...backendOption(weight) };
      this.registerBuffer(
        '_u',
        tidy(() => normalize(randn([rows], options), { axis: 0, eps })),
      );
      this.registerBuffer(
        '_v',
        tidy(() => normalize(randn([columns], options), { axis: 0, eps })),
      );
      this.#powerMethod(
        noGrad(() => this.#matrix(weight)),
        15,
      );
    }
  }

  forward(weight: Tensor): Tensor {
    // A vector's spectral norm is its norm: no estimate needed.
    if (weight.ndim === 1) return normalize(weight, { axis: 0, eps: this.eps });
    const matrix = this.#matrix(weight);
    if (this.training) this.#powerMethod(stopGradient(matrix), this.nPowerIterations);
    const u = this.getBuffer('_u');
    const v = this.getBuffer('_v');
    const sigma = sum(mul(u, matmul(matrix, v)));
    return div(weight, sigma);
  }

  /** torch's right_inverse: the weight itself (the constraint is not enforced on assignment). */
  rightInverse(value: Tensor): Tensor {
    return value;
  }

  /** The weight as a matrix: `axis` first, the other axes flattened. */
  #matrix(weight: Tensor): Tensor {
    const moved = this.axis === 0 ? weight : moveaxis(weight, this.axis, 0);
    return reshape(moved, [moved.shape[0] as number, -1]);
  }

  /** `steps` power-iteration steps on u and v, without gradient: u ← normalize(W v), v ← normalize(Wᵀ u). */
  #powerMethod(matrix: Tensor, steps: number): void {
    const [u, v] = noGrad(() =>
      tidy(() => {
        let u = this.getBuffer('_u');
        let v = this.getBuffer('_v');
        const transposed = transpose(matrix);
        for (let i = 0; i < steps; i++) {
          u = normalize(matmul(matrix, v), { axis: 0, eps: this.eps });
          v = normalize(matmul(transposed, u), { axis: 0, eps: this.eps });
        }
        return [u, v];
      }),
    );
    this.setBuffer('_u', u);
    this.setBuffer('_v', v);
  }

  override extraRepr(): string {
    return `axis=${this.axis}, eps=${this.eps}, nPowerIterations=${this.nPowerIterations}`;
  }
}

/**
 * Applies spectral normalization to `module`'s parameter `name` (torch's
 * parametrizations.spectral_norm): `weight = w / σ(w)`, σ estimated by power iteration from the
 * buffers `parametrizations.weight.0._u` and `_v`, which each training-mode forward refines
 * (evaluation mode uses them as they are). Returns the module.
 *
 * @example
 * const critic = nn.utils.parametrizations.spectralNorm(new nn.Linear(20, 40));
 */
export const spectralNorm = withCheckedOptions(
  'spectralNorm',
  optionsSignature<SpectralNormOptions>(2, { name: true, nPowerIterations: true, eps: true, axis: true }),
  <M extends AnyModule>(module: M, options: SpectralNormOptions = {}): M => {
    const name = options.name ?? 'weight';
    const weight = currentValue('spectralNorm', module, name);
    const transposedConv = module instanceof ConvTranspose1d || module instanceof ConvTranspose2d || module instanceof ConvTranspose3d;
    const axis = options.axis ?? (transposedConv ? 1 : 0);
    return registerParametrization(module, name, new SpectralNorm(weight, options.nPowerIterations ?? 1, axis, options.eps ?? 1e-12));
  },
);
