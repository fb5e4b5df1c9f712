import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { add, mul, sub } from '../../ops/elementwise.js';
import { squeeze, unsqueeze } from '../../ops/movement.js';
import { mean } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { stopGradient } from '../functional/common.js';
import { instanceNorm } from '../functional/instance-norm.js';
import type { FactoryOptions } from './common.js';
import { RunningStatsNorm } from './running-stats-norm.js';

/** Options of InstanceNorm1d, InstanceNorm2d and InstanceNorm3d (PyTorch's defaults differ from BatchNorm's). */
export interface InstanceNormOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of the newest batch in the running averages (default 0.1); null leaves them unchanged, as PyTorch. */
  readonly momentum?: number | null;
  /** Learn a scale and shift per channel (default **false**). */
  readonly affine?: boolean;
  /** Keep running statistics, used in evaluation mode (default **false**: instance statistics always). */
  readonly trackRunningStats?: boolean;
}

abstract class InstanceNormBase extends RunningStatsNorm {
  readonly #spatial: number;

  constructor(spatial: number, numFeatures: number, options: InstanceNormOptions) {
    super(numFeatures, options, { affine: false, trackRunningStats: false });
    this.#spatial = spatial;
  }

  forward(x: Tensor): Tensor {
    const name = this.constructor.name;
    const batchedRank = this.#spatial + 2;
    if (x.ndim !== batchedRank && x.ndim !== batchedRank - 1) {
      throw new ShapeError(`${name}: expected a ${batchedRank - 1}-d (unbatched) or ${batchedRank}-d input, got ${formatShape(x.shape)}`);
    }
    const unbatched = x.ndim === batchedRank - 1;
    const channels = x.shape[unbatched ? 0 : 1];
    // PyTorch only warns when nothing has the channels' size.
    if (channels !== this.numFeatures && (this.affine || this.trackRunningStats)) {
      throw new ShapeError(
        `${name}: expected ${this.numFeatures} channels (numFeatures) on axis ${unbatched ? 0 : 1}, got input ${formatShape(x.shape)}`,
      );
    }
    if (!unbatched) return this.#normalize(x);
    return tidy(() => squeeze(this.#normalize(unsqueeze(x, 0)), 0));
  }

  #normalize(x: Tensor): Tensor {
    const affine = { weight: this.weight?.value ?? null, bias: this.bias?.value ?? null, eps: this.eps };
    if (!this.training && this.trackRunningStats) {
      return instanceNorm(x, { ...affine, runningMean: this.runningMean, runningVar: this.runningVar, useInputStats: false });
    }
    const output = instanceNorm(x, affine);
    if (this.training && this.trackRunningStats && this.momentum !== null && this.momentum > 0) this.#updateRunningStats(x);
    return output;
  }

  /** The running averages move towards the batch's average of the per-instance mean and unbiased variance, as PyTorch's. */
  #updateRunningStats(x: Tensor): void {
    this.checkStatisticsUpdatable([x]);
    const momentum = this.momentum as number;
    noGrad(() => {
      const [batchMean, batchVariance] = tidy(() => {
        const data = stopGradient(x);
        const axes = Array.from({ length: x.ndim - 2 }, (_, i) => i + 2);
        const count = x.shape.slice(2).reduce((a, b) => a * b, 1);
        const m = mean(data, axes, true);
        const centered = sub(data, m);
        const unbiased = mul(mean(mul(centered, centered), axes), count / (count - 1));
        return [mean(mean(m, axes), 0), mean(unbiased, 0)];
      });
      const update = (running: Tensor, batch: Tensor): Tensor =>
        tidy(() => add(mul(running, 1 - momentum), mul(cast(batch, running.dtype), momentum)));
      this.setBuffer('runningMean', update(this.runningMean, batchMean));
      this.setBuffer('runningVar', update(this.runningVar, batchVariance));
      batchMean.dispose();
      batchVariance.dispose();
    });
  }
}

/**
 * Instance normalization over [N, C, L] or [C, L] (torch.nn.InstanceNorm1d): each channel of
 * each sample normalized over its positions. As PyTorch, `affine` and `trackRunningStats`
 * default to false.
 *
 * @example
 * new nn.InstanceNorm1d(64).forward(sequences);
 */
export class InstanceNorm1d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super(1, numFeatures, options);
  }
}

/**
 * Instance normalization over [N, C, H, W] or [C, H, W] (torch.nn.InstanceNorm2d), as in style
 * transfer networks.
 *
 * @example
 * new nn.InstanceNorm2d(64, { affine: true });
 */
export class InstanceNorm2d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super(2, numFeatures, options);
  }
}

/**
 * Instance normalization over [N, C, D, H, W] or [C, D, H, W] (torch.nn.InstanceNorm3d).
 *
 * @example
 * new nn.InstanceNorm3d(16, { trackRunningStats: true });
 */
export class InstanceNorm3d extends InstanceNormBase {
  constructor(numFeatures: number, options: InstanceNormOptions = {}) {
    super(3, numFeatures, options);
  }
}
