import type { TensorLike } from '../ops/convert.js';
import { nanmean, nansum } from '../ops/nan-reductions.js';
import type { ReductionAxes, VarianceOptions } from '../ops/reduce.js';
import * as reduce from '../ops/reduce.js';
import type { TopK } from '../ops/sort.js';
import * as sorting from '../ops/sort.js';
import { Tensor } from './tensor.js';

// Tensor methods for reductions, scans and sorting: thin wrappers, so `x.sum(0)` is `sum(x, 0)`.

declare module './tensor.js' {
  interface Tensor {
    /** See `sum`. */
    sum(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `mean`. */
    mean(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `nansum`. */
    nansum(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `nanmean`. */
    nanmean(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `prod`. */
    prod(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `max`. */
    max(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `min`. */
    min(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `argmax`. */
    argmax(axis?: number, keepdims?: boolean): Tensor;
    /** See `argmin`. */
    argmin(axis?: number, keepdims?: boolean): Tensor;
    /** See `variance`: `{ keepdims, correction }` (correction defaults to 1). */
    var(axis?: ReductionAxes, options?: boolean | VarianceOptions): Tensor;
    /** See `std`. */
    std(axis?: ReductionAxes, options?: boolean | VarianceOptions): Tensor;
    /** See `logSumExp`. */
    logSumExp(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `all`. */
    all(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `any`. */
    any(axis?: ReductionAxes, keepdims?: boolean): Tensor;
    /** See `cumsum`. */
    cumsum(axis: number): Tensor;
    /** See `cumprod`. */
    cumprod(axis: number): Tensor;
    /** See `sort`. */
    sort(axis?: number, descending?: boolean): Tensor;
    /** See `argsort`. */
    argsort(axis?: number, descending?: boolean): Tensor;
    /** See `topk`. */
    topk(k: number, axis?: number, largest?: boolean): TopK;
  }
}

type Reduction = (x: TensorLike, axis?: ReductionAxes, keepdims?: boolean) => Tensor;
const reductions: Record<'sum' | 'mean' | 'nansum' | 'nanmean' | 'prod' | 'max' | 'min' | 'logSumExp' | 'all' | 'any', Reduction> = {
  sum: reduce.sum,
  mean: reduce.mean,
  nansum,
  nanmean,
  prod: reduce.prod,
  max: reduce.max,
  min: reduce.min,
  logSumExp: reduce.logSumExp,
  all: reduce.all,
  any: reduce.any,
};

const proto = Tensor.prototype as unknown as Record<string, unknown>;
for (const [name, fn] of Object.entries(reductions)) {
  proto[name] = function (this: Tensor, axis?: ReductionAxes, keepdims?: boolean) {
    return fn(this, axis, keepdims);
  };
}
Tensor.prototype.argmax = function (axis, keepdims) {
  return reduce.argmax(this, axis, keepdims);
};
Tensor.prototype.argmin = function (axis, keepdims) {
  return reduce.argmin(this, axis, keepdims);
};
Tensor.prototype.var = function (axis, options) {
  return reduce.variance(this, axis, options);
};
Tensor.prototype.std = function (axis, options) {
  return reduce.std(this, axis, options);
};
Tensor.prototype.cumsum = function (axis) {
  return reduce.cumsum(this, axis);
};
Tensor.prototype.cumprod = function (axis) {
  return reduce.cumprod(this, axis);
};
Tensor.prototype.sort = function (axis, descending) {
  return sorting.sort(this, axis, descending);
};
Tensor.prototype.argsort = function (axis, descending) {
  return sorting.argsort(this, axis, descending);
};
Tensor.prototype.topk = function (k, axis, largest) {
  return sorting.topk(this, k, axis, largest);
};
