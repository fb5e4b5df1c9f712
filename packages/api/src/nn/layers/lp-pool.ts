import type { SpatialArg } from '../../ops/conv.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type LpPoolOptions, lpPool1d, lpPool2d, lpPool3d } from '../functional/lp-pool.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// Power-average pooling layers over lpPool: LPPool1d/2d/3d.

/** Power-average pooling of order `normType`. */
abstract class LPPoolNd extends Module<[Tensor], Tensor> {
  constructor(
    readonly normType: number,
    readonly kernelSize: SpatialArg,
    readonly options: LpPoolOptions = {},
  ) {
    super();
  }
  override extraRepr(): string {
    const parts = [`normType=${this.normType}`, `kernelSize=${formatArgument(this.kernelSize)}`];
    parts.push(`stride=${formatArgument(this.options.stride ?? this.kernelSize)}`);
    if (this.options.ceilMode === true) parts.push('ceilMode=true');
    return parts.join(', ');
  }
}

/**
 * 1-d power-average pooling (torch.nn.LPPool1d): `(sum of x^p over each window)^(1/p)`.
 *
 * @example
 * new nn.LPPool1d(2, 3, { stride: 2 });
 */
export class LPPool1d extends LPPoolNd {
  forward(x: Tensor): Tensor {
    return lpPool1d(x, this.normType, this.kernelSize, this.options);
  }
}

/**
 * 2-d power-average pooling (torch.nn.LPPool2d).
 *
 * @example
 * new nn.LPPool2d(2, 2); // 2 x 2 Euclidean-norm pooling
 */
export class LPPool2d extends LPPoolNd {
  forward(x: Tensor): Tensor {
    return lpPool2d(x, this.normType, this.kernelSize, this.options);
  }
}

/**
 * 3-d power-average pooling (torch.nn.LPPool3d).
 *
 * @example
 * new nn.LPPool3d(2, 2);
 */
export class LPPool3d extends LPPoolNd {
  forward(x: Tensor): Tensor {
    return lpPool3d(x, this.normType, this.kernelSize, this.options);
  }
}
