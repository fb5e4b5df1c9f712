import { ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { broadcastTo } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { equal, greaterEqual, lessEqual, sub, where } from './elementwise.js';
import { moveaxis, pad, reshape } from './movement.js';
import { sum } from './reduce.js';

// Triangles and diagonals of matrices (torch.tril, triu, diagonal, diag, trace), as composites
// of iota, comparisons, where and slices: every backend has them, and their gradients are the
// primitives' (zero outside the kept triangle or diagonal). Batched ops work on the last two axes
// (tril, triu) or on the two axes named (diagonal, trace), as in PyTorch and NumPy.

function checkOffset(op: string, offset: unknown): number {
  if (typeof offset !== 'number' || !Number.isInteger(offset)) {
    throw new ValueError(`${op}: the diagonal offset must be an integer, got ${JSON.stringify(offset)}`);
  }
  return offset;
}

/** `column - row` over an n x m grid, as int32 on `like`'s backend. */
function columnMinusRow(n: number, m: number, like: Tensor): Tensor {
  const backend = backendOf(like);
  const rows = bind(Primitive.Iota, [], { shape: [n, m], dtype: 'int32', axis: 0 }, backend);
  const columns = bind(Primitive.Iota, [], { shape: [n, m], dtype: 'int32', axis: 1 }, backend);
  return sub(columns, rows);
}

function triangle(op: 'tril' | 'triu', x: TensorLike, diagonal: number): Tensor {
  const t = toTensor(op, x);
  const k = checkOffset(op, diagonal);
  if (t.ndim < 2) {
    throw new ShapeError(
      `${op}: the input must have at least 2 dimensions (a matrix or a batch of them), got shape ${formatShape(t.shape)}`,
    );
  }
  return tidy(() => {
    const n = t.shape[t.ndim - 2] as number;
    const m = t.shape[t.ndim - 1] as number;
    const offsets = columnMinusRow(n, m, t);
    const keep = op === 'tril' ? lessEqual(offsets, k) : greaterEqual(offsets, k);
    // A zero of x's own dtype (false for bool), so the result keeps it; where puts 0 in place of
    // NaN too, and passes no gradient to the positions it zeroes.
    return where(broadcastTo(keep, t.shape), t, toTensor(op, 0, t.dtype, t));
  });
}

/**
 * The lower triangle of the matrices in the last two axes (torch.tril): elements on and below the
 * `diagonal`-th diagonal are kept (0 the main diagonal, above it positive, below negative), the
 * rest are 0. The dtype is kept.
 *
 * @example
 * tril(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]));     // [[1, 0, 0], [4, 5, 0], [7, 8, 9]]
 * tril(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), -1); // [[0, 0, 0], [4, 0, 0], [7, 8, 0]]
 */
export function tril(x: TensorLike, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal);
}

/**
 * The upper triangle of the matrices in the last two axes (torch.triu): elements on and above the
 * `diagonal`-th diagonal are kept, the rest are 0. The dtype is kept.
 *
 * @example
 * triu(tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]]), 1); // [[0, 2, 3], [0, 0, 6], [0, 0, 0]]
 */
export function triu(x: TensorLike, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal);
}

function checkedAxes(op: string, t: Tensor, axis1: number, axis2: number): [number, number] {
  if (t.ndim < 2) {
    throw new ShapeError(`${op}: the input must have at least 2 dimensions, got shape ${formatShape(t.shape)}`);
  }
  const a = normalizeAxis(op, axis1, t.ndim);
  const b = normalizeAxis(op, axis2, t.ndim);
  if (a === b) {
    throw new ValueError(`${op}: axis1 and axis2 must be different axes, both are axis ${a} (input shape ${formatShape(t.shape)})`);
  }
  return [a, b];
}

function diagonalOf(t: Tensor, offset: number, axis1: number, axis2: number): Tensor {
  // The two axes last, then the matrix flattened: its k-th diagonal is a strided slice of it.
  const moved = moveaxis(t, [axis1, axis2], [-2, -1]);
  const batch = moved.shape.slice(0, -2);
  const n = moved.shape[moved.ndim - 2] as number;
  const m = moved.shape[moved.ndim - 1] as number;
  const length = Math.max(0, offset >= 0 ? Math.min(n, m - offset) : Math.min(n + offset, m));
  const flat = reshape(moved, [...batch, n * m]);
  const start = length === 0 ? 0 : offset >= 0 ? offset : -offset * m;
  const stop = length === 0 ? 0 : start + (length - 1) * (m + 1) + 1;
  return bind(Primitive.Slice, [flat], {
    starts: [...batch.map(() => 0), start],
    stops: [...batch, stop],
    steps: [...batch.map(() => 1), m + 1],
  });
}

/**
 * The `offset`-th diagonal of the matrices spanned by `axis1` and `axis2` (torch.diagonal and
 * numpy.diagonal, whose defaults are the first two axes): those axes are removed and the diagonal
 * becomes the last axis. A positive offset is above the main diagonal, a negative one below; one
 * past the matrix gives an empty diagonal. The dtype is kept.
 *
 * @example
 * diagonal(tensor([[1, 2, 3], [4, 5, 6]]));         // [1, 5]
 * diagonal(tensor([[1, 2, 3], [4, 5, 6]]), 1);      // [2, 6]
 * diagonal(zeros([8, 3, 3]), 0, -2, -1).shape;      // [8, 3]
 */
export function diagonal(x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const op = 'diagonal';
  const t = toTensor(op, x);
  const k = checkOffset(op, offset);
  const [a, b] = checkedAxes(op, t, axis1, axis2);
  return tidy(() => diagonalOf(t, k, a, b));
}

/**
 * torch.diag: a vector becomes the square matrix with it on the `diagonal`-th diagonal (size
 * `n + |diagonal|`, zeros elsewhere); a matrix gives its `diagonal`-th diagonal as a vector.
 *
 * @example
 * diag(tensor([1, 2]));             // [[1, 0], [0, 2]]
 * diag(tensor([1, 2]), 1);          // [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
 * diag(tensor([[1, 2], [3, 4]]));   // [1, 4]
 */
export function diag(x: TensorLike, diagonal = 0): Tensor {
  const op = 'diag';
  const t = toTensor(op, x);
  const k = checkOffset(op, diagonal);
  if (t.ndim === 2) return tidy(() => diagonalOf(t, k, 0, 1));
  if (t.ndim !== 1) {
    throw new ShapeError(`${op}: the input must be a vector (1-D) or a matrix (2-D), got shape ${formatShape(t.shape)}`);
  }
  return tidy(() => {
    const n = t.shape[0] as number;
    const size = n + Math.abs(k);
    // Above the main diagonal, row i holds x[i]; below it, column j holds x[j]: pad x to the
    // matrix's size and broadcast it along columns or rows, then keep the one diagonal.
    const padded = pad(t, [0, Math.abs(k)]);
    const values = broadcastTo(k >= 0 ? reshape(padded, [size, 1]) : reshape(padded, [1, size]), [size, size]);
    return where(equal(columnMinusRow(size, size, t), k), values, toTensor(op, 0, t.dtype, t));
  });
}

/**
 * The sum of the `offset`-th diagonal (torch.trace for a matrix; with `axis1` and `axis2`, of each
 * matrix of a batch, as numpy.trace). Bool and uint8 sum in int32, as `sum` does.
 *
 * @example
 * trace(tensor([[1, 2], [3, 4]]));    // 5
 * trace(tensor([[1, 2], [3, 4]]), 1); // 2
 */
export function trace(x: TensorLike, offset = 0, axis1 = 0, axis2 = 1): Tensor {
  const op = 'trace';
  const t = toTensor(op, x);
  const k = checkOffset(op, offset);
  const [a, b] = checkedAxes(op, t, axis1, axis2);
  return tidy(() => sum(diagonalOf(t, k, a, b), -1));
}
