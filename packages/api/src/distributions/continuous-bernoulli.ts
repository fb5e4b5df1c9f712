import { finfo } from '../core/type-info.js';
import type { TensorLike } from '../ops/convert.js';
import {
  abs,
  add,
  clamp,
  div,
  greater,
  greaterEqual,
  lessEqual,
  log,
  log1p,
  logicalOr,
  mul,
  neg,
  pow,
  sigmoid,
  square,
  sub,
  where,
} from '../ops/elementwise.js';
import { logit } from '../ops/torch-elementwise.js';
import { openUnit } from '../random/continuous.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { type ProbsOrLogits, probsOrLogits, softplus } from './discrete.js';
import { Distribution } from './distribution.js';

// The continuous Bernoulli distribution (Loaiza-Ganem and Cunningham, "The continuous Bernoulli:
// fixing a pervasive error in variational autoencoders", 2019): density C(p) p^x (1 - p)^(1 - x)
// on [0, 1]. Its normalizer, mean and variance are 0/0 at p = 1/2, so within LIMITS of 1/2 they
// are Taylor polynomials and elsewhere the closed forms, at probabilities cut out of that region,
// as torch computes them (its default lims).

const LIMITS = [0.499, 0.501] as const;

/**
 * The continuous Bernoulli distribution on [0, 1] from `probs` or `logits`
 * (torch.distributions.ContinuousBernoulli): rsample is its inverse CDF at a uniform,
 * differentiable in the parameter. Probabilities are clamped to [eps, 1 - eps], as torch's.
 *
 * @example
 * const d = new distributions.ContinuousBernoulli({ logits: decoderOutput }); // a VAE's likelihood for pixels in [0, 1]
 * d.logProb(pixels);
 */
export class ContinuousBernoulli extends Distribution {
  readonly probs: Tensor;
  readonly logits: Tensor;

  constructor(parameters: ProbsOrLogits) {
    const { kind, value } = probsOrLogits('ContinuousBernoulli', parameters);
    super(value.shape, [], parameters);
    if (kind === 'probs') this.checkParameter('probs', value, (v) => v >= 0 && v <= 1, 'in [0, 1]');
    const eps = finfo(value.dtype).eps;
    this.probs = tidy(() => clamp(kind === 'probs' ? value : sigmoid(value), eps, 1 - eps));
    this.logits = kind === 'probs' ? logit(this.probs) : value;
  }

  override get hasRsample(): boolean {
    return true;
  }

  protected get anchor(): Tensor {
    return this.probs;
  }

  protected override rsampleFromKey(key: Tensor, sampleShape: number[]): Tensor {
    return tidy(() => this.icdf(openUnit(key, this.extendedShape(sampleShape), this.probs.dtype)));
  }

  /** Where p is far enough from 1/2 for the closed forms. */
  private outsideUnstableRegion(): Tensor {
    return logicalOr(lessEqual(this.probs, LIMITS[0]), greater(this.probs, LIMITS[1]));
  }

  /** p, or LIMITS[0] inside the unstable region (where the closed forms are not used). */
  private cutProbs(): Tensor {
    return where(this.outsideUnstableRegion(), this.probs, LIMITS[0]);
  }

  /** log C(p), the log normalizer as a function of p. */
  logNormalizer(): Tensor {
    return tidy(() => {
      const p = this.cutProbs();
      const below = lessEqual(p, 0.5);
      const closed = sub(
        log(abs(sub(log1p(neg(p)), log(p)))),
        where(below, log1p(mul(where(below, p, 0), -2)), log(sub(mul(where(below, 1, p), 2), 1))),
      );
      const x = square(sub(this.probs, 0.5));
      const taylor = add(mul(add(mul(x, 104 / 45), 4 / 3), x), Math.LN2);
      return where(this.outsideUnstableRegion(), closed, taylor);
    });
  }

  logProb(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('logProb', value);
      this.checkSupport('logProb', v, (x) => x >= 0 && x <= 1, '[0, 1]');
      // -(binary cross-entropy with logits) + log C.
      return add(sub(mul(v, this.logits), softplus(this.logits)), this.logNormalizer());
    });
  }

  override get mean(): Tensor {
    return tidy(() => {
      const p = this.cutProbs();
      const closed = add(div(p, sub(mul(p, 2), 1)), div(1, sub(log1p(neg(p)), log(p))));
      const x = sub(this.probs, 0.5);
      const taylor = add(mul(add(mul(square(x), 16 / 45), 1 / 3), x), 0.5);
      return where(this.outsideUnstableRegion(), closed, taylor);
    });
  }

  override get variance(): Tensor {
    return tidy(() => {
      const p = this.cutProbs();
      const closed = add(div(mul(p, sub(p, 1)), square(sub(1, mul(p, 2)))), div(1, square(sub(log1p(neg(p)), log(p)))));
      const x = square(sub(this.probs, 0.5));
      const taylor = sub(1 / 12, mul(sub(1 / 15, mul(x, 128 / 945)), x));
      return where(this.outsideUnstableRegion(), closed, taylor);
    });
  }

  override cdf(value: TensorLike): Tensor {
    return tidy(() => {
      const v = this.valueTensor('cdf', value);
      const p = this.cutProbs();
      const closed = div(add(mul(pow(p, v), pow(sub(1, p), sub(1, v))), sub(p, 1)), sub(mul(p, 2), 1));
      const unbounded = where(this.outsideUnstableRegion(), closed, v);
      return where(lessEqual(v, 0), 0, where(greaterEqual(v, 1), 1, unbounded));
    });
  }

  override icdf(value: TensorLike): Tensor {
    return tidy(() => {
      const u = this.valueTensor('icdf', value);
      const p = this.cutProbs();
      const closed = div(sub(log1p(add(neg(p), mul(u, sub(mul(p, 2), 1)))), log1p(neg(p))), sub(log(p), log1p(neg(p))));
      return where(this.outsideUnstableRegion(), closed, u);
    });
  }

  override entropy(): Tensor {
    return tidy(() => {
      const logProbs0 = log1p(neg(this.probs));
      const logProbs1 = log(this.probs);
      return sub(sub(mul(this.mean, sub(logProbs0, logProbs1)), this.logNormalizer()), logProbs0);
    });
  }
}
