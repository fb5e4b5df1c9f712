import type { TensorLike } from '../ops/convert.js';
import { add, clamp, div, less, lessEqual, log, logicalAnd, mul, neg, square, sub, where } from '../ops/elementwise.js';
import { uniform } from '../random/distributions.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions } from './distribution.js';

/**
 * The uniform distribution on [low, high) (torch.distributions.Uniform). logProb is -Infinity
 * outside the support (with validateArgs, a readable value outside it is an error, as in torch).
 *
 * @example
 * const d = new distributions.Uniform(0, tensor([1, 4]));
 * d.logProb(0.5); // [0, -log(4)]
 */
export class Uniform extends Distribution {
  readonly low: Tensor;
  readonly high: Tensor;

  override get hasRsample(): boolean {
    return true;
  }

  constructor(low: TensorLike, high: TensorLike, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('Uniform', low, high);
    super(shape, [], options);
    [this.low, this.high] = tensors as [Tensor, Tensor];
    if (this.validateArgs) {
      tidy(() => this.checkParameter('high - low', sub(this.high, this.low), (v) => v > 0, 'positive (low < high)'));
    }
  }

  protected get anchor(): Tensor {
    return this.low;
  }

  private get width(): Tensor {
    return sub(this.high, this.low);
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => add(this.low, mul(this.width, uniform(key, this.extendedShape(sampleShape), { dtype: this.low.dtype }))));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      const inside = logicalAnd(lessEqual(this.low, v), less(v, this.high));
      if (this.validateArgs) this.checkSupport('logProb', where(inside, 1, 0), (x) => x === 1, '[low, high)');
      return where(inside, neg(log(this.width)), Number.NEGATIVE_INFINITY);
    });
  }

  override get mean(): Tensor {
    return tidy(() => mul(add(this.low, this.high), 0.5));
  }

  override get mode(): Tensor {
    return tidy(() => mul(this.low, Number.NaN));
  }

  override get variance(): Tensor {
    return tidy(() => div(square(this.width), 12));
  }

  override entropy(): Tensor {
    return tidy(() => log(this.width));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => clamp(div(sub(this.valueTensor('cdf', value), this.low), this.width), 0, 1));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => add(this.low, mul(this.valueTensor('icdf', value), this.width)));
  }
}
