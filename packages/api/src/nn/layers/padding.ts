import { ShapeError, ValueError } from '../../core/errors.js';
import { formatShape } from '../../core/shape.js';
import type { Tensor } from '../../tensor/tensor.js';
import { type FunctionalPadMode, pad } from '../functional/pad.js';
import { Module } from '../module.js';
import { formatArgument } from './common.js';

// Padding layers over nn.functional.pad (torch.nn.ZeroPad2d, ConstantPad*, ReflectionPad*,
// ReplicationPad*, CircularPad*): `padding` is one number for every side, or PyTorch's tuple of
// (left, right[, top, bottom[, front, back]]) amounts, the last dimension first.

/** The padding of an n-d padding layer: one amount for every side, or 2n amounts (left, right, top, bottom, front, back). */
export type PaddingArg = number | readonly number[];

function paddingTuple(layer: string, padding: PaddingArg, dimensions: number): number[] {
  const sides = 2 * dimensions;
  const list = typeof padding === 'number' ? new Array<number>(sides).fill(padding) : Array.isArray(padding) ? [...padding] : null;
  if (list === null || list.length !== sides || list.some((p) => !Number.isInteger(p))) {
    const names = ['left', 'right', 'top', 'bottom', 'front', 'back'].slice(0, sides).join(', ');
    throw new ValueError(`${layer}: padding must be an integer or ${sides} integers (${names}), got ${JSON.stringify(padding)}`);
  }
  return list;
}

/** The shared body of the padding layers. */
abstract class PadNd extends Module<[Tensor], Tensor> {
  /** The amounts, (left, right, top, bottom, front, back) as far as the layer pads. */
  readonly padding: readonly number[];
  readonly #dimensions: number;
  readonly #mode: FunctionalPadMode;

  protected constructor(dimensions: number, mode: FunctionalPadMode, padding: PaddingArg) {
    super();
    this.#dimensions = dimensions;
    this.#mode = mode;
    this.padding = paddingTuple(this.constructor.name, padding, dimensions);
  }

  /** The fill value of constant padding. */
  protected get fill(): number {
    return 0;
  }

  forward(x: Tensor): Tensor {
    const n = this.#dimensions;
    // As PyTorch: the non-constant modes take one or two dimensions before the padded ones.
    if (this.#mode !== 'constant' && x.ndim !== n + 1 && x.ndim !== n + 2) {
      throw new ShapeError(
        `${this.constructor.name}: expected a ${n + 1}-d (unbatched) or ${n + 2}-d (batched) input, got ${formatShape(x.shape)}`,
      );
    }
    return this.#mode === 'constant' ? pad(x, this.padding, { value: this.fill }) : pad(x, this.padding, { mode: this.#mode });
  }

  override extraRepr(): string {
    return formatArgument(this.padding);
  }
}

/** Constant padding with `value` (torch.nn.ConstantPad*d). */
abstract class ConstantPadNd extends PadNd {
  readonly value: number;
  protected constructor(dimensions: number, padding: PaddingArg, value: number) {
    super(dimensions, 'constant', padding);
    if (typeof value !== 'number') throw new ValueError(`${this.constructor.name}: value must be a number, got ${JSON.stringify(value)}`);
    this.value = value;
  }
  protected override get fill(): number {
    return this.value;
  }
  override extraRepr(): string {
    return `padding=${formatArgument(this.padding)}, value=${this.value}`;
  }
}

/**
 * Pads the last dimension with `value` (torch.nn.ConstantPad1d).
 *
 * @example
 * new nn.ConstantPad1d([1, 2], 3.5).forward(x); // [N, C, L + 3]
 */
export class ConstantPad1d extends ConstantPadNd {
  constructor(padding: PaddingArg, value: number) {
    super(1, padding, value);
  }
}

/**
 * Pads the last two dimensions with `value` (torch.nn.ConstantPad2d).
 *
 * @example
 * new nn.ConstantPad2d(1, -1); // every side by 1
 */
export class ConstantPad2d extends ConstantPadNd {
  constructor(padding: PaddingArg, value: number) {
    super(2, padding, value);
  }
}

/**
 * Pads the last three dimensions with `value` (torch.nn.ConstantPad3d).
 *
 * @example
 * new nn.ConstantPad3d([1, 1, 2, 2, 0, 1], 0.5);
 */
export class ConstantPad3d extends ConstantPadNd {
  constructor(padding: PaddingArg, value: number) {
    super(3, padding, value);
  }
}

/** Zero padding prints only its amounts, as PyTorch's ZeroPad*d. */
abstract class ZeroPadNd extends ConstantPadNd {
  protected constructor(dimensions: number, padding: PaddingArg) {
    super(dimensions, padding, 0);
  }
  override extraRepr(): string {
    return formatArgument(this.padding);
  }
}

/**
 * Pads the last dimension with zeros (torch.nn.ZeroPad1d).
 *
 * @example
 * new nn.ZeroPad1d(2);
 */
export class ZeroPad1d extends ZeroPadNd {
  constructor(padding: PaddingArg) {
    super(1, padding);
  }
}

/**
 * Pads the last two dimensions with zeros (torch.nn.ZeroPad2d).
 *
 * @example
 * new nn.ZeroPad2d([1, 1, 2, 0]); // left, right, top, bottom
 */
export class ZeroPad2d extends ZeroPadNd {
  constructor(padding: PaddingArg) {
    super(2, padding);
  }
}

/**
 * Pads the last three dimensions with zeros (torch.nn.ZeroPad3d).
 *
 * @example
 * new nn.ZeroPad3d(1);
 */
export class ZeroPad3d extends ZeroPadNd {
  constructor(padding: PaddingArg) {
    super(3, padding);
  }
}

/**
 * Mirrors the last dimension without repeating the edge (torch.nn.ReflectionPad1d); amounts must
 * be less than the dimension.
 *
 * @example
 * new nn.ReflectionPad1d(2).forward(tensor([[[0, 1, 2, 3]]])); // [[[2, 1, 0, 1, 2, 3, 2, 1]]]
 */
export class ReflectionPad1d extends PadNd {
  constructor(padding: PaddingArg) {
    super(1, 'reflect', padding);
  }
}

/**
 * Mirrors the last two dimensions (torch.nn.ReflectionPad2d).
 *
 * @example
 * new nn.ReflectionPad2d(1);
 */
export class ReflectionPad2d extends PadNd {
  constructor(padding: PaddingArg) {
    super(2, 'reflect', padding);
  }
}

/**
 * Mirrors the last three dimensions (torch.nn.ReflectionPad3d).
 *
 * @example
 * new nn.ReflectionPad3d(1);
 */
export class ReflectionPad3d extends PadNd {
  constructor(padding: PaddingArg) {
    super(3, 'reflect', padding);
  }
}

/**
 * Repeats the edge of the last dimension (torch.nn.ReplicationPad1d).
 *
 * @example
 * new nn.ReplicationPad1d([1, 2]);
 */
export class ReplicationPad1d extends PadNd {
  constructor(padding: PaddingArg) {
    super(1, 'replicate', padding);
  }
}

/**
 * Repeats the edges of the last two dimensions (torch.nn.ReplicationPad2d).
 *
 * @example
 * new nn.ReplicationPad2d(1);
 */
export class ReplicationPad2d extends PadNd {
  constructor(padding: PaddingArg) {
    super(2, 'replicate', padding);
  }
}

/**
 * Repeats the edges of the last three dimensions (torch.nn.ReplicationPad3d).
 *
 * @example
 * new nn.ReplicationPad3d(1);
 */
export class ReplicationPad3d extends PadNd {
  constructor(padding: PaddingArg) {
    super(3, 'replicate', padding);
  }
}

/**
 * Wraps the last dimension around (torch.nn.CircularPad1d); amounts at most the dimension.
 *
 * @example
 * new nn.CircularPad1d(1).forward(tensor([[[0, 1, 2]]])); // [[[2, 0, 1, 2, 0]]]
 */
export class CircularPad1d extends PadNd {
  constructor(padding: PaddingArg) {
    super(1, 'circular', padding);
  }
}

/**
 * Wraps the last two dimensions around: a torus (torch.nn.CircularPad2d).
 *
 * @example
 * new nn.CircularPad2d(1);
 */
export class CircularPad2d extends PadNd {
  constructor(padding: PaddingArg) {
    super(2, 'circular', padding);
  }
}

/**
 * Wraps the last three dimensions around (torch.nn.CircularPad3d).
 *
 * @example
 * new nn.CircularPad3d(1);
 */
export class CircularPad3d extends PadNd {
  constructor(padding: PaddingArg) {
    super(3, 'circular', padding);
  }
}
