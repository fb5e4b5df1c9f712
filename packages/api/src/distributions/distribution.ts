import { isFloating } from '../core/dtype.js';
import { NotImplementedError } from '../core/errors.js';
import { broadcastShapes, type Shape } from '../core/shape.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { sqrt } from '../ops/elementwise.js';
import { checkEntries, shapeArg } from '../random/arguments.js';
import { draw } from '../random/generator.js';
import { checkKey } from '../random/keys.js';
import { isTensor } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { stopGradient } from '../transforms/custom.js';

// The base of torch.distributions' counterparts: a batch of distributions over events, with
// sample (from the global generator, or from a key in the manner of JAX), rsample where the
// sample is a differentiable function of the parameters, logProb, and the moments. Parameters are
// tensors broadcast to the batch shape; every method is a composite of ops, so logProb and
// rsample have gradients, and run under vmap and jit, on every backend.

/** Options of `sample` and `rsample`. */
export interface DistributionSampleOptions {
  /** A random key (random.key) to draw from; the global generator (manualSeed) when omitted. */
  readonly key?: Tensor;
}

/** Options every distribution's constructor takes. */
export interface DistributionOptions {
  /**
   * Check the parameters and the values given to logProb against their constraints, where they
   * can be read now (a concrete tensor on a synchronous backend), as torch's validate_args
   * (default true).
   */
  readonly validateArgs?: boolean;
}

/** A floating tensor of a parameter (numbers become float32, integer tensors float32). */
export function floatParameter(owner: string, value: TensorLike, like?: Tensor): Tensor {
  const t = toTensor(owner, value, undefined, like);
  return isFloating(t.dtype) ? t : cast(t, 'float32');
}

/**
 * Parameters as floating tensors, not broadcast (of different ranks: a vector and a matrix).
 * Numbers take the dtype of the first floating tensor among them; float32 when none is a tensor.
 */
export function floatParameters(owner: string, ...values: TensorLike[]): Tensor[] {
  const first = values.find((v): v is Tensor => isTensor(v) && isFloating(v.dtype));
  return values.map((v) => (isTensor(v) ? floatParameter(owner, v) : toTensor(owner, v, first?.dtype ?? 'float32', first)));
}

/**
 * Parameters as floating tensors broadcast to their common shape, the batch shape. Numbers take
 * the dtype of the first floating tensor among them (as torch's broadcast_all), so Normal(0.1,
 * sigma64) is all float64; float32 when none is a tensor.
 */
export function broadcastParameters(owner: string, ...values: TensorLike[]): { shape: number[]; tensors: Tensor[] } {
  const parameters = floatParameters(owner, ...values);
  const shape = broadcastShapes(owner, ...parameters.map((p) => p.shape));
  return { shape, tensors: parameters.map((p) => broadcastTo(p, shape)) };
}

export abstract class Distribution {
  /** The shape of the batch of (independent, not identically distributed) distributions. */
  readonly batchShape: readonly number[];
  /** The shape of one event: [] for scalar distributions, [k] for a Dirichlet or multivariate normal. */
  readonly eventShape: readonly number[];
  readonly validateArgs: boolean;

  protected constructor(batchShape: readonly number[], eventShape: readonly number[], options: DistributionOptions = {}) {
    this.batchShape = batchShape;
    this.eventShape = eventShape;
    this.validateArgs = options.validateArgs ?? true;
  }

  /** Whether `rsample` draws samples that are differentiable functions of the parameters. */
  get hasRsample(): boolean {
    return false;
  }

  /** The name errors start with. */
  protected get label(): string {
    return this.constructor.name;
  }

  /** A tensor whose backend the samples live on. */
  protected abstract get anchor(): Tensor;

  /** [...sampleShape, ...batchShape, ...eventShape]. */
  protected extendedShape(sampleShape: readonly number[]): number[] {
    return [...sampleShape, ...this.batchShape, ...this.eventShape];
  }

  /** Runs `sample` on the key given in `options`, or on the global generator's next key. */
  protected drawSample(
    method: string,
    shape: Shape | number,
    options: DistributionSampleOptions,
    sample: (key: Tensor, sampleShape: number[]) => Tensor,
  ): Tensor {
    const op = `${this.label}.${method}`;
    const sampleShape = shapeArg(op, shape);
    if (options.key !== undefined) return sample(checkKey(op, options.key), sampleShape);
    return draw(backendOf(this.anchor)?.name, (key) => sample(key, sampleShape));
  }

  /**
   * Samples of shape [...sampleShape, ...batchShape, ...eventShape], without gradient (torch's
   * sample). From the global generator, or from `options.key`.
   */
  sample(sampleShape: Shape | number = [], options: DistributionSampleOptions = {}): Tensor {
    if (this.hasRsample) return stopGradient(this.rsample(sampleShape, options));
    return this.drawSample('sample', sampleShape, options, (key, s) => this.sampleFromKey(key, s));
  }

  /** Reparameterized samples: differentiable functions of the parameters (torch's rsample). */
  rsample(sampleShape: Shape | number = [], options: DistributionSampleOptions = {}): Tensor {
    if (!this.hasRsample) {
      throw new NotImplementedError(`${this.label}.rsample: this distribution has no reparameterized sampler; use sample()`);
    }
    return this.drawSample('rsample', sampleShape, options, (key, s) => this.rsampleFromKey(key, s));
  }

  /** Samples of the extended shape from `key` (the non-reparameterized ones). */
  protected sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return stopGradient(this.rsampleFromKey(key, sampleShape));
  }

  /** Reparameterized samples of the extended shape from `key`. */
  protected rsampleFromKey(_key: Tensor, _sampleShape: number[]): Tensor {
    throw new NotImplementedError(`${this.label}.rsample: not implemented`);
  }

  /** The log of the density (or mass) at `value`, of shape broadcast(value's batch, batchShape). */
  abstract logProb(value: TensorLike): Tensor;

  /** The mean (batchShape + eventShape). */
  get mean(): Tensor {
    throw new NotImplementedError(`${this.label}.mean: not implemented`);
  }

  /** The mode. */
  get mode(): Tensor {
    throw new NotImplementedError(`${this.label}.mode: not implemented`);
  }

  /** The variance. */
  get variance(): Tensor {
    throw new NotImplementedError(`${this.label}.variance: not implemented`);
  }

  /** The standard deviation, sqrt(variance). */
  get stddev(): Tensor {
    return sqrt(this.variance);
  }

  /** The entropy of each distribution of the batch (batchShape). */
  entropy(): Tensor {
    throw new NotImplementedError(`${this.label}.entropy: not implemented`);
  }

  /** The cumulative distribution function at `value`. */
  cdf(_value: TensorLike): Tensor {
    throw new NotImplementedError(`${this.label}.cdf: not implemented`);
  }

  /** The inverse CDF at probabilities `value`. */
  icdf(_value: TensorLike): Tensor {
    throw new NotImplementedError(`${this.label}.icdf: not implemented`);
  }

  /** The perplexity, exp(entropy). */
  perplexity(): Tensor {
    return this.entropy().exp();
  }

  /** A value as a tensor of the distribution's float dtype, on its backend. */
  protected valueTensor(method: string, value: TensorLike): Tensor {
    const t = toTensor(`${this.label}.${method}`, value, undefined, this.anchor);
    return isFloating(t.dtype) ? t : cast(t, this.anchor.dtype);
  }

  /** Checks a value against the support where validateArgs is on and it can be read now. */
  protected checkSupport(method: string, value: Tensor, valid: (v: number) => boolean, support: string): void {
    if (this.validateArgs) checkEntries(`${this.label}.${method}`, 'value', value, valid, `in the support (${support})`);
  }

  /** Checks a parameter against its constraint where validateArgs is on and it can be read now. */
  protected checkParameter(name: string, value: Tensor, valid: (v: number) => boolean, requirement: string): void {
    if (this.validateArgs) checkEntries(this.label, name, value, valid, requirement);
  }

  toString(): string {
    return `${this.label}(batchShape: [${this.batchShape.join(', ')}], eventShape: [${this.eventShape.join(', ')}])`;
  }
}
