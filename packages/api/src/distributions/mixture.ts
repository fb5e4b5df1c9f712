import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { add, mul, square, sub } from '../ops/elementwise.js';
import { takeAlongAxis } from '../ops/indexing.js';
import { reshape, squeeze, unsqueeze } from '../ops/movement.js';
import { logSumExp, sum } from '../ops/reduce.js';
import { splitKeys } from '../random/keys.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Categorical } from './discrete.js';
import { Distribution, type DistributionOptions } from './distribution.js';

/**
 * A mixture of K distributions of one family (torch.distributions.MixtureSameFamily): the
 * `component` distribution's last batch axis (of size K) indexes the components, which
 * `mixture`, a Categorical over K, weights. Batch shape: the component's without its last axis;
 * event shape: the component's. Samples pick a component, then draw from it (no rsample, as in
 * torch); logProb is the log-sum-exp of the weighted components' log-densities.
 *
 * @example
 * // A batch of one 1-D Gaussian mixture with three components.
 * const gmm = new distributions.MixtureSameFamily(
 *   new distributions.Categorical({ logits: tensor([0, 1, 2]) }),
 *   new distributions.Normal(tensor([-2, 0, 2]), tensor([0.5, 1, 0.5])),
 * );
 * gmm.logProb(tensor([0.3]));
 */
export class MixtureSameFamily extends Distribution {
  readonly mixture: Categorical;
  readonly component: Distribution;

  constructor(mixture: Categorical, component: Distribution, options: DistributionOptions = {}) {
    const owner = 'MixtureSameFamily';
    if (!(mixture instanceof Categorical)) throw new ValueError(`${owner}: the mixture distribution must be a Categorical`);
    if (!(component instanceof Distribution)) throw new ValueError(`${owner}: the component distribution must be a Distribution`);
    const components = component.batchShape[component.batchShape.length - 1];
    if (components === undefined) {
      throw new ShapeError(
        `${owner}: the component distribution needs a batch axis of components, got batch shape ${formatShape(component.batchShape)}`,
      );
    }
    if (components !== mixture.numEvents) {
      throw new ShapeError(
        `${owner}: the mixture has ${mixture.numEvents} categories but the component distribution ${components} components`,
      );
    }
    const batch = component.batchShape.slice(0, -1);
    if (!sameOrBroadcast(mixture.batchShape, batch)) {
      throw new ShapeError(
        `${owner}: the mixture's batch shape ${formatShape(mixture.batchShape)} does not broadcast to the components' ${formatShape(batch)}`,
      );
    }
    super(batch, component.eventShape, options);
    this.mixture = mixture;
    this.component = component;
  }

  protected get anchor(): Tensor {
    return this.mixture.logits;
  }

  private get eventNdims(): number {
    return this.eventShape.length;
  }

  /** The mixture's probabilities (or log-probabilities) with the event axes appended: [..., K, 1, ...]. */
  private padMixture(x: Tensor): Tensor {
    return reshape(x, [...x.shape, ...this.eventShape.map(() => 1)]);
  }

  /** A value with the component axis inserted before its event axes. */
  private padValue(x: Tensor): Tensor {
    return unsqueeze(x, -1 - this.eventNdims);
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const [mixtureKey, componentKey] = splitKeys(key) as [Tensor, Tensor];
      const picks = this.mixture.sample(sampleShape, { key: mixtureKey }); // [S, Bm]
      const samples = this.component.sample(sampleShape, { key: componentKey }); // [S, B, K, E]
      const axis = sampleShape.length + this.batchShape.length;
      const index = reshape(broadcastTo(picks, [...sampleShape, ...this.batchShape]), [
        ...sampleShape,
        ...this.batchShape,
        1,
        ...this.eventShape.map(() => 1),
      ]);
      const gathered = takeAlongAxis(
        samples,
        broadcastTo(cast(index, 'int32'), [...sampleShape, ...this.batchShape, 1, ...this.eventShape]),
        axis,
      );
      return squeeze(gathered, axis);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const x = this.padValue(this.valueTensor('logProb', value));
      return logSumExp(add(this.component.logProb(x), this.mixture.logits), -1);
    });
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => sum(mul(this.component.cdf(this.padValue(this.valueTensor('cdf', value))), this.mixture.probs), -1));
  }

  override get mean(): Tensor {
    return tidy(() => sum(mul(this.padMixture(this.mixture.probs), this.component.mean), -1 - this.eventNdims));
  }

  /** The law of total variance: E[Var | component] + Var[E | component]. */
  override get variance(): Tensor {
    return tidy(() => {
      const probs = this.padMixture(this.mixture.probs);
      const axis = -1 - this.eventNdims;
      const withinComponents = sum(mul(probs, this.component.variance), axis);
      const betweenComponents = sum(mul(probs, square(sub(this.component.mean, this.padValue(this.mean)))), axis);
      return add(withinComponents, betweenComponents);
    });
  }
}

/** Whether `shape` broadcasts to `target` without growing it. */
function sameOrBroadcast(shape: readonly number[], target: readonly number[]): boolean {
  const offset = target.length - shape.length;
  return offset >= 0 && shape.every((d, i) => d === 1 || d === target[offset + i]);
}
