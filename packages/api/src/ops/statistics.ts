import { isFloating, isHalf, toFloating } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { add, clamp, div, maximum, mul, sqrt, sub } from './elementwise.js';
import { matmul } from './linalg.js';
import { narrow, reshape, squeeze, transpose, unsqueeze } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { cumsum, max, mean, min, type ReductionAxes, std, sum, type VarianceOptions, variance } from './reduce.js';
import { diagonal } from './triangular.js';

// Small statistics PyTorch users reach for (torch.var_mean, std_mean, cov, corrcoef, aminmax,
// trapezoid, cumulative_trapezoid), as composites of the reductions and matmul: every backend,
// grad, vmap and jit. Weights and sample values are never read back, so nothing here waits on a
// backend; PyTorch's checks of weight values (non-negative, integral) are not made.

/**
 * The variance and the mean over `axis` together (torch.var_mean), as `[variance, mean]`;
 * `options` as `variance` (`correction` defaults to 1, `keepdims` applies to both).
 *
 * @example
 * const [v, m] = varMean(tensor([1, 2, 3, 4])); // 1.6667, 2.5
 */
export function varMean(x: TensorLike, axis?: ReductionAxes, options?: boolean | VarianceOptions): [Tensor, Tensor] {
  const keepdims = typeof options === 'boolean' ? options : options?.keepdims;
  return tidy(() => [variance(x, axis, options), mean(x, axis, keepdims)]);
}

/**
 * The standard deviation and the mean over `axis` together (torch.std_mean), as `[std, mean]`.
 *
 * @example
 * const [s, m] = stdMean(tensor([2, 4, 4, 4, 5, 5, 7, 9]), undefined, { correction: 0 }); // 2, 5
 */
export function stdMean(x: TensorLike, axis?: ReductionAxes, options?: boolean | VarianceOptions): [Tensor, Tensor] {
  const keepdims = typeof options === 'boolean' ? options : options?.keepdims;
  return tidy(() => [std(x, axis, options), mean(x, axis, keepdims)]);
}

/** Options of `aminmax`. */
export interface AminmaxOptions {
  /** The axis to reduce (every axis when omitted). */
  readonly axis?: number;
  /** Keep the reduced axis as size 1 (default false). */
  readonly keepdims?: boolean;
}

/** The smallest and largest elements, as `aminmax` returns them. */
export interface MinMax {
  readonly min: Tensor;
  readonly max: Tensor;
}

/**
 * The minimum and maximum over `axis` (every axis when omitted) in one call (torch.aminmax), in
 * the input's dtype; NaN propagates, and an empty reduction is a ValueError, as `min` and `max`.
 *
 * @example
 * aminmax(tensor([[1, 5], [7, 2]]), { axis: 1 }); // { min: [1, 2], max: [5, 7] }
 */
export const aminmax = withCheckedOptions(
  'aminmax',
  optionsSignature<AminmaxOptions>(2, { axis: true, keepdims: true }),
  (x: TensorLike, options: AminmaxOptions = {}): MinMax => {
    const op = 'aminmax';
    const t = toTensor(op, x);
    if (options.axis !== undefined && typeof options.axis !== 'number') {
      throw new ValueError(`${op}: axis must be a single integer or omitted, got ${JSON.stringify(options.axis)}`);
    }
    return { min: min(t, options.axis, options.keepdims), max: max(t, options.axis, options.keepdims) };
  },
);

/** Options of `cov`. */
export interface CovOptions {
  /** Subtracted from the (weighted) observation count in the divisor (default 1, unbiased). */
  readonly correction?: number;
  /** Integer frequency weights, one per observation (a 1-d tensor of length N). */
  readonly fweights?: TensorLike;
  /** Floating observation weights, one per observation. */
  readonly aweights?: TensorLike;
}

/** A 1-d weight vector of `n` entries, checked by shape and dtype (not by value). */
function weights(op: string, name: string, value: TensorLike, n: number, like: Tensor, integral: boolean): Tensor {
  const w = toTensor(op, value, undefined, like);
  if (w.ndim !== 1 || w.shape[0] !== n) {
    throw new ShapeError(`${op}: ${name} must be a 1-d tensor of ${n} entries (one per observation), got shape ${formatShape(w.shape)}`);
  }
  if (integral && (isFloating(w.dtype) || w.dtype === 'bool'))
    throw new DTypeError(`${op}: ${name} must be an integer tensor, got ${w.dtype}`);
  if (!integral && !isFloating(w.dtype)) throw new DTypeError(`${op}: ${name} must be a floating tensor, got ${w.dtype}`);
  return w;
}

/**
 * The covariance matrix of the variables in the rows of `x` (observations in the columns;
 * torch.cov): `[V, V]` for `[V, N]`, a 0-d variance for one variable (a 1-d `x`). `fweights`
 * (integer) and `aweights` (floating) weight the observations as PyTorch; the divisor is the
 * weighted count less `correction`, clamped at 0 (so too few observations give Infinity or NaN).
 * Integers compute in float32, float16 and bfloat16 in float32 rounded once.
 *
 * @example
 * cov(tensor([[0, 1, 2], [2, 1, 0]])); // [[1, -1], [-1, 1]]
 */
export const cov = withCheckedOptions(
  'cov',
  optionsSignature<CovOptions>(2, { correction: true, fweights: true, aweights: true }),
  (x: TensorLike, options: CovOptions = {}): Tensor => {
    const op = 'cov';
    const t = toTensor(op, x);
    if (t.ndim > 2) throw new ShapeError(`${op}: expects a 0-d, 1-d or 2-d tensor, got shape ${formatShape(t.shape)}`);
    const correction = options.correction ?? 1;
    if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
      throw new ValueError(`${op}: correction must be a non-negative finite number, got ${JSON.stringify(options.correction)}`);
    }
    const resultDType = toFloating(t.dtype);
    const dtype = isHalf(resultDType) ? 'float32' : resultDType;
    return tidy(() => {
      const observations = cast(t.ndim === 2 ? t : reshape(t, [1, -1]), dtype);
      const n = observations.shape[1] as number;
      const frequency = options.fweights === undefined ? undefined : weights(op, 'fweights', options.fweights, n, t, true);
      const reliability = options.aweights === undefined ? undefined : weights(op, 'aweights', options.aweights, n, t, false);
      const w =
        frequency !== undefined && reliability !== undefined
          ? cast(mul(frequency, reliability), dtype)
          : frequency !== undefined
            ? cast(frequency, dtype)
            : reliability !== undefined
              ? cast(reliability, dtype)
              : undefined;
      let average: Tensor;
      let divisor: Tensor | number;
      if (w === undefined) {
        average = mean(observations, 1, true);
        divisor = Math.max(0, n - correction);
      } else {
        const total = sum(w);
        average = div(sum(mul(observations, w), 1, true), total);
        if (correction === 0) divisor = total;
        else if (reliability === undefined) divisor = sub(total, correction);
        else divisor = sub(total, div(mul(sum(mul(w, cast(reliability, dtype))), correction), total));
        divisor = maximum(divisor, 0);
      }
      const centered = sub(observations, average);
      const products = matmul(centered, transpose(w === undefined ? centered : mul(centered, w)));
      return cast(squeeze(div(products, divisor)), resultDType);
    });
  },
);

/**
 * The Pearson correlation coefficients of the variables in the rows of `x` (torch.corrcoef):
 * `cov(x)` divided by the outer product of the standard deviations, clipped to [-1, 1]. A
 * constant variable gives NaN, as PyTorch.
 *
 * @example
 * corrcoef(tensor([[0, 1, 2], [2, 1, 0]])); // [[1, -1], [-1, 1]]
 */
export function corrcoef(x: TensorLike): Tensor {
  return tidy(() => {
    const c = cov(x);
    if (c.ndim === 0) return div(c, c);
    const deviation = sqrt(diagonal(c));
    return clamp(div(div(c, unsqueeze(deviation, 1)), unsqueeze(deviation, 0)), -1, 1);
  });
}

/** Options of `trapezoid` and `cumulativeTrapezoid`. */
export interface TrapezoidOptions {
  /** The sample points: 1-d of the axis's length, or broadcastable against `y` (default: spacing `dx`). */
  readonly x?: TensorLike;
  /** The spacing between samples when `x` is omitted (default 1). */
  readonly dx?: number;
  /** The axis to integrate along (default -1). */
  readonly axis?: number;
}

const TRAPEZOID = optionsSignature<TrapezoidOptions>(2, { x: true, dx: true, axis: true }, ['x', 'dx', 'axis']);

/** The areas of the trapezoids along the axis (n - 1 of them), and the axis. */
function trapezoids(op: string, y: TensorLike, options: TrapezoidOptions): { areas: Tensor; axis: number } {
  const values = toTensor(op, y);
  if (values.ndim === 0) throw new ShapeError(`${op}: y must have at least 1 dimension, got a 0-d tensor`);
  if (options.x !== undefined && options.dx !== undefined)
    throw new ValueError(`${op}: give the sample points x or the spacing dx, not both`);
  if (options.dx !== undefined && (typeof options.dx !== 'number' || !Number.isFinite(options.dx))) {
    throw new ValueError(`${op}: dx must be a finite number, got ${JSON.stringify(options.dx)}`);
  }
  const axis = normalizeAxis(op, options.axis ?? -1, values.ndim);
  const n = values.shape[axis] as number;
  const t = cast(values, toFloating(values.dtype));
  const pieces = Math.max(n - 1, 0);
  const heights = mul(add(narrow(t, axis, Math.min(1, n), pieces), narrow(t, axis, 0, pieces)), 0.5);
  if (options.x === undefined) return { areas: mul(heights, options.dx ?? 1), axis };
  let points = toTensor(op, options.x, undefined, t);
  if (points.ndim === 1) {
    if (points.shape[0] !== n) {
      throw new ShapeError(`${op}: a 1-d x must have the length of y's axis ${axis} (${n}), got ${points.shape[0]}`);
    }
    points = reshape(
      points,
      values.shape.map((d, i) => (i === axis ? d : 1)),
    );
  } else if (points.ndim !== values.ndim) {
    throw new ShapeError(
      `${op}: x must be 1-d or have the rank of y (${values.ndim}), got shape ${formatShape(points.shape)} for y of shape ${formatShape(values.shape)}`,
    );
  }
  if (points.shape[axis] !== n) {
    throw new ShapeError(
      `${op}: x must have one sample point per element of y along axis ${axis} (${n}), got shape ${formatShape(points.shape)}`,
    );
  }
  const widths = sub(narrow(points, axis, Math.min(1, n), pieces), narrow(points, axis, 0, pieces));
  return { areas: mul(widths, heights), axis };
}

/**
 * The integral of `y` along `axis` by the trapezoidal rule (torch.trapezoid): with the sample
 * points `x` (1-d, or broadcastable against `y`) or a constant spacing `dx` (default 1). An
 * axis of fewer than two samples integrates to 0. Integers compute in float32.
 *
 * @example
 * trapezoid(tensor([1, 2, 3]));                        // 4
 * trapezoid(tensor([1, 2, 3]), { x: tensor([0, 1, 4]) }); // 9
 */
export const trapezoid = withCheckedOptions('trapezoid', TRAPEZOID, (y: TensorLike, options: TrapezoidOptions = {}): Tensor => {
  return tidy(() => {
    const { areas, axis } = trapezoids('trapezoid', y, options);
    return sum(areas, axis);
  });
});

/**
 * The running trapezoidal integral of `y` along `axis` (torch.cumulative_trapezoid): one fewer
 * element along the axis than `y`, the last equal to `trapezoid(y)`.
 *
 * @example
 * cumulativeTrapezoid(tensor([1, 2, 3])); // [1.5, 4]
 */
export const cumulativeTrapezoid = withCheckedOptions(
  'cumulativeTrapezoid',
  TRAPEZOID,
  (y: TensorLike, options: TrapezoidOptions = {}): Tensor => {
    return tidy(() => {
      const { areas, axis } = trapezoids('cumulativeTrapezoid', y, options);
      return cumsum(areas, axis);
    });
  },
);
