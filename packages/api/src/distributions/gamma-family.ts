import { ValueError } from '../core/errors.js';
import type { TensorLike } from '../ops/convert.js';
import { add, div, log, maximum, mul, neg, square, sub } from '../ops/elementwise.js';
import { digamma, lgamma } from '../ops/gamma.js';
import { sum } from '../ops/reduce.js';
import { xlog1py, xlogy } from '../ops/torch-elementwise.js';
import { beta, dirichlet, gamma } from '../random/gamma-family.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions, floatParameter } from './distribution.js';

// Gamma, Beta and Dirichlet. Their samples come from random/gamma-family.ts's Marsaglia-Tsang
// sampler, which has no reparameterized gradient here: `sample` works, `rsample` says it is not
// implemented (torch has one, through the derivative of the incomplete gamma function).

const positive = (v: number): boolean => v > 0;

/**
 * The gamma distribution with shape `concentration` and `rate` (torch.distributions.Gamma).
 *
 * @example
 * const d = new distributions.Gamma(2, 0.5); // mean 4
 * d.logProb(tensor([1, 4]));
 */
export class Gamma extends Distribution {
  readonly concentration: Tensor;
  readonly rate: Tensor;

  constructor(concentration: TensorLike, rate: TensorLike, options: DistributionOptions = {}) {
    const c = floatParameter('Gamma', concentration);
    const { shape, tensors } = broadcastParameters('Gamma', c, floatParameter('Gamma', rate, c));
    super(shape, [], options);
    [this.concentration, this.rate] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration', this.concentration, positive, 'positive');
    this.checkParameter('rate', this.rate, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.concentration;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => div(gamma(key, this.concentration, this.extendedShape(sampleShape), { dtype: this.concentration.dtype }), this.rate));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0, 'non-negative reals');
      const c = this.concentration;
      return sub(sub(add(xlogy(c, this.rate), xlogy(sub(c, 1), v)), mul(this.rate, v)), lgamma(c));
    });
  }

  override get mean(): Tensor {
    return div(this.concentration, this.rate);
  }

  override get mode(): Tensor {
    return tidy(() => maximum(div(sub(this.concentration, 1), this.rate), 0));
  }

  override get variance(): Tensor {
    return tidy(() => div(this.concentration, square(this.rate)));
  }

  override entropy(): Tensor {
    return tidy(() => {
      const c = this.concentration;
      return add(add(sub(c, log(this.rate)), lgamma(c)), mul(sub(1, c), digamma(c)));
    });
  }
}

/**
 * The beta distribution on [0, 1] with density proportional to x^(c1 - 1) (1 - x)^(c0 - 1)
 * (torch.distributions.Beta).
 *
 * @example
 * new distributions.Beta(2, 5).mean; // 2 / 7
 */
export class Beta extends Distribution {
  readonly concentration1: Tensor;
  readonly concentration0: Tensor;

  constructor(concentration1: TensorLike, concentration0: TensorLike, options: DistributionOptions = {}) {
    const c1 = floatParameter('Beta', concentration1);
    const { shape, tensors } = broadcastParameters('Beta', c1, floatParameter('Beta', concentration0, c1));
    super(shape, [], options);
    [this.concentration1, this.concentration0] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration1', this.concentration1, positive, 'positive');
    this.checkParameter('concentration0', this.concentration0, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.concentration1;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    const dtype = this.concentration1.dtype;
    return beta(key, this.concentration1, this.concentration0, this.extendedShape(sampleShape), { dtype });
  }

  /** log B(c1, c0) = lgamma(c1) + lgamma(c0) - lgamma(c1 + c0). */
  private logBeta(): Tensor {
    const [a, b] = [this.concentration1, this.concentration0];
    return sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0 && x <= 1, '[0, 1]');
      return sub(add(xlogy(sub(this.concentration1, 1), v), xlog1py(sub(this.concentration0, 1), neg(v))), this.logBeta());
    });
  }

  override get mean(): Tensor {
    return tidy(() => div(this.concentration1, add(this.concentration1, this.concentration0)));
  }

  override get mode(): Tensor {
    return tidy(() => div(sub(this.concentration1, 1), sub(add(this.concentration1, this.concentration0), 2)));
  }

  override get variance(): Tensor {
    return tidy(() => {
      const total = add(this.concentration1, this.concentration0);
      return div(mul(this.concentration1, this.concentration0), mul(square(total), add(total, 1)));
    });
  }

  override entropy(): Tensor {
    return tidy(() => {
      const [a, b] = [this.concentration1, this.concentration0];
      const total = add(a, b);
      const spread = add(mul(sub(a, 1), digamma(a)), mul(sub(b, 1), digamma(b)));
      return add(sub(this.logBeta(), spread), mul(sub(total, 2), digamma(total)));
    });
  }
}

/**
 * The Dirichlet distribution over the simplex along the last axis of `concentration`
 * (torch.distributions.Dirichlet): batch shape concentration.shape[:-1], event shape [K].
 *
 * @example
 * const d = new distributions.Dirichlet(tensor([1, 2, 3]));
 * d.sample([4]); // [4, 3], rows summing to 1
 */
export class Dirichlet extends Distribution {
  readonly concentration: Tensor;

  constructor(concentration: TensorLike, options: DistributionOptions = {}) {
    const c = floatParameter('Dirichlet', concentration);
    if (c.ndim === 0) throw new ValueError('Dirichlet: concentration must have a last axis of categories, got a scalar');
    super(c.shape.slice(0, -1), c.shape.slice(-1), options);
    this.concentration = c;
    this.checkParameter('concentration', c, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.concentration;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return dirichlet(key, this.concentration, [...sampleShape, ...this.batchShape], { dtype: this.concentration.dtype });
  }

  /** The sum of the concentrations, with its category axis kept. */
  private get total(): Tensor {
    return sum(this.concentration, -1, true);
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0 && x <= 1, 'the simplex');
      const c = this.concentration;
      const logNormalizer = sub(sum(lgamma(c), -1), lgamma(sum(c, -1)));
      return sub(sum(xlogy(sub(c, 1), v), -1), logNormalizer);
    });
  }

  override get mean(): Tensor {
    return tidy(() => div(this.concentration, this.total));
  }

  override get mode(): Tensor {
    return tidy(() => {
      const k = this.concentration.shape[this.concentration.ndim - 1] as number;
      return div(sub(this.concentration, 1), sub(this.total, k));
    });
  }

  override get variance(): Tensor {
    return tidy(() => {
      const c = this.concentration;
      const total = this.total;
      return div(mul(c, sub(total, c)), mul(square(total), add(total, 1)));
    });
  }

  override entropy(): Tensor {
    return tidy(() => {
      const c = this.concentration;
      const k = c.shape[c.ndim - 1] as number;
      const total = sum(c, -1);
      const logNormalizer = sub(sum(lgamma(c), -1), lgamma(total));
      return sub(sub(logNormalizer, mul(sub(k, total), digamma(total))), sum(mul(sub(c, 1), digamma(c)), -1));
    });
  }
}
