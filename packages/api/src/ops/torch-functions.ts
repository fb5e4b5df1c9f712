import { isFloating, toFloating } from '../core/dtype.js';
import { AxisError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { resultDType, type TensorLike, toTensor } from './convert.js';
import { onesLike, zerosLike } from './creation.js';
import { abs, add, ceil, div, floor, greater, less, logicalXor, maximum, mul, sub, where } from './elementwise.js';
import { scatterAdd, take } from './indexing.js';
import { matmul } from './linalg.js';
import { vectorNorm } from './linalg-norms.js';
import { concat, flip, narrow, reshape, swapaxes, unsqueeze } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { max, min, type ReductionAxes } from './reduce.js';

// PyTorch's small conveniences over existing ops: torch.amax/amin, lerp, trunc, frac, the
// shape-checked matrix products mm/bmm/mv, flipud/fliplr/rot90 and diff. Each is a composite,
// so every backend has it and grad, vmap and jit come free.

/**
 * The largest element over `axis` (torch.amax; every axis when omitted), in the input's dtype.
 * The same as `max`: the gradient goes to the maxima, split evenly among ties as torch.amax does.
 *
 * @example
 * amax(tensor([[1, 5], [7, 2]]), 1); // [5, 7]
 */
export function amax(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return max(toTensor('amax', x), axis, keepdims);
}

/**
 * The smallest element over `axis` (torch.amin); see `amax`.
 *
 * @example
 * amin(tensor([[1, 5], [7, 2]]), 1); // [1, 2]
 */
export function amin(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return min(toTensor('amin', x), axis, keepdims);
}

/**
 * Linear interpolation `start + weight * (end - start)` (torch.lerp), broadcasting all three.
 * Computed as PyTorch does, from `end` when |weight| >= 0.5, so weight 1 gives `end` exactly.
 * Integer and bool operands compute in float32.
 *
 * @example
 * lerp(tensor([0, 10]), tensor([10, 20]), 0.25); // [2.5, 12.5]
 */
export function lerp(start: TensorLike, end: TensorLike, weight: TensorLike): Tensor {
  // Inside the scope: a number `weight` becomes a temporary tensor too.
  return tidy(() => {
    const a = toTensor('lerp', start);
    const b = toTensor('lerp', end);
    const w = toTensor('lerp', weight);
    const dtype = toFloating(resultDType(a, b, w));
    const [fa, fb, fw] = [cast(a, dtype), cast(b, dtype), cast(w, dtype)];
    const difference = sub(fb, fa);
    return where(less(abs(fw), 0.5), add(fa, mul(fw, difference)), sub(fb, mul(difference, sub(1, fw))));
  });
}

/**
 * Rounds toward zero (torch.trunc). Integers and bool are returned unchanged.
 *
 * @example
 * trunc(tensor([-1.7, 2.5])); // [-1, 2]
 */
export function trunc(x: TensorLike): Tensor {
  const t = toTensor('trunc', x);
  if (!isFloating(t.dtype)) return t;
  return tidy(() => where(less(t, 0), ceil(t), floor(t)));
}

/**
 * The fractional part `x - trunc(x)`, with the sign of x (torch.frac). Floating tensors only, as
 * PyTorch.
 *
 * @example
 * frac(tensor([-1.75, 2.5])); // [-0.75, 0.5]
 */
export function frac(x: TensorLike): Tensor {
  const t = toTensor('frac', x);
  if (!isFloating(t.dtype)) throw new ValueError(`frac: expects a floating tensor, got ${t.dtype}`);
  return tidy(() => sub(t, trunc(t)));
}

/**
 * Matrix product of two 2-d tensors (torch.mm), without matmul's broadcasting or 1-d promotion.
 *
 * @example
 * mm(ones([2, 3]), ones([3, 4])).shape; // [2, 4]
 */
export function mm(a: TensorLike, b: TensorLike): Tensor {
  const x = toTensor('mm', a);
  const y = toTensor('mm', b);
  if (x.ndim !== 2) throw new ShapeError(`mm: the first operand must be a matrix (2-d), got shape ${formatShape(x.shape)}`);
  if (y.ndim !== 2) throw new ShapeError(`mm: the second operand must be a matrix (2-d), got shape ${formatShape(y.shape)}`);
  if (x.shape[1] !== y.shape[0]) {
    throw new ShapeError(
      `mm: shapes ${formatShape(x.shape)} and ${formatShape(y.shape)} cannot be multiplied (${x.shape[1]} != ${y.shape[0]})`,
    );
  }
  return matmul(x, y);
}

/**
 * Batched matrix product of two 3-d tensors with equal batch sizes (torch.bmm): [b, n, m] by
 * [b, m, p] gives [b, n, p]. No broadcasting.
 *
 * @example
 * bmm(ones([5, 2, 3]), ones([5, 3, 4])).shape; // [5, 2, 4]
 */
export function bmm(a: TensorLike, b: TensorLike): Tensor {
  const x = toTensor('bmm', a);
  const y = toTensor('bmm', b);
  if (x.ndim !== 3) throw new ShapeError(`bmm: the first operand must be a 3-d tensor, got shape ${formatShape(x.shape)}`);
  if (y.ndim !== 3) throw new ShapeError(`bmm: the second operand must be a 3-d tensor, got shape ${formatShape(y.shape)}`);
  if (x.shape[0] !== y.shape[0] || x.shape[2] !== y.shape[1]) {
    throw new ShapeError(
      `bmm: expected the second operand of shape [${x.shape[0]}, ${x.shape[2]}, *] for a first of shape ${formatShape(x.shape)}, got ${formatShape(y.shape)}`,
    );
  }
  return matmul(x, y);
}

/**
 * Matrix-vector product (torch.mv): a 2-d [n, m] by a 1-d [m] gives [n].
 *
 * @example
 * mv(tensor([[1, 2], [3, 4]]), tensor([1, 1])); // [3, 7]
 */
export function mv(matrix: TensorLike, vector: TensorLike): Tensor {
  const x = toTensor('mv', matrix);
  const v = toTensor('mv', vector);
  if (x.ndim !== 2 || v.ndim !== 1) {
    throw new ShapeError(`mv: expects a 2-d matrix and a 1-d vector, got shapes ${formatShape(x.shape)} and ${formatShape(v.shape)}`);
  }
  if (x.shape[1] !== v.shape[0]) {
    throw new ShapeError(
      `mv: shapes ${formatShape(x.shape)} and ${formatShape(v.shape)} cannot be multiplied (${x.shape[1]} != ${v.shape[0]})`,
    );
  }
  return matmul(x, v);
}

/**
 * Reverses axis 0 (torch.flipud); the tensor needs at least one dimension.
 *
 * @example
 * flipud(tensor([[1, 2], [3, 4]])); // [[3, 4], [1, 2]]
 */
export function flipud(x: TensorLike): Tensor {
  const t = toTensor('flipud', x);
  if (t.ndim < 1) throw new ShapeError(`flipud: expects at least 1 dimension, got shape ${formatShape(t.shape)}`);
  return flip(t, 0);
}

/**
 * Reverses axis 1 (torch.fliplr); the tensor needs at least two dimensions.
 *
 * @example
 * fliplr(tensor([[1, 2], [3, 4]])); // [[2, 1], [4, 3]]
 */
export function fliplr(x: TensorLike): Tensor {
  const t = toTensor('fliplr', x);
  if (t.ndim < 2) throw new ShapeError(`fliplr: expects at least 2 dimensions, got shape ${formatShape(t.shape)}`);
  return flip(t, 1);
}

/**
 * Rotates by 90 degrees `k` times in the plane of `axes` (torch.rot90, numpy.rot90), from the
 * first axis towards the second; negative k rotates the other way.
 *
 * @example
 * rot90(tensor([[1, 2], [3, 4]])); // [[2, 4], [1, 3]]
 */
export function rot90(x: TensorLike, k = 1, axes: readonly [number, number] = [0, 1]): Tensor {
  const op = 'rot90';
  const t = toTensor(op, x);
  if (!Number.isInteger(k)) throw new ValueError(`${op}: k must be an integer, got ${k}`);
  if (!Array.isArray(axes) || axes.length !== 2) throw new AxisError(`${op}: axes must be a list of two axes, got ${JSON.stringify(axes)}`);
  if (t.ndim < 2) throw new ShapeError(`${op}: expects at least 2 dimensions, got shape ${formatShape(t.shape)}`);
  const a0 = normalizeAxis(op, axes[0], t.ndim);
  const a1 = normalizeAxis(op, axes[1], t.ndim);
  if (a0 === a1) throw new AxisError(`${op}: the two axes must differ, got [${axes.join(', ')}] for shape ${formatShape(t.shape)}`);
  const turns = ((k % 4) + 4) % 4;
  if (turns === 0) return t;
  if (turns === 2) return flip(t, [a0, a1]);
  return tidy(() => (turns === 1 ? swapaxes(flip(t, a1), a0, a1) : flip(swapaxes(t, a0, a1), a1)));
}

/** Options of `diff`. */
export interface DiffOptions {
  /** How many times to difference (default 1). */
  readonly n?: number;
  /** The axis (default -1). */
  readonly axis?: number;
  /** Values put before `x` along `axis` first (same shape but along `axis`). */
  readonly prepend?: TensorLike;
  /** Values put after `x` along `axis` first. */
  readonly append?: TensorLike;
}

/**
 * The n-th forward difference along `axis` (torch.diff, numpy.diff): `out[i] = x[i + 1] - x[i]`,
 * n times, after concatenating `prepend` and `append`. Bool tensors give `x[i + 1] != x[i]`, as
 * PyTorch. Each pass shortens the axis by one, to 0 at least.
 *
 * @example
 * diff(tensor([1, 4, 9, 16]));         // [3, 5, 7]
 * diff(tensor([1, 4, 9, 16]), { n: 2 }); // [2, 2]
 */
export const diff = withCheckedOptions(
  'diff',
  optionsSignature<DiffOptions>(2, { n: true, axis: true, prepend: true, append: true }),
  (x: TensorLike, options: DiffOptions = {}): Tensor => {
    const op = 'diff';
    const t = toTensor(op, x);
    const n = options.n ?? 1;
    if (!Number.isInteger(n) || n < 0) throw new ValueError(`${op}: n must be a non-negative integer, got ${n}`);
    if (t.ndim < 1) throw new ShapeError(`${op}: expects at least 1 dimension, got shape ${formatShape(t.shape)}`);
    const axis = normalizeAxis(op, options.axis ?? -1, t.ndim);
    return tidy(() => {
      const parts = [options.prepend, t, options.append].filter((p) => p !== undefined).map((p) => toTensor(op, p as TensorLike));
      for (const p of parts) {
        if (p.ndim !== t.ndim) {
          throw new ShapeError(`${op}: prepend and append must have the rank of x (${t.ndim}), got shape ${formatShape(p.shape)}`);
        }
      }
      let result = parts.length === 1 ? t : concat(parts, axis);
      for (let i = 0; i < n; i++) {
        const length = result.shape[axis] as number;
        if (length === 0) break;
        const later = narrow(result, axis, 1, length - 1);
        const earlier = narrow(result, axis, 0, length - 1);
        result = result.dtype === 'bool' ? logicalXor(later, earlier) : sub(later, earlier);
      }
      return result;
    });
  },
);

/**
 * The slices of `x` at `index` along `axis` (torch.index_select): `index` is a 0-d or 1-d integer
 * tensor, and the result keeps the rank of `x`, with `axis` of the length of `index`. Negative
 * indices count from the end; out-of-range ones raise an IndexError.
 *
 * @example
 * indexSelect(tensor([[1, 2], [3, 4], [5, 6]]), 0, [2, 0]); // [[5, 6], [1, 2]]
 */
export function indexSelect(x: TensorLike, axis: number, index: TensorLike): Tensor {
  const op = 'indexSelect';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, Math.max(t.ndim, 1));
  return tidy(() => {
    let idx = toTensor(op, index, undefined, t);
    // `[]` infers as float32; an empty index selects nothing whatever its dtype.
    if (idx.size === 0) idx = cast(idx, 'int32');
    if (idx.ndim > 1) throw new ShapeError(`${op}: index must be 0-d or 1-d, got shape ${formatShape(idx.shape)}`);
    if (t.ndim === 0) return reshape(take(reshape(t, [1]), reshape(idx, [-1]), 0), []);
    return take(t, reshape(idx, [-1]), a);
  });
}

/** Options of `scatter`. */
export interface ScatterOptions {
  /** Omitted: overwrite (torch.scatter); 'add': add to x (torch.scatter(..., reduce='add'), as `scatterAdd`). */
  readonly reduce?: 'add';
}

/**
 * torch.scatter: a copy of `x` with `src[i][j][k]` written at `[i][index[i][j][k]][k]` (for
 * `axis = 1`); `index` and `src` as `scatterAdd`, `src` may be a number. Where several sources
 * target one place PyTorch leaves the winner unspecified; Flint writes their mean (truncated for
 * integers), which is that value whenever they agree. `{ reduce: 'add' }` adds instead of writing. The gradient reaches x
 * at the places not written and src at the places it wrote (shared among duplicates).
 *
 * @example
 * scatter(zeros([2, 3]), 1, tensor([[2], [0]]), 7); // [[0, 0, 7], [7, 0, 0]]
 */
export const scatter = withCheckedOptions(
  'scatter',
  optionsSignature<ScatterOptions>(5, { reduce: true }),
  (x: TensorLike, axis: number, index: TensorLike, src: TensorLike, options: ScatterOptions = {}): Tensor => {
    const op = 'scatter';
    const t = toTensor(op, x);
    if (options.reduce !== undefined && options.reduce !== 'add') {
      throw new ValueError(`${op}: reduce must be 'add' or omitted (overwrite), got ${JSON.stringify(options.reduce)}`);
    }
    if (options.reduce === 'add') return scatterAdd(t, axis, index, src);
    return tidy(() => {
      const written = scatterAdd(zerosLike(t), axis, index, src);
      const count = scatterAdd(
        zerosLike(t, { dtype: 'int32' }),
        axis,
        index,
        onesLike(toTensor(op, index, undefined, t), { dtype: 'int32' }),
      );
      const hit = greater(count, 0);
      // Integer means truncate toward zero when cast back.
      const mean = isFloating(t.dtype) ? div(written, cast(maximum(count, 1), t.dtype)) : div(written, maximum(count, 1));
      return where(hit, cast(mean, t.dtype), t);
    });
  },
);

/** Options of `cdist`. */
export interface CdistOptions {
  /** The order of the p-norm between rows (default 2); any `linalg.vectorNorm` order. */
  readonly p?: number;
}

/**
 * The p-norm distance between each row of `x1` ([..., P, M]) and each row of `x2` ([..., R, M])
 * (torch.cdist): a [..., P, R] tensor, the batch axes broadcasting. The gradient at a zero
 * distance is 0, as PyTorch. Computed directly (no matmul expansion), so exact for p = 2 too.
 *
 * @example
 * cdist(tensor([[0, 0], [1, 1]]), tensor([[3, 4]])); // [[5], [sqrt(13)]]
 */
export const cdist = withCheckedOptions(
  'cdist',
  optionsSignature<CdistOptions>(3, { p: true }, ['p']),
  (x1: TensorLike, x2: TensorLike, options: CdistOptions = {}): Tensor => {
    const op = 'cdist';
    const a = toTensor(op, x1);
    const b = toTensor(op, x2);
    const p = options.p ?? 2;
    if (typeof p !== 'number' || Number.isNaN(p) || p < 0)
      throw new ValueError(`${op}: p must be a non-negative number, got ${JSON.stringify(p)}`);
    if (a.ndim < 2 || b.ndim < 2) {
      throw new ShapeError(
        `${op}: expects tensors of at least 2 dimensions, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      );
    }
    if (a.shape.at(-1) !== b.shape.at(-1)) {
      throw new ShapeError(
        `${op}: x1 and x2 must have the same number of columns, got shapes ${formatShape(a.shape)} and ${formatShape(b.shape)}`,
      );
    }
    return tidy(() => {
      const differences = sub(unsqueeze(a, -2), unsqueeze(b, -3));
      return vectorNorm(differences, { ord: p, axis: -1 });
    });
  },
);
