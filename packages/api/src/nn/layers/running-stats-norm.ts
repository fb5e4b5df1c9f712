import { ValueError } from '../../core/errors.js';
import { full } from '../../ops/creation.js';
import type { Tensor } from '../../tensor/tensor.js';
import { insideFunctionalCall } from '../functional-call.js';
import { constant } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, initOptions, parameter, positiveInteger } from './common.js';

/** What BatchNorm and InstanceNorm are built from; each documents its own defaults and momentum rule. */
export interface RunningStatsNormOptions extends FactoryOptions {
  readonly eps?: number;
  readonly momentum?: number | null;
  readonly affine?: boolean;
  readonly trackRunningStats?: boolean;
}

/**
 * The part batch and instance normalization share (PyTorch's _NormBase): the per-channel scale
 * and shift, the running mean and variance buffers with their batch count, and the options that
 * describe them. The two differ in their defaults (`affine` and `trackRunningStats`), in which
 * axes they reduce, and in what `momentum: null` means.
 */
export abstract class RunningStatsNorm extends Module<[Tensor], Tensor> {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  /** [numFeatures] starting at 1, or null without affine. */
  readonly weight: Parameter | null;
  /** [numFeatures] starting at 0, or null without affine. */
  readonly bias: Parameter | null;

  protected constructor(
    numFeatures: number,
    options: RunningStatsNormOptions,
    defaults: { readonly affine: boolean; readonly trackRunningStats: boolean },
  ) {
    super();
    const name = this.constructor.name;
    this.numFeatures = positiveInteger(name, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    if (typeof this.eps !== 'number' || !(this.eps >= 0))
      throw new ValueError(`${name}: eps must be a non-negative number, got ${this.eps}`);
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (this.momentum !== null && !(this.momentum >= 0 && this.momentum <= 1))
      throw new ValueError(`${name}: momentum must be in [0, 1] or null, got ${this.momentum}`);
    this.affine = options.affine ?? defaults.affine;
    this.trackRunningStats = options.trackRunningStats ?? defaults.trackRunningStats;
    const init = initOptions(options);
    this.weight = this.registerParameter('weight', this.affine ? parameter(constant([numFeatures], 1, init)) : null);
    this.bias = this.registerParameter('bias', this.affine ? parameter(constant([numFeatures], 0, init)) : null);
    if (this.trackRunningStats) {
      this.registerBuffer('runningMean', constant([numFeatures], 0, init));
      this.registerBuffer('runningVar', constant([numFeatures], 1, init));
      this.registerBuffer('numBatchesTracked', batchCount(options.backend));
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

  /** How many training batches have updated the running statistics (a buffer, int32 scalar). */
  get numBatchesTracked(): Tensor {
    return this.getBuffer('numBatchesTracked');
  }

  /** Resets the running statistics to mean 0, variance 1, no batches. */
  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    const backend = this.runningMean._backend?.name;
    const init = { dtype: this.runningMean.dtype, ...(backend === undefined ? {} : { backend }) };
    this.setBuffer('runningMean', constant([this.numFeatures], 0, init));
    this.setBuffer('runningVar', constant([this.numFeatures], 1, init));
    this.setBuffer('numBatchesTracked', batchCount(backend));
  }

  /**
   * Refuses to replace the running statistics with `statistics` traced by vmap or jit, unless
   * someone threads the update out of the trace: compile(), whose slots then hold traced buffers,
   * or functionalCall.
   */
  protected checkStatisticsUpdatable(statistics: readonly Tensor[]): void {
    const threaded = this.runningMean._backend === null || insideFunctionalCall();
    if (threaded || statistics.every((s) => s._backend !== null)) return;
    throw new ValueError(
      `${this.constructor.name}: the running statistics cannot be updated from values traced by vmap or jit; compile the model or the training step with compile() (which threads the buffers through the program), call it through nn.functionalCallWithBuffers (which returns the update), switch it to eval(), or build it with trackRunningStats: false`,
    );
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.affine}, trackRunningStats=${this.trackRunningStats}`;
  }
}

function batchCount(backend: string | undefined): Tensor {
  return full([], 0, { dtype: 'int32', ...(backend === undefined ? {} : { backend }) });
}
