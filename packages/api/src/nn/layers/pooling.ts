import {
  type AdaptiveOutputSize,
  adaptiveAvgPool1d,
  adaptiveAvgPool2d,
  adaptiveAvgPool3d,
  adaptiveMaxPool1d,
  adaptiveMaxPool2d,
  adaptiveMaxPool3d,
} from '../../ops/adaptive-pool.js';
import {
  type AvgPoolOptions,
  avgPool1d,
  avgPool2d,
  avgPool3d,
  type MaxPoolOptions,
  type MaxPoolWithIndices,
  maxPool1d,
  maxPool2d,
  maxPool3d,
  type SpatialArg,
} from '../../ops/conv.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// Pooling layers over the functional pools (channels first, batched or not).

function describe(kernelSize: SpatialArg, options: MaxPoolOptions & AvgPoolOptions): string {
  const parts = [
    `kernelSize=${formatArgument(kernelSize)}`,
    `stride=${formatArgument(options.stride ?? kernelSize)}`,
    `padding=${formatArgument(options.padding ?? 0)}`,
  ];
  if (options.dilation !== undefined) parts.push(`dilation=${formatArgument(options.dilation)}`);
  if (options.ceilMode === true) parts.push('ceilMode=true');
  if (options.countIncludePad === false) parts.push('countIncludePad=false');
  if (options.returnIndices === true) parts.push('returnIndices=true');
  return parts.join(', ');
}

/** A max pooling layer's output: `{ values, indices }` when built with `returnIndices: true`, else a Tensor. */
export type MaxPoolOutput<R extends boolean> = R extends true ? MaxPoolWithIndices : Tensor;

/**
 * A max pooling layer whose forward returns `{ values, indices }` when its options say
 * `returnIndices: true` (`R`), else a Tensor: the max pools here and the fractional ones.
 */
export abstract class IndexingPool<R extends boolean, O extends { readonly returnIndices?: R }> extends Module<[Tensor], MaxPoolOutput<R>> {
  constructor(
    readonly kernelSize: SpatialArg,
    readonly options: O,
  ) {
    super();
  }
  protected abstract pool(x: Tensor): Tensor | MaxPoolWithIndices;
  forward(x: Tensor): MaxPoolOutput<R> {
    return this.pool(x) as MaxPoolOutput<R>;
  }
}

/** Max pooling over n spatial axes. */
abstract class MaxPoolNd<R extends boolean> extends IndexingPool<R, MaxPoolOptions & { readonly returnIndices?: R }> {
  constructor(kernelSize: SpatialArg, options: MaxPoolOptions & { readonly returnIndices?: R } = {}) {
    super(kernelSize, options);
  }
  override extraRepr(): string {
    return describe(this.kernelSize, this.options);
  }
}

/**
 * 1-d max pooling (torch.nn.MaxPool1d); the stride defaults to the kernel size.
 *
 * @example
 * new nn.MaxPool1d(2).forward(x); // halves L
 */
export class MaxPool1d<R extends boolean = false> extends MaxPoolNd<R> {
  protected pool(x: Tensor): Tensor | MaxPoolWithIndices {
    return maxPool1d(x, this.kernelSize, this.options);
  }
}

/**
 * 2-d max pooling (torch.nn.MaxPool2d). With `returnIndices: true` its forward returns
 * `{ values, indices }`, for MaxUnpool2d.
 *
 * @example
 * new nn.MaxPool2d(2);
 * new nn.MaxPool2d(3, { stride: 2, padding: 1 });
 * const { values, indices } = new nn.MaxPool2d(2, { returnIndices: true }).forward(x);
 */
export class MaxPool2d<R extends boolean = false> extends MaxPoolNd<R> {
  protected pool(x: Tensor): Tensor | MaxPoolWithIndices {
    return maxPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * 3-d max pooling over [N, C, D, H, W] or [C, D, H, W] (torch.nn.MaxPool3d).
 *
 * @example
 * new nn.MaxPool3d(2);
 */
export class MaxPool3d<R extends boolean = false> extends MaxPoolNd<R> {
  protected pool(x: Tensor): Tensor | MaxPoolWithIndices {
    return maxPool3d(x, this.kernelSize, this.options);
  }
}

/**
 * 1-d average pooling (torch.nn.AvgPool1d).
 *
 * @example
 * new nn.AvgPool1d(3, { stride: 1, padding: 1 });
 */
export class AvgPool1d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: SpatialArg,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool1d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return describe(this.kernelSize, this.options);
  }
}

/**
 * 2-d average pooling (torch.nn.AvgPool2d).
 *
 * @example
 * new nn.AvgPool2d(2);
 */
export class AvgPool2d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: SpatialArg,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return describe(this.kernelSize, this.options);
  }
}

/**
 * 3-d average pooling over [N, C, D, H, W] or [C, D, H, W] (torch.nn.AvgPool3d).
 *
 * @example
 * new nn.AvgPool3d(2, { stride: 1 });
 */
export class AvgPool3d extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: SpatialArg,
    readonly options: AvgPoolOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return avgPool3d(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return describe(this.kernelSize, this.options);
  }
}

/** Adaptive pooling to a fixed output size, whatever the input's size. */
abstract class AdaptivePool extends Module<[Tensor], Tensor> {
  constructor(readonly outputSize: AdaptiveOutputSize) {
    super();
  }
  protected abstract pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor;
  forward(x: Tensor): Tensor {
    return this.pool(x, this.outputSize);
  }
  override extraRepr(): string {
    return `outputSize=${formatArgument(this.outputSize)}`;
  }
}

/**
 * 1-d adaptive average pooling to `outputSize` positions (torch.nn.AdaptiveAvgPool1d).
 *
 * @example
 * new nn.AdaptiveAvgPool1d(1); // global average over L
 */
export class AdaptiveAvgPool1d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveAvgPool1d(x, outputSize);
  }
}

/**
 * 2-d adaptive average pooling to an `outputSize` grid (torch.nn.AdaptiveAvgPool2d).
 *
 * @example
 * new nn.AdaptiveAvgPool2d(1);      // global average pooling: [N, C, 1, 1]
 * new nn.AdaptiveAvgPool2d([7, 7]);
 */
export class AdaptiveAvgPool2d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveAvgPool2d(x, outputSize);
  }
}

/** 3-d adaptive average pooling to an `outputSize` box (torch.nn.AdaptiveAvgPool3d). */
export class AdaptiveAvgPool3d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveAvgPool3d(x, outputSize);
  }
}

/**
 * 1-d adaptive max pooling to `outputSize` positions (torch.nn.AdaptiveMaxPool1d without
 * `return_indices`).
 */
export class AdaptiveMaxPool1d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveMaxPool1d(x, outputSize);
  }
}

/**
 * 2-d adaptive max pooling to an `outputSize` grid (torch.nn.AdaptiveMaxPool2d without
 * `return_indices`).
 *
 * @example
 * new nn.AdaptiveMaxPool2d(1); // global max pooling: [N, C, 1, 1]
 */
export class AdaptiveMaxPool2d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveMaxPool2d(x, outputSize);
  }
}

/** 3-d adaptive max pooling to an `outputSize` box (torch.nn.AdaptiveMaxPool3d without `return_indices`). */
export class AdaptiveMaxPool3d extends AdaptivePool {
  protected pool(x: Tensor, outputSize: AdaptiveOutputSize): Tensor {
    return adaptiveMaxPool3d(x, outputSize);
  }
}
