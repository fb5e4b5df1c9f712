import { ValueError } from '../../core/errors.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type InterpolateMode, type InterpolateOptions, interpolate } from '../functional/interpolate.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// Upsampling layers over nn.functional.interpolate, as torch.nn.Upsample and its two fixed-mode
// relatives (which PyTorch keeps for old code: nearest, and bilinear with alignCorners true).

/** Options of `nn.Upsample`: interpolate's but `antialias` (as torch.nn.Upsample), one of `size` and `scaleFactor` required. */
export type UpsampleOptions = Omit<InterpolateOptions, 'antialias'>;

/** Options of `nn.UpsamplingNearest2d` and `nn.UpsamplingBilinear2d`. */
export interface FixedUpsampleOptions {
  readonly size?: number | readonly number[];
  readonly scaleFactor?: number | readonly number[];
}

function describe(options: UpsampleOptions, mode: InterpolateMode): string {
  const parts = [
    options.size === undefined ? `scaleFactor=${formatArgument(options.scaleFactor)}` : `size=${formatArgument(options.size)}`,
    `mode='${mode}'`,
  ];
  if (options.alignCorners !== undefined) parts.push(`alignCorners=${options.alignCorners}`);
  return parts.join(', ');
}

function checkSizeOrScale(layer: string, options: FixedUpsampleOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new ValueError(`${layer}: takes an options object { size } or { scaleFactor }, got ${JSON.stringify(options)}`);
  }
  if ((options.size === undefined) === (options.scaleFactor === undefined)) {
    throw new ValueError(`${layer}: give exactly one of size and scaleFactor`);
  }
}

/**
 * Upsamples the spatial dimensions of [N, C, L], [N, C, H, W] or [N, C, D, H, W] inputs
 * (torch.nn.Upsample): `nn.functional.interpolate` with the layer's options.
 *
 * @example
 * new nn.Upsample({ scaleFactor: 2 });                                        // nearest
 * new nn.Upsample({ size: [64, 64], mode: 'bilinear', alignCorners: false });
 * new nn.Upsample({ scaleFactor: 2, mode: 'bicubic' });                       // also 'area', 'trilinear', ...
 */
export class Upsample extends Module<[Tensor], Tensor> {
  readonly options: UpsampleOptions;

  constructor(options: UpsampleOptions) {
    super();
    checkSizeOrScale(this.constructor.name, options);
    this.options = { ...options };
  }

  forward(x: Tensor): Tensor {
    return interpolate(x, this.options);
  }

  override extraRepr(): string {
    return describe(this.options, this.options.mode ?? 'nearest');
  }
}

/**
 * 2-d nearest-neighbour upsampling of [N, C, H, W] (torch.nn.UpsamplingNearest2d):
 * `interpolate` with mode 'nearest'.
 *
 * @example
 * new nn.UpsamplingNearest2d({ scaleFactor: 2 });
 */
export class UpsamplingNearest2d extends Upsample {
  constructor(options: FixedUpsampleOptions) {
    checkSizeOrScale('UpsamplingNearest2d', options);
    super({ ...pick(options), mode: 'nearest' });
  }
}

/**
 * 2-d bilinear upsampling of [N, C, H, W] with the corners' centres aligned
 * (torch.nn.UpsamplingBilinear2d): `interpolate` with mode 'bilinear' and alignCorners true.
 *
 * @example
 * new nn.UpsamplingBilinear2d({ scaleFactor: 2 });
 */
export class UpsamplingBilinear2d extends Upsample {
  constructor(options: FixedUpsampleOptions) {
    checkSizeOrScale('UpsamplingBilinear2d', options);
    super({ ...pick(options), mode: 'bilinear', alignCorners: true });
  }
}

function pick(options: FixedUpsampleOptions): FixedUpsampleOptions {
  return {
    ...(options.size === undefined ? {} : { size: options.size }),
    ...(options.scaleFactor === undefined ? {} : { scaleFactor: options.scaleFactor }),
  };
}
