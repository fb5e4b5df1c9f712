import type { Tensor } from '../../tensor/tensor.js';
import { channelShuffle, pixelShuffle, pixelUnshuffle } from '../functional/pixel-shuffle.js';
import { Module } from '../module.js';
import { positiveInteger } from './common.js';

/**
 * Rearranges [*, C·r², H, W] into [*, C, H·r, W·r] (torch.nn.PixelShuffle), as in sub-pixel
 * convolution upsampling.
 *
 * @example
 * new nn.PixelShuffle(3).forward(zeros([1, 9, 4, 4])).shape; // [1, 1, 12, 12]
 */
export class PixelShuffle extends Module<[Tensor], Tensor> {
  readonly upscaleFactor: number;
  constructor(upscaleFactor: number) {
    super();
    this.upscaleFactor = positiveInteger('PixelShuffle', 'upscaleFactor', upscaleFactor);
  }
  forward(x: Tensor): Tensor {
    return pixelShuffle(x, this.upscaleFactor);
  }
  override extraRepr(): string {
    return `upscaleFactor=${this.upscaleFactor}`;
  }
}

/**
 * The inverse of PixelShuffle (torch.nn.PixelUnshuffle): [*, C, H·r, W·r] into [*, C·r², H, W].
 *
 * @example
 * new nn.PixelUnshuffle(2).forward(zeros([1, 1, 4, 4])).shape; // [1, 4, 2, 2]
 */
export class PixelUnshuffle extends Module<[Tensor], Tensor> {
  readonly downscaleFactor: number;
  constructor(downscaleFactor: number) {
    super();
    this.downscaleFactor = positiveInteger('PixelUnshuffle', 'downscaleFactor', downscaleFactor);
  }
  forward(x: Tensor): Tensor {
    return pixelUnshuffle(x, this.downscaleFactor);
  }
  override extraRepr(): string {
    return `downscaleFactor=${this.downscaleFactor}`;
  }
}

/**
 * Shuffles the channels of [N, C, *] across `groups` (torch.nn.ChannelShuffle, from ShuffleNet).
 *
 * @example
 * new nn.ChannelShuffle(2).forward(features);
 */
export class ChannelShuffle extends Module<[Tensor], Tensor> {
  readonly groups: number;
  constructor(groups: number) {
    super();
    this.groups = positiveInteger('ChannelShuffle', 'groups', groups);
  }
  forward(x: Tensor): Tensor {
    return channelShuffle(x, this.groups);
  }
  override extraRepr(): string {
    return `groups=${this.groups}`;
  }
}
