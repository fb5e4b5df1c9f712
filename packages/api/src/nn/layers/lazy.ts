import { noGrad } from '../../autograd/grad-mode.js';
import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { SpatialArg } from '../../ops/conv.js';
import { isTensor } from '../../tensor/memory.js';
import type { Tensor } from '../../tensor/tensor.js';
import { insideFunctionalCall } from '../functional-call.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { isUninitializedParameter, UninitializedParameter } from '../uninitialized-parameter.js';
import type { FactoryOptions } from './common.js';
import { positiveInteger } from './common.js';
import {
  Conv1d,
  Conv2d,
  Conv3d,
  type ConvLayerOptions,
  ConvTranspose1d,
  ConvTranspose2d,
  ConvTranspose3d,
  type ConvTransposeLayerOptions,
} from './conv.js';
import { InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, type InstanceNormOptions } from './instance-norm.js';
import { Linear, type LinearOptions } from './linear.js';
import { BatchNorm1d, BatchNorm2d, BatchNorm3d, type BatchNormOptions } from './normalization.js';
import type { RunningStatsNorm } from './running-stats-norm.js';

// Lazy modules (torch.nn.LazyLinear, LazyConv*, LazyBatchNorm*, LazyInstanceNorm*): the input
// size is inferred from the first forward's input. torch swaps the module's class to the eager
// one at that point; JavaScript cannot re-run another class's constructor on an existing object,
// so a lazy module here is a shell around its eager counterpart instead:
//   - the shell owns the state: it registers every parameter up front as an
//     UninitializedParameter (reading it throws, naming the module) and every buffer as null;
//   - the first forward builds the eager module with the inferred size, which draws its
//     initialization from the global generator exactly as `new nn.Linear(...)` would at that
//     moment, and moves that module's tensors into the shell's cells and buffers;
//   - the eager module is kept private (not a submodule) and runs every forward over the shell's
//     state: its parameter fields are pointed at the shell's cells, and the shell's buffers are
//     lent to it around each call (BatchNorm's running statistics advance in the shell).
// So state dicts, `to()`, optimizers, hooks and functionalCall see the shell only, under the
// eager module's names. `loadStateDict` materializes a lazy module from the shapes it is given.

type AnyTensorModule<In extends [Tensor, ...unknown[]]> = Module<In, Tensor>;

/** Where the parameters of a lazy module will live: the placeholder's dtype and backend, or the factory options. */
function materializationOptions(parameters: readonly Parameter[], factory: FactoryOptions): FactoryOptions {
  for (const p of parameters) {
    if (!isUninitializedParameter(p)) continue;
    const placeholder = p._placeholder();
    return { dtype: placeholder.dtype, backend: placeholder.backend };
  }
  return factory;
}

/**
 * The shared machinery of the lazy modules: uninitialized parameters until the first forward
 * (or `loadStateDict`) gives the input size, then the eager module's forward over this module's
 * state. See the comment at the top of lazy.ts.
 */
abstract class LazyModule<E extends AnyTensorModule<In>, In extends [Tensor, ...unknown[]]> extends Module<In, Tensor> {
  #inner: E | null = null;
  readonly #parameterNames: string[] = [];
  readonly #bufferNames: string[] = [];
  readonly #factory: FactoryOptions;

  protected constructor(factory: FactoryOptions) {
    super();
    this.#factory = { ...factory };
  }

  /** The eager module of `size` input features or channels, built with `factory`'s dtype and backend. */
  protected abstract build(size: number, factory: FactoryOptions): E;

  /** The input size the forward's first argument implies (checking its rank). */
  protected abstract inferSize(x: Tensor): number;

  /** The input size a state dict implies for this module (its keys start with `prefix`), or null if it says nothing. */
  protected abstract sizeFromState(state: ReadonlyMap<string, unknown>, prefix: string): number | null;

  /** The arguments known before materialization, for `toString()`. */
  protected abstract describeUninitialized(): string;

  /** Registers an uninitialized parameter `name` (for a field: `readonly weight = this.lazyParameter('weight')`). */
  protected lazyParameter(name: string): Parameter {
    this.#parameterNames.push(name);
    return this.registerParameter(name, new UninitializedParameter(`${this.constructor.name}.${name}`, this.#factory));
  }

  /** Registers buffer `name`, null until materialization. */
  protected lazyBuffer(name: string): void {
    this.#bufferNames.push(name);
    this.registerBuffer(name, null);
  }

  /** The eager module running the forward, once materialized. */
  protected get materialized(): E | null {
    return this.#inner;
  }

  /** Whether the parameters still wait for the first forward (torch's has_uninitialized_params). */
  hasUninitializedParams(): boolean {
    return this.#inner === null;
  }

  forward(...args: In): Tensor {
    const inner = this.#inner ?? this.#materializeFromInput(args[0]);
    inner.training = this.training;
    if (this.#bufferNames.length === 0) return inner.forward(...args);
    for (const name of this.#bufferNames) inner._swapBuffer(name, this.getBuffer(name));
    try {
      return inner.forward(...args);
    } finally {
      // The eager module may have replaced (and disposed) the running statistics: take its tensors back.
      for (const name of this.#bufferNames) this._swapBuffer(name, inner._swapBuffer(name, null));
    }
  }

  #materializeFromInput(x: Tensor): E {
    const name = this.constructor.name;
    if (!isTensor(x)) throw new ValueError(`${name}: expected a Tensor input, got ${x === null ? 'null' : typeof x}`);
    if (x._backend === null || insideFunctionalCall()) {
      throw new ValueError(
        `${name}: cannot infer its parameters' shapes inside grad, vmap, jit or functionalCall; run one eager forward pass first (model.forward(sample)) so that the module materializes`,
      );
    }
    return this.#materialize(this.inferSize(x));
  }

  #materialize(size: number): E {
    const parameters = this.#parameterNames.map((n) => this.getParameter(n));
    const inner = noGrad(() => this.build(size, materializationOptions(parameters, this.#factory)));
    const fields = inner as unknown as Record<string, unknown>;
    for (const [i, name] of this.#parameterNames.entries()) {
      const own = parameters[i] as UninitializedParameter;
      const theirs = inner.getParameter(name);
      // Off the eager cell's tape first, so that the shell's cell makes the tensor its own leaf.
      theirs.requiresGrad = false;
      own._materialize(theirs.value);
      // The eager module's forward reads its fields: they now hold the shell's cells.
      fields[name] = own;
    }
    for (const [name, value] of inner._ownEntries().buffers) {
      if (!this.#bufferNames.includes(name)) continue;
      inner._swapBuffer(name, null);
      this.setBuffer(name, value);
    }
    this.#inner = inner;
    return inner;
  }

  override _prepareLoadStateDict(state: ReadonlyMap<string, unknown>, prefix: string): void {
    if (this.#inner !== null) return;
    const size = this.sizeFromState(state, prefix);
    if (size !== null) this.#materialize(size);
  }

  override extraRepr(): string {
    return this.#inner?.extraRepr() ?? this.describeUninitialized();
  }

  /**
   * The shape of the state's tensor `key` (with this module's prefix) when it has `rank`
   * dimensions; null when the state lacks it; a ValueError when it has another rank.
   */
  protected stateShape(state: ReadonlyMap<string, unknown>, prefix: string, key: string, rank: number): readonly number[] | null {
    const value = state.get(`${prefix}${key}`);
    if (!isTensor(value)) return null;
    if (value.ndim !== rank) {
      throw new ValueError(
        `${this.constructor.name}.loadStateDict: '${prefix}${key}' has shape ${formatShape(value.shape)}; expected ${rank} dimensions to infer the input size from`,
      );
    }
    return value.shape;
  }
}

/** `x.shape[axis]` as a size, with an error naming the expected ranks. */
function sizeAt(layer: string, x: Tensor, ranks: readonly number[], axisOfRank: (rank: number) => number): number {
  if (!ranks.includes(x.ndim)) {
    throw new ShapeError(`${layer}: expected a ${ranks.map((r) => `${r}-d`).join(' or ')} input, got ${formatShape(x.shape)}`);
  }
  const size = x.shape[axisOfRank(x.ndim)] as number;
  if (size < 1) throw new ShapeError(`${layer}: cannot infer the input size from ${formatShape(x.shape)}: it is 0 along that axis`);
  return size;
}

function groupsOf(layer: string, outChannels: number, groups: number | undefined): number {
  const g = positiveInteger(layer, 'groups', groups ?? 1);
  if (outChannels % g !== 0) throw new ValueError(`${layer}: outChannels (${outChannels}) must be divisible by groups (${g})`);
  return g;
}

/**
 * `nn.Linear` whose `inFeatures` is the last dimension of the first input (torch.nn.LazyLinear).
 * Until then `weight` and `bias` are uninitialized parameters: reading them (an optimizer over
 * `parameters()`, `stateDict()`) throws; `loadStateDict` materializes the layer from the
 * checkpoint's shapes. The initialization is Linear's, drawn when the first forward runs.
 *
 * @example
 * const model = new nn.Sequential(new nn.LazyLinear(64), new nn.ReLU(), new nn.LazyLinear(10));
 * model.forward(zeros([1, 784]));          // materializes: weights [64, 784] and [10, 64]
 * const optimizer = new optim.Adam(model.parameters());
 */
export class LazyLinear extends LazyModule<Linear, [Tensor]> {
  readonly outFeatures: number;
  readonly #options: LinearOptions;
  /** [outFeatures, inFeatures] once materialized. */
  readonly weight: Parameter;
  /** [outFeatures], or null without bias. */
  readonly bias: Parameter | null;

  constructor(outFeatures: number, options: LinearOptions = {}) {
    super(options);
    this.outFeatures = positiveInteger('LazyLinear', 'outFeatures', outFeatures);
    this.#options = { ...options };
    this.weight = this.lazyParameter('weight');
    this.bias = options.bias === false ? this.registerParameter('bias', null) : this.lazyParameter('bias');
  }

  /** The inferred input size, or null before the first forward. */
  get inFeatures(): number | null {
    return this.materialized?.inFeatures ?? null;
  }

  protected build(size: number, factory: FactoryOptions): Linear {
    return new Linear(size, this.outFeatures, { ...this.#options, ...factory });
  }

  protected inferSize(x: Tensor): number {
    if (x.ndim < 1) throw new ShapeError(`LazyLinear: expected an input with at least 1 dimension, got ${formatShape(x.shape)}`);
    return sizeAt('LazyLinear', x, [x.ndim], (rank) => rank - 1);
  }

  protected sizeFromState(state: ReadonlyMap<string, unknown>, prefix: string): number | null {
    return this.stateShape(state, prefix, 'weight', 2)?.[1] ?? null;
  }

  protected describeUninitialized(): string {
    return `inFeatures=uninitialized, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

type ConvolutionOptions = ConvLayerOptions | ConvTransposeLayerOptions;
type Convolution = Conv1d | ConvTranspose1d;
type ConvolutionClass<E extends Convolution, O extends ConvolutionOptions> = new (
  inChannels: number,
  outChannels: number,
  kernelSize: SpatialArg,
  options: O,
) => E;

/**
 * The shared body of the lazy convolutions and transposed convolutions: `inChannels` from the
 * input's channel axis (axis 0 of an unbatched input), or from the weight of a state dict.
 */
abstract class LazyConvolution<
  E extends Convolution & AnyTensorModule<In>,
  In extends [Tensor, ...unknown[]],
  O extends ConvolutionOptions,
> extends LazyModule<E, In> {
  readonly outChannels: number;
  protected readonly dimensions: number;
  protected readonly groups: number;
  readonly #kernelSize: SpatialArg;
  readonly #options: O;
  readonly #eager: ConvolutionClass<E, O>;
  /** Once materialized: [outChannels, inChannels / groups, ...kernelSize] (transposed: [inChannels, outChannels / groups, ...]). */
  readonly weight: Parameter;
  /** [outChannels], or null without bias. */
  readonly bias: Parameter | null;

  constructor(dimensions: number, eager: ConvolutionClass<E, O>, outChannels: number, kernelSize: SpatialArg, options: O) {
    super(options);
    const name = this.constructor.name;
    this.dimensions = dimensions;
    this.#eager = eager;
    this.outChannels = positiveInteger(name, 'outChannels', outChannels);
    this.groups = groupsOf(name, outChannels, options.groups);
    this.#kernelSize = kernelSize;
    this.#options = { ...options };
    this.weight = this.lazyParameter('weight');
    this.bias = options.bias === false ? this.registerParameter('bias', null) : this.lazyParameter('bias');
  }

  /** The inferred input channels, or null before the first forward. */
  get inChannels(): number | null {
    return this.materialized?.inChannels ?? null;
  }

  protected build(size: number, factory: FactoryOptions): E {
    return new this.#eager(size, this.outChannels, this.#kernelSize, { ...this.#options, ...factory });
  }

  protected inferSize(x: Tensor): number {
    const d = this.dimensions;
    const channels = sizeAt(this.constructor.name, x, [d + 1, d + 2], (rank) => (rank === d + 1 ? 0 : 1));
    if (channels % this.groups !== 0) {
      throw new ShapeError(
        `${this.constructor.name}: the input's ${channels} channels (${formatShape(x.shape)}) are not divisible by groups (${this.groups})`,
      );
    }
    return channels;
  }

  protected describeUninitialized(): string {
    return `inChannels=uninitialized, ${this.outChannels}, kernelSize=${JSON.stringify(this.#kernelSize)}`;
  }
}

/** The shared body of LazyConv1d/2d/3d. */
abstract class LazyConvNd extends LazyConvolution<Conv1d, [Tensor], ConvLayerOptions> {
  protected sizeFromState(state: ReadonlyMap<string, unknown>, prefix: string): number | null {
    const shape = this.stateShape(state, prefix, 'weight', this.dimensions + 2);
    return shape === null ? null : (shape[1] as number) * this.groups;
  }
}

/**
 * `nn.Conv1d` whose `inChannels` comes from the first input, [N, C, L] or [C, L] (torch.nn.LazyConv1d).
 *
 * @example
 * new nn.LazyConv1d(33, 3, { stride: 2 }).forward(zeros([4, 16, 50])); // inChannels = 16
 */
export class LazyConv1d extends LazyConvNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(1, Conv1d, outChannels, kernelSize, options);
  }
}

/**
 * `nn.Conv2d` whose `inChannels` comes from the first input, [N, C, H, W] or [C, H, W] (torch.nn.LazyConv2d).
 *
 * @example
 * const conv = new nn.LazyConv2d(64, 3, { padding: 1 });
 * conv.forward(images); // inChannels = images.shape[1]
 */
export class LazyConv2d extends LazyConvNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(2, Conv2d, outChannels, kernelSize, options);
  }
}

/**
 * `nn.Conv3d` whose `inChannels` comes from the first input (torch.nn.LazyConv3d).
 *
 * @example
 * new nn.LazyConv3d(8, 3).forward(zeros([1, 2, 5, 5, 5])); // inChannels = 2
 */
export class LazyConv3d extends LazyConvNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(3, Conv3d, outChannels, kernelSize, options);
  }
}

/** The shared body of LazyConvTranspose1d/2d/3d. */
abstract class LazyConvTransposeNd extends LazyConvolution<ConvTranspose1d, [Tensor, (readonly number[])?], ConvTransposeLayerOptions> {
  protected sizeFromState(state: ReadonlyMap<string, unknown>, prefix: string): number | null {
    return this.stateShape(state, prefix, 'weight', this.dimensions + 2)?.[0] ?? null;
  }
}

/**
 * `nn.ConvTranspose1d` whose `inChannels` comes from the first input (torch.nn.LazyConvTranspose1d).
 *
 * @example
 * new nn.LazyConvTranspose1d(8, 4, { stride: 2, padding: 1 }).forward(zeros([2, 16, 10])); // [2, 8, 20]
 */
export class LazyConvTranspose1d extends LazyConvTransposeNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(1, ConvTranspose1d, outChannels, kernelSize, options);
  }
}

/**
 * `nn.ConvTranspose2d` whose `inChannels` comes from the first input (torch.nn.LazyConvTranspose2d).
 *
 * @example
 * new nn.LazyConvTranspose2d(32, 2, { stride: 2 }).forward(features); // doubles H and W
 */
export class LazyConvTranspose2d extends LazyConvTransposeNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(2, ConvTranspose2d, outChannels, kernelSize, options);
  }
}

/**
 * `nn.ConvTranspose3d` whose `inChannels` comes from the first input (torch.nn.LazyConvTranspose3d).
 *
 * @example
 * new nn.LazyConvTranspose3d(4, 2, { stride: 2 }).forward(volumes);
 */
export class LazyConvTranspose3d extends LazyConvTransposeNd {
  constructor(outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(3, ConvTranspose3d, outChannels, kernelSize, options);
  }
}

type NormClass<O> = new (numFeatures: number, options: O) => RunningStatsNorm;

/** The shared body of the lazy batch and instance norms: `numFeatures` from the channel axis. */
abstract class LazyRunningStatsNorm<O extends BatchNormOptions | InstanceNormOptions> extends LazyModule<RunningStatsNorm, [Tensor]> {
  readonly #options: O;
  readonly #eager: NormClass<O>;
  readonly #ranks: readonly number[];
  readonly #channelAxis: (rank: number) => number;
  readonly #trackRunningStats: boolean;
  /** [numFeatures] starting at 1 once materialized, or null without affine. */
  readonly weight: Parameter | null;
  /** [numFeatures] starting at 0 once materialized, or null without affine. */
  readonly bias: Parameter | null;

  constructor(
    eager: NormClass<O>,
    options: O,
    defaults: { readonly affine: boolean; readonly trackRunningStats: boolean },
    ranks: readonly number[],
    channelAxis: (rank: number) => number,
  ) {
    super(options);
    this.#options = { ...options };
    this.#eager = eager;
    this.#ranks = ranks;
    this.#channelAxis = channelAxis;
    const affine = options.affine ?? defaults.affine;
    this.weight = affine ? this.lazyParameter('weight') : this.registerParameter('weight', null);
    this.bias = affine ? this.lazyParameter('bias') : this.registerParameter('bias', null);
    this.#trackRunningStats = options.trackRunningStats ?? defaults.trackRunningStats;
    if (this.#trackRunningStats) {
      this.lazyBuffer('runningMean');
      this.lazyBuffer('runningVar');
      this.lazyBuffer('numBatchesTracked');
    }
  }

  /** The inferred number of channels, or null before the first forward. */
  get numFeatures(): number | null {
    return this.materialized?.numFeatures ?? null;
  }

  /** The running mean per channel (a buffer; only with trackRunningStats, once materialized). */
  get runningMean(): Tensor {
    return this.getBuffer('runningMean');
  }

  /** The running unbiased variance per channel (a buffer; only with trackRunningStats, once materialized). */
  get runningVar(): Tensor {
    return this.getBuffer('runningVar');
  }

  protected build(size: number, factory: FactoryOptions): RunningStatsNorm {
    return new this.#eager(size, { ...this.#options, ...factory });
  }

  protected inferSize(x: Tensor): number {
    return sizeAt(this.constructor.name, x, this.#ranks, this.#channelAxis);
  }

  protected sizeFromState(state: ReadonlyMap<string, unknown>, prefix: string): number | null {
    for (const key of ['weight', 'bias', 'runningMean', 'runningVar']) {
      const shape = this.stateShape(state, prefix, key, 1);
      if (shape !== null) return shape[0] as number;
    }
    return null;
  }

  protected describeUninitialized(): string {
    return `numFeatures=uninitialized, affine=${this.weight !== null}, trackRunningStats=${this.#trackRunningStats}`;
  }
}

const BATCH_NORM_DEFAULTS = { affine: true, trackRunningStats: true } as const;
const INSTANCE_NORM_DEFAULTS = { affine: false, trackRunningStats: false } as const;
const channelsOnAxis1 = (): number => 1;
/** Instance norms take unbatched inputs too, whose channels come first. */
const instanceChannels =
  (spatial: number) =>
  (rank: number): number =>
    rank === spatial + 1 ? 0 : 1;

/**
 * `nn.BatchNorm1d` whose `numFeatures` is the channel axis of the first input, [N, C] or
 * [N, C, L] (torch.nn.LazyBatchNorm1d). The running statistics are buffers of this module, null
 * until the first forward.
 *
 * @example
 * const bn = new nn.LazyBatchNorm1d();
 * bn.forward(zeros([8, 32])); // numFeatures = 32
 */
export class LazyBatchNorm1d extends LazyRunningStatsNorm<BatchNormOptions> {
  constructor(options: BatchNormOptions = {}) {
    super(BatchNorm1d, options, BATCH_NORM_DEFAULTS, [2, 3], channelsOnAxis1);
  }
}

/**
 * `nn.BatchNorm2d` whose `numFeatures` is the channel axis of the first [N, C, H, W] input (torch.nn.LazyBatchNorm2d).
 *
 * @example
 * new nn.Sequential(new nn.LazyConv2d(16, 3), new nn.LazyBatchNorm2d(), new nn.ReLU());
 */
export class LazyBatchNorm2d extends LazyRunningStatsNorm<BatchNormOptions> {
  constructor(options: BatchNormOptions = {}) {
    super(BatchNorm2d, options, BATCH_NORM_DEFAULTS, [4], channelsOnAxis1);
  }
}

/**
 * `nn.BatchNorm3d` whose `numFeatures` is the channel axis of the first [N, C, D, H, W] input (torch.nn.LazyBatchNorm3d).
 *
 * @example
 * new nn.LazyBatchNorm3d({ momentum: 0.01 }).forward(volumes);
 */
export class LazyBatchNorm3d extends LazyRunningStatsNorm<BatchNormOptions> {
  constructor(options: BatchNormOptions = {}) {
    super(BatchNorm3d, options, BATCH_NORM_DEFAULTS, [5], channelsOnAxis1);
  }
}

/**
 * `nn.InstanceNorm1d` whose `numFeatures` is the channel axis of the first input, [N, C, L] or
 * [C, L] (torch.nn.LazyInstanceNorm1d; torch reads axis 1 even of an unbatched input).
 *
 * @example
 * new nn.LazyInstanceNorm1d({ affine: true }).forward(zeros([4, 6, 10])); // numFeatures = 6
 */
export class LazyInstanceNorm1d extends LazyRunningStatsNorm<InstanceNormOptions> {
  constructor(options: InstanceNormOptions = {}) {
    super(InstanceNorm1d, options, INSTANCE_NORM_DEFAULTS, [2, 3], instanceChannels(1));
  }
}

/**
 * `nn.InstanceNorm2d` whose `numFeatures` is the channel axis of the first input, [N, C, H, W]
 * or [C, H, W] (torch.nn.LazyInstanceNorm2d).
 *
 * @example
 * new nn.LazyInstanceNorm2d({ affine: true, trackRunningStats: true });
 */
export class LazyInstanceNorm2d extends LazyRunningStatsNorm<InstanceNormOptions> {
  constructor(options: InstanceNormOptions = {}) {
    super(InstanceNorm2d, options, INSTANCE_NORM_DEFAULTS, [3, 4], instanceChannels(2));
  }
}

/**
 * `nn.InstanceNorm3d` whose `numFeatures` is the channel axis of the first input, [N, C, D, H, W]
 * or [C, D, H, W] (torch.nn.LazyInstanceNorm3d).
 *
 * @example
 * new nn.LazyInstanceNorm3d().forward(volumes);
 */
export class LazyInstanceNorm3d extends LazyRunningStatsNorm<InstanceNormOptions> {
  constructor(options: InstanceNormOptions = {}) {
    super(InstanceNorm3d, options, INSTANCE_NORM_DEFAULTS, [4, 5], instanceChannels(3));
  }
}
