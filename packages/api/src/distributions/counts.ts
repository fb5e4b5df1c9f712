import { NotImplementedError, ValueError } from '../core/errors.js';
import { cast } from '../ops/broadcast.js';
import { type TensorLike, toTensor } from '../ops/convert.js';
import { add, equal, exp, floor, maximum, minimum, mul, neg, sub, where } from '../ops/elementwise.js';
import { lgamma } from '../ops/gamma.js';
import { oneHot } from '../ops/indexing.js';
import { sum } from '../ops/reduce.js';
import { binomial } from '../random/binomial.js';
import { categorical, poisson } from '../random/discrete.js';
import { gamma } from '../random/gamma-family.js';
import { splitKeys } from '../random/keys.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { binaryParameters, Categorical, OverCategories, type ProbsOrLogits, probsOrLogits, softplus } from './discrete.js';
import { broadcastParameters, Distribution } from './distribution.js';

// Counts of trials: Binomial (successes in n trials), NegativeBinomial (successes before the
// n-th failure) and Multinomial (counts per category of n categorical draws), from probabilities
// or logits as torch takes them. Samples are floats holding counts, in the parameter's dtype.

const nonNegativeInteger = (v: number): boolean => Number.isInteger(v) && v >= 0;

/**
 * The one total count of a batch, read now (torch's entropy and enumerate_support need it as a
 * number, and raise for a batch of different counts, as here).
 */
function homogeneousTotalCount(op: string, totalCount: Tensor): number {
  const backend = totalCount._backend;
  if (backend === null || backend.readSync === undefined) {
    throw new NotImplementedError(`${op}: needs the total count read now (a concrete tensor on a synchronous backend)`);
  }
  const counts = Array.from(totalCount.dataSync());
  const first = counts[0] ?? 0;
  if (counts.some((c) => c !== first))
    throw new NotImplementedError(`${op}: a batch of different total counts is not supported (as in torch)`);
  return first;
}

/** A total count and probs or logits, broadcast together (the success probability's dtype). */
function trialParameters(
  owner: string,
  totalCount: TensorLike,
  parameters: ProbsOrLogits,
): { shape: number[]; kind: 'probs' | 'logits'; given: Tensor; totalCount: Tensor } {
  const { kind, value } = probsOrLogits(owner, parameters);
  const { shape, tensors } = broadcastParameters(owner, value, totalCount);
  return { shape, kind, given: tensors[0] as Tensor, totalCount: tensors[1] as Tensor };
}

/**
 * The binomial distribution: successes in `totalCount` trials with success probability `probs`
 * (or `logits`) (torch.distributions.Binomial).
 *
 * @example
 * const d = new distributions.Binomial(10, { probs: tensor([0.2, 0.9]) });
 * d.sample([3]);             // [3, 2]
 * d.logProb(tensor([2, 9]));
 */
export class Binomial extends Distribution {
  readonly totalCount: Tensor;
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(totalCount: TensorLike, parameters: ProbsOrLogits) {
    const trials = trialParameters('Binomial', totalCount, parameters);
    super(trials.shape, [], parameters);
    this.totalCount = trials.totalCount;
    this.checkParameter('totalCount', trials.totalCount, nonNegativeInteger, 'a non-negative integer');
    if (trials.kind === 'probs') this.checkParameter('probs', trials.given, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    ({ probs: this.probs, logits: this.logits } = binaryParameters(trials.kind, trials.given));
  }

  protected get anchor(): Tensor {
    return this.probs;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return binomial(key, this.totalCount, this.probs, this.extendedShape(sampleShape), { dtype: this.probs.dtype });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, nonNegativeInteger, 'integers 0 .. totalCount');
      if (this.validateArgs) this.checkSupport('logProb', sub(this.totalCount, v), (d) => d >= 0, 'integers 0 .. totalCount');
      const n = this.totalCount;
      const logBinomialCoefficient = sub(sub(lgamma(add(n, 1)), lgamma(add(v, 1))), lgamma(add(sub(n, v), 1)));
      // v l - n log(1 + exp(l)) = v log p + (n - v) log(1 - p).
      return add(logBinomialCoefficient, sub(mul(v, this.logits), mul(n, softplus(this.logits))));
    });
  }

  override get mean(): Tensor {
    return tidy(() => mul(this.totalCount, this.probs));
  }

  override get mode(): Tensor {
    return tidy(() => minimum(floor(mul(add(this.totalCount, 1), this.probs)), this.totalCount));
  }

  override get variance(): Tensor {
    return tidy(() => mul(mul(this.totalCount, this.probs), sub(1, this.probs)));
  }

  /** -sum p log p over 0 .. n; the batch must share one total count, read now (as torch's). */
  override entropy(): Tensor {
    const n = homogeneousTotalCount('Binomial.entropy', this.totalCount);
    return tidy(() => {
      const support = toTensor(
        'Binomial.entropy',
        Array.from({ length: n + 1 }, (_, i) => i),
        this.probs.dtype,
        this.probs,
      ).reshape([n + 1, ...this.batchShape.map(() => 1)]);
      const logProb = this.logProb(support);
      return neg(sum(mul(exp(logProb), logProb), 0));
    });
  }
}

/**
 * The negative binomial distribution: successes before the `totalCount`-th failure of Bernoulli
 * trials with success probability `probs` (or `logits`) (torch.distributions.NegativeBinomial).
 * Samples are Poisson draws with Gamma(totalCount, (1 - p) / p) rates.
 *
 * @example
 * new distributions.NegativeBinomial(3, { probs: 0.4 }).mean; // 2
 */
export class NegativeBinomial extends Distribution {
  readonly totalCount: Tensor;
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(totalCount: TensorLike, parameters: ProbsOrLogits) {
    const trials = trialParameters('NegativeBinomial', totalCount, parameters);
    super(trials.shape, [], parameters);
    this.totalCount = trials.totalCount;
    this.checkParameter('totalCount', trials.totalCount, (v) => v >= 0, 'non-negative');
    if (trials.kind === 'probs') this.checkParameter('probs', trials.given, (v) => v >= 0 && v < 1, 'in [0, 1)');
    ({ probs: this.probs, logits: this.logits } = binaryParameters(trials.kind, trials.given));
  }

  protected get anchor(): Tensor {
    return this.probs;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const [gammaKey, poissonKey] = splitKeys(key) as [Tensor, Tensor];
      const shape = this.extendedShape(sampleShape);
      const dtype = this.probs.dtype;
      // Gamma(0) is the point mass at 0: a zero total count gives zero counts.
      const concentration = maximum(this.totalCount, Number.MIN_VALUE);
      const rates = mul(gamma(gammaKey, concentration, shape, { dtype }), exp(this.logits));
      return where(equal(this.totalCount, 0), 0, poisson(poissonKey, rates, shape, { dtype }));
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, nonNegativeInteger, 'non-negative integers');
      const n = this.totalCount;
      // n log(1 - p) + v log p, with log p = -softplus(-l) and log(1 - p) = -softplus(l).
      const unnormalized = neg(add(mul(n, softplus(this.logits)), mul(v, softplus(neg(this.logits)))));
      const total = add(n, v);
      const normalization = add(sub(lgamma(add(v, 1)), lgamma(total)), lgamma(n));
      return sub(unnormalized, where(equal(total, 0), 0, normalization));
    });
  }

  override get mean(): Tensor {
    return tidy(() => mul(this.totalCount, exp(this.logits)));
  }

  override get mode(): Tensor {
    return tidy(() => maximum(floor(mul(sub(this.totalCount, 1), exp(this.logits))), 0));
  }

  override get variance(): Tensor {
    return tidy(() => mul(mul(this.totalCount, exp(this.logits)), add(exp(this.logits), 1)));
  }
}

/**
 * The multinomial distribution: counts per category of `totalCount` draws from a Categorical
 * over the last axis of `probs` (or `logits`) (torch.distributions.Multinomial). Event shape [K];
 * `totalCount` is one number for the whole batch, as in torch. logProb takes the total from the
 * counts given, as torch's does.
 *
 * @example
 * const d = new distributions.Multinomial(10, { probs: tensor([0.2, 0.3, 0.5]) });
 * d.sample();                     // counts summing to 10
 * d.logProb(tensor([2, 3, 5]));
 */
export class Multinomial extends OverCategories {
  readonly totalCount: number;

  constructor(totalCount: number, parameters: ProbsOrLogits) {
    if (!Number.isInteger(totalCount) || totalCount < 0) {
      throw new ValueError(`Multinomial: totalCount must be a non-negative integer number, got ${String(totalCount)}`);
    }
    super(new Categorical(parameters), parameters);
    this.totalCount = totalCount;
  }

  protected override sampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const draws = categorical(key, this.logits, { shape: [this.totalCount, ...sampleShape, ...this.batchShape] });
      return sum(cast(oneHot(draws, this.categorical.numEvents), this.logits.dtype), 0);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, nonNegativeInteger, 'non-negative integer counts');
      const n = this.totalCount;
      this.checkSupport('logProb', sum(v, -1), (total) => total <= n, `counts summing to at most totalCount (${n})`);
      const logFactorials = sub(lgamma(add(sum(v, -1), 1)), sum(lgamma(add(v, 1)), -1));
      // A category of probability 0 has logits log(eps) here (finite), and no count.
      return add(logFactorials, sum(where(equal(v, 0), 0, mul(this.logits, v)), -1));
    });
  }

  override get mean(): Tensor {
    return tidy(() => mul(this.probs, this.totalCount));
  }

  override get variance(): Tensor {
    return tidy(() => mul(mul(this.probs, sub(1, this.probs)), this.totalCount));
  }

  /**
   * n H(categorical) - log n! + sum over categories and k = 1 .. n of Binomial(n, p_i)(k) log k!
   * (torch's formula).
   */
  override entropy(): Tensor {
    return tidy(() => {
      const n = this.totalCount;
      const term1 = sub(mul(this.categorical.entropy(), n), logFactorial(n));
      if (n === 0) return term1;
      const support = toTensor(
        'Multinomial.entropy',
        Array.from({ length: n }, (_, i) => i + 1),
        this.probs.dtype,
        this.probs,
      ).reshape([n, ...this.batchShape.map(() => 1), 1]);
      const binomials = new Binomial(n, { probs: this.probs, validateArgs: false });
      const binomialProbs = exp(binomials.logProb(support));
      return add(term1, sum(mul(binomialProbs, lgamma(add(support, 1))), [0, -1]));
    });
  }
}

/** @internal log(n!) of a number, summed in doubles. */
export function logFactorial(n: number): number {
  let total = 0;
  for (let k = 2; k <= n; k++) total += Math.log(k);
  return total;
}
