import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import { cast } from '../../ops/broadcast.js';
import { add, div, mul, sub } from '../../ops/elementwise.js';
import { tidy } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { checkNumber, stopGradient } from '../functional/common.js';
import { type LocalResponseNormOptions, localResponseNorm } from '../functional/local-response-norm.js';
import { batchNorm, batchNormTraining, groupNorm, layerNorm, rmsNorm } from '../functional/normalization.js';
import { constant } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, formatArgument, initOptions, parameter, positiveInteger } from './common.js';
import { RunningStatsNorm } from './running-stats-norm.js';

/** Options of BatchNorm1d and BatchNorm2d. */
export interface BatchNormOptions extends FactoryOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of the newest batch in the running averages (default 0.1); null for a cumulative average. */
  readonly momentum?: number | null;
  /** Learn a scale and shift per channel (default true). */
  readonly affine?: boolean;
  /** Keep running statistics for evaluation (default true); without them, batch statistics are always used. */
  readonly trackRunningStats?: boolean;
}

function ones(shape: number[], options: FactoryOptions): Tensor {
  return constant(shape, 1, initOptions(options));
}

function zeros(shape: number[], options: FactoryOptions): Tensor {
  return constant(shape, 0, initOptions(options));
}

/** What BatchNorm1d/2d/3d and SyncBatchNorm share: the checks, the forward, and the running statistics' update. */
export abstract class BatchNormBase extends RunningStatsNorm {
  protected abstract readonly ranks: readonly number[];

  constructor(numFeatures: number, options: BatchNormOptions) {
    super(numFeatures, options, { affine: true, trackRunningStats: true });
  }

  /** Checks the input's rank and its channels (axis 1). */
  protected checkInput(x: Tensor): void {
    const name = this.constructor.name;
    if (!this.ranks.includes(x.ndim)) {
      throw new ShapeError(`${name}: expected a ${this.ranks.map((r) => `${r}-d`).join(' or ')} input, got ${formatShape(x.shape)}`);
    }
    if (x.shape[1] !== this.numFeatures)
      throw new ShapeError(`${name}: expected ${this.numFeatures} channels on axis 1, got input ${formatShape(x.shape)}`);
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    const affine = { weight: this.weight?.value ?? null, bias: this.bias?.value ?? null, eps: this.eps };
    const useBatchStatistics = this.training || !this.trackRunningStats;
    if (!useBatchStatistics) return batchNorm(x, this.runningMean, this.runningVar, affine);
    const { output, mean, unbiasedVariance } = batchNormTraining(x, affine);
    if (this.training && this.trackRunningStats) this.updateRunningStats(mean, unbiasedVariance);
    return output;
  }

  /** Moves the running statistics towards a batch's mean and unbiased variance (by `momentum`, or cumulatively). */
  protected updateRunningStats(batchMean: Tensor, batchVariance: Tensor): void {
    const mean = stopGradient(batchMean);
    const variance = stopGradient(batchVariance);
    this.checkStatisticsUpdatable([mean, variance]);
    noGrad(() => {
      const count = tidy(() => add(this.numBatchesTracked, 1));
      this.setBuffer('numBatchesTracked', count);
      // momentum null: a cumulative average, whose weight is 1 / (batches seen), kept a tensor
      // so that no value is read back.
      const momentum = this.momentum;
      const update = (running: Tensor, batch: Tensor): Tensor =>
        tidy(() => {
          const factor = momentum ?? div(1, cast(count, running.dtype));
          const keep = typeof factor === 'number' ? 1 - factor : sub(1, factor);
          return add(mul(running, keep), mul(cast(batch, running.dtype), factor));
        });
      this.setBuffer('runningMean', update(this.runningMean, mean));
      this.setBuffer('runningVar', update(this.runningVar, variance));
    });
  }
}

/**
 * Batch normalization over [N, C] or [N, C, L] (torch.nn.BatchNorm1d): per-channel batch
 * statistics while training (updating running averages with `momentum`), running statistics in
 * evaluation mode.
 *
 * @example
 * const bn = new nn.BatchNorm1d(64);
 * bn.forward(x);          // training: batch statistics
 * bn.eval().forward(x);   // running statistics
 */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }
}

/**
 * Batch normalization over [N, C, H, W] (torch.nn.BatchNorm2d).
 *
 * @example
 * new nn.BatchNorm2d(64, { momentum: 0.01 });
 */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }
}

/**
 * Batch normalization over [N, C, D, H, W] (torch.nn.BatchNorm3d).
 *
 * @example
 * new nn.BatchNorm3d(16).forward(volumes);
 */
export class BatchNorm3d extends BatchNormBase {
  protected readonly ranks = [5];
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }
}

/** Options of LayerNorm. */
export interface LayerNormLayerOptions extends FactoryOptions {
  /** Default 1e-5. */
  readonly eps?: number;
  /** Learn a scale (and bias) per normalized element (default true). */
  readonly elementwiseAffine?: boolean;
  /** With elementwiseAffine, also learn a bias (default true). */
  readonly bias?: boolean;
}

function normalizedShapeOf(layer: string, normalizedShape: number | readonly number[]): number[] {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (shape.length === 0) throw new ValueError(`${layer}: normalizedShape must not be empty`);
  for (const d of shape) positiveInteger(layer, 'normalizedShape', d);
  return shape;
}

/**
 * Layer normalization over the trailing `normalizedShape` dimensions (torch.nn.LayerNorm);
 * weight starts at 1 and bias at 0.
 *
 * @example
 * new nn.LayerNorm(512).forward(x); // x [..., 512]
 */
export class LayerNorm extends Module<[Tensor], Tensor> {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = normalizedShapeOf('LayerNorm', normalizedShape);
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', affine ? parameter(ones(this.normalizedShape, options)) : null);
    this.bias = this.registerParameter('bias', affine && options.bias !== false ? parameter(zeros(this.normalizedShape, options)) : null);
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight?.value ?? null, bias: this.bias?.value ?? null, eps: this.eps });
  }

  override extraRepr(): string {
    return `${formatArgument(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/** Options of GroupNorm. */
export interface GroupNormLayerOptions extends FactoryOptions {
  /** Default 1e-5. */
  readonly eps?: number;
  /** Learn a scale and shift per channel (default true). */
  readonly affine?: boolean;
}

/**
 * Group normalization (torch.nn.GroupNorm): channels split into `numGroups` groups, each
 * normalized with its spatial positions.
 *
 * @example
 * new nn.GroupNorm(8, 64);
 */
export class GroupNorm extends Module<[Tensor], Tensor> {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly weight: Parameter | null;
  readonly bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, options: GroupNormLayerOptions = {}) {
    super();
    this.numGroups = positiveInteger('GroupNorm', 'numGroups', numGroups);
    this.numChannels = positiveInteger('GroupNorm', 'numChannels', numChannels);
    if (numChannels % numGroups !== 0)
      throw new ValueError(`GroupNorm: numChannels (${numChannels}) must be divisible by numGroups (${numGroups})`);
    this.eps = options.eps ?? 1e-5;
    const affine = options.affine ?? true;
    this.weight = this.registerParameter('weight', affine ? parameter(ones([numChannels], options)) : null);
    this.bias = this.registerParameter('bias', affine ? parameter(zeros([numChannels], options)) : null);
  }

  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels)
      throw new ShapeError(`GroupNorm: expected [N, ${this.numChannels}, ...], got ${formatShape(x.shape)}`);
    return groupNorm(x, this.numGroups, { weight: this.weight?.value ?? null, bias: this.bias?.value ?? null, eps: this.eps });
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}, affine=${this.weight !== null}`;
  }
}

/** Options of RMSNorm. */
export interface RmsNormLayerOptions extends FactoryOptions {
  /** Default: the machine epsilon of the input's dtype, as PyTorch. */
  readonly eps?: number | null;
  /** Learn a scale per normalized element (default true). */
  readonly elementwiseAffine?: boolean;
}

/**
 * Root-mean-square normalization over the trailing `normalizedShape` dimensions (torch.nn.RMSNorm).
 *
 * @example
 * new nn.RMSNorm(4096);
 */
export class RMSNorm extends Module<[Tensor], Tensor> {
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly weight: Parameter | null;

  constructor(normalizedShape: number | readonly number[], options: RmsNormLayerOptions = {}) {
    super();
    this.normalizedShape = normalizedShapeOf('RMSNorm', normalizedShape);
    this.eps = options.eps ?? null;
    this.weight = this.registerParameter(
      'weight',
      options.elementwiseAffine === false ? null : parameter(ones(this.normalizedShape, options)),
    );
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight?.value ?? null, eps: this.eps });
  }

  override extraRepr(): string {
    return `${formatArgument(this.normalizedShape)}, eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/**
 * Local response normalization across channels (torch.nn.LocalResponseNorm); see
 * `nn.functional.localResponseNorm`.
 *
 * @example
 * new nn.LocalResponseNorm(5, { k: 2 }).forward(activations);
 */
export class LocalResponseNorm extends Module<[Tensor], Tensor> {
  readonly alpha: number;
  readonly beta: number;
  readonly k: number;

  constructor(
    readonly size: number,
    options: LocalResponseNormOptions = {},
  ) {
    super();
    const layer = 'LocalResponseNorm';
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw new ValueError(`${layer}: size must be a positive integer, got ${JSON.stringify(size)}`);
    }
    this.alpha = checkNumber(layer, 'alpha', options.alpha ?? 1e-4);
    this.beta = checkNumber(layer, 'beta', options.beta ?? 0.75);
    this.k = checkNumber(layer, 'k', options.k ?? 1);
  }

  forward(x: Tensor): Tensor {
    return localResponseNorm(x, this.size, { alpha: this.alpha, beta: this.beta, k: this.k });
  }

  override extraRepr(): string {
    return `${this.size}, alpha=${this.alpha}, beta=${this.beta}, k=${this.k}`;
  }
}
