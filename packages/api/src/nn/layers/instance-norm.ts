import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { full } from '../../ops/creation.js';
import { add, mul, sub } from '../../ops/elementwise.js';
import { squeeze, unsqueeze } from '../../ops/movement.js';
import { mean } from '../../ops/reduce.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { stopGradient } from '../functional/common.js';
import { instanceNorm } from '../functional/instance-norm.js';
import { insideFunctionalCall } from '../functional-call.js';
import { constant } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, initOptions, parameter, positiveInteger } from './common.js';

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

abstract class InstanceNormBase extends Module<[Tensor], Tensor> {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** [numFeatures] starting at 1, or null without affine. */
  readonly weight: Parameter | null;
  /** [numFeatures] starting at 0, or null without affine. */
  readonly bias: Parameter | null;
  readonly #spatial: number;

  constructor(spatial: number, numFeatures: number, options: InstanceNormOptions) {
    super();
    const name = this.constructor.name;
    this.#spatial = spatial;
    this.numFeatures = positiveInteger(name, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    if (typeof this.eps !== 'number' || !(this.eps >= 0))
      throw new ValueError(`${name}: eps must be a non-negative number, got ${this.eps}`);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1))
      throw new ValueError(`${name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    this.affine = options.affine ?? false;
    this.trackRunningStats = options.trackRunningStats ?? false;
    const init = initOptions(options);
    this.weight = this.registerParameter('weight', this.affine ? parameter(constant([numFeatures], 1, init)) : null);
    this.bias = this.registerParameter('bias', this.affine ? parameter(constant([numFeatures], 0, init)) : null);
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', constant([numFeatures], 0, init));
      this.registerBuffer('runningVar', constant([numFeatures], 1, init));
      // PyTorch registers it (as every _NormBase) but instance norm never counts batches.
      this.registerBuffer(
        'numBatchesTracked',
        full([], 0, { dtype: 'int32', ...(options.backend === undefined ? {} : { backend: options.backend }) }),
      );
    } else {
      this.registerBuffer('runningMean', null);
      this.registerBuffer('runningVar', null);
      this.registerBuffer('numBatchesTracked', null);
    }
  }

  /** The running mean per channel (a buffer; only with trackRunningStats). */
  get runningMean(): Tensor {
    return this.getBuffer('runningMean');
  }

  /** The running unbiased variance per channel (a buffer; only with trackRunningStats). */
  get runningVar(): Tensor {
    return this.getBuffer('runningVar');
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
    const name = this.constructor.name;
    const threaded = this.runningMean._backend === null || insideFunctionalCall();
    if (x._backend === null && !threaded) {
      throw new ValueError(
        `${name}: the running statistics cannot be updated from values traced by vmap or jit; compile the model or the training step with compile(), call it through nn.functionalCallWithBuffers, switch it to eval(), or build it with trackRunningStats: false`,
      );
    }
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

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
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
