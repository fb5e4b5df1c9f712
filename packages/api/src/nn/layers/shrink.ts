import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber } from '../functional/common.js';
import { hardshrink, rrelu, softshrink, tanhshrink } from '../functional/shrink.js';
import { Module } from '../module.js';

/**
 * `x` where `|x| > lambd`, else 0 (torch.nn.Hardshrink; default lambd 0.5).
 *
 * @example
 * new nn.Hardshrink(0.1).forward(x);
 */
export class Hardshrink extends Module<[Tensor], Tensor> {
  readonly lambd: number;
  constructor(lambd = 0.5) {
    super();
    this.lambd = checkNumber('Hardshrink', 'lambd', lambd);
  }
  forward(x: Tensor): Tensor {
    return hardshrink(x, this.lambd);
  }
  override extraRepr(): string {
    return `lambd=${this.lambd}`;
  }
}

/**
 * Soft thresholding: `x ∓ lambd` outside [-lambd, lambd], else 0 (torch.nn.Softshrink).
 *
 * @example
 * new nn.Softshrink(0.1).forward(x);
 */
export class Softshrink extends Module<[Tensor], Tensor> {
  readonly lambd: number;
  constructor(lambd = 0.5) {
    super();
    this.lambd = checkNumber('Softshrink', 'lambd', lambd, { min: 0 });
  }
  forward(x: Tensor): Tensor {
    return softshrink(x, this.lambd);
  }
  override extraRepr(): string {
    return `lambd=${this.lambd}`;
  }
}

/** `x - tanh(x)` (torch.nn.Tanhshrink). */
export class Tanhshrink extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return tanhshrink(x);
  }
}

/**
 * Randomized leaky ReLU (torch.nn.RReLU): while training, negative inputs are scaled by slopes
 * drawn uniformly from [lower, upper]; in evaluation mode by their mean.
 *
 * @example
 * new nn.RReLU(0.1, 0.3);
 */
export class RReLU extends Module<[Tensor], Tensor> {
  readonly lower: number;
  readonly upper: number;
  constructor(lower = 1 / 8, upper = 1 / 3) {
    super();
    this.lower = checkNumber('RReLU', 'lower', lower);
    this.upper = checkNumber('RReLU', 'upper', upper, { min: this.lower });
  }
  forward(x: Tensor): Tensor {
    return rrelu(x, this.lower, this.upper, { training: this.training });
  }
  override extraRepr(): string {
    return `lower=${this.lower}, upper=${this.upper}`;
  }
}
