import { ValueError } from '../core/errors.js';
import { broadcastShapes } from '../core/shape.js';
import { finfo } from '../core/type-info.js';
import { broadcastTo, cast } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { fullLike } from '../ops/creation.js';
import {
  abs,
  add,
  clamp,
  div,
  equal,
  exp,
  floor,
  greaterEqual,
  log,
  log1p,
  logicalAnd,
  maximum,
  mul,
  neg,
  reciprocal,
  sigmoid,
  sub,
  where,
} from '../ops/elementwise.js';
import { lgamma } from '../ops/gamma.js';
import { oneHot, takeAlongAxis } from '../ops/indexing.js';
import { reshape, squeeze, unsqueeze } from '../ops/movement.js';
import { argmax, logSumExp, sum } from '../ops/reduce.js';
import { logit, xlogy } from '../ops/torch-elementwise.js';
import { openUnit } from '../random/continuous.js';
import { bernoulli, categorical, poisson } from '../random/index.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { Distribution, type DistributionOptions, floatParameter } from './distribution.js';

// Discrete distributions: Bernoulli and Categorical, parameterized by probabilities or logits
// (exactly one, as in torch), and Poisson.

/** Probabilities or logits: exactly one of them. */
export type ProbsOrLogits = (
  | { readonly probs: TensorLike; readonly logits?: undefined }
  | { readonly logits: TensorLike; readonly probs?: undefined }
) &
  DistributionOptions;

/** @internal The one parameter given, checked: which it is and its tensor. */
export function probsOrLogits(owner: string, parameters: ProbsOrLogits): { kind: 'probs' | 'logits'; value: Tensor } {
  const hasProbs = parameters.probs !== undefined && parameters.probs !== null;
  const hasLogits = parameters.logits !== undefined && parameters.logits !== null;
  if (hasProbs === hasLogits) throw new ValueError(`${owner}: give exactly one of probs and logits`);
  return hasProbs
    ? { kind: 'probs', value: floatParameter(owner, parameters.probs as TensorLike) }
    : { kind: 'logits', value: floatParameter(owner, parameters.logits as TensorLike) };
}

/**
 * @internal A success probability and its logit from whichever was given (Bernoulli, Geometric, Binomial). Given
 * probabilities of exactly 0 or 1 get logits at the dtype's extremes (clamped by eps, as torch's
 * probs_to_logits), not infinities.
 */
export function binaryParameters(kind: 'probs' | 'logits', value: Tensor): { probs: Tensor; logits: Tensor } {
  if (kind === 'probs') return { probs: value, logits: logit(value, finfo(value.dtype).eps) };
  return { probs: sigmoid(value), logits: value };
}

/** @internal log(1 + exp(x)) without overflow: max(x, 0) + log1p(exp(-|x|)), exact where nn's softplus is linear past its threshold. */
export function softplus(x: Tensor): Tensor {
  return add(maximum(x, 0), log1p(exp(neg(abs(x)))));
}

/**
 * The Bernoulli distribution over {0, 1} (torch.distributions.Bernoulli), from `probs` or
 * `logits`. Samples are floats (0 or 1) in the parameter's dtype.
 *
 * @example
 * const d = new distributions.Bernoulli({ logits: tensor([0, 2]) });
 * d.logProb(tensor([1, 0])); // [log 0.5, log(1 - sigmoid(2))]
 */
export class Bernoulli extends Distribution {
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(parameters: ProbsOrLogits) {
    const { kind, value } = probsOrLogits('Bernoulli', parameters);
    super(value.shape, [], parameters);
    if (kind === 'probs') this.checkParameter('probs', value, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    ({ probs: this.probs, logits: this.logits } = binaryParameters(kind, value));
  }

  protected get anchor(): Tensor {
    return this.probs;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => cast(bernoulli(key, this.probs, this.extendedShape(sampleShape)), this.probs.dtype));
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x === 0 || x === 1, '{0, 1}');
      // -(binary cross-entropy with logits): v l - softplus(l).
      return sub(mul(v, this.logits), softplus(this.logits));
    });
  }

  override get mean(): Tensor {
    return this.probs;
  }

  override get mode(): Tensor {
    return tidy(() => where(equal(this.probs, 0.5), Number.NaN, cast(greaterEqual(this.probs, 0.5), this.probs.dtype)));
  }

  override get variance(): Tensor {
    return tidy(() => mul(this.probs, sub(1, this.probs)));
  }

  override entropy(): Tensor {
    return tidy(() => sub(softplus(this.logits), mul(this.probs, this.logits)));
  }
}

/**
 * The categorical distribution over 0 .. K-1 along the last axis of `probs` (unnormalized
 * weights) or `logits` (torch.distributions.Categorical). Samples are int32 indices.
 *
 * @example
 * const d = new distributions.Categorical({ logits: scores }); // scores [batch, K]
 * const actions = d.sample();                                  // [batch]
 * const loss = d.logProb(actions).mul(advantages).mean().neg();
 */
export class Categorical extends Distribution {
  /** Normalized logits: log-probabilities. */
  readonly logits: Tensor;
  readonly probs: Tensor;
  /** K, the number of categories. */
  readonly numEvents: number;

  constructor(parameters: ProbsOrLogits) {
    const { kind, value } = probsOrLogits('Categorical', parameters);
    if (value.ndim === 0) throw new ValueError('Categorical: probs or logits must have a last axis of categories, got a scalar');
    super(value.shape.slice(0, -1), [], parameters);
    this.numEvents = value.shape[value.ndim - 1] as number;
    if (kind === 'probs') {
      this.checkParameter('probs', value, (v) => v >= 0 && Number.isFinite(v), 'non-negative and finite');
      this.probs = tidy(() => div(value, sum(value, -1, true)));
      // As torch: log of the probabilities clamped to [eps, 1 - eps], so a zero probability has a finite log.
      const eps = finfo(value.dtype).eps;
      this.logits = tidy(() => log(clamp(this.probs, eps, 1 - eps)));
    } else {
      this.logits = tidy(() => sub(value, logSumExp(value, -1, true)));
      this.probs = exp(this.logits);
    }
  }

  protected get anchor(): Tensor {
    return this.logits;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return categorical(key, this.logits, { shape: this.extendedShape(sampleShape) });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      const k = this.numEvents;
      this.checkSupport('logProb', v, (x) => Number.isInteger(x) && x >= 0 && x < k, `integers 0 .. ${k - 1}`);
      const shape = broadcastShapes('Categorical.logProb', v.shape, this.batchShape);
      const logits = broadcastTo(this.logits, [...shape, k]);
      const index = unsqueeze(cast(broadcastTo(v, shape), 'int32'), -1);
      return squeeze(takeAlongAxis(logits, index, -1), -1);
    });
  }

  override get mean(): Tensor {
    return fullLike(reshape(sum(this.probs, -1), [...this.batchShape]), Number.NaN);
  }

  override get mode(): Tensor {
    return argmax(this.probs, -1);
  }

  override get variance(): Tensor {
    return this.mean;
  }

  override entropy(): Tensor {
    return tidy(() => {
      // Zero probabilities have logits of -Infinity: clamp them to the dtype's lowest so that 0 * logit is 0.
      const logits = maximum(this.logits, finfo(this.logits.dtype).min);
      return neg(sum(mul(this.probs, logits), -1));
    });
  }
}

/**
 * The Poisson distribution with mean `rate` (torch.distributions.Poisson). Samples are floats
 * holding counts, in the rate's dtype.
 *
 * @example
 * new distributions.Poisson(3).logProb(tensor([0, 3])); // [-3, log(27/6) - 3]
 */
export class Poisson extends Distribution {
  readonly rate: Tensor;

  constructor(rate: TensorLike, options: DistributionOptions = {}) {
    const r = floatParameter('Poisson', rate);
    super(r.shape, [], options);
    this.rate = r;
    this.checkParameter('rate', r, (v) => v >= 0 && Number.isFinite(v), 'non-negative and finite');
  }

  protected get anchor(): Tensor {
    return this.rate;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return poisson(key, this.rate, this.extendedShape(sampleShape), { dtype: this.rate.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => Number.isInteger(x) && x >= 0, 'non-negative integers');
      return sub(sub(xlogy(v, this.rate), this.rate), lgamma(add(v, 1)));
    });
  }

  override get mean(): Tensor {
    return this.rate;
  }

  override get mode(): Tensor {
    return floor(this.rate);
  }

  override get variance(): Tensor {
    return this.rate;
  }
}

/**
 * The geometric distribution: the number of failures before the first success of Bernoulli
 * trials with success probability `probs` (or `logits`), on 0, 1, 2, ... (torch.distributions.Geometric).
 *
 * @example
 * new distributions.Geometric({ probs: 0.25 }).mean; // 3
 */
export class Geometric extends Distribution {
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(parameters: ProbsOrLogits) {
    const { kind, value } = probsOrLogits('Geometric', parameters);
    super(value.shape, [], parameters);
    if (kind === 'probs') this.checkParameter('probs', value, (v) => v > 0 && v <= 1, 'in (0, 1]');
    ({ probs: this.probs, logits: this.logits } = binaryParameters(kind, value));
  }

  protected get anchor(): Tensor {
    return this.probs;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const u = openUnit(key, this.extendedShape(sampleShape), this.probs.dtype);
      return floor(div(log(u), log1p(neg(this.probs))));
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => Number.isInteger(x) && x >= 0, 'non-negative integers');
      // As torch: a certain success (p = 1) gives log-probability 0 at 0, not 0 · -Infinity.
      const failures = where(logicalAnd(equal(this.probs, 1), equal(v, 0)), 0, mul(v, log1p(neg(this.probs))));
      return add(failures, log(this.probs));
    });
  }

  override get mean(): Tensor {
    return tidy(() => sub(reciprocal(this.probs), 1));
  }

  override get mode(): Tensor {
    return mul(this.probs, 0);
  }

  override get variance(): Tensor {
    return tidy(() => div(sub(reciprocal(this.probs), 1), this.probs));
  }

  override entropy(): Tensor {
    return tidy(() => div(sub(softplus(this.logits), mul(this.probs, this.logits)), this.probs));
  }
}

/**
 * @internal The common part of distributions over vectors of K categories (OneHotCategorical,
 * Multinomial, ExpRelaxedCategorical): a Categorical over the last axis of probs or logits,
 * event shape [K].
 */
export abstract class OverCategories extends Distribution {
  readonly categorical: Categorical;

  protected constructor(categorical: Categorical, options: DistributionOptions) {
    super(categorical.batchShape, [categorical.numEvents], options);
    this.categorical = categorical;
  }

  protected get anchor(): Tensor {
    return this.categorical.logits;
  }

  get probs(): Tensor {
    return this.categorical.probs;
  }

  /** Normalized logits: log-probabilities. */
  get logits(): Tensor {
    return this.categorical.logits;
  }
}

/**
 * The categorical distribution over one-hot vectors (torch.distributions.OneHotCategorical):
 * event shape [K], samples are float one-hot rows.
 *
 * @example
 * new distributions.OneHotCategorical({ probs: tensor([0.2, 0.8]) }).sample([3]); // [3, 2]
 */
export class OneHotCategorical extends OverCategories {
  constructor(parameters: ProbsOrLogits) {
    super(new Categorical(parameters), parameters);
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const indices = categorical(key, this.logits, { shape: [...sampleShape, ...this.batchShape] });
      return cast(oneHot(indices, this.categorical.numEvents), this.logits.dtype);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x === 0 || x === 1, 'one-hot vectors');
      return this.categorical.logProb(argmax(v, -1));
    });
  }

  override entropy(): Tensor {
    return this.categorical.entropy();
  }

  override get mean(): Tensor {
    return this.probs;
  }

  override get mode(): Tensor {
    return tidy(() => cast(oneHot(argmax(this.probs, -1), this.categorical.numEvents), this.probs.dtype));
  }

  override get variance(): Tensor {
    return tidy(() => mul(this.probs, sub(1, this.probs)));
  }
}
