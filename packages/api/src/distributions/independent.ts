import { ValueError } from '../core/errors.js';
import type { TensorLike } from '../ops/convert.js';
import { sum } from '../ops/reduce.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, type DistributionSampleOptions } from './distribution.js';

/**
 * Reinterprets the last `reinterpretedBatchNdims` batch axes of `base` as event axes
 * (torch.distributions.Independent): logProb and entropy sum over them. A diagonal Gaussian over
 * vectors is `new Independent(new Normal(mu, sigma), 1)`.
 *
 * @example
 * const d = new distributions.Independent(new distributions.Normal(zeros([8, 3]), ones([8, 3])), 1);
 * d.batchShape; // [8]
 * d.eventShape; // [3]
 * d.logProb(x); // [8]: the sum over the 3 components
 */
export class Independent extends Distribution {
  readonly base: Distribution;
  readonly reinterpretedBatchNdims: number;

  constructor(base: Distribution, reinterpretedBatchNdims: number, options: DistributionOptions = {}) {
    const k = reinterpretedBatchNdims;
    if (!Number.isInteger(k) || k < 0 || k > base.batchShape.length) {
      throw new ValueError(
        `Independent: reinterpretedBatchNdims must be an integer in [0, ${base.batchShape.length}] (the base's batch rank), got ${k}`,
      );
    }
    const split = base.batchShape.length - k;
    super(base.batchShape.slice(0, split), [...base.batchShape.slice(split), ...base.eventShape], options);
    this.base = base;
    this.reinterpretedBatchNdims = k;
  }

  override get hasRsample(): boolean {
    return this.base.hasRsample;
  }

  protected get anchor(): Tensor {
    return this.base.mean;
  }

  /** Sums the reinterpreted axes (the last k of a batch-shaped result). */
  private sumReinterpreted(t: Tensor): Tensor {
    const k = this.reinterpretedBatchNdims;
    if (k === 0) return t;
    return sum(
      t,
      Array.from({ length: k }, (_, i) => -1 - i),
    );
  }

  override sample(sampleShape: number[] | number = [], options: DistributionSampleOptions = {}): Tensor {
    return this.base.sample(sampleShape, options);
  }

  override rsample(sampleShape: number[] | number = [], options: DistributionSampleOptions = {}): Tensor {
    return this.base.rsample(sampleShape, options);
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => this.sumReinterpreted(this.base.logProb(value)));
  }

  override entropy(): Tensor {
    return tidy(() => this.sumReinterpreted(this.base.entropy()));
  }

  override get mean(): Tensor {
    return this.base.mean;
  }

  override get mode(): Tensor {
    return this.base.mode;
  }

  override get variance(): Tensor {
    return this.base.variance;
  }
}
