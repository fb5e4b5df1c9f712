import { ShapeError } from '../core/errors.js';
import { formatShape } from '../core/shape.js';
import { broadcastTo } from '../ops/broadcast.js';
import type { TensorLike } from '../ops/convert.js';
import type { IndexSpec, OneHotOptions } from '../ops/indexing.js';
import * as indexing from '../ops/indexing.js';
import type { PadOptions, PadWidths, SliceBound } from '../ops/movement.js';
import * as movement from '../ops/movement.js';
import { Tensor } from './tensor.js';

// Tensor methods for the movement and indexing ops: thin wrappers, so `x.flip(0)` is `flip(x, 0)`.

declare module './tensor.js' {
  interface Tensor {
    /** The tensor with its axes reversed (NumPy's `x.T`). */
    readonly T: Tensor;
    /** The tensor with its last two axes swapped: a batch of matrix transposes (PyTorch's `x.mT`). */
    readonly mT: Tensor;
    /** See `reshape`; takes the shape as one array or as separate sizes (`x.reshape(2, -1)`). */
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    unflatten(axis: number, sizes: readonly number[]): Tensor;
    squeeze(axis?: number | readonly number[]): Tensor;
    unsqueeze(axis: number | readonly number[]): Tensor;
    /** See `transpose`: no argument reverses the axes, an array permutes, two axes swap. */
    transpose(perm?: readonly number[]): Tensor;
    transpose(axis0: number, axis1: number): Tensor;
    permute(...dims: number[] | [readonly number[]]): Tensor;
    swapaxes(axis0: number, axis1: number): Tensor;
    moveaxis(source: number | readonly number[], destination: number | readonly number[]): Tensor;
    expand(...sizes: number[] | [readonly number[]]): Tensor;
    /** NumPy broadcast_to: `x` repeated (as a view where the backend can) to `shape`. */
    broadcastTo(shape: readonly number[]): Tensor;
    slice(starts: readonly SliceBound[], stops: readonly SliceBound[], steps?: readonly SliceBound[]): Tensor;
    narrow(axis: number, start: number, length: number): Tensor;
    /** NumPy indexing, `x[...specs]`; see `index`. */
    index(...specs: IndexSpec[]): Tensor;
    split(sizeOrSections: number | readonly number[], axis?: number): Tensor[];
    chunk(chunks: number, axis?: number): Tensor[];
    unstack(axis?: number): Tensor[];
    pad(widths: PadWidths, options?: PadOptions): Tensor;
    flip(axes?: number | readonly number[]): Tensor;
    roll(shifts: number | readonly number[], axes?: number | readonly number[]): Tensor;
    tile(reps: number | readonly number[]): Tensor;
    /** torch.Tensor.repeat (numpy's tile); for numpy's repeat use `repeatInterleave`. */
    repeat(...sizes: number[] | [readonly number[]]): Tensor;
    repeatInterleave(repeats: number | readonly number[] | Tensor, axis?: number): Tensor;
    take(indices: TensorLike, axis?: number): Tensor;
    takeAlongAxis(indices: TensorLike, axis: number): Tensor;
    /** torch.Tensor.gather. */
    gather(axis: number, index: TensorLike): Tensor;
    /** torch.Tensor.scatter_add. */
    scatterAdd(axis: number, index: TensorLike, src: TensorLike): Tensor;
    /** One-hot encoding of these integer class indices; see `oneHot`. */
    oneHot(numClasses?: number, options?: OneHotOptions): Tensor;
  }
}

Object.defineProperty(Tensor.prototype, 'T', {
  configurable: true,
  get(this: Tensor): Tensor {
    return movement.transpose(this);
  },
});

Object.defineProperty(Tensor.prototype, 'mT', {
  configurable: true,
  get(this: Tensor): Tensor {
    if (this.ndim < 2) throw new ShapeError(`mT: needs a tensor of rank at least 2, got shape ${formatShape(this.shape)}`);
    return movement.swapaxes(this, -2, -1);
  },
});

const proto = Tensor.prototype as unknown as Record<string, unknown>;

// Methods whose arguments pass through unchanged after `this`.
const passThrough = {
  flatten: movement.flatten,
  unflatten: movement.unflatten,
  squeeze: movement.squeeze,
  unsqueeze: movement.unsqueeze,
  transpose: movement.transpose,
  permute: movement.permute,
  swapaxes: movement.swapaxes,
  moveaxis: movement.moveaxis,
  expand: movement.expand,
  slice: movement.slice,
  narrow: movement.narrow,
  split: movement.split,
  chunk: movement.chunk,
  unstack: movement.unstack,
  pad: movement.pad,
  flip: movement.flip,
  roll: movement.roll,
  tile: movement.tile,
  repeat: movement.repeat,
  index: indexing.index,
  repeatInterleave: indexing.repeatInterleave,
  take: indexing.take,
  takeAlongAxis: indexing.takeAlongAxis,
  gather: indexing.gather,
  scatterAdd: indexing.scatterAdd,
  oneHot: indexing.oneHot,
} as const;

for (const [name, fn] of Object.entries(passThrough)) {
  const op = fn as (x: Tensor, ...args: unknown[]) => unknown;
  proto[name] = function (this: Tensor, ...args: unknown[]) {
    return op(this, ...args);
  };
}

Tensor.prototype.reshape = function (...shape) {
  const list = shape.length === 1 && Array.isArray(shape[0]) ? (shape[0] as readonly number[]) : (shape as number[]);
  return movement.reshape(this, list);
};
Tensor.prototype.broadcastTo = function (shape) {
  return broadcastTo(this, [...shape]);
};
