import type { TensorLike } from '../ops/convert.js';
import * as order from '../ops/order-statistics.js';
import type { ReductionAxes } from '../ops/reduce.js';
import * as scans from '../ops/scans.js';
import type { TopK } from '../ops/sort.js';
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
    /** See `scatter`. */
    scatter(axis: number, index: TensorLike, src: TensorLike, options?: ops.ScatterOptions): Tensor;
    /** See `indexSelect`. */
    indexSelect(axis: number, index: TensorLike): Tensor;
    /** See `cummax` (the values). */
    cummax(axis: number): Tensor;
    /** See `cummin` (the values). */
    cummin(axis: number): Tensor;
    /** See `logcumsumexp`. */
    logcumsumexp(axis: number): Tensor;
    /** See `kthvalue`. */
    kthvalue(k: number, axis?: number, keepdims?: boolean): TopK;
    /** See `median`. */
    median(axis?: number, keepdims?: boolean): Tensor;
    /** See `quantile`. */
    quantile(q: number | readonly number[], options?: order.QuantileOptions): Tensor;
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
Tensor.prototype.indexSelect = function (this: Tensor, axis: number, index: TensorLike) {
  return ops.indexSelect(this, axis, index);
};
Tensor.prototype.cummax = function (this: Tensor, axis: number) {
  return scans.cummax(this, axis);
};
Tensor.prototype.cummin = function (this: Tensor, axis: number) {
  return scans.cummin(this, axis);
};
Tensor.prototype.logcumsumexp = function (this: Tensor, axis: number) {
  return scans.logcumsumexp(this, axis);
};
Tensor.prototype.kthvalue = function (this: Tensor, k: number, axis?: number, keepdims?: boolean) {
  return order.kthvalue(this, k, axis, keepdims);
};
Tensor.prototype.median = function (this: Tensor, axis?: number, keepdims?: boolean) {
  return order.median(this, axis, keepdims);
};
Tensor.prototype.quantile = function (this: Tensor, q: number | readonly number[], options?: order.QuantileOptions) {
  return order.quantile(this, q, options);
};
Tensor.prototype.scatter = function (this: Tensor, axis: number, index: TensorLike, src: TensorLike, options?: ops.ScatterOptions) {
  return ops.scatter(this, axis, index, src, options);
};
