import type { TensorLike } from '../ops/convert.js';
import { fullLike } from '../ops/creation.js';
import { abs, add, atan, div, exp, expm1, log, log1p, mul, neg, sign, square, sub, tan } from '../ops/elementwise.js';
import { ndtr, ndtri } from '../ops/error-functions.js';
import { cauchy, gumbel, laplace } from '../random/continuous.js';
import { normal } from '../random/distributions.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions, floatParameter } from './distribution.js';

// Location-scale families: x = loc + scale * z for a standard z, so rsample is that transform of
// a standard sample, and logProb, cdf and icdf are the standard ones at (x - loc) / scale.

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** The common part of the location-scale families: the parameters and the standardization. */
abstract class LocationScale extends Distribution {
  readonly loc: Tensor;
  readonly scale: Tensor;

  override get hasRsample(): boolean {
    return true;
  }

  protected constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions) {
    const owner = new.target.name;
    const { shape, tensors } = broadcastParameters(owner, loc, scale);
    super(shape, [], options);
    [this.loc, this.scale] = tensors as [Tensor, Tensor];
    this.checkParameter('scale', this.scale, (v) => v > 0, 'positive');
  }

  protected get anchor(): Tensor {
    return this.loc;
  }

  /** The standard sample of the extended shape. */
  protected abstract standardSample(key: Tensor, shape: number[]): Tensor;

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => add(this.loc, mul(this.scale, this.standardSample(key, this.extendedShape(sampleShape)))));
  }

  /** (value - loc) / scale. */
  protected standardize(value: Tensor): Tensor {
    return div(sub(value, this.loc), this.scale);
  }

  override get mean(): Tensor {
    return this.loc;
  }

  override get mode(): Tensor {
    return this.loc;
  }
}

/**
 * The normal distribution N(loc, scale^2) (torch.distributions.Normal).
 *
 * @example
 * const d = new distributions.Normal(0, 1);
 * d.logProb(tensor([0, 1]));      // [-0.9189, -1.4189]
 * d.rsample([16]);                // differentiable in loc and scale
 */
export class Normal extends LocationScale {
  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super(loc, scale, options);
  }

  protected standardSample(key: Tensor, shape: number[]): Tensor {
    return normal(key, shape, { dtype: this.loc.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const z = this.standardize(this.valueTensor('logProb', value));
      return sub(neg(add(mul(square(z), 0.5), log(this.scale))), HALF_LOG_TWO_PI);
    });
  }

  override get variance(): Tensor {
    return square(this.scale);
  }

  override get stddev(): Tensor {
    return this.scale;
  }

  override entropy(): Tensor {
    return add(log(this.scale), 0.5 + HALF_LOG_TWO_PI);
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => ndtr(this.standardize(this.valueTensor('cdf', value))));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => add(this.loc, mul(this.scale, ndtri(this.valueTensor('icdf', value)))));
  }
}

/**
 * The Laplace distribution with density exp(-|x - loc| / scale) / (2 scale) (torch.distributions.Laplace).
 *
 * @example
 * new distributions.Laplace(0, 2).entropy(); // 1 + log(4)
 */
export class Laplace extends LocationScale {
  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super(loc, scale, options);
  }

  protected standardSample(key: Tensor, shape: number[]): Tensor {
    return laplace(key, shape, { dtype: this.loc.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const z = this.standardize(this.valueTensor('logProb', value));
      return neg(add(abs(z), log(mul(this.scale, 2))));
    });
  }

  override get variance(): Tensor {
    return mul(square(this.scale), 2);
  }

  override entropy(): Tensor {
    return add(log(mul(this.scale, 2)), 1);
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => {
      const z = this.standardize(this.valueTensor('cdf', value));
      return sub(0.5, mul(mul(sign(z), expm1(neg(abs(z)))), 0.5));
    });
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => {
      const centred = sub(this.valueTensor('icdf', value), 0.5);
      return sub(this.loc, mul(mul(this.scale, sign(centred)), log1p(mul(abs(centred), -2))));
    });
  }
}

/**
 * The Cauchy distribution (torch.distributions.Cauchy): its mean is undefined (NaN) and its
 * variance infinite, as torch reports them.
 *
 * @example
 * new distributions.Cauchy(0, 1).cdf(tensor([1])); // [0.75]
 */
export class Cauchy extends LocationScale {
  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super(loc, scale, options);
  }

  protected standardSample(key: Tensor, shape: number[]): Tensor {
    return cauchy(key, shape, { dtype: this.loc.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const z = this.standardize(this.valueTensor('logProb', value));
      return neg(add(add(log1p(square(z)), log(this.scale)), Math.log(Math.PI)));
    });
  }

  override get mean(): Tensor {
    return fullLike(this.loc, Number.NaN);
  }

  override get variance(): Tensor {
    return fullLike(this.loc, Number.POSITIVE_INFINITY);
  }

  override entropy(): Tensor {
    return add(log(this.scale), Math.log(4 * Math.PI));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => add(div(atan(this.standardize(this.valueTensor('cdf', value))), Math.PI), 0.5));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => add(this.loc, mul(this.scale, tan(mul(sub(this.valueTensor('icdf', value), 0.5), Math.PI)))));
  }
}

/**
 * The log-normal distribution: exp of N(loc, scale^2) (torch.distributions.LogNormal). `loc` and
 * `scale` are the underlying normal's.
 *
 * @example
 * new distributions.LogNormal(0, 1).mean; // exp(0.5)
 */
export class LogNormal extends LocationScale {
  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super(loc, scale, options);
  }

  protected standardSample(key: Tensor, shape: number[]): Tensor {
    return normal(key, shape, { dtype: this.loc.dtype });
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => exp(super.rsampleFromKey(key, sampleShape)));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x > 0, 'positive reals');
      const logV = log(v);
      const z = this.standardize(logV);
      return sub(neg(add(add(mul(square(z), 0.5), log(this.scale)), logV)), HALF_LOG_TWO_PI);
    });
  }

  override get mean(): Tensor {
    return tidy(() => exp(add(this.loc, mul(square(this.scale), 0.5))));
  }

  override get mode(): Tensor {
    return tidy(() => exp(sub(this.loc, square(this.scale))));
  }

  override get variance(): Tensor {
    return tidy(() => {
      const s2 = square(this.scale);
      return mul(expm1(s2), exp(add(mul(this.loc, 2), s2)));
    });
  }

  override entropy(): Tensor {
    return tidy(() => add(add(log(this.scale), 0.5 + HALF_LOG_TWO_PI), this.loc));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => ndtr(this.standardize(log(this.valueTensor('cdf', value)))));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => exp(add(this.loc, mul(this.scale, ndtri(this.valueTensor('icdf', value))))));
  }
}

const EULER_GAMMA = 0.5772156649015329;

/**
 * The Gumbel distribution (torch.distributions.Gumbel), the law of maxima: density
 * exp(-(z + exp(-z))) / scale at z = (x - loc) / scale.
 *
 * @example
 * new distributions.Gumbel(0, 1).mean; // Euler's constant
 */
export class Gumbel extends LocationScale {
  constructor(loc: TensorLike, scale: TensorLike, options: DistributionOptions = {}) {
    super(loc, scale, options);
  }

  protected standardSample(key: Tensor, shape: number[]): Tensor {
    return gumbel(key, shape, { dtype: this.loc.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const z = this.standardize(this.valueTensor('logProb', value));
      return neg(add(add(z, exp(neg(z))), log(this.scale)));
    });
  }

  override get mean(): Tensor {
    return tidy(() => add(this.loc, mul(this.scale, EULER_GAMMA)));
  }

  override get variance(): Tensor {
    return tidy(() => mul(square(this.scale), (Math.PI * Math.PI) / 6));
  }

  override entropy(): Tensor {
    return tidy(() => add(log(this.scale), 1 + EULER_GAMMA));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => exp(neg(exp(neg(this.standardize(this.valueTensor('cdf', value)))))));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => sub(this.loc, mul(this.scale, log(neg(log(this.valueTensor('icdf', value)))))));
  }
}

/**
 * The half-normal distribution |N(0, scale²)| on x >= 0 (torch.distributions.HalfNormal).
 *
 * @example
 * new distributions.HalfNormal(2).mean; // 2 sqrt(2 / pi)
 */
export class HalfNormal extends Distribution {
  readonly scale: Tensor;

  constructor(scale: TensorLike, options: DistributionOptions = {}) {
    const s = floatParameter('HalfNormal', scale);
    super(s.shape, [], options);
    this.scale = s;
    this.checkParameter('scale', s, (v) => v > 0, 'positive');
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.scale;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => mul(this.scale, abs(normal(key, this.extendedShape(sampleShape), { dtype: this.scale.dtype }))));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0, 'non-negative reals');
      const z = div(v, this.scale);
      return sub(neg(add(mul(square(z), 0.5), log(this.scale))), HALF_LOG_TWO_PI - Math.LN2);
    });
  }

  override get mean(): Tensor {
    return mul(this.scale, Math.sqrt(2 / Math.PI));
  }

  override get mode(): Tensor {
    return mul(this.scale, 0);
  }

  override get variance(): Tensor {
    return tidy(() => mul(square(this.scale), 1 - 2 / Math.PI));
  }

  override entropy(): Tensor {
    return tidy(() => add(log(this.scale), 0.5 * Math.log((Math.PI * Math.E) / 2)));
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => sub(mul(ndtr(div(this.valueTensor('cdf', value), this.scale)), 2), 1));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => mul(this.scale, ndtri(mul(add(this.valueTensor('icdf', value), 1), 0.5))));
  }
}
