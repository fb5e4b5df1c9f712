import type { Tensor } from '../../tensor/tensor.js';
import { fold, type Pair, type UnfoldOptions, unfold } from '../functional/fold.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

function describe(kernelSize: Pair, options: UnfoldOptions): string {
  return [
    `kernelSize=${formatArgument(kernelSize)}`,
    `dilation=${formatArgument(options.dilation ?? 1)}`,
    `padding=${formatArgument(options.padding ?? 0)}`,
    `stride=${formatArgument(options.stride ?? 1)}`,
  ].join(', ');
}

/**
 * Extracts sliding blocks, [N, C, H, W] to [N, C kh kw, L] (torch.nn.Unfold); see
 * `nn.functional.unfold`.
 *
 * @example
 * new nn.Unfold(3, { padding: 1 }).forward(images);
 */
export class Unfold extends Module<[Tensor], Tensor> {
  constructor(
    readonly kernelSize: Pair,
    readonly options: UnfoldOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return unfold(x, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return describe(this.kernelSize, this.options);
  }
}

/**
 * Combines sliding blocks, [N, C kh kw, L] to [N, C, ...outputSize], summing overlaps
 * (torch.nn.Fold); see `nn.functional.fold`.
 *
 * @example
 * new nn.Fold([8, 8], 3, { padding: 1 }).forward(columns);
 */
export class Fold extends Module<[Tensor], Tensor> {
  constructor(
    readonly outputSize: Pair,
    readonly kernelSize: Pair,
    readonly options: UnfoldOptions = {},
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    return fold(x, this.outputSize, this.kernelSize, this.options);
  }
  override extraRepr(): string {
    return `outputSize=${formatArgument(this.outputSize)}, ${describe(this.kernelSize, this.options)}`;
  }
}
