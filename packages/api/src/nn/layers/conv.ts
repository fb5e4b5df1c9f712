import { ValueError } from '../../core/errors.js';
import {
  type ConvPadding,
  conv1d,
  conv2d,
  conv3d,
  convTranspose1d,
  convTranspose2d,
  convTranspose3d,
  type SpatialArg,
} from '../../ops/conv.js';
import { pad } from '../../ops/movement.js';
import type { PadPair } from '../../primitives/primitive.js';
import type { Tensor } from '../../tensor/tensor.js';
import { pad as functionalPad } from '../functional/pad.js';
import { kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, formatArgument, initOptions, parameter, positiveInteger, uniformParameter } from './common.js';

/** How a convolution pads: with zeros, by reflection, by repeating the edge, or by wrapping around. */
export type PaddingMode = 'zeros' | 'reflect' | 'replicate' | 'circular';

/** Options of the convolution layers. */
export interface ConvLayerOptions extends FactoryOptions {
  /** Default 1. */
  readonly stride?: SpatialArg;
  /** Per-dimension amounts, 'valid' or 'same' (default 0). */
  readonly padding?: ConvPadding;
  /** Default 1. */
  readonly dilation?: SpatialArg;
  /** Default 1. */
  readonly groups?: number;
  /** Learn a bias per output channel (default true). */
  readonly bias?: boolean;
  /** Default 'zeros'. */
  readonly paddingMode?: PaddingMode;
}

function tuple(value: SpatialArg | undefined, n: number, fallback: number): number[] {
  if (value === undefined) return new Array<number>(n).fill(fallback);
  return typeof value === 'number' ? new Array<number>(n).fill(value) : [...value];
}

/** What a convolution and a transposed convolution check alike: channels, groups and the kernel's rank. */
interface ConvolutionShape {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernelSize: number[];
}

function convolutionShape(
  name: string,
  dimensions: number,
  inChannels: number,
  outChannels: number,
  kernelSize: SpatialArg,
  groups = 1,
): ConvolutionShape {
  const shape = {
    inChannels: positiveInteger(name, 'inChannels', inChannels),
    outChannels: positiveInteger(name, 'outChannels', outChannels),
    groups: positiveInteger(name, 'groups', groups),
    kernelSize: tuple(kernelSize, dimensions, 1),
  };
  if (inChannels % shape.groups !== 0 || outChannels % shape.groups !== 0) {
    throw new ValueError(
      `${name}: inChannels (${inChannels}) and outChannels (${outChannels}) must both be divisible by groups (${shape.groups})`,
    );
  }
  if (shape.kernelSize.length !== dimensions || !shape.kernelSize.every((k) => Number.isInteger(k) && k > 0)) {
    throw new ValueError(`${name}: kernelSize must be one positive integer or ${dimensions}, got ${JSON.stringify(kernelSize)}`);
  }
  return shape;
}

/**
 * PyTorch's extra_repr of a convolution: channels, kernel and stride, then `paddings` (the padding
 * entries that differ from their defaults), then dilation, groups and bias where not the defaults,
 * then `trailing`.
 */
function convolutionRepr(
  layer: ConvolutionShape & { readonly stride: readonly number[]; readonly dilation: readonly number[]; readonly bias: Parameter | null },
  paddings: readonly string[],
  trailing: readonly string[] = [],
): string {
  const parts = [
    `${layer.inChannels}`,
    `${layer.outChannels}`,
    `kernelSize=${formatArgument(layer.kernelSize)}`,
    `stride=${formatArgument(layer.stride)}`,
    ...paddings,
  ];
  if (layer.dilation.some((d) => d !== 1)) parts.push(`dilation=${formatArgument(layer.dilation)}`);
  if (layer.groups !== 1) parts.push(`groups=${layer.groups}`);
  if (layer.bias === null) parts.push('bias=false');
  return [...parts, ...trailing].join(', ');
}

const CONV_FUNCTIONS = [conv1d, conv2d, conv3d] as const;

/** The shared body of Conv1d, Conv2d and Conv3d. */
abstract class ConvNd extends Module<[Tensor], Tensor> {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: ConvPadding;
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode: PaddingMode;
  /** [outChannels, inChannels / groups, ...kernelSize] */
  readonly weight: Parameter;
  /** [outChannels], or null. */
  readonly bias: Parameter | null;
  readonly #dimensions: number;

  constructor(dimensions: number, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions) {
    super();
    const name = this.constructor.name;
    this.#dimensions = dimensions;
    ({
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      groups: this.groups,
      kernelSize: this.kernelSize,
    } = convolutionShape(name, dimensions, inChannels, outChannels, kernelSize, options.groups));
    for (const k of this.kernelSize) positiveInteger(name, 'kernelSize', k);
    this.stride = tuple(options.stride, dimensions, 1);
    this.dilation = tuple(options.dilation, dimensions, 1);
    this.padding = options.padding ?? 0;
    this.paddingMode = options.paddingMode ?? 'zeros';
    if (!['zeros', 'reflect', 'replicate', 'circular'].includes(this.paddingMode)) {
      throw new ValueError(
        `${name}: paddingMode must be 'zeros', 'reflect', 'replicate' or 'circular', got ${JSON.stringify(options.paddingMode)}`,
      );
    }
    const shape = [outChannels, inChannels / this.groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', parameter(kaimingUniform(shape, { a: Math.sqrt(5), ...initOptions(options) })));
    const fanIn = (inChannels / this.groups) * this.kernelSize.reduce((a, b) => a * b, 1);
    this.bias = this.registerParameter(
      'bias',
      options.bias === false ? null : uniformParameter([outChannels], 1 / Math.sqrt(fanIn), options),
    );
  }

  forward(x: Tensor): Tensor {
    const convolve = CONV_FUNCTIONS[this.#dimensions - 1] as typeof conv1d;
    const common = { stride: this.stride, dilation: this.dilation, groups: this.groups, bias: this.bias?.value ?? null };
    if (this.paddingMode === 'zeros') return convolve(x, this.weight.value, { ...common, padding: this.padding });
    // Other modes pad the input explicitly, then convolve without padding.
    const pairs: PadPair[] = this.#explicitPadding();
    if (this.paddingMode === 'circular') {
      // nn.functional.pad's flat list, the last dimension first (numpy's pad has no 'wrap').
      const flat = [...pairs].reverse().flat();
      return convolve(functionalPad(x, flat, { mode: 'circular' }), this.weight.value, { ...common, padding: 0 });
    }
    const batchAxes = x.ndim - this.#dimensions;
    const widths: PadPair[] = [...new Array<PadPair>(batchAxes).fill([0, 0]), ...pairs];
    const padded = pad(x, widths, { mode: this.paddingMode === 'reflect' ? 'reflect' : 'edge' });
    return convolve(padded, this.weight.value, { ...common, padding: 0 });
  }

  #explicitPadding(): PadPair[] {
    if (this.padding === 'valid') return this.kernelSize.map(() => [0, 0] as const);
    if (this.padding === 'same') {
      return this.kernelSize.map((k, i) => {
        const total = (this.dilation[i] as number) * (k - 1);
        const low = Math.floor(total / 2);
        return [low, total - low] as const;
      });
    }
    return tuple(this.padding, this.#dimensions, 0).map((p) => [p, p] as const);
  }

  override extraRepr(): string {
    const paddings = this.padding !== 0 ? [`padding=${formatArgument(this.padding)}`] : [];
    return convolutionRepr(this, paddings, this.paddingMode !== 'zeros' ? [`paddingMode='${this.paddingMode}'`] : []);
  }
}

/**
 * 1-d convolution over [N, C, L] (torch.nn.Conv1d), PyTorch's initialization.
 *
 * @example
 * new nn.Conv1d(16, 33, 3, { stride: 2 });
 */
export class Conv1d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 2-d convolution over [N, C, H, W] (torch.nn.Conv2d), PyTorch's initialization.
 *
 * @example
 * new nn.Conv2d(3, 64, 3, { padding: 1 });
 */
export class Conv2d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * 3-d convolution over [N, C, D, H, W] (torch.nn.Conv3d).
 *
 * @example
 * new nn.Conv3d(1, 8, 3);
 */
export class Conv3d extends ConvNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvLayerOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}

/** Options of the transposed convolution layers. */
export interface ConvTransposeLayerOptions extends FactoryOptions {
  readonly stride?: SpatialArg;
  readonly padding?: SpatialArg;
  readonly outputPadding?: SpatialArg;
  readonly dilation?: SpatialArg;
  readonly groups?: number;
  readonly bias?: boolean;
}

const CONV_TRANSPOSE_FUNCTIONS = [convTranspose1d, convTranspose2d, convTranspose3d] as const;

abstract class ConvTransposeNd extends Module<[Tensor, (readonly number[])?], Tensor> {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[];
  readonly outputPadding: number[];
  readonly dilation: number[];
  readonly groups: number;
  /** [inChannels, outChannels / groups, ...kernelSize] */
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly #dimensions: number;

  constructor(dimensions: number, inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions) {
    super();
    const name = this.constructor.name;
    this.#dimensions = dimensions;
    ({
      inChannels: this.inChannels,
      outChannels: this.outChannels,
      groups: this.groups,
      kernelSize: this.kernelSize,
    } = convolutionShape(name, dimensions, inChannels, outChannels, kernelSize, options.groups));
    this.stride = tuple(options.stride, dimensions, 1);
    this.padding = tuple(options.padding, dimensions, 0);
    this.outputPadding = tuple(options.outputPadding, dimensions, 0);
    this.dilation = tuple(options.dilation, dimensions, 1);
    const shape = [inChannels, outChannels / this.groups, ...this.kernelSize];
    this.weight = this.registerParameter('weight', parameter(kaimingUniform(shape, { a: Math.sqrt(5), ...initOptions(options) })));
    // As PyTorch: the fan-in is computed from the weight's layout, i.e. (outChannels / groups) * prod(kernel).
    const fanIn = (outChannels / this.groups) * this.kernelSize.reduce((a, b) => a * b, 1);
    this.bias = this.registerParameter(
      'bias',
      options.bias === false ? null : uniformParameter([outChannels], 1 / Math.sqrt(fanIn), options),
    );
  }

  /**
   * Applies the layer; `outputSize` (the spatial sizes wanted) picks the output padding among the
   * sizes a strided convolution maps to the same input size, as PyTorch's `output_size`.
   */
  forward(x: Tensor, outputSize?: readonly number[]): Tensor {
    const convolve = CONV_TRANSPOSE_FUNCTIONS[this.#dimensions - 1] as typeof convTranspose1d;
    let outputPadding = this.outputPadding;
    if (outputSize !== undefined) {
      const spatial = outputSize.slice(-this.#dimensions);
      const inputSpatial = x.shape.slice(-this.#dimensions);
      outputPadding = spatial.map((target, i) => {
        const minimum =
          ((inputSpatial[i] as number) - 1) * (this.stride[i] as number) -
          2 * (this.padding[i] as number) +
          (this.dilation[i] as number) * ((this.kernelSize[i] as number) - 1) +
          1;
        const extra = target - minimum;
        if (extra < 0 || extra >= Math.max(this.stride[i] as number, this.dilation[i] as number)) {
          throw new ValueError(
            `${this.constructor.name}: requested output size ${JSON.stringify(outputSize)} is not reachable from input ${JSON.stringify(x.shape)} (dimension ${i} allows ${minimum} to ${minimum + Math.max(this.stride[i] as number, this.dilation[i] as number) - 1})`,
          );
        }
        return extra;
      });
    }
    return convolve(x, this.weight.value, {
      stride: this.stride,
      padding: this.padding,
      outputPadding,
      dilation: this.dilation,
      groups: this.groups,
      bias: this.bias?.value ?? null,
    });
  }

  override extraRepr(): string {
    const paddings: string[] = [];
    if (this.padding.some((p) => p !== 0)) paddings.push(`padding=${formatArgument(this.padding)}`);
    if (this.outputPadding.some((p) => p !== 0)) paddings.push(`outputPadding=${formatArgument(this.outputPadding)}`);
    return convolutionRepr(this, paddings);
  }
}

/**
 * Transposed 1-d convolution (torch.nn.ConvTranspose1d).
 *
 * @example
 * new nn.ConvTranspose1d(16, 8, 4, { stride: 2, padding: 1 }); // doubles L
 */
export class ConvTranspose1d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * Transposed 2-d convolution (torch.nn.ConvTranspose2d).
 *
 * @example
 * new nn.ConvTranspose2d(64, 32, 2, { stride: 2 }); // doubles H and W
 */
export class ConvTranspose2d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, options);
  }
}

/**
 * Transposed 3-d convolution (torch.nn.ConvTranspose3d).
 *
 * @example
 * new nn.ConvTranspose3d(8, 4, 2, { stride: 2 });
 */
export class ConvTranspose3d extends ConvTransposeNd {
  constructor(inChannels: number, outChannels: number, kernelSize: SpatialArg, options: ConvTransposeLayerOptions = {}) {
    super(3, inChannels, outChannels, kernelSize, options);
  }
}
