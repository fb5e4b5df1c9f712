import { ValueError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';
import type { TensorLike } from '../ops/convert.js';
import { sub } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, type DistributionSampleOptions } from './distribution.js';
import { ComposeTransform, Transform } from './transforms.js';

/**
 * The distribution of f(X) for X from `base` and an invertible elementwise f
 * (torch.distributions.TransformedDistribution): samples are the base's, transformed; logProb is
 * the base's at f⁻¹(y) minus log|f'| there, summed over the event axes. A tanh-squashed Gaussian
 * policy is `new TransformedDistribution(new Normal(mu, sigma), [new TanhTransform()])`.
 *
 * @example
 * const policy = new distributions.TransformedDistribution(new distributions.Normal(mu, sigma), [new distributions.TanhTransform()]);
 * const action = policy.rsample();      // in (-1, 1), differentiable in mu and sigma
 * const logPi = policy.logProb(action);
 */
export class TransformedDistribution extends Distribution {
  readonly base: Distribution;
  readonly transform: Transform;

  constructor(base: Distribution, transforms: Transform | readonly Transform[], options: DistributionOptions = {}) {
    if (!(base instanceof Distribution)) throw new ValueError(`TransformedDistribution: base must be a Distribution, got ${String(base)}`);
    const list = transforms instanceof Transform ? [transforms] : [...transforms];
    super(base.batchShape, base.eventShape, options);
    this.base = base;
    this.transform = list.length === 1 ? (list[0] as Transform) : new ComposeTransform(list);
  }

  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  protected get anchor(): Tensor {
    return this.base.mean;
  }

  override sample(sampleShape: Shape | number = [], options: DistributionSampleOptions = {}): Tensor {
    return tidy(() => this.transform.forward(this.base.sample(sampleShape, options)));
  }

  override rsample(sampleShape: Shape | number = [], options: DistributionSampleOptions = {}): Tensor {
    return tidy(() => this.transform.forward(this.base.rsample(sampleShape, options)));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const y = this.valueTensor('logProb', value);
      const x = this.transform.inverse(y);
      const logDet = this.transform.logAbsDetJacobian(x, y);
      const eventAxes = this.eventShape.map((_, i) => -1 - i);
      return sub(this.base.logProb(x), eventAxes.length === 0 ? logDet : sum(logDet, eventAxes));
    });
  }
}
