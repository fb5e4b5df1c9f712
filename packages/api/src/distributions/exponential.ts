import type { TensorLike } from '../ops/convert.js';
import { zerosLike } from '../ops/creation.js';
import { div, exp, log, log1p, mul, neg, reciprocal, square, sub } from '../ops/elementwise.js';
import { exponential } from '../random/continuous.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, floatParameter } from './distribution.js';

/**
 * The exponential distribution with density rate exp(-rate x) on x >= 0
 * (torch.distributions.Exponential).
 *
 * @example
 * new distributions.Exponential(2).mean; // 0.5
 */
export class Exponential extends Distribution {
  readonly rate: Tensor;

  override get hasRsample(): boolean {
    return true;
  }

  constructor(rate: TensorLike, options: DistributionOptions = {}) {
    const r = floatParameter('Exponential', rate);
    super(r.shape, [], options);
    this.rate = r;
    this.checkParameter('rate', r, (v) => v > 0, 'positive');
  }

  protected get anchor(): Tensor {
    return this.rate;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => div(exponential(key, this.extendedShape(sampleShape), { dtype: this.rate.dtype }), this.rate));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0, 'non-negative reals');
      return sub(log(this.rate), mul(this.rate, v));
    });
  }

  override get mean(): Tensor {
    return reciprocal(this.rate);
  }

  override get mode(): Tensor {
    return zerosLike(this.rate);
  }

  override get variance(): Tensor {
    return tidy(() => reciprocal(square(this.rate)));
  }

  override entropy(): Tensor {
    return tidy(() => sub(1, log(this.rate)));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => sub(1, exp(neg(mul(this.rate, this.valueTensor('cdf', value))))));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => div(neg(log1p(neg(this.valueTensor('icdf', value)))), this.rate));
  }
}
