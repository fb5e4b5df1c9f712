import { isFloating, isHalf } from '../core/dtype.js';
import { AxisError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxes, normalizeAxis } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { abs, mul, notEqual, pow, sqrt, where } from './elementwise.js';
import { stacked } from './linalg/matrices.js';
import { svdvalsStacked } from './linalg/spectral-rules.js';
import { moveaxis, reshape, unsqueeze } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { max, min, type ReductionAxes, sum } from './reduce.js';

// Vector and matrix norms (torch.linalg.vector_norm, matrix_norm, norm and torch.norm), written
// in reductions and elementwise ops so every backend has them and grad, vmap and jit come free.
// Integer and bool inputs compute in float32 (as `mean`; PyTorch refuses them); float16 and
// bfloat16 accumulate in float32 and round once.
//
// Gradients at zero follow PyTorch's subgradient: the 2-norm (and every p-norm) of a zero vector
// has gradient 0, not NaN. `sqrt(s)` has an infinite derivative at s = 0 and `inf * 0` is NaN, so
// the unsafe branch is fed a harmless value where it is not taken (the guarded-where pattern of
// nn/functional/activations.ts): `where(s != 0, sqrt(where(s != 0, s, 1)), 0)` (NaN != 0, so NaN
// propagates).

/** A vector norm's order: any number, including 0 (the count of nonzeros) and ±Infinity. */
export type VectorOrder = number;
/** A matrix norm's order: 'fro', 'nuc' (the sum of the singular values), or 1, -1, 2, -2, Infinity, -Infinity. */
export type MatrixOrder = 'fro' | 'nuc' | number;

/** Options of `linalg.vectorNorm`. */
export interface VectorNormOptions {
  /** The order p (default 2): sum(|x|^p)^(1/p); 0 counts nonzeros, ±Infinity take max/min |x|. */
  readonly ord?: VectorOrder;
  /** The axes to reduce (default: every axis, the tensor taken as one flat vector). */
  readonly axis?: ReductionAxes;
  /** Keep the reduced axes as size-1 dimensions (default false). */
  readonly keepdims?: boolean;
}

/** Options of `linalg.matrixNorm`. */
export interface MatrixNormOptions {
  /** 'fro' (default), 'nuc', 1, -1, 2, -2, Infinity or -Infinity. */
  readonly ord?: MatrixOrder;
  /** The two axes holding the matrices (default [-2, -1]). */
  readonly axis?: readonly [number, number];
  /** Keep the reduced axes as size-1 dimensions (default false). */
  readonly keepdims?: boolean;
}

/** Options of `linalg.norm`. */
export interface NormOptions {
  /** A vector order (number) or matrix order ('fro', 'nuc', number); see `linalg.norm`. */
  readonly ord?: MatrixOrder;
  /** One axis (vector norm), two axes (matrix norm), or undefined; see `linalg.norm`. */
  readonly axis?: number | readonly number[];
  /** Keep the reduced axes as size-1 dimensions (default false). */
  readonly keepdims?: boolean;
}

/** The dtype a norm computes in, and the dtype its result is cast back to. */
function computeDTypes(t: Tensor): { compute: 'float32' | 'float64'; result: Tensor['dtype'] } {
  if (isHalf(t.dtype)) return { compute: 'float32', result: t.dtype };
  if (isFloating(t.dtype)) return { compute: t.dtype as 'float32' | 'float64', result: t.dtype };
  return { compute: 'float32', result: 'float32' };
}

function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (keepdims === undefined) return false;
  if (typeof keepdims !== 'boolean') throw new ValueError(`${op}: keepdims must be a boolean, got ${JSON.stringify(keepdims)}`);
  return keepdims;
}

function checkOrder(op: string, ord: unknown): number {
  if (typeof ord !== 'number' || Number.isNaN(ord)) {
    throw new ValueError(`${op}: ord must be a number (0, a positive or negative p, Infinity or -Infinity), got ${JSON.stringify(ord)}`);
  }
  return ord;
}

/**
 * `where(s != 0, f(s), 0)` for `s >= 0` (or NaN, which must propagate), with `f` never seeing a
 * zero, so its gradient stays finite.
 */
function guarded(s: Tensor, f: (safe: Tensor) => Tensor): Tensor {
  const nonzero = notEqual(s, 0);
  return where(nonzero, f(where(nonzero, s, 1)), 0);
}

/** The vector norm of a floating tensor over already-validated axes. */
function vectorNormOf(t: Tensor, ord: number, axes: readonly number[], keepdims: boolean): Tensor {
  if (ord === Number.POSITIVE_INFINITY) return max(abs(t), axes, keepdims);
  if (ord === Number.NEGATIVE_INFINITY) return min(abs(t), axes, keepdims);
  if (ord === 0) return cast(sum(notEqual(t, 0), axes, keepdims), t.dtype);
  if (ord === 1) return sum(abs(t), axes, keepdims);
  if (ord === 2) return guarded(sum(mul(t, t), axes, keepdims), sqrt);
  const magnitude = abs(t);
  if (ord < 0) {
    // |0|^p is Infinity for p < 0, and the norm 0, as PyTorch and NumPy give: no guard.
    return pow(sum(pow(magnitude, ord), axes, keepdims), 1 / ord);
  }
  // |x|^p has an infinite derivative at 0 for p < 1: guard each element as well as the total.
  const powered = guarded(magnitude, (m) => pow(m, ord));
  return guarded(sum(powered, axes, keepdims), (s) => pow(s, 1 / ord));
}

function vectorNormImpl(op: string, x: TensorLike, options: VectorNormOptions): Tensor {
  const t = toTensor(op, x);
  const ord = checkOrder(op, options.ord ?? 2);
  const keepdims = checkKeepdims(op, options.keepdims);
  const axis = options.axis;
  if (axis !== undefined && axis !== null && typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new AxisError(`${op}: axis must be an integer, a list of integers or undefined, got ${JSON.stringify(axis)}`);
  }
  // A 0-dim tensor takes axis 0 or -1, as the reductions do.
  const checked = normalizeAxes(op, axis, Math.max(t.ndim, 1));
  const axes = t.ndim === 0 ? [] : checked;
  if (t.size === 0 && !Number.isFinite(ord) && axes.some((a) => t.shape[a] === 0)) {
    throw new ShapeError(
      `${op}: the ${ord > 0 ? 'max' : 'min'} of an empty slice is undefined (ord ${ord}, shape ${formatShape(t.shape)}, axes [${axes.join(', ')}])`,
    );
  }
  return tidy(() => {
    const { compute, result } = computeDTypes(t);
    const norm = vectorNormOf(cast(t, compute), ord, axes, keepdims);
    return cast(norm, result);
  });
}

const VECTOR_NORM = optionsSignature<VectorNormOptions>(2, { ord: true, axis: true, keepdims: true });
const MATRIX_NORM = optionsSignature<MatrixNormOptions>(2, { ord: true, axis: true, keepdims: true });
const NORM = optionsSignature<NormOptions>(2, { ord: true, axis: true, keepdims: true });

/**
 * The vector p-norm over `axis` (torch.linalg.vector_norm): `sum(|x|^ord)^(1/ord)`, with ord 0
 * counting nonzeros and ±Infinity taking the largest/smallest magnitude. Without `axis` the
 * tensor is one flat vector. Integers compute in float32. The gradient at a zero vector is 0
 * (PyTorch's subgradient).
 *
 * @example
 * linalg.vectorNorm(tensor([3, 4]));                          // 5
 * linalg.vectorNorm(tensor([[1, -2], [3, 0]]), { ord: 1, axis: 1 }); // [3, 3]
 */
export const vectorNorm = withCheckedOptions('linalg.vectorNorm', VECTOR_NORM, (x: TensorLike, options: VectorNormOptions = {}) =>
  vectorNormImpl('linalg.vectorNorm', x, options),
);

function matrixNormImpl(op: string, x: TensorLike, options: MatrixNormOptions): Tensor {
  const t = toTensor(op, x);
  const ord = options.ord ?? 'fro';
  const keepdims = checkKeepdims(op, options.keepdims);
  const spectral = ord === 'nuc' || ord === 2 || ord === -2;
  if (!spectral && ord !== 'fro' && ord !== 1 && ord !== -1 && ord !== Number.POSITIVE_INFINITY && ord !== Number.NEGATIVE_INFINITY) {
    throw new ValueError(`${op}: ord must be 'fro', 'nuc', 1, -1, 2, -2, Infinity or -Infinity, got ${JSON.stringify(ord)}`);
  }
  if (t.ndim < 2) throw new ShapeError(`${op}: expects a tensor of at least 2 dimensions, got shape ${formatShape(t.shape)}`);
  const axis = options.axis ?? [-2, -1];
  if (!Array.isArray(axis) || axis.length !== 2) {
    throw new AxisError(`${op}: axis must be a list of two axes, got ${JSON.stringify(axis)}`);
  }
  const rows = normalizeAxis(op, axis[0] as number, t.ndim);
  const columns = normalizeAxis(op, axis[1] as number, t.ndim);
  if (rows === columns) throw new AxisError(`${op}: the two axes must differ, got [${axis.join(', ')}] for shape ${formatShape(t.shape)}`);
  if (ord === 'fro') return vectorNormImpl(op, t, { ord: 2, axis: [rows, columns], keepdims });
  if (ord === 'nuc' && t.size === 0) return vectorNormImpl(op, t, { ord: 1, axis: [rows, columns], keepdims });
  if (t.size === 0) {
    throw new ShapeError(`${op}: ord ${ord} takes a max or min over an empty matrix (shape ${formatShape(t.shape)})`);
  }
  if (spectral) return spectralNorm(t, ord, rows, columns, keepdims);
  return tidy(() => {
    const { compute, result } = computeDTypes(t);
    const magnitude = abs(cast(t, compute));
    // ord ±1: the largest/smallest column sum (sum over rows, then max over columns); ord ±Infinity:
    // the largest/smallest row sum.
    const [summed, picked] = Math.abs(ord) === 1 ? [rows, columns] : [columns, rows];
    const sums = sum(magnitude, summed, true);
    const norm = ord > 0 ? max(sums, picked, true) : min(sums, picked, true);
    const shape = keepdims ? norm.shape : t.shape.filter((_, i) => i !== rows && i !== columns);
    return cast(reshape(norm, shape), result);
  });
}

/**
 * 'nuc' (the sum of the singular values), 2 (the largest) or -2 (the smallest) of the matrices
 * in axes `rows` and `columns` (a nonempty tensor), differentiable through `linalg.svdvals`' rule.
 */
function spectralNorm(t: Tensor, ord: 'nuc' | 2 | -2, rows: number, columns: number, keepdims: boolean): Tensor {
  return tidy(() => {
    const { compute, result } = computeDTypes(t);
    const moved = moveaxis(cast(t, compute), [rows, columns], [-2, -1]);
    const values = svdvalsStacked(stacked(moved, compute));
    const reduced = ord === 'nuc' ? sum(values, 1) : ord === 2 ? max(values, 1) : min(values, 1);
    const norm = reshape(reduced, moved.shape.slice(0, -2));
    return cast(keepdims ? unsqueeze(norm, [Math.min(rows, columns), Math.max(rows, columns)]) : norm, result);
  });
}

/**
 * The matrix norm over two axes (torch.linalg.matrix_norm): 'fro' (default, the square root of
 * the sum of squares), 'nuc' (the sum of the singular values), 1 / -1 (largest/smallest absolute
 * column sum), 2 / -2 (largest/smallest singular value), Infinity / -Infinity (largest/smallest
 * absolute row sum). The singular values come from `linalg.svdvals` (its gradient, U diag(g) V^T,
 * is the nuclear norm's U V^T and the 2-norm's u1 v1^T).
 *
 * @example
 * linalg.matrixNorm(tensor([[1, -2], [3, 4]]), { ord: 1 }); // 6
 */
export const matrixNorm = withCheckedOptions('linalg.matrixNorm', MATRIX_NORM, (x: TensorLike, options: MatrixNormOptions = {}) =>
  matrixNormImpl('linalg.matrixNorm', x, options),
);

/**
 * torch.linalg.norm: a vector norm when `axis` is one axis, a matrix norm when it is two; without
 * `axis`, the 2-norm of the flattened tensor when `ord` is omitted, else a vector norm of a 1-d or
 * a matrix norm of a 2-d tensor.
 *
 * @example
 * linalg.norm(tensor([[1, 2], [3, 4]]));                 // sqrt(30)
 * linalg.norm(tensor([[1, 2], [3, 4]]), { ord: Infinity }); // 7
 */
export const linalgNorm = withCheckedOptions('linalg.norm', NORM, (x: TensorLike, options: NormOptions = {}): Tensor => {
  const op = 'linalg.norm';
  const t = toTensor(op, x);
  const { ord, axis, keepdims } = options;
  const matrix = (a: readonly [number, number]) => matrixNormImpl(op, t, { ord: ord ?? 'fro', axis: a, keepdims });
  const vector = (a: ReductionAxes | undefined) => {
    if (typeof ord === 'string') {
      throw new ValueError(
        `${op}: ord ${JSON.stringify(ord)} is a matrix norm; give two axes or a 2-d tensor (shape ${formatShape(t.shape)})`,
      );
    }
    return vectorNormImpl(op, t, { ord: ord ?? 2, axis: a, keepdims });
  };
  if (axis === undefined || axis === null) {
    if (ord === undefined) return vectorNormImpl(op, t, { ord: 2, keepdims });
    if (t.ndim === 1) return vector(undefined);
    if (t.ndim === 2) return matrix([0, 1]);
    throw new ShapeError(`${op}: with ord and no axis the input must be 1-d or 2-d, got shape ${formatShape(t.shape)}`);
  }
  if (typeof axis === 'number') return vector(axis);
  if (Array.isArray(axis) && axis.length === 1) return vector(axis);
  if (Array.isArray(axis) && axis.length === 2) return matrix([axis[0] as number, axis[1] as number]);
  throw new AxisError(`${op}: axis must be one axis or a list of one or two axes, got ${JSON.stringify(axis)}`);
});

/**
 * torch.norm's common forms: `p` 'fro' (default) is the 2-norm over `axis` (every axis when
 * omitted), a number p the vector p-norm over `axis`, 'nuc' the nuclear norm of a 2-d tensor (or
 * of the matrices in the two axes of `axis`).
 *
 * @example
 * norm(tensor([[3, 4], [6, 8]]), 2, 1); // [5, 10]
 * tensor([1, -2, 3]).norm(1);           // 6
 */
export function norm(x: TensorLike, p: number | 'fro' | 'nuc' = 'fro', axis?: ReductionAxes, keepdims?: boolean): Tensor {
  if (p === 'nuc') return nuclearNorm(x, axis, keepdims);
  if (p !== 'fro' && typeof p !== 'number') throw new ValueError(`norm: p must be a number, 'fro' or 'nuc', got ${JSON.stringify(p)}`);
  return vectorNormImpl('norm', x, { ord: p === 'fro' ? 2 : p, axis, keepdims });
}

/** torch.norm(x, 'nuc', dim): the matrices in the two axes of `axis`, or a 2-d tensor's. */
function nuclearNorm(x: TensorLike, axis: ReductionAxes | undefined, keepdims: boolean | undefined): Tensor {
  const t = toTensor('norm', x);
  if (axis === undefined || axis === null) {
    if (t.ndim !== 2) throw new ShapeError(`norm: p 'nuc' without axis needs a 2-d tensor, got shape ${formatShape(t.shape)}`);
    return matrixNormImpl('norm', t, { ord: 'nuc', keepdims: keepdims ?? false });
  }
  if (!Array.isArray(axis) || axis.length !== 2) throw new AxisError(`norm: p 'nuc' needs two axes, got ${JSON.stringify(axis)}`);
  return matrixNormImpl('norm', t, { ord: 'nuc', axis: [axis[0] as number, axis[1] as number], keepdims: keepdims ?? false });
}
