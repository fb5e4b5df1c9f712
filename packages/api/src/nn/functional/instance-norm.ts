import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { TensorLike } from '../../ops/convert.js';
import { optionsSignature, withCheckedOptions } from '../../ops/options-argument.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, floatTensor } from './common.js';
import { batchNorm, groupNorm } from './normalization.js';

// Instance normalization is group normalization with one group per channel (each sample's
// channel normalized over its spatial positions), and with given statistics it is batch
// normalization in inference mode; both are written once in normalization.ts. Here are only
// PyTorch's argument conventions and checks, with errors naming instanceNorm.

/** Options of `instanceNorm` (torch.nn.functional.instance_norm's, camelCased). */
export interface InstanceNormOptions {
  /** Per-channel mean, shape [C]: used when `useInputStats` is false. */
  readonly runningMean?: Tensor | null;
  /** Per-channel variance, shape [C]: used when `useInputStats` is false. */
  readonly runningVar?: Tensor | null;
  /** Scale per channel, shape [C]. */
  readonly weight?: Tensor | null;
  /** Shift per channel, shape [C]. */
  readonly bias?: Tensor | null;
  /** Normalize each instance by its own statistics (default true), or by `runningMean` and `runningVar`. */
  readonly useInputStats?: boolean;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

// PyTorch: instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps).
const INSTANCE_NORM_SIGNATURE = optionsSignature<InstanceNormOptions>(
  2,
  { runningMean: true, runningVar: true, weight: true, bias: true, useInputStats: true, eps: true },
  ['runningMean', 'runningVar', 'weight', 'bias', 'useInputStats', 'momentum', 'eps'],
);

function checkChannelVector(op: string, what: string, v: Tensor | null | undefined, channels: number): Tensor | null {
  if (v === undefined || v === null) return null;
  if (v.ndim !== 1 || v.shape[0] !== channels) {
    throw new ShapeError(`${op}: ${what} must have shape [${channels}] (the channels of the input), got ${formatShape(v.shape)}`);
  }
  return v;
}

/**
 * Instance normalization (torch.nn.functional.instance_norm): each channel of each sample of an
 * [N, C, ...] input normalized by the mean and biased variance over its spatial positions, then
 * scaled by `weight` and shifted by `bias` per channel. With `useInputStats: false`, normalizes
 * by the given `runningMean` and `runningVar` instead. Never changes running statistics
 * (`nn.InstanceNorm1d/2d/3d` update their own).
 *
 * @example
 * nn.functional.instanceNorm(images);                          // [N, C, H, W]
 * nn.functional.instanceNorm(images, { weight, bias, eps: 1e-3 });
 */
export const instanceNorm = withCheckedOptions(
  'instanceNorm',
  INSTANCE_NORM_SIGNATURE,
  (input: TensorLike, options: InstanceNormOptions = {}): Tensor => {
    return tidy(() => {
      const op = 'instanceNorm';
      const x = floatTensor(op, input);
      if (x.ndim < 3)
        throw new ShapeError(`${op}: input must be [N, C, ...] with at least one spatial dimension, got ${formatShape(x.shape)}`);
      const channels = x.shape[1] as number;
      const eps = checkNumber(op, 'eps', options.eps ?? 1e-5, { min: 0 });
      const weight = checkChannelVector(op, 'weight', options.weight, channels);
      const bias = checkChannelVector(op, 'bias', options.bias, channels);
      if (options.useInputStats === false) {
        const runningMean = checkChannelVector(op, 'runningMean', options.runningMean, channels);
        const runningVar = checkChannelVector(op, 'runningVar', options.runningVar, channels);
        if (runningMean === null || runningVar === null) {
          throw new ValueError(`${op}: runningMean and runningVar are needed when useInputStats is false`);
        }
        return batchNorm(x, runningMean, runningVar, { weight, bias, eps });
      }
      const spatial = x.shape.slice(2).reduce((a, b) => a * b, 1);
      // As PyTorch: one spatial element has variance 0 and normalizes to 0, surely a mistake.
      if (spatial <= 1) {
        throw new ValueError(
          `${op}: expected more than 1 spatial element when using input statistics, got input of shape ${formatShape(x.shape)}`,
        );
      }
      if (channels === 0) return x;
      return groupNorm(x, channels, { weight, bias, eps });
    });
  },
);
