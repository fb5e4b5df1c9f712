import { ShapeError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  celu,
  elu,
  type GeluApproximation,
  gelu,
  glu,
  hardsigmoid,
  hardswish,
  hardtanh,
  leakyRelu,
  logSigmoid,
  logSoftmax,
  mish,
  prelu,
  relu,
  relu6,
  selu,
  sigmoid,
  silu,
  softmax,
  softmin,
  softplus,
  softsign,
  tanh,
  threshold,
} from '../functional/activations.js';
import { checkNumber } from '../functional/common.js';
import { constant } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, initOptions, parameter, positiveInteger } from './common.js';

// Activation layers: parameter-free modules over the functional forms.

/**
 * `max(x, 0)`.
 *
 * @example
 * new nn.ReLU().forward(tensor([-1, 2])); // [0, 2]
 */
export class ReLU extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** `min(max(x, 0), 6)`. */
export class ReLU6 extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
}

/** Clamps to [minValue, maxValue] (default [-1, 1]). */
export class Hardtanh extends Module<[Tensor], Tensor> {
  constructor(
    readonly minValue = -1,
    readonly maxValue = 1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return hardtanh(x, this.minValue, this.maxValue);
  }
  override extraRepr(): string {
    return `minValue=${this.minValue}, maxValue=${this.maxValue}`;
  }
}

/**
 * `x` where positive, `negativeSlope * x` elsewhere (default 0.01).
 *
 * @example
 * new nn.LeakyReLU(0.2);
 */
export class LeakyReLU extends Module<[Tensor], Tensor> {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return leakyRelu(x, this.negativeSlope);
  }
  override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

/**
 * Gaussian error linear unit, exact (default) or with the tanh approximation.
 *
 * @example
 * new nn.GELU('tanh');
 */
export class GELU extends Module<[Tensor], Tensor> {
  constructor(readonly approximate: GeluApproximation = 'none') {
    super();
  }
  forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
  override extraRepr(): string {
    return `approximate='${this.approximate}'`;
  }
}

/** `x * sigmoid(x)` (swish). */
export class SiLU extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return silu(x);
  }
}

/** Exponential linear unit with scale `alpha` (default 1). */
export class ELU extends Module<[Tensor], Tensor> {
  constructor(readonly alpha = 1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/** `log(1 + exp(beta x)) / beta`, linear above `threshold`. */
export class Softplus extends Module<[Tensor], Tensor> {
  constructor(
    readonly beta = 1,
    readonly threshold = 20,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softplus(x, this.beta, this.threshold);
  }
  override extraRepr(): string {
    return `beta=${this.beta}, threshold=${this.threshold}`;
  }
}

/** Hyperbolic tangent. */
export class Tanh extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** The logistic function. */
export class Sigmoid extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** `x * tanh(softplus(x))`. */
export class Mish extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return mish(x);
  }
}

/**
 * Softmax along `axis` (default the last).
 *
 * @example
 * new nn.Softmax(1).forward(logits);
 */
export class Softmax extends Module<[Tensor], Tensor> {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmax(x, this.axis);
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Softmax over the channels of [N, C, H, W] or [C, H, W] (torch.nn.Softmax2d: at every position).
 *
 * @example
 * new nn.Softmax2d().forward(scores); // sums to 1 over C at each pixel
 */
export class Softmax2d extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) {
      throw new ShapeError(`Softmax2d: input must be [N, C, H, W] or [C, H, W], got ${formatShape(x.shape)}`);
    }
    return softmax(x, -3);
  }
}

/** Log-softmax along `axis` (default the last). */
export class LogSoftmax extends Module<[Tensor], Tensor> {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return logSoftmax(x, this.axis);
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/**
 * Scaled exponential linear unit, with PyTorch's constants.
 *
 * @example
 * new nn.SELU().forward(tensor([-1, 2])); // [-1.1113, 2.1014]
 */
export class SELU extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

/** Continuously differentiable ELU: `alpha * (exp(x / alpha) - 1)` below 0 (default alpha 1). */
export class CELU extends Module<[Tensor], Tensor> {
  readonly alpha: number;

  constructor(alpha = 1) {
    super();
    this.alpha = checkNumber('CELU', 'alpha', alpha);
  }
  forward(x: Tensor): Tensor {
    return celu(x, this.alpha);
  }
  override extraRepr(): string {
    return `alpha=${this.alpha}`;
  }
}

/**
 * Gated linear unit: the first half along `axis` (default the last) times the sigmoid of the second.
 *
 * @example
 * new nn.GLU(1).forward(x); // [N, 2C] -> [N, C]
 */
export class GLU extends Module<[Tensor], Tensor> {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return glu(x, this.axis);
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/** `x * relu6(x + 3) / 6`. */
export class Hardswish extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return hardswish(x);
  }
}

/** `relu6(x + 3) / 6`. */
export class Hardsigmoid extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return hardsigmoid(x);
  }
}

/** `x / (1 + |x|)`. */
export class Softsign extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return softsign(x);
  }
}

/** `log(sigmoid(x))`, computed without overflow. */
export class LogSigmoid extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return logSigmoid(x);
  }
}

/**
 * `x` where `x > threshold`, else `value`.
 *
 * @example
 * new nn.Threshold(0.1, 20);
 */
export class Threshold extends Module<[Tensor], Tensor> {
  readonly threshold: number;
  readonly value: number;

  constructor(threshold: number, value: number) {
    super();
    this.threshold = checkNumber('Threshold', 'threshold', threshold);
    this.value = checkNumber('Threshold', 'value', value);
  }
  forward(x: Tensor): Tensor {
    return threshold(x, this.threshold, this.value);
  }
  override extraRepr(): string {
    return `threshold=${this.threshold}, value=${this.value}`;
  }
}

/**
 * Parametric ReLU (torch.nn.PReLU): `x` where positive, `weight * x` elsewhere, with a learnable
 * `weight` of `numParameters` slopes (1, or the number of channels on axis 1), initialized to
 * `init` (default 0.25). (`numParameters()` is Module's count; the slopes are `weight.value.shape[0]`.)
 *
 * @example
 * const act = new nn.PReLU(16); // one slope per channel of an [N, 16, ...] input
 */
export class PReLU extends Module<[Tensor], Tensor> {
  /** [numParameters]. */
  readonly weight: Parameter;

  constructor(numParameters = 1, init = 0.25, options: FactoryOptions = {}) {
    super();
    positiveInteger('PReLU', 'numParameters', numParameters);
    checkNumber('PReLU', 'init', init);
    this.weight = this.registerParameter('weight', parameter(constant([numParameters], init, initOptions(options))));
  }
  forward(x: Tensor): Tensor {
    return prelu(x, this.weight.value);
  }
  override extraRepr(): string {
    return `numParameters=${this.weight.value.shape[0]}`;
  }
}

/** Softmin (softmax of `-x`) along `axis` (default the last). */
export class Softmin extends Module<[Tensor], Tensor> {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return softmin(x, this.axis);
  }
  override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}
