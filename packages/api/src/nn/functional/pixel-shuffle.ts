import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { type TensorLike, toTensor } from '../../ops/convert.js';
import { reshape, transpose } from '../../ops/movement.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';

// Pixel and channel shuffles as PyTorch's: a reshape that splits the factors out of the channels
// (or the spatial axes), a transpose that interleaves them, and a reshape that merges them back. Movement
// ops only, so they are exact and differentiable everywhere, and free views where the backend has
// them.

function checkFactor(op: string, what: string, factor: unknown): number {
  if (typeof factor !== 'number' || !Number.isInteger(factor) || factor < 1) {
    throw new ValueError(`${op}: ${what} must be a positive integer, got ${JSON.stringify(factor)}`);
  }
  return factor;
}

/**
 * Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (torch.nn.functional.pixel_shuffle): output
 * pixel (h·r + i, w·r + j) of channel c is input channel c·r² + i·r + j at (h, w). The
 * sub-pixel convolution's upsampling step.
 *
 * @example
 * nn.functional.pixelShuffle(zeros([1, 12, 8, 8]), 2).shape; // [1, 3, 16, 16]
 */
export function pixelShuffle(input: TensorLike, upscaleFactor: number): Tensor {
  const op = 'pixelShuffle';
  const r = checkFactor(op, 'upscaleFactor', upscaleFactor);
  return tidy(() => {
    const x = toTensor(op, input);
    if (x.ndim < 3) throw new ShapeError(`${op}: input must have at least 3 dimensions [*, C, H, W], got ${formatShape(x.shape)}`);
    const [c, h, w] = x.shape.slice(-3) as [number, number, number];
    if (c % (r * r) !== 0) {
      throw new ShapeError(`${op}: the channels (${c}) of input ${formatShape(x.shape)} must be divisible by upscaleFactor² (${r * r})`);
    }
    const batch = x.shape.slice(0, -3);
    const b = batch.length;
    const split = reshape(x, [...batch, c / (r * r), r, r, h, w]);
    // [*, C, r_i, r_j, H, W] -> [*, C, H, r_i, W, r_j]
    const perm = [...batch.map((_, i) => i), b, b + 3, b + 1, b + 4, b + 2];
    return reshape(transpose(split, perm), [...batch, c / (r * r), h * r, w * r]);
  });
}

/**
 * The inverse of `pixelShuffle` (torch.nn.functional.pixel_unshuffle): [*, C, H·r, W·r] into
 * [*, C·r², H, W].
 *
 * @example
 * nn.functional.pixelUnshuffle(zeros([1, 3, 16, 16]), 2).shape; // [1, 12, 8, 8]
 */
export function pixelUnshuffle(input: TensorLike, downscaleFactor: number): Tensor {
  const op = 'pixelUnshuffle';
  const r = checkFactor(op, 'downscaleFactor', downscaleFactor);
  return tidy(() => {
    const x = toTensor(op, input);
    if (x.ndim < 3) throw new ShapeError(`${op}: input must have at least 3 dimensions [*, C, H, W], got ${formatShape(x.shape)}`);
    const [c, h, w] = x.shape.slice(-3) as [number, number, number];
    if (h % r !== 0 || w % r !== 0) {
      throw new ShapeError(
        `${op}: the height (${h}) and width (${w}) of input ${formatShape(x.shape)} must be divisible by downscaleFactor (${r})`,
      );
    }
    const batch = x.shape.slice(0, -3);
    const b = batch.length;
    const split = reshape(x, [...batch, c, h / r, r, w / r, r]);
    // [*, C, H, r_i, W, r_j] -> [*, C, r_i, r_j, H, W]
    const perm = [...batch.map((_, i) => i), b, b + 2, b + 4, b + 1, b + 3];
    return reshape(transpose(split, perm), [...batch, c * r * r, h / r, w / r]);
  });
}

/**
 * Shuffles the channels of [N, C, *] across `groups` (torch.nn.functional.channel_shuffle, from
 * ShuffleNet): the channels, seen as [groups, C / groups], are transposed, so that channel
 * g·(C/groups) + k moves to k·groups + g.
 *
 * @example
 * nn.functional.channelShuffle(features, 2); // [N, 6, H, W]: channels 0 3 1 4 2 5
 */
export function channelShuffle(input: TensorLike, groups: number): Tensor {
  const op = 'channelShuffle';
  const g = checkFactor(op, 'groups', groups);
  return tidy(() => {
    const x = toTensor(op, input);
    if (x.ndim < 3) throw new ShapeError(`${op}: input must have at least 3 dimensions [N, C, *], got ${formatShape(x.shape)}`);
    const [n, c] = x.shape as [number, number];
    if (c % g !== 0) throw new ShapeError(`${op}: the channels (${c}) of input ${formatShape(x.shape)} must be divisible by groups (${g})`);
    const spatial = x.shape.slice(2);
    const split = reshape(x, [n, g, c / g, ...spatial]);
    return reshape(transpose(split, 1, 2), x.shape);
  });
}
