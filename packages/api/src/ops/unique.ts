import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { truePositions } from './binary-search.js';
import { type TensorLike, toTensor } from './convert.js';
import { type DataDependentOp, runDataDependent, runDataDependentAsync } from './data-dependent.js';
import { notEqual, sub } from './elementwise.js';
import { concat, narrow, reshape, swapaxes } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { any, cumsum } from './reduce.js';

// torch.unique and torch.unique_consecutive. The number of distinct values fixes the result's
// shape and is the one integer read (ops/data-dependent.ts); the rest runs on the device: sort
// (a stable argsort; for slices along an axis, one stable argsort per column from the last, a
// least-significant-digit sort), mark where a run of equal values starts, count the runs with a
// cumulative sum, and find each run's start by binary search (ops/binary-search.ts). NaN differs
// from everything, itself included, so each NaN is a value of its own, as in PyTorch 2.

export interface UniqueConsecutiveOptions {
  /** Also return, for each element (or slice), the index of its value in the result. Default false. */
  readonly returnInverse?: boolean;
  /** Also return how many times each value occurs. Default false. */
  readonly returnCounts?: boolean;
  /** Find unique slices along this axis instead of unique elements of the flattened tensor. */
  readonly axis?: number;
}

export interface UniqueOptions extends UniqueConsecutiveOptions {
  /**
   * Return the values in ascending order (default true). PyTorch leaves the order unspecified
   * when false; Flint always sorts (NaN last).
   */
  readonly sorted?: boolean;
}

/** Every part `unique` can return: the values, the inverse indices (int32) and the counts (int32). */
export interface Unique {
  /** The distinct values (or slices along `axis`). */
  readonly values: Tensor;
  /** For each element of the input (each slice along `axis`), the index of its value in `values`. */
  readonly inverseIndices: Tensor;
  /** How many times each value occurs. */
  readonly counts: Tensor;
}

/** What `unique` returns when a flag is not known at compile time: the values, and the parts asked for. */
export type UniqueParts = Pick<Unique, 'values'> & Partial<Unique>;

type Flags<I extends boolean | undefined, C extends boolean | undefined> = { readonly returnInverse?: I; readonly returnCounts?: C };

/** `unique` and `uniqueConsecutive`: the values alone, or an object of the values and the parts asked for. */
export interface UniqueFunction<O extends UniqueConsecutiveOptions> {
  (x: TensorLike, options?: O & Flags<false | undefined, false | undefined>): Tensor;
  (x: TensorLike, options: O & Flags<true, true>): Unique;
  (x: TensorLike, options: O & Flags<true, false | undefined>): Omit<Unique, 'counts'>;
  (x: TensorLike, options: O & Flags<false | undefined, true>): Omit<Unique, 'inverseIndices'>;
  (x: TensorLike, options?: O): Tensor | UniqueParts;
}

/** The asynchronous forms of `UniqueFunction`. */
export interface UniqueAsyncFunction<O extends UniqueConsecutiveOptions> {
  (x: TensorLike, options?: O & Flags<false | undefined, false | undefined>): Promise<Tensor>;
  (x: TensorLike, options: O & Flags<true, true>): Promise<Unique>;
  (x: TensorLike, options: O & Flags<true, false | undefined>): Promise<Omit<Unique, 'counts'>>;
  (x: TensorLike, options: O & Flags<false | undefined, true>): Promise<Omit<Unique, 'inverseIndices'>>;
  (x: TensorLike, options?: O): Promise<Tensor | UniqueParts>;
}

/** The Tensor methods' forms of `UniqueFunction`. */
export interface UniqueMethod<O extends UniqueConsecutiveOptions> {
  (options?: O & Flags<false | undefined, false | undefined>): Tensor;
  (options: O & Flags<true, true>): Unique;
  (options: O & Flags<true, false | undefined>): Omit<Unique, 'counts'>;
  (options: O & Flags<false | undefined, true>): Omit<Unique, 'inverseIndices'>;
  (options?: O): Tensor | UniqueParts;
}

/** The Tensor methods' forms of `UniqueAsyncFunction`. */
export interface UniqueAsyncMethod<O extends UniqueConsecutiveOptions> {
  (options?: O & Flags<false | undefined, false | undefined>): Promise<Tensor>;
  (options: O & Flags<true, true>): Promise<Unique>;
  (options: O & Flags<true, false | undefined>): Promise<Omit<Unique, 'counts'>>;
  (options: O & Flags<false | undefined, true>): Promise<Omit<Unique, 'inverseIndices'>>;
  (options?: O): Promise<Tensor | UniqueParts>;
}

const UNIQUE = optionsSignature<UniqueOptions>(2, { sorted: true, returnInverse: true, returnCounts: true, axis: true });
const UNIQUE_CONSECUTIVE = optionsSignature<UniqueConsecutiveOptions>(2, { returnInverse: true, returnCounts: true, axis: true });

interface Request {
  readonly returnInverse: boolean;
  readonly returnCounts: boolean;
  /** The normalized axis, or null for the flattened tensor. */
  readonly axis: number | null;
  readonly sort: boolean;
}

function flag(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${name} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

function request(op: string, t: Tensor, options: UniqueOptions, sort: boolean): Request {
  flag(op, 'sorted', options.sorted, true);
  const { axis } = options;
  let a: number | null = null;
  if (axis !== undefined && axis !== null) {
    a = normalizeAxis(op, axis, t.ndim);
    if ((t.shape[a] as number) > 0 && t.shape.some((d, i) => i !== a && d === 0)) {
      throw new ShapeError(
        `${op}: x of shape ${formatShape(t.shape)} has slices of size 0 along axis ${a}, which have no values to compare`,
      );
    }
  }
  return {
    returnInverse: flag(op, 'returnInverse', options.returnInverse, false),
    returnCounts: flag(op, 'returnCounts', options.returnCounts, false),
    axis: a,
    sort,
  };
}

interface Runs {
  /** The input as rows [n, k]: each row one element (k = 1) or one slice along the axis. */
  readonly rows: Tensor;
  /** The rows in the order runs are found in (sorted, or as given). */
  readonly ordered: Tensor;
  /** The order's positions in `rows`, when sorted. */
  readonly order: Tensor | null;
  /** How many runs have started up to each ordered row (int32 [n]); null when there are no rows. */
  readonly runs: Tensor | null;
}

function takeRows(rows: Tensor, order: Tensor): Tensor {
  return bind(Primitive.Gather, [rows, order], { axis: 0 });
}

/** A stable sort of the rows of `rows` [n, k], lexicographic: one stable argsort per column, from the last (k sorts of n). */
function sortRows(rows: Tensor): Tensor {
  const k = rows.shape[1] as number;
  let order: Tensor | null = null;
  for (let column = k - 1; column >= 0; column--) {
    const keys = reshape(narrow(rows, 1, column, 1), [rows.shape[0] as number]);
    const byColumn: Tensor = bind(Primitive.Argsort, [order === null ? keys : takeRows(keys, order)], { axis: 0, descending: false });
    order = order === null ? byColumn : takeRows(order, byColumn);
  }
  return order as Tensor;
}

function findRuns(t: Tensor, r: Request): Runs {
  let rows: Tensor;
  if (r.axis === null) rows = reshape(t, [t.size, 1]);
  else {
    const length = t.shape[r.axis] as number;
    // Swapped with axis 0 (not moved there), as PyTorch flattens the slices: that order ranks them.
    rows = reshape(swapaxes(t, r.axis, 0), [length, length === 0 ? 0 : t.size / length]);
  }
  const n = rows.shape[0] as number;
  if (n === 0) return { rows, ordered: rows, order: null, runs: null };
  const order = r.sort ? sortRows(rows) : null;
  const ordered = order === null ? rows : takeRows(rows, order);
  // A run starts at row 0 and wherever a row differs from the one before (NaN differs from NaN).
  const differs = any(notEqual(narrow(ordered, 0, 1, n - 1), narrow(ordered, 0, 0, n - 1)), 1);
  const starts = concat([bind(Primitive.Full, [], { shape: [1], dtype: 'bool', value: 1 }, backendOf(t)), differs], 0);
  return { rows, ordered, order, runs: cumsum(starts, 0) };
}

function uniqueOp(
  op: string,
  asyncOp: string,
  x: TensorLike,
  options: UniqueOptions,
  sort: boolean,
): DataDependentOp<Runs, Tensor | UniqueParts> {
  let t: Tensor | null = null;
  let r: Request | null = null;
  return {
    op,
    asyncOp,
    alternative: 'count values with bincount(x, { length }) or compare against known values with where',
    prepare: () => {
      t = toTensor(op, x);
      r = request(op, t, options, sort);
      const runs = findRuns(t, r);
      const n = runs.rows.shape[0] as number;
      return { sizes: runs.runs === null ? null : narrow(runs.runs, 0, n - 1, 1), state: runs };
    },
    finish: (sizes, state) => {
      const input = t as Tensor;
      const req = r as Request;
      const backend = backendOf(input);
      const count = sizes[0] ?? 0;
      const n = state.rows.shape[0] as number;
      // A slice's shape as `rows` flattened it: x's shape with the axis swapped to the front, less that axis.
      const swapped = [...input.shape];
      if (req.axis !== null) [swapped[0], swapped[req.axis]] = [swapped[req.axis] as number, swapped[0] as number];
      const sliceShape = swapped.slice(1);
      const int32 = (shape: readonly number[], value: number): Tensor =>
        bind(Primitive.Full, [], { shape: [...shape], dtype: 'int32', value }, backend);
      const starts = state.runs === null ? int32([0], 0) : truePositions(state.runs, count);
      const picked = takeRows(state.ordered, starts);
      const values = req.axis === null ? reshape(picked, [count]) : swapaxes(reshape(picked, [count, ...sliceShape]), 0, req.axis);
      if (!req.returnInverse && !req.returnCounts) return values;
      const parts: { values: Tensor; inverseIndices?: Tensor; counts?: Tensor } = { values };
      if (req.returnInverse) {
        const inverseShape = req.axis === null ? input.shape : [n];
        if (state.runs === null) parts.inverseIndices = int32(inverseShape, 0);
        else {
          // The run of each ordered row, put back in the input's order by the inverse permutation.
          const run = sub(state.runs, 1);
          const inverse =
            state.order === null ? run : takeRows(run, bind(Primitive.Argsort, [state.order], { axis: 0, descending: false }));
          parts.inverseIndices = reshape(inverse, inverseShape);
        }
      }
      if (req.returnCounts) {
        parts.counts = count === 0 ? int32([0], 0) : sub(concat([narrow(starts, 0, 1, count - 1), int32([1], n)], 0), starts);
      }
      return parts;
    },
  };
}

/**
 * The distinct values of `x` (torch.unique), in ascending order (NaN last, each NaN distinct, as
 * PyTorch 2 does), as a vector; with `axis`, the distinct slices along that axis, sorted
 * lexicographically. With `returnInverse` and `returnCounts` it returns `{ values,
 * inverseIndices, counts }` with the parts asked for: the int32 index of each element's value
 * (shaped like x; along `axis`, one per slice) and how often each value occurs. The number of
 * distinct values fixes the shape, so it is read from the device: this form needs a backend with
 * synchronous reads (use `uniqueAsync` on webgpu or cuda) and a concrete x (a ConcretizationError
 * under jit or vmap). The values are a gather from the sorted input, so a gradient reaches the
 * first element of each run of equal values (PyTorch defines none).
 *
 * @example
 * unique(tensor([3, 1, 3, 2]));                                          // [1, 2, 3]
 * unique(tensor([3, 1, 3, 2]), { returnInverse: true, returnCounts: true });
 * // { values: [1, 2, 3], inverseIndices: [2, 0, 2, 1], counts: [1, 1, 2] }
 * unique(tensor([[1, 2], [1, 2], [0, 5]]), { axis: 0 });                 // [[0, 5], [1, 2]]
 */
export const unique = withCheckedOptions('unique', UNIQUE, (x: TensorLike, options: UniqueOptions = {}) =>
  runDataDependent(uniqueOp('unique', 'uniqueAsync', x, options, true)),
) as UniqueFunction<UniqueOptions>;

/**
 * `unique`, waiting for the read of the number of distinct values: works on every backend.
 *
 * @example
 * const values = await uniqueAsync(labels);
 */
export const uniqueAsync = withCheckedOptions('uniqueAsync', UNIQUE, (x: TensorLike, options: UniqueOptions = {}) =>
  runDataDependentAsync(uniqueOp('uniqueAsync', 'uniqueAsync', x, options, true)),
) as UniqueAsyncFunction<UniqueOptions>;

/**
 * Collapses each run of consecutive equal values (or slices along `axis`) to one
 * (torch.unique_consecutive), keeping their order; `returnInverse` and `returnCounts` as in
 * `unique`. Reads the number of runs, like `unique` (use `uniqueConsecutiveAsync` on webgpu or cuda).
 *
 * @example
 * uniqueConsecutive(tensor([1, 1, 2, 2, 3, 1, 1]));                        // [1, 2, 3, 1]
 * uniqueConsecutive(tensor([1, 1, 2, 1]), { returnCounts: true }).counts; // [2, 1, 1]
 */
export const uniqueConsecutive = withCheckedOptions(
  'uniqueConsecutive',
  UNIQUE_CONSECUTIVE,
  (x: TensorLike, options: UniqueConsecutiveOptions = {}) =>
    runDataDependent(uniqueOp('uniqueConsecutive', 'uniqueConsecutiveAsync', x, options, false)),
) as UniqueFunction<UniqueConsecutiveOptions>;

/**
 * `uniqueConsecutive`, waiting for the read of the number of runs: works on every backend.
 *
 * @example
 * const runs = await uniqueConsecutiveAsync(x);
 */
export const uniqueConsecutiveAsync = withCheckedOptions(
  'uniqueConsecutiveAsync',
  UNIQUE_CONSECUTIVE,
  (x: TensorLike, options: UniqueConsecutiveOptions = {}) =>
    runDataDependentAsync(uniqueOp('uniqueConsecutiveAsync', 'uniqueConsecutiveAsync', x, options, false)),
) as UniqueAsyncFunction<UniqueConsecutiveOptions>;
