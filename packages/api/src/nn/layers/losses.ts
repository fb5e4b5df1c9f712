import { noGrad } from '../../autograd/grad-mode.js';
import { ValueError } from '../../core/errors.js';
import { Primitive } from '../../primitives/primitive.js';
import { bind } from '../../tensor/dispatch.js';
import { isTensor } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import {
  type BinaryCrossEntropyOptions,
  type BinaryCrossEntropyWithLogitsOptions,
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
} from '../functional/binary-losses.js';
import { type CrossEntropyOptions, crossEntropy, type NllLossOptions, nllLoss } from '../functional/classification-losses.js';
import { checkNumber, checkReduction, type Reduction } from '../functional/common.js';
import {
  type CosineEmbeddingOptions,
  cosineEmbeddingLoss,
  type KlDivOptions,
  klDiv,
  type MarginRankingOptions,
  marginRankingLoss,
} from '../functional/comparison-losses.js';
import { type CtcLossOptions, ctcLoss } from '../functional/ctc-loss.js';
import { type GaussianNllOptions, gaussianNllLoss, type PoissonNllOptions, poissonNllLoss } from '../functional/likelihood-losses.js';
import {
  type HingeEmbeddingOptions,
  hingeEmbeddingLoss,
  type MultiLabelMarginOptions,
  type MultiLabelSoftMarginOptions,
  type MultiMarginOptions,
  multiLabelMarginLoss,
  multiLabelSoftMarginLoss,
  multiMarginLoss,
  type SoftMarginOptions,
  softMarginLoss,
  type TripletMarginOptions,
  type TripletMarginWithDistanceOptions,
  tripletMarginLoss,
  tripletMarginWithDistanceLoss,
} from '../functional/margin-losses.js';
import {
  type HuberOptions,
  huberLoss,
  type LossOptions,
  l1Loss,
  mseLoss,
  type SmoothL1Options,
  smoothL1Loss,
} from '../functional/regression-losses.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// Loss modules (torch.nn's *Loss classes): wrappers over the functional losses that hold their
// options. As in PyTorch, a class `weight` (and BCEWithLogitsLoss's `posWeight`) is a buffer, so
// it moves with `to()` and is in `stateDict()`; the other options are plain fields. Options are
// checked when the module is built, so a bad reduction fails at construction, naming the class.

/**
 * The options object of a loss constructor. PyTorch's constructors take their parameters
 * positionally (`nn.CrossEntropyLoss(w)`, `nn.SmoothL1Loss(reduction='sum')`); a value there
 * instead of an object would be ignored by plain-JavaScript callers, so it is refused, naming the
 * option it was meant for.
 */
function lossOptions<T extends object>(layer: string, options: T | undefined, firstPositional: string | null): T {
  if (options === undefined) return {} as T;
  if (typeof options === 'object' && options !== null && !Array.isArray(options) && !isTensor(options)) return options;
  const got = isTensor(options)
    ? 'a Tensor'
    : options === null
      ? 'null'
      : Array.isArray(options)
        ? 'an array'
        : `${typeof options} ${JSON.stringify(options)}`;
  const fix = firstPositional === null ? 'name each option in the object' : `pass the ${firstPositional} as { ${firstPositional} }`;
  throw new ValueError(`${layer}: the constructor takes an options object; got ${got} — ${fix}`);
}

/** A weight tensor as the module's own handle (a view of the caller's), so that `to()` and `loadStateDict` never dispose the caller's tensor. */
function weightBuffer(layer: string, what: string, weight: Tensor | null | undefined): Tensor | null {
  if (weight === undefined || weight === null) return null;
  if (!isTensor(weight))
    throw new ValueError(`${layer}: ${what} must be a Tensor (or null), got ${Array.isArray(weight) ? 'an array' : typeof weight}`);
  return noGrad(() => bind(Primitive.Reshape, [weight], { shape: [...weight.shape] }));
}

/** `name=value` pairs for the options that differ from their defaults (a loss with defaults prints as `MSELoss()`, as in PyTorch). */
function changedOptions(entries: readonly [name: string, value: unknown, defaultValue: unknown][]): string {
  return entries
    .filter(([, value, defaultValue]) => value !== defaultValue)
    .map(([name, value]) => `${name}=${formatArgument(value)}`)
    .join(', ');
}

/** What every loss holds: its reduction. */
abstract class Loss<In extends Tensor[]> extends Module<In, Tensor> {
  readonly reduction: Reduction;

  constructor(reduction: unknown) {
    super();
    this.reduction = checkReduction(this.constructor.name, reduction) as Reduction;
  }

  override extraRepr(): string {
    return changedOptions([['reduction', this.reduction, 'mean']]);
  }
}

/** A loss with an optional per-class or per-element `weight` buffer. */
abstract class WeightedLoss<In extends Tensor[]> extends Loss<In> {
  readonly #weighted: boolean;

  constructor(weight: Tensor | null | undefined, reduction: unknown) {
    super(reduction);
    const buffer = weightBuffer(this.constructor.name, 'weight', weight);
    this.#weighted = buffer !== null;
    this.registerBuffer('weight', buffer);
  }

  /** The weight (a buffer), or null. */
  get weight(): Tensor | null {
    return this.#weighted ? this.getBuffer('weight') : null;
  }
}

/**
 * Cross-entropy between logits and class indices or class probabilities
 * (torch.nn.CrossEntropyLoss); see `nn.functional.crossEntropy`.
 *
 * @example
 * const criterion = new nn.CrossEntropyLoss({ labelSmoothing: 0.1 });
 * const loss = criterion.forward(logits, labels);
 */
export class CrossEntropyLoss extends WeightedLoss<[Tensor, Tensor]> {
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;

  constructor(options?: CrossEntropyOptions) {
    const o = lossOptions('CrossEntropyLoss', options, 'weight');
    super(o.weight, o.reduction);
    this.ignoreIndex = checkNumber('CrossEntropyLoss', 'ignoreIndex', o.ignoreIndex ?? -100);
    this.labelSmoothing = checkNumber('CrossEntropyLoss', 'labelSmoothing', o.labelSmoothing ?? 0, { min: 0, max: 1 });
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }

  override extraRepr(): string {
    return changedOptions([
      ['ignoreIndex', this.ignoreIndex, -100],
      ['reduction', this.reduction, 'mean'],
      ['labelSmoothing', this.labelSmoothing, 0],
    ]);
  }
}

/**
 * Negative log-likelihood of class indices given log-probabilities (torch.nn.NLLLoss); see
 * `nn.functional.nllLoss`.
 *
 * @example
 * new nn.NLLLoss({ ignoreIndex: 0 }).forward(nn.functional.logSoftmax(logits, 1), labels);
 */
export class NLLLoss extends WeightedLoss<[Tensor, Tensor]> {
  readonly ignoreIndex: number;

  constructor(options?: NllLossOptions) {
    const o = lossOptions('NLLLoss', options, 'weight');
    super(o.weight, o.reduction);
    this.ignoreIndex = checkNumber('NLLLoss', 'ignoreIndex', o.ignoreIndex ?? -100);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return nllLoss(input, target, { weight: this.weight, ignoreIndex: this.ignoreIndex, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['ignoreIndex', this.ignoreIndex, -100],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * Mean squared error (torch.nn.MSELoss).
 *
 * @example
 * new nn.MSELoss().forward(prediction, target);
 */
export class MSELoss extends Loss<[Tensor, Tensor]> {
  constructor(options?: LossOptions) {
    super(lossOptions('MSELoss', options, null).reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * Mean absolute error (torch.nn.L1Loss).
 *
 * @example
 * new nn.L1Loss({ reduction: 'sum' }).forward(prediction, target);
 */
export class L1Loss extends Loss<[Tensor, Tensor]> {
  constructor(options?: LossOptions) {
    super(lossOptions('L1Loss', options, null).reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

/**
 * Quadratic below `beta` (default 1), linear above (torch.nn.SmoothL1Loss); see
 * `nn.functional.smoothL1Loss`.
 *
 * @example
 * new nn.SmoothL1Loss({ beta: 0.5 });
 */
export class SmoothL1Loss extends Loss<[Tensor, Tensor]> {
  readonly beta: number;

  constructor(options?: SmoothL1Options) {
    const o = lossOptions('SmoothL1Loss', options, null);
    super(o.reduction);
    this.beta = checkNumber('SmoothL1Loss', 'beta', o.beta ?? 1, { min: 0 });
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }

  override extraRepr(): string {
    return changedOptions([
      ['reduction', this.reduction, 'mean'],
      ['beta', this.beta, 1],
    ]);
  }
}

/**
 * Huber loss with threshold `delta` (default 1) (torch.nn.HuberLoss); see
 * `nn.functional.huberLoss`.
 *
 * @example
 * new nn.HuberLoss({ delta: 2 });
 */
export class HuberLoss extends Loss<[Tensor, Tensor]> {
  readonly delta: number;

  constructor(options?: HuberOptions) {
    const o = lossOptions('HuberLoss', options, 'reduction');
    super(o.reduction);
    this.delta = checkNumber('HuberLoss', 'delta', o.delta ?? 1, { min: 0, minExclusive: true });
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }

  override extraRepr(): string {
    return changedOptions([
      ['reduction', this.reduction, 'mean'],
      ['delta', this.delta, 1],
    ]);
  }
}

/**
 * Binary cross-entropy on probabilities (torch.nn.BCELoss), with an optional element `weight`
 * (a buffer); see `nn.functional.binaryCrossEntropy`.
 *
 * @example
 * new nn.BCELoss().forward(nn.functional.sigmoid(logits), labels);
 */
export class BCELoss extends WeightedLoss<[Tensor, Tensor]> {
  constructor(options?: BinaryCrossEntropyOptions) {
    const o = lossOptions('BCELoss', options, 'weight');
    super(o.weight, o.reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * Binary cross-entropy on logits (torch.nn.BCEWithLogitsLoss), with an optional element `weight`
 * and a per-class `posWeight` (both buffers); see `nn.functional.binaryCrossEntropyWithLogits`.
 *
 * @example
 * new nn.BCEWithLogitsLoss({ posWeight: tensor([3, 1]) }).forward(logits, labels);
 */
export class BCEWithLogitsLoss extends WeightedLoss<[Tensor, Tensor]> {
  readonly #positiveWeighted: boolean;

  constructor(options?: BinaryCrossEntropyWithLogitsOptions) {
    const o = lossOptions('BCEWithLogitsLoss', options, 'weight');
    super(o.weight, o.reduction);
    const posWeight = weightBuffer('BCEWithLogitsLoss', 'posWeight', o.posWeight);
    this.#positiveWeighted = posWeight !== null;
    this.registerBuffer('posWeight', posWeight);
  }

  /** The weight of the positive term per class (a buffer), or null. */
  get posWeight(): Tensor | null {
    return this.#positiveWeighted ? this.getBuffer('posWeight') : null;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

/**
 * Kullback-Leibler divergence of log-probabilities from a target distribution
 * (torch.nn.KLDivLoss); `reduction: 'batchmean'` is the true KL divergence. See
 * `nn.functional.klDiv`.
 *
 * @example
 * new nn.KLDivLoss({ reduction: 'batchmean' }).forward(nn.functional.logSoftmax(logits, 1), probabilities);
 */
export class KLDivLoss extends Module<[Tensor, Tensor], Tensor> {
  readonly reduction: Reduction | 'batchmean';
  readonly logTarget: boolean;

  constructor(options?: KlDivOptions) {
    super();
    const o = lossOptions('KLDivLoss', options, null);
    this.reduction = checkReduction('KLDivLoss', o.reduction, ['mean', 'batchmean', 'sum', 'none']) as Reduction | 'batchmean';
    if (o.logTarget !== undefined && typeof o.logTarget !== 'boolean') {
      throw new ValueError(`KLDivLoss: logTarget must be a boolean, got ${JSON.stringify(o.logTarget)}`);
    }
    this.logTarget = o.logTarget ?? false;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return klDiv(input, target, { reduction: this.reduction, logTarget: this.logTarget });
  }

  override extraRepr(): string {
    return changedOptions([
      ['reduction', this.reduction, 'mean'],
      ['logTarget', this.logTarget, false],
    ]);
  }
}

/**
 * `max(0, -y (x1 - x2) + margin)` for labels y = ±1 (torch.nn.MarginRankingLoss); see
 * `nn.functional.marginRankingLoss`.
 *
 * @example
 * new nn.MarginRankingLoss({ margin: 0.5 }).forward(scores1, scores2, labels);
 */
export class MarginRankingLoss extends Loss<[Tensor, Tensor, Tensor]> {
  readonly margin: number;

  constructor(options?: MarginRankingOptions) {
    const o = lossOptions('MarginRankingLoss', options, 'margin');
    super(o.reduction);
    this.margin = checkNumber('MarginRankingLoss', 'margin', o.margin ?? 0);
  }

  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return marginRankingLoss(input1, input2, target, { margin: this.margin, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['margin', this.margin, 0],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * `1 - cos(x1, x2)` for y = 1, `max(0, cos(x1, x2) - margin)` for y = -1
 * (torch.nn.CosineEmbeddingLoss); see `nn.functional.cosineEmbeddingLoss`.
 *
 * @example
 * new nn.CosineEmbeddingLoss({ margin: 0.2 }).forward(a, b, labels);
 */
export class CosineEmbeddingLoss extends Loss<[Tensor, Tensor, Tensor]> {
  readonly margin: number;

  constructor(options?: CosineEmbeddingOptions) {
    const o = lossOptions('CosineEmbeddingLoss', options, 'margin');
    super(o.reduction);
    this.margin = checkNumber('CosineEmbeddingLoss', 'margin', o.margin ?? 0);
  }

  forward(input1: Tensor, input2: Tensor, target: Tensor): Tensor {
    return cosineEmbeddingLoss(input1, input2, target, { margin: this.margin, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['margin', this.margin, 0],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

function booleanOption(layer: string, what: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new ValueError(`${layer}: ${what} must be a boolean, got ${JSON.stringify(value)}`);
  return v;
}

/**
 * `x` for y = 1, `max(0, margin - x)` for y = -1 (torch.nn.HingeEmbeddingLoss); see
 * `nn.functional.hingeEmbeddingLoss`.
 *
 * @example
 * new nn.HingeEmbeddingLoss({ margin: 2 }).forward(distances, labels);
 */
export class HingeEmbeddingLoss extends Loss<[Tensor, Tensor]> {
  readonly margin: number;

  constructor(options?: HingeEmbeddingOptions) {
    const o = lossOptions('HingeEmbeddingLoss', options, 'margin');
    super(o.reduction);
    this.margin = checkNumber('HingeEmbeddingLoss', 'margin', o.margin ?? 1);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return hingeEmbeddingLoss(input, target, { margin: this.margin, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['margin', this.margin, 1],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * `log(1 + exp(-y x))` for labels ±1 (torch.nn.SoftMarginLoss); see `nn.functional.softMarginLoss`.
 *
 * @example
 * new nn.SoftMarginLoss().forward(scores, labels);
 */
export class SoftMarginLoss extends Loss<[Tensor, Tensor]> {
  constructor(options?: SoftMarginOptions) {
    super(lossOptions('SoftMarginLoss', options, null).reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return softMarginLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * `max(0, margin + d(a, p) - d(a, n))` with p-norm distances (torch.nn.TripletMarginLoss); see
 * `nn.functional.tripletMarginLoss`.
 *
 * @example
 * new nn.TripletMarginLoss({ margin: 0.5, swap: true }).forward(anchor, positive, negative);
 */
export class TripletMarginLoss extends Loss<[Tensor, Tensor, Tensor]> {
  readonly margin: number;
  readonly p: number;
  readonly eps: number;
  readonly swap: boolean;

  constructor(options?: TripletMarginOptions) {
    const layer = 'TripletMarginLoss';
    const o = lossOptions(layer, options, 'margin');
    super(o.reduction);
    this.margin = checkNumber(layer, 'margin', o.margin ?? 1);
    this.p = checkNumber(layer, 'p', o.p ?? 2, { min: 0, minExclusive: true });
    this.eps = checkNumber(layer, 'eps', o.eps ?? 1e-6);
    this.swap = booleanOption(layer, 'swap', o.swap, false);
  }

  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return tripletMarginLoss(anchor, positive, negative, {
      margin: this.margin,
      p: this.p,
      eps: this.eps,
      swap: this.swap,
      reduction: this.reduction,
    });
  }

  override extraRepr(): string {
    return changedOptions([
      ['margin', this.margin, 1],
      ['p', this.p, 2],
      ['eps', this.eps, 1e-6],
      ['swap', this.swap, false],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * The triplet margin loss with any distance function (torch.nn.TripletMarginWithDistanceLoss);
 * see `nn.functional.tripletMarginWithDistanceLoss`.
 *
 * @example
 * new nn.TripletMarginWithDistanceLoss({ distanceFunction: (x, y) => x.sub(y).abs().sum(-1) });
 */
export class TripletMarginWithDistanceLoss extends Loss<[Tensor, Tensor, Tensor]> {
  readonly distanceFunction: ((x1: Tensor, x2: Tensor) => Tensor) | null;
  readonly margin: number;
  readonly swap: boolean;

  constructor(options?: TripletMarginWithDistanceOptions) {
    const layer = 'TripletMarginWithDistanceLoss';
    const o = lossOptions(layer, options, null);
    super(o.reduction);
    this.distanceFunction = o.distanceFunction ?? null;
    if (this.distanceFunction !== null && typeof this.distanceFunction !== 'function') {
      throw new ValueError(`${layer}: distanceFunction must be a function, got ${typeof this.distanceFunction}`);
    }
    this.margin = checkNumber(layer, 'margin', o.margin ?? 1, { min: 0, minExclusive: true });
    this.swap = booleanOption(layer, 'swap', o.swap, false);
  }

  forward(anchor: Tensor, positive: Tensor, negative: Tensor): Tensor {
    return tripletMarginWithDistanceLoss(anchor, positive, negative, {
      distanceFunction: this.distanceFunction,
      margin: this.margin,
      swap: this.swap,
      reduction: this.reduction,
    });
  }

  override extraRepr(): string {
    return changedOptions([
      ['distanceFunction', this.distanceFunction === null ? null : 'custom', null],
      ['margin', this.margin, 1],
      ['swap', this.swap, false],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * The multi-class hinge loss (torch.nn.MultiMarginLoss); see `nn.functional.multiMarginLoss`.
 * The class `weight` is a buffer.
 *
 * @example
 * new nn.MultiMarginLoss({ p: 2, margin: 0.5 }).forward(scores, labels);
 */
export class MultiMarginLoss extends WeightedLoss<[Tensor, Tensor]> {
  readonly p: 1 | 2;
  readonly margin: number;

  constructor(options?: MultiMarginOptions) {
    const layer = 'MultiMarginLoss';
    const o = lossOptions(layer, options, 'p');
    super(o.weight, o.reduction);
    const p = o.p ?? 1;
    if (p !== 1 && p !== 2) throw new ValueError(`${layer}: p must be 1 or 2, got ${JSON.stringify(p)}`);
    this.p = p;
    this.margin = checkNumber(layer, 'margin', o.margin ?? 1);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return multiMarginLoss(input, target, { p: this.p, margin: this.margin, weight: this.weight, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['p', this.p, 1],
      ['margin', this.margin, 1],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * The multi-label one-versus-all logistic loss (torch.nn.MultiLabelSoftMarginLoss); see
 * `nn.functional.multiLabelSoftMarginLoss`. The class `weight` is a buffer.
 *
 * @example
 * new nn.MultiLabelSoftMarginLoss().forward(logits, labels);
 */
export class MultiLabelSoftMarginLoss extends WeightedLoss<[Tensor, Tensor]> {
  constructor(options?: MultiLabelSoftMarginOptions) {
    const o = lossOptions('MultiLabelSoftMarginLoss', options, 'weight');
    super(o.weight, o.reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return multiLabelSoftMarginLoss(input, target, { weight: this.weight, reduction: this.reduction });
  }
}

/**
 * The multi-label hinge loss (torch.nn.MultiLabelMarginLoss); see
 * `nn.functional.multiLabelMarginLoss`.
 *
 * @example
 * new nn.MultiLabelMarginLoss().forward(scores, targetLists);
 */
export class MultiLabelMarginLoss extends Loss<[Tensor, Tensor]> {
  constructor(options?: MultiLabelMarginOptions) {
    super(lossOptions('MultiLabelMarginLoss', options, null).reduction);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return multiLabelMarginLoss(input, target, { reduction: this.reduction });
  }
}

/**
 * Poisson negative log-likelihood (torch.nn.PoissonNLLLoss); see `nn.functional.poissonNllLoss`.
 *
 * @example
 * new nn.PoissonNLLLoss({ full: true }).forward(logRates, counts);
 */
export class PoissonNLLLoss extends Loss<[Tensor, Tensor]> {
  readonly logInput: boolean;
  readonly full: boolean;
  readonly eps: number;

  constructor(options?: PoissonNllOptions) {
    const layer = 'PoissonNLLLoss';
    const o = lossOptions(layer, options, 'logInput');
    super(o.reduction);
    this.logInput = booleanOption(layer, 'logInput', o.logInput, true);
    this.full = booleanOption(layer, 'full', o.full, false);
    this.eps = checkNumber(layer, 'eps', o.eps ?? 1e-8);
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return poissonNllLoss(input, target, { logInput: this.logInput, full: this.full, eps: this.eps, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['logInput', this.logInput, true],
      ['full', this.full, false],
      ['eps', this.eps, 1e-8],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * Gaussian negative log-likelihood with predicted variances (torch.nn.GaussianNLLLoss); see
 * `nn.functional.gaussianNllLoss`.
 *
 * @example
 * new nn.GaussianNLLLoss({ full: true }).forward(means, targets, variances);
 */
export class GaussianNLLLoss extends Loss<[Tensor, Tensor, Tensor]> {
  readonly full: boolean;
  readonly eps: number;

  constructor(options?: GaussianNllOptions) {
    const layer = 'GaussianNLLLoss';
    const o = lossOptions(layer, options, 'full');
    super(o.reduction);
    this.full = booleanOption(layer, 'full', o.full, false);
    this.eps = checkNumber(layer, 'eps', o.eps ?? 1e-6, { min: 0 });
  }

  forward(input: Tensor, target: Tensor, variance: Tensor): Tensor {
    return gaussianNllLoss(input, target, variance, { full: this.full, eps: this.eps, reduction: this.reduction });
  }

  override extraRepr(): string {
    return changedOptions([
      ['full', this.full, false],
      ['eps', this.eps, 1e-6],
      ['reduction', this.reduction, 'mean'],
    ]);
  }
}

/**
 * Connectionist temporal classification loss (torch.nn.CTCLoss); see `nn.functional.ctcLoss`.
 *
 * @example
 * const ctc = new nn.CTCLoss({ zeroInfinity: true });
 * const loss = ctc.forward(logSoftmax(logits, 2), targets, inputLengths, targetLengths);
 */
export class CTCLoss extends Loss<[Tensor, Tensor, Tensor, Tensor]> {
  readonly blank: number;
  readonly zeroInfinity: boolean;

  constructor(options?: CtcLossOptions) {
    const layer = 'CTCLoss';
    const o = lossOptions(layer, options, 'blank');
    super(o.reduction);
    this.blank = checkNumber(layer, 'blank', o.blank ?? 0, { min: 0 });
    this.zeroInfinity = booleanOption(layer, 'zeroInfinity', o.zeroInfinity, false);
  }

  forward(logProbs: Tensor, targets: Tensor, inputLengths: Tensor, targetLengths: Tensor): Tensor {
    return ctcLoss(logProbs, targets, inputLengths, targetLengths, {
      blank: this.blank,
      reduction: this.reduction,
      zeroInfinity: this.zeroInfinity,
    });
  }

  override extraRepr(): string {
    return changedOptions([
      ['blank', this.blank, 0],
      ['reduction', this.reduction, 'mean'],
      ['zeroInfinity', this.zeroInfinity, false],
    ]);
  }
}
