import { isFloating } from '../../core/dtype.js';
import { ShapeError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { TensorLike } from '../../ops/convert.js';
import { add, less, mul, where } from '../../ops/elementwise.js';
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

// PyTorch: dropout1d(input, p, training, inplace), and the same for 2d, 3d and alpha_dropout.
const CHANNEL_DROPOUT_SIGNATURE = DROPOUT_SIGNATURE;

/**
 * Channel dropout: one keep decision per channel, shared by all its positions. The mask spans
 * the batch and channel axes of a batched input and the channel axis of an unbatched one, as
 * PyTorch's feature_dropout; dropout2d takes a 3-d input as batched [N, C, L], as PyTorch does.
 */
function channelDropout(op: string, spatial: number, input: TensorLike, p: number, options: DropoutOptions): Tensor {
  return tidy(() => {
    checkNumber(op, 'p', p, { min: 0, max: 1 });
    const x = floatTensor(op, input);
    const batchedRank = spatial + 2;
    if (x.ndim !== batchedRank && x.ndim !== batchedRank - 1) {
      const unbatched = spatial === 2 ? '[N, C, L]' : `${batchedRank - 1}-d (unbatched)`;
      throw new ShapeError(
        `${op}: input must be ${batchedRank}-d (batched) or ${unbatched}, with ${spatial} spatial dimension${spatial === 1 ? '' : 's'} after the channels; got ${formatShape(x.shape)}`,
      );
    }
    if (options.training === false || p === 0) return x;
    if (p === 1) return where(false, x, 0);
    const maskAxes = x.ndim === batchedRank || spatial === 2 ? 2 : 1;
    const maskShape = x.shape.map((d, i) => (i < maskAxes ? d : 1));
    const mask = keepMask(x, maskShape, 1 - p, options.key);
    return where(mask, mul(x, 1 / (1 - p)), 0);
  });
}

/**
 * Zeroes whole channels of [N, C, L] or [C, L] with probability `p` (default 0.5) and scales the
 * others by `1 / (1 - p)` (torch.nn.functional.dropout1d); the identity when not training.
 *
 * @example
 * nn.functional.dropout1d(sequences, 0.2);
 */
export const dropout1d = withCheckedOptions(
  'dropout1d',
  CHANNEL_DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor => channelDropout('dropout1d', 1, input, p, options),
);

/**
 * Zeroes whole channels of [N, C, H, W] (or [N, C, L], as PyTorch) with probability `p` and
 * scales the others by `1 / (1 - p)` (torch.nn.functional.dropout2d, "spatial dropout").
 *
 * @example
 * nn.functional.dropout2d(features, 0.1, { key });
 */
export const dropout2d = withCheckedOptions(
  'dropout2d',
  CHANNEL_DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor => channelDropout('dropout2d', 2, input, p, options),
);

/**
 * Zeroes whole channels of [N, C, D, H, W] or [C, D, H, W] with probability `p` and scales the
 * others by `1 / (1 - p)` (torch.nn.functional.dropout3d).
 *
 * @example
 * nn.functional.dropout3d(volumes, 0.1);
 */
export const dropout3d = withCheckedOptions(
  'dropout3d',
  CHANNEL_DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor => channelDropout('dropout3d', 3, input, p, options),
);

/** -SELU's scale · alpha: the value SELU saturates to, which alpha dropout drops to. */
const SELU_SATURATION = 1.7580993408473766;

/**
 * Alpha dropout (torch.nn.functional.alpha_dropout), for SELU networks: each element is dropped
 * with probability `p` to SELU's saturation value `-α'` (α' = 1.7581), then the result is
 * transformed affinely (`a · y + b`, a = ((1 - p)(1 + p·α'²))^(-1/2), b = a·α'·p) so that a
 * zero-mean, unit-variance input keeps its mean and variance. As PyTorch's functional form, it
 * is the identity unless `training: true` is given; `nn.AlphaDropout` passes its mode.
 *
 * @example
 * nn.functional.alphaDropout(x, 0.1, { training: true });
 */
export const alphaDropout = withCheckedOptions(
  'alphaDropout',
  DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor =>
    selfNormalizingDropout('alphaDropout', input, p, options, (x) => x.shape),
);

/**
 * Alpha dropout of whole channels (torch.nn.functional.feature_alpha_dropout): one keep decision
 * per (batch, channel) pair of [N, C, *], shared by the channel's positions, with alphaDropout's
 * saturation value and affine correction. The identity unless `training: true` is given;
 * `nn.FeatureAlphaDropout` passes its mode.
 *
 * @example
 * nn.functional.featureAlphaDropout(features, 0.2, { training: true });
 */
export const featureAlphaDropout = withCheckedOptions(
  'featureAlphaDropout',
  DROPOUT_SIGNATURE,
  (input: TensorLike, p: number = 0.5, options: DropoutOptions = {}): Tensor =>
    selfNormalizingDropout('featureAlphaDropout', input, p, options, (x) => {
      if (x.ndim < 2) throw new ShapeError(`featureAlphaDropout: input must be [N, C, *] (at least 2-d), got ${formatShape(x.shape)}`);
      return x.shape.map((d, i) => (i < 2 ? d : 1));
    }),
);

/** Alpha dropout with one keep decision per element of `maskShape(x)` (broadcast over x). */
function selfNormalizingDropout(
  op: string,
  input: TensorLike,
  p: number,
  options: DropoutOptions,
  maskShape: (x: Tensor) => readonly number[],
): Tensor {
  return tidy(() => {
    checkNumber(op, 'p', p, { min: 0, max: 1 });
    const x = floatTensor(op, input);
    const shape = maskShape(x);
    if (options.training !== true || p === 0) return x;
    if (p === 1) return where(false, x, 0);
    const a = 1 / Math.sqrt((SELU_SATURATION * SELU_SATURATION * p + 1) * (1 - p));
    const mask = keepMask(x, shape, 1 - p, options.key);
    // PyTorch: input * (mask · a) + ((mask - 1) · α' · a + α' · a · p).
    return where(mask, add(mul(x, a), SELU_SATURATION * a * p), SELU_SATURATION * a * (p - 1));
  });
}
