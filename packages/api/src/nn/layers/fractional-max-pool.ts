import type { MaxPoolWithIndices } from '../../ops/conv.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type FractionalMaxPoolOptions, fractionalMaxPool2d, fractionalMaxPool3d } from '../functional/fractional-max-pool.js';
import { formatArgument } from './common.js';
import { IndexingPool } from './pooling.js';

// Fractional max pooling layers over nn.functional.fractionalMaxPool2d/3d.

/** The layers' options: the functional options but a key (each call draws its own offsets). */
export type FractionalMaxPoolLayerOptions<R extends boolean> = Omit<FractionalMaxPoolOptions, 'key' | 'returnIndices'> & {
  readonly returnIndices?: R;
};

/** Fractional max pooling over n spatial axes. */
abstract class FractionalMaxPoolNd<R extends boolean> extends IndexingPool<R, FractionalMaxPoolLayerOptions<R>> {
  override extraRepr(): string {
    const parts = [`kernelSize=${formatArgument(this.kernelSize)}`];
    if (this.options.outputSize !== undefined) parts.push(`outputSize=${formatArgument(this.options.outputSize)}`);
    if (this.options.outputRatio !== undefined) parts.push(`outputRatio=${formatArgument(this.options.outputRatio)}`);
    if (this.options.returnIndices === true) parts.push('returnIndices=true');
    return parts.join(', ');
  }
}

/**
 * 2-d fractional max pooling (torch.nn.FractionalMaxPool2d): new offsets from the global
 * generator at every call, unless `randomSamples` fixes them.
 *
 * @example
 * new nn.FractionalMaxPool2d(3, { outputRatio: 0.5 });
 * new nn.FractionalMaxPool2d(2, { outputSize: [13, 12], returnIndices: true });
 */
export class FractionalMaxPool2d<R extends boolean = false> extends FractionalMaxPoolNd<R> {
  protected pool(x: Tensor): Tensor | MaxPoolWithIndices {
    return fractionalMaxPool2d(x, this.kernelSize, this.options);
  }
}

/**
 * 3-d fractional max pooling (torch.nn.FractionalMaxPool3d).
 *
 * @example
 * new nn.FractionalMaxPool3d(2, { outputSize: 5 });
 */
export class FractionalMaxPool3d<R extends boolean = false> extends FractionalMaxPoolNd<R> {
  protected pool(x: Tensor): Tensor | MaxPoolWithIndices {
    return fractionalMaxPool3d(x, this.kernelSize, this.options);
  }
}
