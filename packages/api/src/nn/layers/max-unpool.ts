import type { SpatialArg } from '../../ops/conv.js';
import { type MaxUnpoolOptions, maxUnpool1d, maxUnpool2d, maxUnpool3d } from '../../ops/max-unpool.js';
import type { Tensor } from '../../tensor/tensor.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// The unpooling layers over maxUnpool: MaxUnpool1d/2d/3d, the inverses of the max pools with `returnIndices`.

/** The unpooling layer's options: the pool's stride and padding. */
export type MaxUnpoolLayerOptions = Omit<MaxUnpoolOptions, 'outputSize'>;

/** Max unpooling; forward(input, indices, outputSize?) as PyTorch's. */
abstract class MaxUnpoolNd extends Module<[Tensor, Tensor, (readonly number[] | null)?], Tensor> {
  constructor(
    readonly kernelSize: SpatialArg,
    readonly options: MaxUnpoolLayerOptions = {},
  ) {
    super();
  }
  protected abstract unpool(x: Tensor, indices: Tensor, options: MaxUnpoolOptions): Tensor;
  /** `outputSize`: the spatial size (or whole shape) to unpool to, as maxUnpool's option. */
  forward(input: Tensor, indices: Tensor, outputSize?: readonly number[] | null): Tensor {
    return this.unpool(input, indices, { ...this.options, outputSize: outputSize ?? null });
  }
  override extraRepr(): string {
    return [
      `kernelSize=${formatArgument(this.kernelSize)}`,
      `stride=${formatArgument(this.options.stride ?? this.kernelSize)}`,
      `padding=${formatArgument(this.options.padding ?? 0)}`,
    ].join(', ');
  }
}

/**
 * 1-d max unpooling (torch.nn.MaxUnpool1d): the inverse of MaxPool1d with `returnIndices`.
 *
 * @example
 * const pool = new nn.MaxPool1d(2, { returnIndices: true });
 * const { values, indices } = pool.forward(x);
 * new nn.MaxUnpool1d(2).forward(values, indices);
 */
export class MaxUnpool1d extends MaxUnpoolNd {
  protected unpool(x: Tensor, indices: Tensor, options: MaxUnpoolOptions): Tensor {
    return maxUnpool1d(x, indices, this.kernelSize, options);
  }
}

/**
 * 2-d max unpooling (torch.nn.MaxUnpool2d); pass the pooled input's shape as `outputSize` where
 * the pool's rounding dropped rows or columns.
 *
 * @example
 * const { values, indices } = new nn.MaxPool2d(2, { returnIndices: true }).forward(x);
 * new nn.MaxUnpool2d(2).forward(values, indices, x.shape);
 */
export class MaxUnpool2d extends MaxUnpoolNd {
  protected unpool(x: Tensor, indices: Tensor, options: MaxUnpoolOptions): Tensor {
    return maxUnpool2d(x, indices, this.kernelSize, options);
  }
}

/**
 * 3-d max unpooling (torch.nn.MaxUnpool3d).
 *
 * @example
 * new nn.MaxUnpool3d(2).forward(values, indices);
 */
export class MaxUnpool3d extends MaxUnpoolNd {
  protected unpool(x: Tensor, indices: Tensor, options: MaxUnpoolOptions): Tensor {
    return maxUnpool3d(x, indices, this.kernelSize, options);
  }
}
