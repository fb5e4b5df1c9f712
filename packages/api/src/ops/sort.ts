import { AxisError, ValueError } from '../core/errors.js';
import { contiguousStrides, formatShape, normalizeAxis, shapesEqual } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { type TensorLike, toTensor } from './convert.js';
import { add, mul, sub } from './elementwise.js';

// Sorting, written in the Argsort primitive (a stable sort) and a gather of the sorted order.

/** The result of `topk`: the k selected values and their int32 positions along the axis. */
export interface TopK {
  readonly values: Tensor;
  readonly indices: Tensor;
}

function reshapeTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(Primitive.Reshape, [x], { shape: [...shape] });
}

function checkFlag(op: string, what: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ValueError(`${op}: ${what} must be a boolean, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The tensor to sort and its normalized axis. A rank-0 tensor is sorted as a vector of one (axis 0
 * or -1, as PyTorch accepts); callers reshape the result back to `t.shape`.
 */
function sortInput(op: string, x: TensorLike, axis: number): { t: Tensor; view: Tensor; axis: number } {
  const t = toTensor(op, x);
  if (typeof axis !== 'number') throw new AxisError(`${op}: axis must be an integer, got ${JSON.stringify(axis)}`);
  if (t.shape.length === 0) {
    normalizeAxis(op, axis, 1);
    return { t, view: reshapeTo(t, [1]), axis: 0 };
  }
  return { t, view: t, axis: normalizeAxis(op, axis, t.shape.length) };
}

/**
 * `x` reordered along `axis` by `order` (int32, same shape as `x`): out[..., i, ...] =
 * x[..., order[..., i, ...], ...]. Gather is NumPy's `take`, so this gathers from the flattened
 * tensor at flat positions: each element's own flat position, with its coordinate along `axis`
 * swapped for the one `order` names.
 */
function takeAlongAxis(x: Tensor, order: Tensor, axis: number): Tensor {
  const shape = x.shape;
  const size = x.size;
  if (size === 0) return x;
  const stride = contiguousStrides(shape)[axis] as number;
  const backend = backendOf(x);
  const flatPosition = reshapeTo(bind(Primitive.Iota, [], { shape: [size], dtype: 'int32', axis: 0 }, backend), shape);
  const axisPosition = bind(Primitive.Iota, [], { shape: [...shape], dtype: 'int32', axis }, backend);
  const source = add(flatPosition, mul(sub(order, axisPosition), stride));
  const gathered = bind(Primitive.Gather, [reshapeTo(x, [size]), reshapeTo(source, [size])], { axis: 0 });
  return reshapeTo(gathered, shape);
}

/** The first `k` entries along `axis`. */
function leading(x: Tensor, axis: number, k: number): Tensor {
  if (x.shape[axis] === k) return x;
  const rank = x.shape.length;
  return bind(Primitive.Slice, [x], {
    starts: new Array<number>(rank).fill(0),
    stops: x.shape.map((d, i) => (i === axis ? k : d)),
    steps: new Array<number>(rank).fill(1),
  });
}

/**
 * Int32 positions that sort `x` along `axis` (default the last). The sort is stable: equal
 * elements keep their order. NaN sorts last ascending and first descending, as in PyTorch.
 *
 * @example
 * argsort(tensor([3, 1, 2]));                   // [1, 2, 0]
 * argsort(tensor([[3, 1], [0, 5]]), 0, true);   // [[0, 1], [1, 0]]
 */
export function argsort(x: TensorLike, axis = -1, descending = false): Tensor {
  return tidy(() => {
    const { t, view, axis: a } = sortInput('argsort', x, axis);
    const order = bind(Primitive.Argsort, [view], { axis: a, descending: checkFlag('argsort', 'descending', descending) });
    return reshapeTo(order, t.shape);
  });
}

/**
 * `x` sorted along `axis` (default the last), ascending unless `descending`. Stable; NaN sorts
 * last ascending and first descending, as in PyTorch. For the positions use `argsort`, for the
 * k largest `topk`.
 *
 * @example
 * sort(tensor([[3, 1, 2], [0, -1, 5]]));        // [[1, 2, 3], [-1, 0, 5]]
 * tensor([3, 1, 2]).sort(-1, true);              // [3, 2, 1]
 */
export function sort(x: TensorLike, axis = -1, descending = false): Tensor {
  return tidy(() => {
    const { t, view, axis: a } = sortInput('sort', x, axis);
    const order = bind(Primitive.Argsort, [view], { axis: a, descending: checkFlag('sort', 'descending', descending) });
    return reshapeTo(takeAlongAxis(view, order, a), t.shape);
  });
}

/**
 * The `k` largest elements along `axis` (default the last), or the `k` smallest when `largest` is
 * false, in sorted order, with their int32 positions. Ties keep the earlier position first; NaN
 * counts as the largest, as in PyTorch.
 *
 * @example
 * const { values, indices } = topk(tensor([1, 9, 3, 7]), 2); // values [9, 7], indices [1, 3]
 */
export function topk(x: TensorLike, k: number, axis = -1, largest = true): TopK {
  return tidy(() => {
    const { t, view, axis: a } = sortInput('topk', x, axis);
    const length = view.shape[a] as number;
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0 || k > length) {
      throw new ValueError(
        `topk: k must be an integer from 0 to ${length} (the size of axis ${a} of shape ${formatShape(t.shape)}), got ${JSON.stringify(k)}`,
      );
    }
    const order = bind(Primitive.Argsort, [view], { axis: a, descending: checkFlag('topk', 'largest', largest) });
    const values = leading(takeAlongAxis(view, order, a), a, k);
    const indices = leading(order, a, k);
    // A scalar's top 1 is itself, shaped as the input (k = 0 leaves an empty vector).
    if (t.shape.length === 0 && k === 1) return { values: reshapeTo(values, t.shape), indices: reshapeTo(indices, t.shape) };
    return { values, indices };
  });
}
