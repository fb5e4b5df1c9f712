import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, shapesEqual } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { binarySearch } from './binary-search.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { take, takeAlongAxis } from './indexing.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';

// torch.searchsorted and torch.bucketize: a vectorised binary search (ops/binary-search.ts) in
// gather, compare and where, so every backend has them and vmap and jit trace them. The answers
// are int32 positions (Flint's index dtype, as argmax); PyTorch returns int64 unless out_int32.

export interface SearchSortedOptions {
  /**
   * Return the last place each value could be inserted (the count of entries <= it) instead of
   * the first (the count of entries < it). Default false.
   */
  readonly right?: boolean;
  /** 'left' or 'right', the same choice as `right` spelled as NumPy does; the two may not disagree. */
  readonly side?: 'left' | 'right';
  /** int32 positions that sort `sortedSequence` along its last axis (as `argsort` gives), for an unsorted one. */
  readonly sorter?: TensorLike;
}

export interface BucketizeOptions {
  /** Bucket i holds `boundaries[i-1] <= x < boundaries[i]` instead of `boundaries[i-1] < x <= boundaries[i]`. Default false. */
  readonly right?: boolean;
}

const SEARCH_SORTED = optionsSignature<SearchSortedOptions>(3, { right: true, side: true, sorter: true }, ['side', 'sorter']);
const BUCKETIZE = optionsSignature<BucketizeOptions>(3, { right: true });

function checkRight(op: string, right: unknown): boolean {
  if (right === undefined) return false;
  if (typeof right !== 'boolean') throw new ValueError(`${op}: right must be a boolean, got ${JSON.stringify(right)}`);
  return right;
}

function resolveSide(op: string, options: SearchSortedOptions): boolean {
  const right = checkRight(op, options.right);
  const { side } = options;
  if (side === undefined) return right;
  if (side !== 'left' && side !== 'right') throw new ValueError(`${op}: side must be 'left' or 'right', got ${JSON.stringify(side)}`);
  if (options.right !== undefined && right !== (side === 'right')) {
    throw new ValueError(`${op}: side and right disagree (side '${side}', right ${right}); give one of them`);
  }
  return side === 'right';
}

/** The dtype both operands are compared in; bool has no order to search. */
function searchDType(op: string, a: TensorLike, b: TensorLike, sequence: Tensor, values: Tensor): ReturnType<typeof resultDType> {
  for (const [what, t] of [
    ['the sorted sequence', sequence],
    ['the values', values],
  ] as const) {
    if (t.dtype === 'bool') throw new DTypeError(`${op}: ${what} must be numbers, got bool (cast to int32 or uint8 first)`);
  }
  return resultDType(a, b);
}

/**
 * Where `values` would be inserted into `sortedSequence` to keep it sorted (torch.searchsorted,
 * numpy.searchsorted), as int32 positions shaped like `values`. The first such place (the count
 * of entries less than the value) by default; with `right` (or `side: 'right'`) the last (the
 * count of entries less than or equal to it). `sortedSequence` is sorted along its last axis: one
 * row [n] that every value searches, or rows [...batch, n] with `values` [...batch, m] searching
 * their own row. A `sorter` (`argsort(sortedSequence)`) lets an unsorted sequence be searched.
 * Both operands are compared in their common dtype; a NaN value goes past every entry, as in
 * PyTorch. Runs as log2(n) rounds of gathers, on every backend, under grad, vmap and jit; the
 * result is int32 (PyTorch: int64) and carries no gradient.
 *
 * @example
 * searchsorted(tensor([1, 3, 5, 7]), tensor([3, 6, 9]));                  // [1, 3, 4]
 * searchsorted(tensor([1, 3, 5, 7]), tensor([3, 6, 9]), { right: true }); // [2, 3, 4]
 * searchsorted(tensor([[1, 3], [2, 4]]), tensor([[2], [2]]));            // [[1], [0]]
 */
export const searchsorted = withCheckedOptions(
  'searchsorted',
  SEARCH_SORTED,
  (sortedSequence: TensorLike, values: TensorLike, options: SearchSortedOptions = {}): Tensor =>
    tidy(() => {
      const op = 'searchsorted';
      const right = resolveSide(op, options);
      let sequence = toTensor(op, sortedSequence);
      const v = toTensor(op, values, undefined, sequence);
      if (sequence.ndim === 0) throw new ShapeError(`${op}: sortedSequence must have at least one axis, got a scalar`);
      if (sequence.ndim > 1) {
        const batch = sequence.shape.slice(0, -1);
        if (v.ndim === 0) {
          throw new ShapeError(
            `${op}: a scalar value can only search a 1-D sortedSequence, got sortedSequence of shape ${formatShape(sequence.shape)}`,
          );
        }
        if (v.ndim !== sequence.ndim || !shapesEqual(v.shape.slice(0, -1), batch)) {
          throw new ShapeError(
            `${op}: sortedSequence must be 1-D or share every axis but the last with values, got sortedSequence ${formatShape(sequence.shape)} and values ${formatShape(v.shape)}`,
          );
        }
      }
      if (options.sorter !== undefined && options.sorter !== null) {
        const sorter = toTensor(op, options.sorter, undefined, sequence);
        if (!shapesEqual(sorter.shape, sequence.shape)) {
          throw new ShapeError(
            `${op}: sorter must have the shape of sortedSequence ${formatShape(sequence.shape)}, got ${formatShape(sorter.shape)}`,
          );
        }
        if (sorter.dtype !== 'int32' && sorter.dtype !== 'uint8')
          throw new DTypeError(`${op}: sorter must hold integer positions (int32), got ${sorter.dtype}`);
        sequence = sequence.ndim === 1 ? take(sequence, sorter) : takeAlongAxis(sequence, sorter, -1);
      }
      const dtype = searchDType(op, sortedSequence, values, sequence, v);
      return binarySearch(cast(sequence, dtype), cast(v, dtype), right);
    }),
);

/**
 * The bucket of each element of `input` between sorted `boundaries` (torch.bucketize), as int32
 * indices shaped like `input`: i such that `boundaries[i-1] < x <= boundaries[i]`, or with
 * `right` `boundaries[i-1] <= x < boundaries[i]`; 0 below the first boundary, `boundaries.length`
 * above the last. The same search as `searchsorted` with the operands the other way round.
 *
 * @example
 * bucketize(tensor([0.5, 1, 4, 9]), tensor([1, 3, 5]));                  // [0, 0, 2, 3]
 * bucketize(tensor([0.5, 1, 4, 9]), tensor([1, 3, 5]), { right: true }); // [0, 1, 2, 3]
 */
export const bucketize = withCheckedOptions(
  'bucketize',
  BUCKETIZE,
  (input: TensorLike, boundaries: TensorLike, options: BucketizeOptions = {}): Tensor =>
    tidy(() => {
      const op = 'bucketize';
      const right = checkRight(op, options.right);
      const b = toTensor(op, boundaries);
      const x = toTensor(op, input, undefined, b);
      if (b.ndim !== 1) throw new ShapeError(`${op}: boundaries must be 1-D, got shape ${formatShape(b.shape)}`);
      const dtype = searchDType(op, boundaries, input, b, x);
      return binarySearch(cast(b, dtype), cast(x, dtype), right);
    }),
);
