import { type DType, promoteTypes } from '../core/dtype.js';
import { AxisError, DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { broadcastShapes, formatShape, normalizeAxis } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { isTensor, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { broadcastTo, cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { zeros } from './creation.js';
import { equal, mul, sub, where } from './elementwise.js';
import { dotGeneral, matmul } from './linalg.js';
import { concat, moveaxis, pad, reshape, roll } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { sum } from './reduce.js';

// Products of vectors and matrices beyond matmul (torch.linalg.cross, vecdot, multi_dot;
// torch.cross, kron, tensordot, block_diag, diag_embed), written in elementwise ops, rolls, pads
// and DotGeneral: gradients, vmap and jit come from the primitives. dtypes promote as `matmul`'s
// operands do (integers stay integers; bool is refused where matmul refuses it).

/** The operands as tensors of their promoted dtype; bool refused. */
function promoted(op: string, values: readonly TensorLike[]): Tensor[] {
  const like = values.find(isTensor);
  const tensors = values.map((v) => toTensor(op, v, undefined, like));
  let dtype: DType = (tensors[0] as Tensor).dtype;
  for (const t of tensors) dtype = promoteTypes(dtype, t.dtype);
  if (dtype === 'bool') throw new DTypeError(`${op}: not defined for bool tensors; cast them to a numeric dtype first`);
  return tensors.map((t) => cast(t, dtype));
}

/** Options of `linalg.cross` and `linalg.vecdot`. */
export interface VectorAxisOptions {
  /** The axis holding the vectors (default -1). */
  readonly axis?: number;
}

const VECTOR_AXIS = optionsSignature<VectorAxisOptions>(3, { axis: true });

/** The cross product along `axis` of the broadcast operands (each of size 3 there). */
function crossAlong(op: string, a: Tensor, b: Tensor, axis: number | undefined): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const rank = shape.length;
  if (rank === 0) throw new ShapeError(`${op}: expects vectors of 3 elements, got scalars`);
  let along: number;
  if (axis === undefined) {
    // torch.cross without dim: the first axis of size 3.
    along = shape.indexOf(3);
    if (along < 0)
      throw new ShapeError(`${op}: no axis of size 3 in shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}; give axis`);
  } else {
    along = normalizeAxis(op, axis, rank);
  }
  const sizeIn = (t: Tensor) => t.shape[t.ndim - rank + along];
  if (sizeIn(a) !== 3 || sizeIn(b) !== 3) {
    throw new ShapeError(
      `${op}: both inputs must have 3 elements along axis ${along}, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  return tidy(() => {
    const x = broadcastTo(a, shape);
    const y = broadcastTo(b, shape);
    // c_i = a_{i+1} b_{i+2} - a_{i+2} b_{i+1}, indices mod 3.
    return sub(mul(roll(x, -1, along), roll(y, -2, along)), mul(roll(x, -2, along), roll(y, -1, along)));
  });
}

/**
 * The cross product of 3-vectors along `axis` (torch.linalg.cross), batch axes broadcasting.
 *
 * @example
 * linalg.cross(tensor([1, 0, 0]), tensor([0, 1, 0])); // [0, 0, 1]
 */
export const linalgCross = withCheckedOptions(
  'linalg.cross',
  VECTOR_AXIS,
  (a: TensorLike, b: TensorLike, options: VectorAxisOptions = {}): Tensor => {
    const op = 'linalg.cross';
    return tidy(() => {
      const [x, y] = promoted(op, [a, b]) as [Tensor, Tensor];
      return crossAlong(op, x, y, options.axis ?? -1);
    });
  },
);

/**
 * torch.cross: the cross product along `axis`, by default the first axis of size 3.
 *
 * @example
 * cross(tensor([[1, 0, 0]]), tensor([[0, 0, 1]])); // [[0, -1, 0]]
 */
export function cross(a: TensorLike, b: TensorLike, axis?: number): Tensor {
  return tidy(() => {
    const [x, y] = promoted('cross', [a, b]) as [Tensor, Tensor];
    return crossAlong('cross', x, y, axis ?? undefined);
  });
}

/**
 * The dot product of vectors along `axis` (torch.linalg.vecdot), batch axes broadcasting.
 *
 * @example
 * linalg.vecdot(tensor([[1, 2], [3, 4]]), tensor([1, 1])); // [3, 7]
 */
export const vecdot = withCheckedOptions('linalg.vecdot', VECTOR_AXIS, (x: TensorLike, y: TensorLike, options: VectorAxisOptions = {}) =>
  tidy(() => vecdotOf(x, y, options)),
);

function vecdotOf(x: TensorLike, y: TensorLike, options: VectorAxisOptions): Tensor {
  const op = 'linalg.vecdot';
  const [a, b] = promoted(op, [x, y]) as [Tensor, Tensor];
  const shape = broadcastShapes(op, a.shape, b.shape);
  if (shape.length === 0) throw new ShapeError(`${op}: expects vectors, got scalars`);
  const along = normalizeAxis(op, options.axis ?? -1, shape.length);
  const sizeIn = (t: Tensor) => (t.ndim - shape.length + along >= 0 ? t.shape[t.ndim - shape.length + along] : 1);
  if (sizeIn(a) !== sizeIn(b)) {
    throw new ShapeError(
      `${op}: the vectors differ in length along axis ${along}: shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
    );
  }
  return sum(mul(a, b), along);
}

/**
 * The product of a chain of matrices (torch.linalg.multi_dot), multiplied in the order that needs
 * the fewest multiply-adds (the textbook dynamic program over the shapes). The first operand may
 * be a vector (a row) and the last one (a column); the others are 2-d.
 *
 * @example
 * linalg.multiDot([a, b, c]); // a @ b @ c
 */
export function multiDot(tensors: readonly TensorLike[]): Tensor {
  return tidy(() => multiDotOf(tensors));
}

function multiDotOf(tensors: readonly TensorLike[]): Tensor {
  const op = 'linalg.multiDot';
  if (!Array.isArray(tensors) || tensors.length < 2) {
    throw new ValueError(`${op}: expects a list of at least two tensors, got ${Array.isArray(tensors) ? tensors.length : typeof tensors}`);
  }
  const ts = promoted(op, tensors);
  const count = ts.length;
  const first = ts[0] as Tensor;
  const last = ts[count - 1] as Tensor;
  ts.forEach((t, i) => {
    const allowed = (i === 0 || i === count - 1 ? [1, 2] : [2]).includes(t.ndim);
    if (!allowed) {
      throw new ShapeError(
        `${op}: tensor ${i} must be ${i === 0 || i === count - 1 ? '1-d or 2-d' : '2-d'}, got shape ${formatShape(t.shape)}`,
      );
    }
  });
  return tidy(() => {
    const matrices = ts.map((t, i) =>
      t.ndim === 2 ? t : i === 0 ? reshape(t, [1, t.shape[0] as number]) : reshape(t, [t.shape[0] as number, 1]),
    );
    const dims: number[] = [(matrices[0] as Tensor).shape[0] as number];
    matrices.forEach((m, i) => {
      if (i > 0 && m.shape[0] !== dims[dims.length - 1]) {
        throw new ShapeError(
          `${op}: tensors ${i - 1} and ${i} cannot be multiplied: shapes ${formatShape((ts[i - 1] as Tensor).shape)} and ${formatShape((ts[i] as Tensor).shape)}`,
        );
      }
      dims.push(m.shape[1] as number);
    });
    const order = chainOrder(dims);
    const multiply = (i: number, j: number): Tensor => {
      if (i === j) return matrices[i] as Tensor;
      const k = (order[i] as number[])[j] as number;
      return matmul(multiply(i, k), multiply(k + 1, j));
    };
    let product = multiply(0, count - 1);
    const shape: number[] = [];
    if (first.ndim === 2) shape.push(first.shape[0] as number);
    if (last.ndim === 2) shape.push(last.shape[1] as number);
    product = reshape(product, shape);
    return product;
  });
}

/** split[i][j]: where to split the chain i..j (matrices i has shape dims[i] x dims[i + 1]). */
function chainOrder(dims: readonly number[]): number[][] {
  const n = dims.length - 1;
  const cost = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const split = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let length = 1; length < n; length++) {
    for (let i = 0; i + length < n; i++) {
      const j = i + length;
      let best = Number.POSITIVE_INFINITY;
      for (let k = i; k < j; k++) {
        const c = (cost[i] as number[])[k] as number;
        const d = (cost[k + 1] as number[])[j] as number;
        const total = c + d + (dims[i] as number) * (dims[k + 1] as number) * (dims[j + 1] as number);
        if (total < best) {
          best = total;
          (split[i] as number[])[j] = k;
        }
      }
      (cost[i] as number[])[j] = best;
    }
  }
  return split;
}

/**
 * The Kronecker product (torch.kron): for operands of equal rank (the shorter one gets leading
 * size-1 axes), `out[i * b.shape + j] = a[i] * b[j]` along every axis.
 *
 * @example
 * kron(tensor([[1, 2], [3, 4]]), eye(2)).shape; // [4, 4]
 */
export function kron(a: TensorLike, b: TensorLike): Tensor {
  return tidy(() => kronOf(a, b));
}

function kronOf(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = promoted('kron', [a, b]) as [Tensor, Tensor];
  const rank = Math.max(x.ndim, y.ndim);
  const sa = [...new Array<number>(rank - x.ndim).fill(1), ...x.shape];
  const sb = [...new Array<number>(rank - y.ndim).fill(1), ...y.shape];
  return tidy(() => {
    const xa = reshape(
      x,
      sa.flatMap((d) => [d, 1]),
    );
    const yb = reshape(
      y,
      sb.flatMap((d) => [1, d]),
    );
    return reshape(
      mul(xa, yb),
      sa.map((d, i) => d * (sb[i] as number)),
    );
  });
}

/**
 * torch.tensordot: contracts the last `dims` axes of `a` with the first `dims` of `b` (a number,
 * default 2), or the axes listed as `[axesOfA, axesOfB]`. The result has a's free axes, then b's.
 *
 * @example
 * tensordot(zeros([3, 4, 5]), zeros([4, 5, 6])).shape;          // [3, 6]
 * tensordot(zeros([3, 4]), zeros([5, 3]), [[0], [1]]).shape;     // [4, 5]
 */
export function tensordot(
  a: TensorLike,
  b: TensorLike,
  dims: number | readonly [readonly number[] | number, readonly number[] | number] = 2,
): Tensor {
  const op = 'tensordot';
  const [x, y] = promoted(op, [a, b]) as [Tensor, Tensor];
  let axesA: number[];
  let axesB: number[];
  if (typeof dims === 'number') {
    if (!Number.isInteger(dims) || dims < 0 || dims > x.ndim || dims > y.ndim) {
      throw new ValueError(
        `${op}: dims must be an integer from 0 to min(rank a, rank b) = ${Math.min(x.ndim, y.ndim)}, got ${JSON.stringify(dims)}`,
      );
    }
    axesA = Array.from({ length: dims }, (_, i) => x.ndim - dims + i);
    axesB = Array.from({ length: dims }, (_, i) => i);
  } else if (Array.isArray(dims) && dims.length === 2) {
    const list = (v: readonly number[] | number) => (typeof v === 'number' ? [v] : [...v]);
    axesA = list(dims[0]).map((d) => normalizeAxis(op, d, x.ndim));
    axesB = list(dims[1]).map((d) => normalizeAxis(op, d, y.ndim));
    if (axesA.length !== axesB.length) {
      throw new ValueError(`${op}: the two axis lists differ in length: ${JSON.stringify(dims)}`);
    }
  } else {
    throw new ValueError(`${op}: dims must be a number or a pair of axis lists, got ${JSON.stringify(dims)}`);
  }
  axesA.forEach((axis, i) => {
    const other = axesB[i] as number;
    if (x.shape[axis] !== y.shape[other]) {
      throw new ShapeError(
        `${op}: axis ${axis} of ${formatShape(x.shape)} (size ${x.shape[axis]}) does not match axis ${other} of ${formatShape(y.shape)} (size ${y.shape[other]})`,
      );
    }
  });
  if (new Set(axesA).size !== axesA.length || new Set(axesB).size !== axesB.length) {
    throw new AxisError(`${op}: an axis is contracted twice: ${JSON.stringify(dims)}`);
  }
  return dotGeneral(x, y, { lhsContracting: axesA, rhsContracting: axesB });
}

/**
 * The block-diagonal matrix of the given matrices (torch.block_diag): a 0-d operand is a 1 x 1
 * block, a 1-d one a row. dtypes promote; the blocks' zeros fill the rest.
 *
 * @example
 * blockDiag(tensor([[1, 2]]), tensor(3)); // [[1, 2, 0], [0, 0, 3]]
 */
export function blockDiag(...tensors: TensorLike[]): Tensor {
  const op = 'blockDiag';
  if (tensors.length === 0) return zeros([1, 0]);
  return tidy(() => blockDiagOf(op, tensors));
}

function blockDiagOf(op: string, tensors: readonly TensorLike[]): Tensor {
  const ts = promoted(op, tensors);
  ts.forEach((t, i) => {
    if (t.ndim > 2) throw new ShapeError(`${op}: tensor ${i} must have at most 2 dimensions, got shape ${formatShape(t.shape)}`);
  });
  return tidy(() => {
    const blocks = ts.map((t) => (t.ndim === 2 ? t : reshape(t, [1, t.ndim === 0 ? 1 : (t.shape[0] as number)])));
    const width = blocks.reduce((total, t) => total + (t.shape[1] as number), 0);
    let column = 0;
    const rows = blocks.map((t) => {
      const c = t.shape[1] as number;
      const placed = pad(t, [
        [0, 0],
        [column, width - column - c],
      ]);
      column += c;
      return placed;
    });
    return concat(rows, 0);
  });
}

/**
 * Matrices with the last axis of `x` on their `offset`-th diagonal (torch.diag_embed): the result
 * has one more axis, the matrices (of size n + |offset|) spanning `axis1` and `axis2` of the
 * result (default the last two).
 *
 * @example
 * diagEmbed(tensor([[1, 2], [3, 4]])).shape; // [2, 2, 2]
 * diagEmbed(tensor([1, 2]), 1);             // [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
 */
export function diagEmbed(x: TensorLike, offset = 0, axis1 = -2, axis2 = -1): Tensor {
  const op = 'diagEmbed';
  const t = toTensor(op, x);
  if (typeof offset !== 'number' || !Number.isInteger(offset)) {
    throw new ValueError(`${op}: the diagonal offset must be an integer, got ${JSON.stringify(offset)}`);
  }
  if (t.ndim === 0) throw new ShapeError(`${op}: the input must have at least 1 dimension, got a scalar`);
  const rank = t.ndim + 1;
  const a1 = normalizeAxis(op, axis1, rank);
  const a2 = normalizeAxis(op, axis2, rank);
  if (a1 === a2) throw new ValueError(`${op}: axis1 and axis2 must be different axes, both are axis ${a1}`);
  return tidy(() => {
    const n = t.shape[t.ndim - 1] as number;
    const k = Math.abs(offset);
    const size = n + k;
    const batch = t.shape.slice(0, -1);
    const padded = pad(t, [...batch.map(() => [0, 0] as [number, number]), [0, k]]);
    // Above the main diagonal row i holds x[i]; below it column j holds x[j] (as `diag`).
    const values = offset >= 0 ? reshape(padded, [...batch, size, 1]) : reshape(padded, [...batch, 1, size]);
    const backend = backendOf(t);
    const rows = bind(Primitive.Iota, [], { shape: [size, size], dtype: 'int32', axis: 0 }, backend);
    const columns = bind(Primitive.Iota, [], { shape: [size, size], dtype: 'int32', axis: 1 }, backend);
    const onDiagonal = equal(sub(columns, rows), offset);
    const matrices = where(onDiagonal, broadcastTo(values, [...batch, size, size]), toTensor(op, 0, t.dtype, t));
    return moveaxis(matrices, [rank - 2, rank - 1], [a1, a2]);
  });
}
