import type { TensorLike } from '../ops/convert.js';
import type { ReductionAxes } from '../ops/reduce.js';
import * as ops from '../ops/torch-functions.js';
import { Tensor } from './tensor.js';

// Tensor methods for ops/torch-functions.ts: thin wrappers, so `x.amax(0)` is `amax(x, 0)`.

declare module './tensor.js' {
  interface Tensor {
    /** See `amax`. */
    amax(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `amin`. */
    amin(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `lerp`: `this + weight * (end - this)`. */
    lerp(end: TensorLike, weight: TensorLike): Tensor;
    /** See `trunc`. */
    trunc(): Tensor;
    /** See `frac`. */
    frac(): Tensor;
    /** See `mm`. */
    mm(other: TensorLike): Tensor;
    /** See `bmm`. */
    bmm(other: TensorLike): Tensor;
    /** See `mv`. */
    mv(vector: TensorLike): Tensor;
    /** See `flipud`. */
    flipud(): Tensor;
    /** See `fliplr`. */
    fliplr(): Tensor;
    /** See `rot90`. */
    rot90(k?: number, axes?: readonly [number, number]): Tensor;
    /** See `diff`. */
    diff(options?: ops.DiffOptions): Tensor;
  }
}

Tensor.prototype.amax = function (this: Tensor, axis?: ReductionAxes, keepdims?: boolean) {
  return ops.amax(this, axis, keepdims);
};
Tensor.prototype.amin = function (this: Tensor, axis?: ReductionAxes, keepdims?: boolean) {
  return ops.amin(this, axis, keepdims);
};
Tensor.prototype.lerp = function (this: Tensor, end: TensorLike, weight: TensorLike) {
  return ops.lerp(this, end, weight);
};
Tensor.prototype.trunc = function (this: Tensor) {
  return ops.trunc(this);
};
Tensor.prototype.frac = function (this: Tensor) {
  return ops.frac(this);
};
Tensor.prototype.mm = function (this: Tensor, other: TensorLike) {
  return ops.mm(this, other);
};
Tensor.prototype.bmm = function (this: Tensor, other: TensorLike) {
  return ops.bmm(this, other);
};
Tensor.prototype.mv = function (this: Tensor, vector: TensorLike) {
  return ops.mv(this, vector);
};
Tensor.prototype.flipud = function (this: Tensor) {
  return ops.flipud(this);
};
Tensor.prototype.fliplr = function (this: Tensor) {
  return ops.fliplr(this);
};
Tensor.prototype.rot90 = function (this: Tensor, k?: number, axes?: readonly [number, number]) {
  return ops.rot90(this, k, axes);
};
Tensor.prototype.diff = function (this: Tensor, options?: ops.DiffOptions) {
  return ops.diff(this, options);
};
