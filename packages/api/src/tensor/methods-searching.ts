import type { TensorLike } from '../ops/convert.js';
import * as counting from '../ops/counting.js';
import * as nonzero from '../ops/nonzero.js';
import type { ReductionAxes } from '../ops/reduce.js';
import * as searching from '../ops/searching.js';
import * as uniqueOps from '../ops/unique.js';
import { Tensor } from './tensor.js';

// Tensor methods for the searching and counting ops (ops/searching.ts, counting.ts, nonzero.ts,
// unique.ts): thin wrappers, so `x.nonzero()` is `nonzero(x)`.

declare module './tensor.js' {
  interface Tensor {
    /** See `searchsorted`: this tensor is the sorted sequence (as NumPy's `a.searchsorted(v)`). */
    searchsorted(values: TensorLike, options?: searching.SearchSortedOptions): Tensor;
    /** See `bucketize`: the bucket of each element of this tensor between `boundaries`. */
    bucketize(boundaries: TensorLike, options?: searching.BucketizeOptions): Tensor;
    /** See `countNonzero`. */
    countNonzero(axis?: ReductionAxes): Tensor;
    /** See `bincount`. */
    bincount(options?: counting.BincountOptions): Tensor;
    /** See `bincountAsync`. */
    bincountAsync(options?: counting.BincountOptions): Promise<Tensor>;
    /** See `histc`. */
    histc(options?: counting.HistcOptions): Tensor;
    /** See `nonzero`. */
    nonzero(options?: { readonly asTuple?: false }): Tensor;
    nonzero(options: { readonly asTuple: true }): Tensor[];
    nonzero(options?: nonzero.NonzeroOptions): Tensor | Tensor[];
    /** See `nonzeroAsync`. */
    nonzeroAsync(options?: { readonly asTuple?: false }): Promise<Tensor>;
    nonzeroAsync(options: { readonly asTuple: true }): Promise<Tensor[]>;
    nonzeroAsync(options?: nonzero.NonzeroOptions): Promise<Tensor | Tensor[]>;
    /** See `argwhere`. */
    argwhere(): Tensor;
    /** See `argwhereAsync`. */
    argwhereAsync(): Promise<Tensor>;
    /** See `maskedSelect`: the elements of this tensor where `mask` is true. */
    maskedSelect(mask: TensorLike): Tensor;
    /** See `maskedSelectAsync`. */
    maskedSelectAsync(mask: TensorLike): Promise<Tensor>;
    /** See `unique`. */
    unique: uniqueOps.UniqueMethod<uniqueOps.UniqueOptions>;
    /** See `uniqueAsync`. */
    uniqueAsync: uniqueOps.UniqueAsyncMethod<uniqueOps.UniqueOptions>;
    /** See `uniqueConsecutive`. */
    uniqueConsecutive: uniqueOps.UniqueMethod<uniqueOps.UniqueConsecutiveOptions>;
    /** See `uniqueConsecutiveAsync`. */
    uniqueConsecutiveAsync: uniqueOps.UniqueAsyncMethod<uniqueOps.UniqueConsecutiveOptions>;
  }
}

Tensor.prototype.searchsorted = function (this: Tensor, values: TensorLike, options?: searching.SearchSortedOptions) {
  return searching.searchsorted(this, values, options);
};
Tensor.prototype.bucketize = function (this: Tensor, boundaries: TensorLike, options?: searching.BucketizeOptions) {
  return searching.bucketize(this, boundaries, options);
};
Tensor.prototype.countNonzero = function (this: Tensor, axis?: ReductionAxes) {
  return counting.countNonzero(this, axis);
};
Tensor.prototype.bincount = function (this: Tensor, options?: counting.BincountOptions) {
  return counting.bincount(this, options);
};
Tensor.prototype.bincountAsync = function (this: Tensor, options?: counting.BincountOptions) {
  return counting.bincountAsync(this, options);
};
Tensor.prototype.histc = function (this: Tensor, options?: counting.HistcOptions) {
  return counting.histc(this, options);
};
Tensor.prototype.nonzero = function (this: Tensor, options?: nonzero.NonzeroOptions) {
  return nonzero.nonzero(this, options);
} as Tensor['nonzero'];
Tensor.prototype.nonzeroAsync = function (this: Tensor, options?: nonzero.NonzeroOptions) {
  return nonzero.nonzeroAsync(this, options);
} as Tensor['nonzeroAsync'];
Tensor.prototype.argwhere = function (this: Tensor) {
  return nonzero.argwhere(this);
};
Tensor.prototype.argwhereAsync = function (this: Tensor) {
  return nonzero.argwhereAsync(this);
};
Tensor.prototype.maskedSelect = function (this: Tensor, mask: TensorLike) {
  return nonzero.maskedSelect(this, mask);
};
Tensor.prototype.maskedSelectAsync = function (this: Tensor, mask: TensorLike) {
  return nonzero.maskedSelectAsync(this, mask);
};
Tensor.prototype.unique = function (this: Tensor, options?: uniqueOps.UniqueOptions) {
  return uniqueOps.unique(this, options);
} as uniqueOps.UniqueMethod<uniqueOps.UniqueOptions>;
Tensor.prototype.uniqueAsync = function (this: Tensor, options?: uniqueOps.UniqueOptions) {
  return uniqueOps.uniqueAsync(this, options);
} as uniqueOps.UniqueAsyncMethod<uniqueOps.UniqueOptions>;
Tensor.prototype.uniqueConsecutive = function (this: Tensor, options?: uniqueOps.UniqueConsecutiveOptions) {
  return uniqueOps.uniqueConsecutive(this, options);
} as uniqueOps.UniqueMethod<uniqueOps.UniqueConsecutiveOptions>;
Tensor.prototype.uniqueConsecutiveAsync = function (this: Tensor, options?: uniqueOps.UniqueConsecutiveOptions) {
  return uniqueOps.uniqueConsecutiveAsync(this, options);
} as uniqueOps.UniqueAsyncMethod<uniqueOps.UniqueConsecutiveOptions>;
