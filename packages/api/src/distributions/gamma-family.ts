import { ValueError } from '../core/errors.js';
import type { TensorLike } from '../ops/convert.js';
import { add, div, greater, log, log1p, maximum, mul, neg, rsqrt, square, sub, where } from '../ops/elementwise.js';
import { digamma, lgamma } from '../ops/gamma.js';
import { sum } from '../ops/reduce.js';
import { xlog1py, xlogy } from '../ops/torch-elementwise.js';
import { normal } from '../random/distributions.js';
import { beta, dirichlet, gamma } from '../random/gamma-family.js';
import { splitKeys } from '../random/keys.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions, floatParameter } from './distribution.js';

// Gamma, Beta, Dirichlet, Chi2 and StudentT. Their samples come from random/gamma-family.ts's
// Marsaglia-Tsang sampler, differentiable in the concentration by implicit reparameterization
// (random/gamma-gradient.ts, as torch's _standard_gamma_grad), so all of them have rsample.

const positive = (v: number): boolean => v > 0;

/** lgamma(1/2) = log(sqrt(pi)). */
const LOG_GAMMA_HALF = 0.5 * Math.log(Math.PI);

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
    const { shape, tensors } = broadcastParameters('Gamma', concentration, rate);
    super(shape, [], options);
    [this.concentration, this.rate] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration', this.concentration, positive, 'positive');
    this.checkParameter('rate', this.rate, positive, 'positive');
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.concentration;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
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
    const { shape, tensors } = broadcastParameters('Beta', concentration1, concentration0);
    super(shape, [], options);
    [this.concentration1, this.concentration0] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration1', this.concentration1, positive, 'positive');
    this.checkParameter('concentration0', this.concentration0, positive, 'positive');
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.concentration1;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
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

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.concentration;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
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

/**
 * The chi-squared distribution with `df` degrees of freedom (torch.distributions.Chi2): Gamma(df / 2, 1 / 2).
 *
 * @example
 * new distributions.Chi2(3).mean; // 3
 */
export class Chi2 extends Gamma {
  readonly df: Tensor;

  constructor(df: TensorLike, options: DistributionOptions = {}) {
    const freedom = floatParameter('Chi2', df);
    super(mul(freedom, 0.5), 0.5, options);
    this.df = freedom;
  }
}

/**
 * Student's t distribution with `df` degrees of freedom, location and scale
 * (torch.distributions.StudentT). Samples are loc + scale · z / sqrt(χ²_df / df); the mean is NaN
 * for df <= 1 and the variance infinite for 1 < df <= 2 and NaN for df <= 1, as torch reports them.
 *
 * @example
 * new distributions.StudentT(3, 0, 1).logProb(tensor([0, 2]));
 */
export class StudentT extends Distribution {
  readonly df: Tensor;
  readonly loc: Tensor;
  readonly scale: Tensor;

  constructor(df: TensorLike, loc: TensorLike = 0, scale: TensorLike = 1, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('StudentT', df, loc, scale);
    super(shape, [], options);
    [this.df, this.loc, this.scale] = tensors as [Tensor, Tensor, Tensor];
    this.checkParameter('df', this.df, positive, 'positive');
    this.checkParameter('scale', this.scale, positive, 'positive');
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.loc;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const shape = this.extendedShape(sampleShape);
      const [normalKey, chiKey] = splitKeys(key) as [Tensor, Tensor];
      const z = normal(normalKey, shape, { dtype: this.loc.dtype });
      const chi = mul(gamma(chiKey, mul(this.df, 0.5), shape, { dtype: this.loc.dtype }), 2);
      return add(this.loc, mul(this.scale, mul(z, rsqrt(div(chi, this.df)))));
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const y = div(sub(this.valueTensor('logProb', value), this.loc), this.scale);
      const half = mul(this.df, 0.5);
      const normalizer = add(
        add(add(log(this.scale), mul(log(this.df), 0.5)), 0.5 * Math.log(Math.PI)),
        sub(lgamma(half), lgamma(add(half, 0.5))),
      );
      return sub(mul(log1p(div(square(y), this.df)), mul(add(this.df, 1), -0.5)), normalizer);
    });
  }

  override get mean(): Tensor {
    return tidy(() => where(greater(this.df, 1), this.loc, Number.NaN));
  }

  override get mode(): Tensor {
    return this.loc;
  }

  override get variance(): Tensor {
    return tidy(() => {
      const finite = div(mul(square(this.scale), this.df), sub(this.df, 2));
      return where(greater(this.df, 2), finite, where(greater(this.df, 1), Number.POSITIVE_INFINITY, Number.NaN));
    });
  }

  override entropy(): Tensor {
    return tidy(() => {
      const half = mul(this.df, 0.5);
      const upper = add(half, 0.5);
      const logBeta = sub(add(lgamma(half), LOG_GAMMA_HALF), lgamma(upper));
      const spread = mul(mul(add(this.df, 1), 0.5), sub(digamma(upper), digamma(half)));
      return add(add(add(log(this.scale), spread), mul(log(this.df), 0.5)), logBeta);
    });
  }
}
