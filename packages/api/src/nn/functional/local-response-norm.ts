import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, div, mul, pow } from '../../ops/elementwise.js';
import { pad, slice } from '../../ops/movement.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, floatTensor } from './common.js';

/** Options of localResponseNorm. */
export interface LocalResponseNormOptions {
  /** Default 1e-4. */
  readonly alpha?: number;
  /** Default 0.75. */
  readonly beta?: number;
  /** Default 1. */
  readonly k?: number;
}

// PyTorch: local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0).
const LOCAL_RESPONSE_NORM_SIGNATURE = optionsSignature<LocalResponseNormOptions>(3, { alpha: true, beta: true, k: true });

/**
 * Local response normalization across channels (torch.nn.functional.local_response_norm):
 * `x / (k + alpha * mean(x^2 over the size neighbouring channels))^beta`, the window zero-padded
 * by `floor(size / 2)` channels before and `floor((size - 1) / 2)` after and always divided by
 * `size`, as PyTorch's average pooling does. Input [N, C, ...] with at least 3 axes.
 *
 * @example
 * nn.functional.localResponseNorm(activations, 5, { alpha: 1e-4, beta: 0.75, k: 2 });
 */
export const localResponseNorm = withCheckedOptions(
  'localResponseNorm',
  LOCAL_RESPONSE_NORM_SIGNATURE,
  (input: TensorLike, size: number, options: LocalResponseNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'localResponseNorm';
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
        throw new ValueError(`${op}: size must be a positive integer, got ${JSON.stringify(size)}`);
      }
      const alpha = checkNumber(op, 'alpha', options.alpha ?? 1e-4);
      const beta = checkNumber(op, 'beta', options.beta ?? 0.75);
      const k = checkNumber(op, 'k', options.k ?? 1);
      const x = floatTensor(op, input);
      if (x.ndim < 3) throw new ShapeError(`${op}: input must have at least 3 axes ([N, C, ...]), got ${formatShape(x.shape)}`);
      const channels = x.shape[1] as number;
      const widths = x.shape.map((_, axis) => (axis === 1 ? [Math.floor(size / 2), Math.floor((size - 1) / 2)] : [0, 0])) as [
        number,
        number,
      ][];
      const squares = pad(mul(x, x), widths);
      let total: Tensor | null = null;
      for (let offset = 0; offset < size; offset++) {
        const window = slice(
          squares,
          x.shape.map((_, axis) => (axis === 1 ? offset : 0)),
          x.shape.map((d, axis) => (axis === 1 ? offset + channels : d)),
        );
        total = total === null ? window : add(total, window);
      }
      const scale = pow(add(mul(total as Tensor, alpha / size), k), beta);
      return div(x, scale);
    });
  },
);
