import type { Tensor } from '../../tensor/tensor.js';
import {
  elu,
  type GeluApproximation,
  gelu,
  hardtanh,
  leakyRelu,
  logSoftmax,
  mish,
  relu,
  relu6,
  sigmoid,
  silu,
  softmax,
  softplus,
  tanh,
} from '../functional/activations.js';
import { Module } from '../module.js';

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
