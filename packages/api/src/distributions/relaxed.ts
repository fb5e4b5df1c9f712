import { broadcastTo } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import { add, div, log, log1p, mul, neg, sub } from '../ops/elementwise.js';
import { unsqueeze } from '../ops/movement.js';
import { logSumExp, sum } from '../ops/reduce.js';
import { openUnit } from '../random/continuous.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { logFactorial } from './counts.js';
import { binaryParameters, Categorical, OverCategories, type ProbsOrLogits, probsOrLogits, softplus } from './discrete.js';
import { Distribution, type DistributionOptions, floatParameter } from './distribution.js';
import { TransformedDistribution } from './transformed.js';
import { ExpTransform, SigmoidTransform, type Transform } from './transforms.js';

// Continuous relaxations of the Bernoulli and the one-hot categorical (Maddison, Mnih and Teh,
// "The Concrete distribution", 2017; Jang, Gu and Poole, "Categorical reparameterization with
// Gumbel-softmax", 2017): samples are sigmoid / softmax of (logits + logistic / Gumbel noise) /
// temperature, differentiable in the logits, and tend to the discrete ones as the temperature
// goes to 0. As in torch, each is a TransformedDistribution of a distribution of the logits
// (LogitRelaxedBernoulli, ExpRelaxedCategorical). The temperature broadcasts to the batch shape,
// one per distribution of the batch.

const positive = (v: number): boolean => v > 0;

/** The temperature as a floating tensor of the batch shape, checked positive. */
function temperatureParameter(owner: Distribution, temperature: TensorLike, like: Tensor, check: (t: Tensor) => void): Tensor {
  const t = broadcastTo(floatParameter(owner.constructor.name, temperature, like), [...owner.batchShape]);
  check(t);
  return t;
}

/**
 * The logit of a RelaxedBernoulli sample (torch.distributions.LogitRelaxedBernoulli):
 * (logits + log u - log(1 - u)) / temperature, on the real line.
 *
 * @example
 * new distributions.LogitRelaxedBernoulli(0.5, { logits: tensor([0, 2]) }).rsample();
 */
export class LogitRelaxedBernoulli extends Distribution {
  readonly temperature: Tensor;
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(temperature: TensorLike, parameters: ProbsOrLogits) {
    const { kind, value } = probsOrLogits('LogitRelaxedBernoulli', parameters);
    super(value.shape, [], parameters);
    if (kind === 'probs') this.checkParameter('probs', value, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    ({ probs: this.probs, logits: this.logits } = binaryParameters(kind, value));
    this.temperature = temperatureParameter(this, temperature, value, (t) => this.checkParameter('temperature', t, positive, 'positive'));
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.logits;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const u = openUnit(key, this.extendedShape(sampleShape), this.logits.dtype);
      return div(add(this.logits, sub(log(u), log1p(neg(u)))), this.temperature);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const difference = sub(this.logits, mul(this.valueTensor('logProb', value), this.temperature));
      return sub(add(log(this.temperature), difference), mul(softplus(difference), 2));
    });
  }
}

/** The common part of RelaxedBernoulli and RelaxedOneHotCategorical: a transform of a distribution of logits. */
abstract class Relaxed<Base extends LogitRelaxedBernoulli | ExpRelaxedCategorical> extends TransformedDistribution {
  declare readonly base: Base;
  private readonly inSupport: (x: number) => boolean;
  private readonly support: string;

  protected constructor(
    base: Base,
    transform: Transform,
    options: DistributionOptions,
    inSupport: (x: number) => boolean,
    support: string,
  ) {
    super(base, transform, options);
    this.inSupport = inSupport;
    this.support = support;
  }

  protected override get anchor(): Tensor {
    return this.base.logits;
  }

  get temperature(): Tensor {
    return this.base.temperature;
  }

  get probs(): Tensor {
    return this.base.probs;
  }

  get logits(): Tensor {
    return this.base.logits;
  }

  override logProb(value: TensorLike): Tensor {
    this.checkSupport('logProb', this.valueTensor('logProb', value), this.inSupport, this.support);
    return super.logProb(value);
  }
}

/**
 * The relaxed Bernoulli (binary Concrete) distribution on (0, 1) (torch.distributions.RelaxedBernoulli):
 * sigmoid of a LogitRelaxedBernoulli sample, reparameterized.
 *
 * @example
 * const gate = new distributions.RelaxedBernoulli(0.5, { logits: scores });
 * gate.rsample(); // in (0, 1), differentiable in scores
 */
export class RelaxedBernoulli extends Relaxed<LogitRelaxedBernoulli> {
  constructor(temperature: TensorLike, parameters: ProbsOrLogits) {
    super(new LogitRelaxedBernoulli(temperature, parameters), new SigmoidTransform(), parameters, (x) => x > 0 && x < 1, '(0, 1)');
  }
}

/**
 * The log of a RelaxedOneHotCategorical sample (torch.distributions.ExpRelaxedCategorical):
 * log_softmax((logits + Gumbel noise) / temperature) along the last axis. Event shape [K].
 *
 * @example
 * new distributions.ExpRelaxedCategorical(1, { logits: tensor([0, 1, 2]) }).rsample();
 */
export class ExpRelaxedCategorical extends OverCategories {
  readonly temperature: Tensor;

  constructor(temperature: TensorLike, parameters: ProbsOrLogits) {
    super(new Categorical(parameters), parameters);
    this.temperature = temperatureParameter(this, temperature, this.categorical.logits, (t) =>
      this.checkParameter('temperature', t, positive, 'positive'),
    );
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => {
      const u = openUnit(key, this.extendedShape(sampleShape), this.logits.dtype);
      const gumbels = neg(log(neg(log(u))));
      const scores = div(add(this.logits, gumbels), unsqueeze(this.temperature, -1));
      return sub(scores, logSumExp(scores, -1, true));
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const k = this.categorical.numEvents;
      const logScale = add(mul(log(this.temperature), k - 1), logFactorial(k - 1)); // log Γ(K) + (K - 1) log t
      const score = sub(this.logits, mul(this.valueTensor('logProb', value), unsqueeze(this.temperature, -1)));
      return add(sum(sub(score, logSumExp(score, -1, true)), -1), logScale);
    });
  }
}

/**
 * The relaxed one-hot categorical (Concrete, Gumbel-softmax) distribution on the simplex
 * (torch.distributions.RelaxedOneHotCategorical): softmax((logits + Gumbel noise) / temperature),
 * reparameterized. Event shape [K].
 *
 * @example
 * const soft = new distributions.RelaxedOneHotCategorical(0.5, { logits: scores }); // scores [B, K]
 * soft.rsample(); // [B, K] rows on the simplex, differentiable in scores
 */
export class RelaxedOneHotCategorical extends Relaxed<ExpRelaxedCategorical> {
  constructor(temperature: TensorLike, parameters: ProbsOrLogits) {
    super(new ExpRelaxedCategorical(temperature, parameters), new ExpTransform(), parameters, (x) => x >= 0 && x <= 1, 'the simplex');
  }
}
