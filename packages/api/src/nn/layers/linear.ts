import { flatten, unflatten } from '../../ops/movement.js';
import type { Tensor } from '../../tensor/tensor.js';
import { bilinear, linear } from '../functional/linear.js';
import { kaimingUniform } from '../init.js';
import { Module } from '../module.js';
import type { Parameter } from '../parameter.js';
import { type FactoryOptions, formatArgument, initOptions, parameter, positiveInteger, uniformParameter } from './common.js';

/** Options of Linear and Bilinear. */
export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
}

/**
 * `y = x Wᵀ + b` (torch.nn.Linear), with PyTorch's initialization: W and b uniform in
 * ±1/√inFeatures (Kaiming uniform with a = √5).
 *
 * @example
 * const layer = new nn.Linear(784, 128);
 * layer.forward(x); // [N, 784] -> [N, 128]
 */
export class Linear extends Module<[Tensor], Tensor> {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** [outFeatures, inFeatures] */
  readonly weight: Parameter;
  /** [outFeatures], or null without bias. */
  readonly bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = positiveInteger('Linear', 'inFeatures', inFeatures);
    this.outFeatures = positiveInteger('Linear', 'outFeatures', outFeatures);
    this.weight = this.registerParameter(
      'weight',
      parameter(kaimingUniform([outFeatures, inFeatures], { a: Math.sqrt(5), ...initOptions(options) })),
    );
    this.bias = this.registerParameter(
      'bias',
      options.bias === false ? null : uniformParameter([outFeatures], 1 / Math.sqrt(inFeatures), options),
    );
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight.value, this.bias?.value ?? null);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * `y_k = x1ᵀ W_k x2 + b_k` (torch.nn.Bilinear); W and b uniform in ±1/√in1Features.
 *
 * @example
 * new nn.Bilinear(20, 30, 40).forward(a, b); // [N, 20], [N, 30] -> [N, 40]
 */
export class Bilinear extends Module<[Tensor, Tensor], Tensor> {
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  /** [outFeatures, in1Features, in2Features] */
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(in1Features: number, in2Features: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.in1Features = positiveInteger('Bilinear', 'in1Features', in1Features);
    this.in2Features = positiveInteger('Bilinear', 'in2Features', in2Features);
    this.outFeatures = positiveInteger('Bilinear', 'outFeatures', outFeatures);
    const bound = 1 / Math.sqrt(in1Features);
    this.weight = this.registerParameter('weight', uniformParameter([outFeatures, in1Features, in2Features], bound, options));
    this.bias = this.registerParameter('bias', options.bias === false ? null : uniformParameter([outFeatures], bound, options));
  }

  forward(x1: Tensor, x2: Tensor): Tensor {
    return bilinear(x1, x2, this.weight.value, this.bias?.value ?? null);
  }

  override extraRepr(): string {
    return `in1Features=${this.in1Features}, in2Features=${this.in2Features}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/**
 * Returns its input unchanged: a placeholder where a layer is optional.
 *
 * @example
 * const projection = sameSize ? new nn.Identity() : new nn.Linear(a, b);
 */
export class Identity extends Module<[Tensor], Tensor> {
  forward(x: Tensor): Tensor {
    return x;
  }
}

/**
 * Merges dimensions `startDim..endDim` (default 1..-1: all but the batch).
 *
 * @example
 * new nn.Flatten().forward(images); // [N, C, H, W] -> [N, C*H*W]
 */
export class Flatten extends Module<[Tensor], Tensor> {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }
  override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}

/**
 * Splits axis `dim` into `unflattenedSize` (one entry may be -1), the inverse of Flatten
 * (torch.nn.Unflatten).
 *
 * @example
 * new nn.Unflatten(1, [2, 5, 5]).forward(zeros([4, 50])).shape; // [4, 2, 5, 5]
 */
export class Unflatten extends Module<[Tensor], Tensor> {
  readonly unflattenedSize: readonly number[];
  constructor(
    readonly dim: number,
    unflattenedSize: readonly number[],
  ) {
    super();
    this.unflattenedSize = [...unflattenedSize];
  }
  forward(x: Tensor): Tensor {
    return unflatten(x, this.dim, this.unflattenedSize);
  }
  override extraRepr(): string {
    return `dim=${this.dim}, unflattenedSize=${formatArgument(this.unflattenedSize)}`;
  }
}
