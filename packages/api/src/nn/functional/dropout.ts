import { isFloating } from '../../core/dtype.js';
import type { TensorLike } from '../../ops/convert.js';
import { less, mul, where } from '../../ops/elementwise.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { bernoulli } from '../../random/distributions.js';
import { rand } from '../../random/generator.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { backendOf } from '../../transforms/core.js';
import { checkNumber, floatTensor } from './common.js';

/** Options of dropout. */
export interface DropoutOptions {
  /** Drop only while training (default true); otherwise the input passes unchanged. */
  readonly training?: boolean;
  /**
   * A random key (from `random.key` / `random.split`) for the mask. Without one, the global
   * generator (`manualSeed`) draws it, as in PyTorch; under `jit` and `compile` the generator's
   * state is threaded through the compiled program, so each call draws a fresh mask.
   */
  readonly key?: Tensor;
}

// PyTorch: dropout(input, p, training, inplace).
const DROPOUT_SIGNATURE = optionsSignature<DropoutOptions>(3, { training: true, key: true }, ['training', 'inplace']);

/** A boolean mask of `shape` that is true with probability `keep`. */
export function keepMask(like: Tensor, shape: readonly number[], keep: number, key: Tensor | undefined): Tensor {
  if (key !== undefined) return bernoulli(key, keep, shape);
  const backend = backendOf(like)?.name;
  const dtype = isFloating(like.dtype) ? like.dtype : 'float32';
  return less(rand(shape, { dtype, ...(backend === undefined ? {} : { backend }) }), keep);
}

/**
 * Zeroes each element with probability `p` (default 0.5) and scales the rest by `1 / (1 - p)`, so
 * the expected value is unchanged (inverted dropout, torch.nn.functional.dropout).
 *
 * @example
 * nn.functional.dropout(x, 0.1);                               // global generator
 * nn.functional.dropout(x, 0.1, { key: random.foldIn(k, step) });
 * nn.functional.dropout(x, 0.1, { training: false });          // x itself
 */
export const dropout = withCheckedOptions(
  'dropout',
  DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'dropout';
      checkNumber(op, 'p', p, { min: 0, max: 1 });
      const x = floatTensor(op, input);
      if (options.training === false || p === 0) return x;
      if (p === 1) return where(false, x, 0);
      const mask = keepMask(x, x.shape, 1 - p, options.key);
      return where(mask, mul(x, 1 / (1 - p)), 0);
    });
  },
);
