import type { TensorLike } from '../ops/convert.js';
import {
  add,
  div,
  exp,
  expm1,
  less,
  log,
  log1p,
  logicalOr,
  maximum,
  mul,
  neg,
  pow,
  reciprocal,
  square,
  sub,
  where,
} from '../ops/elementwise.js';
import { digamma, lgamma } from '../ops/gamma.js';
import { openUnit } from '../random/continuous.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { broadcastParameters, Distribution, type DistributionOptions } from './distribution.js';

// Families whose samples are a closed-form transform of one uniform (the inverse CDF), so that
// rsample is that transform and differentiable in the parameters: Weibull, Pareto, Kumaraswamy.
// torch builds them as TransformedDistributions; here each writes its density, CDF and inverse
// CDF out, which are the same functions.

const EULER_GAMMA = 0.5772156649015329;
const positive = (v: number): boolean => v > 0;

/** The common part: two positive parameters broadcast to the batch, reparameterized sampling from uniforms. */
abstract class InverseCdfFamily extends Distribution {
  override get hasRsample(): boolean {
    return true;
  }

  /** The inverse CDF of the parameters at uniforms `u` in (0, 1). */
  protected abstract quantile(u: Tensor): Tensor;

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => this.quantile(openUnit(key, this.extendedShape(sampleShape), this.anchor.dtype)));
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => this.quantile(this.valueTensor('icdf', value)));
  }
}

/**
 * The Weibull distribution with `scale` λ and `concentration` k (torch.distributions.Weibull):
 * CDF 1 - exp(-(x/λ)^k) on x > 0.
 *
 * @example
 * new distributions.Weibull(2, 1.5).rsample([4]); // differentiable in scale and concentration
 */
export class Weibull extends InverseCdfFamily {
  readonly scale: Tensor;
  readonly concentration: Tensor;

  constructor(scale: TensorLike, concentration: TensorLike, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('Weibull', scale, concentration);
    super(shape, [], options);
    [this.scale, this.concentration] = tensors as [Tensor, Tensor];
    this.checkParameter('scale', this.scale, positive, 'positive');
    this.checkParameter('concentration', this.concentration, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.scale;
  }

  protected quantile(u: Tensor): Tensor {
    return mul(this.scale, pow(neg(log1p(neg(u))), reciprocal(this.concentration)));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, positive, 'positive reals');
      const logRatio = log(div(v, this.scale));
      const k = this.concentration;
      return sub(add(log(div(k, this.scale)), mul(sub(k, 1), logRatio)), exp(mul(k, logRatio)));
    });
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => neg(expm1(neg(pow(div(this.valueTensor('cdf', value), this.scale), this.concentration)))));
  }

  override get mean(): Tensor {
    return tidy(() => mul(this.scale, exp(lgamma(add(reciprocal(this.concentration), 1)))));
  }

  override get mode(): Tensor {
    return tidy(() => {
      const k = this.concentration;
      return mul(this.scale, pow(div(sub(k, 1), k), reciprocal(k)));
    });
  }

  override get variance(): Tensor {
    return tidy(() => {
      const inverse = reciprocal(this.concentration);
      const second = exp(lgamma(add(mul(inverse, 2), 1)));
      const firstSquared = exp(mul(lgamma(add(inverse, 1)), 2));
      return mul(square(this.scale), sub(second, firstSquared));
    });
  }

  override entropy(): Tensor {
    return tidy(() => {
      const inverse = reciprocal(this.concentration);
      return add(add(mul(sub(1, inverse), EULER_GAMMA), log(mul(this.scale, inverse))), 1);
    });
  }
}

/**
 * The Pareto distribution with `scale` (the minimum) and tail index `alpha`
 * (torch.distributions.Pareto): density alpha scale^alpha / x^(alpha + 1) on x >= scale. The mean
 * is infinite for alpha <= 1 and the variance for alpha <= 2, as torch reports them.
 *
 * @example
 * new distributions.Pareto(1, 3).mean; // 1.5
 */
export class Pareto extends InverseCdfFamily {
  readonly scale: Tensor;
  readonly alpha: Tensor;

  constructor(scale: TensorLike, alpha: TensorLike, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('Pareto', scale, alpha);
    super(shape, [], options);
    [this.scale, this.alpha] = tensors as [Tensor, Tensor];
    this.checkParameter('scale', this.scale, positive, 'positive');
    this.checkParameter('alpha', this.alpha, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.scale;
  }

  protected quantile(u: Tensor): Tensor {
    return mul(this.scale, exp(div(neg(log1p(neg(u))), this.alpha)));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      if (this.validateArgs) this.checkSupport('logProb', sub(v, this.scale), (d) => d >= 0, 'x >= scale');
      return sub(add(log(this.alpha), mul(this.alpha, log(this.scale))), mul(add(this.alpha, 1), log(v)));
    });
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => sub(1, pow(div(this.scale, this.valueTensor('cdf', value)), this.alpha)));
  }

  override get mean(): Tensor {
    return tidy(() => {
      const a = maximum(this.alpha, 1);
      return div(mul(a, this.scale), sub(a, 1));
    });
  }

  override get mode(): Tensor {
    return this.scale;
  }

  override get variance(): Tensor {
    return tidy(() => {
      const a = maximum(this.alpha, 2);
      return div(mul(square(this.scale), a), mul(square(sub(a, 1)), sub(a, 2)));
    });
  }

  override entropy(): Tensor {
    return tidy(() => add(log(div(this.scale, this.alpha)), add(reciprocal(this.alpha), 1)));
  }
}

/** E[X^n] of a Kumaraswamy(a, b): b B(1 + n/a, b). */
function kumaraswamyMoment(a: Tensor, b: Tensor, n: number): Tensor {
  const shifted = add(div(n, a), 1);
  return mul(b, exp(sub(add(lgamma(shifted), lgamma(b)), lgamma(add(shifted, b)))));
}

/**
 * The Kumaraswamy distribution on [0, 1] (torch.distributions.Kumaraswamy), a Beta look-alike
 * with a closed-form CDF 1 - (1 - x^a)^b, a = concentration1, b = concentration0, so its rsample
 * is the inverse CDF of a uniform.
 *
 * @example
 * new distributions.Kumaraswamy(2, 5).rsample([8]);
 */
export class Kumaraswamy extends InverseCdfFamily {
  readonly concentration1: Tensor;
  readonly concentration0: Tensor;

  constructor(concentration1: TensorLike, concentration0: TensorLike, options: DistributionOptions = {}) {
    const { shape, tensors } = broadcastParameters('Kumaraswamy', concentration1, concentration0);
    super(shape, [], options);
    [this.concentration1, this.concentration0] = tensors as [Tensor, Tensor];
    this.checkParameter('concentration1', this.concentration1, positive, 'positive');
    this.checkParameter('concentration0', this.concentration0, positive, 'positive');
  }

  protected get anchor(): Tensor {
    return this.concentration1;
  }

  protected quantile(u: Tensor): Tensor {
    // (1 - (1 - u)^(1/b))^(1/a), with 1 - (1 - u)^(1/b) as -expm1(log1p(-u) / b) for small u.
    return pow(neg(expm1(div(log1p(neg(u)), this.concentration0))), reciprocal(this.concentration1));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0 && x <= 1, '[0, 1]');
      const [a, b] = [this.concentration1, this.concentration0];
      const powered = pow(v, a);
      return add(add(add(log(a), log(b)), mul(sub(a, 1), log(v))), mul(sub(b, 1), log1p(neg(powered))));
    });
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => neg(expm1(mul(this.concentration0, log1p(neg(pow(this.valueTensor('cdf', value), this.concentration1)))))));
  }

  override get mean(): Tensor {
    return tidy(() => kumaraswamyMoment(this.concentration1, this.concentration0, 1));
  }

  /** ((a - 1) / (a b - 1))^(1/a) where a, b >= 1, else NaN (no interior mode). */
  override get mode(): Tensor {
    return tidy(() => {
      const [a, b] = [this.concentration1, this.concentration0];
      const interior = pow(div(sub(a, 1), sub(mul(a, b), 1)), reciprocal(a));
      return where(logicalOr(less(a, 1), less(b, 1)), Number.NaN, interior);
    });
  }

  override get variance(): Tensor {
    return tidy(() => sub(kumaraswamyMoment(this.concentration1, this.concentration0, 2), square(this.mean)));
  }

  override entropy(): Tensor {
    return tidy(() => {
      const [a, b] = [this.concentration1, this.concentration0];
      const harmonic = add(digamma(add(b, 1)), EULER_GAMMA);
      return sub(sub(add(sub(1, reciprocal(b)), mul(sub(1, reciprocal(a)), harmonic)), log(a)), log(b));
    });
  }
}
