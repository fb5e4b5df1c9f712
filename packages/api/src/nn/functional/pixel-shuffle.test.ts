import '@flint/backend-cpu';
import { arange, grad, ShapeError, type Tensor, ValueError, zeros } from '@flint/api';
import { describe, expect, it } from 'vitest';
import * as nn from '../index.js';

const F = nn.functional;
const values = (t: Tensor): number[] => Array.from(t.dataSync() as Float32Array);

describe('pixelShuffle and pixelUnshuffle (torch.nn.functional.pixel_shuffle / pixel_unshuffle)', () => {
  // Channel k holds 4k + 2h + w; output (2h + i, 2w + j) reads channel 2i + j at (h, w).
  const x = arange(16, { dtype: 'float32' }).reshape([1, 4, 2, 2]);
  const shuffled = [0, 4, 1, 5, 8, 12, 9, 13, 2, 6, 3, 7, 10, 14, 11, 15];

  it('interleave the channels into the pixels as PyTorch', () => {
    const y = F.pixelShuffle(x, 2);
    expect(y.shape).toEqual([1, 1, 4, 4]);
    expect(values(y)).toEqual(shuffled);
    const back = F.pixelUnshuffle(y, 2);
    expect(back.shape).toEqual([1, 4, 2, 2]);
    expect(values(back)).toEqual(values(x));
  });

  it('keep any number of leading dimensions, and the rest of the channels in order', () => {
    const many = arange(2 * 3 * 8 * 2 * 3, { dtype: 'float32' }).reshape([2, 3, 8, 2, 3]);
    const y = F.pixelShuffle(many, 2);
    expect(y.shape).toEqual([2, 3, 2, 4, 6]);
    // Channel 1 of the output is input channels 4..7.
    expect(values(y.index(1, 2, 1))).toEqual(
      values(F.pixelShuffle(many.index(1, 2).index({ start: 4, stop: 8 }).reshape([4, 2, 3]), 2).index(0)),
    );
    expect(values(F.pixelUnshuffle(y, 2))).toEqual(values(many));
    expect(F.pixelUnshuffle(zeros([3, 6, 9]), 3).shape).toEqual([27, 2, 3]);
  });

  it('are differentiable: the gradient is the inverse rearrangement of the cotangent', () => {
    const weights = arange(16, { dtype: 'float32' }).reshape([1, 1, 4, 4]);
    const g = grad((t: Tensor) => F.pixelShuffle(t, 2).mul(weights).sum())(zeros([1, 4, 2, 2]));
    expect(values(g)).toEqual(values(F.pixelUnshuffle(weights, 2)));
  });

  it('refuse shapes they cannot rearrange, naming the op and the shape', () => {
    expect(() => F.pixelShuffle(zeros([1, 3, 2, 2]), 2)).toThrow(ShapeError);
    expect(() => F.pixelShuffle(zeros([1, 3, 2, 2]), 2)).toThrow(
      'pixelShuffle: the channels (3) of input [1, 3, 2, 2] must be divisible by upscaleFactor² (4)',
    );
    expect(() => F.pixelUnshuffle(zeros([1, 1, 4, 3]), 2)).toThrow(
      'pixelUnshuffle: the height (4) and width (3) of input [1, 1, 4, 3] must be divisible by downscaleFactor (2)',
    );
    expect(() => F.pixelShuffle(zeros([4, 2]), 2)).toThrow('pixelShuffle: input must have at least 3 dimensions [*, C, H, W], got [4, 2]');
    expect(() => F.pixelShuffle(x, 0)).toThrow(ValueError);
    expect(() => F.pixelShuffle(x, 1.5)).toThrow('pixelShuffle: upscaleFactor must be a positive integer, got 1.5');
  });
});

describe('nn.PixelShuffle, nn.PixelUnshuffle, nn.Unflatten', () => {
  const x = arange(16, { dtype: 'float32' }).reshape([1, 4, 2, 2]);

  it('equal their functional forms and print as PyTorch', () => {
    const shuffle = new nn.PixelShuffle(2);
    expect(values(shuffle.forward(x))).toEqual(values(F.pixelShuffle(x, 2)));
    expect(values(new nn.PixelUnshuffle(2).forward(shuffle.forward(x)))).toEqual(values(x));
    expect(shuffle.toString()).toBe('PixelShuffle(upscaleFactor=2)');
    expect(new nn.PixelUnshuffle(3).toString()).toBe('PixelUnshuffle(downscaleFactor=3)');
    expect(() => new nn.PixelShuffle(0)).toThrow('PixelShuffle: upscaleFactor must be a positive integer, got 0');
  });

  it('Unflatten splits one axis, inverting Flatten', () => {
    const flat = new nn.Flatten().forward(x);
    const unflatten = new nn.Unflatten(1, [4, 2, 2]);
    expect(values(unflatten.forward(flat))).toEqual(values(x));
    expect(unflatten.forward(flat).shape).toEqual([1, 4, 2, 2]);
    expect(new nn.Unflatten(-1, [2, -1]).forward(zeros([3, 8])).shape).toEqual([3, 2, 4]);
    expect(unflatten.toString()).toBe('Unflatten(dim=1, unflattenedSize=(4, 2, 2))');
    expect(() => new nn.Unflatten(1, [3, 3]).forward(flat)).toThrow(ShapeError);
  });
});
