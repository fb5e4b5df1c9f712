import type { Tensor } from '../../tensor/tensor.js';
import { alphaDropout, dropout, dropout1d, dropout2d, dropout3d, featureAlphaDropout } from '../functional/dropout.js';
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

/** The shared body of the channel dropouts and AlphaDropout: a probability and a mode. */
abstract class DropoutNd extends Module<[Tensor], Tensor> {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    this.p = probability(this.constructor.name, 'p', p);
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/**
 * Channel dropout over [N, C, L] or [C, L] (torch.nn.Dropout1d): while training, zeroes whole
 * channels with probability `p` and scales the others by `1 / (1 - p)`; in evaluation mode, the
 * identity.
 *
 * @example
 * new nn.Dropout1d(0.2).forward(sequences);
 */
export class Dropout1d extends DropoutNd {
  forward(x: Tensor): Tensor {
    return dropout1d(x, this.p, { training: this.training });
  }
}

/**
 * Channel dropout over [N, C, H, W] (or [N, C, L], as PyTorch) (torch.nn.Dropout2d).
 *
 * @example
 * new nn.Dropout2d(0.1).forward(features);
 */
export class Dropout2d extends DropoutNd {
  forward(x: Tensor): Tensor {
    return dropout2d(x, this.p, { training: this.training });
  }
}

/**
 * Channel dropout over [N, C, D, H, W] or [C, D, H, W] (torch.nn.Dropout3d).
 *
 * @example
 * new nn.Dropout3d(0.1).forward(volumes);
 */
export class Dropout3d extends DropoutNd {
  forward(x: Tensor): Tensor {
    return dropout3d(x, this.p, { training: this.training });
  }
}

/**
 * Alpha dropout for SELU networks (torch.nn.AlphaDropout): keeps a zero-mean, unit-variance
 * input's mean and variance while training; the identity in evaluation mode.
 *
 * @example
 * new nn.Sequential(new nn.Linear(64, 64), new nn.SELU(), new nn.AlphaDropout(0.1));
 */
export class AlphaDropout extends DropoutNd {
  forward(x: Tensor): Tensor {
    return alphaDropout(x, this.p, { training: this.training });
  }
}

/**
 * Alpha dropout of whole channels of [N, C, *] (torch.nn.FeatureAlphaDropout): while training,
 * each channel of each sample is dropped to SELU's saturation value with probability `p`, with
 * AlphaDropout's affine correction; the identity in evaluation mode.
 *
 * @example
 * new nn.FeatureAlphaDropout(0.2).forward(features);
 */
export class FeatureAlphaDropout extends DropoutNd {
  forward(x: Tensor): Tensor {
    return featureAlphaDropout(x, this.p, { training: this.training });
  }
}
