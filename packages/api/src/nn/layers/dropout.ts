import type { Tensor } from '../../tensor/tensor.js';
import { dropout } from '../functional/dropout.js';
import { Module } from '../module.js';
import { probability } from './common.js';

/**
 * Inverted dropout (torch.nn.Dropout): while training, zeroes each element with probability
 * `p` (default 0.5) and scales the others by `1 / (1 - p)`; in evaluation mode, the identity.
 * Masks come from the global generator (`manualSeed`).
 *
 * @example
 * const drop = new nn.Dropout(0.1);
 * drop.forward(x);       // training
 * drop.eval().forward(x); // x
 */
export class Dropout extends Module<[Tensor], Tensor> {
  readonly p: number;

  constructor(p = 0.5) {
    super();
    this.p = probability('Dropout', 'p', p);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
