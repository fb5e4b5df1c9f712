import { isFloating, isHalf } from '../core/dtype.js';
import { IndexError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxis } from '../core/shape.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { add, mul, sub, where } from './elementwise.js';
import { narrow, reshape, squeeze, stack } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { isnan } from './predicates.js';
import { any } from './reduce.js';
import { sort, type TopK, topk } from './sort.js';

// Order statistics (torch.kthvalue, median, quantile) over sort and topk. NaN: kthvalue counts
// it as the largest (as topk and PyTorch); median and quantile return NaN for a slice holding
// one (as torch.median and torch.quantile).

/** `x` flattened when `axis` is omitted, with the axis to work along. */
function along(op: string, t: Tensor, axis: number | undefined): { x: Tensor; axis: number } {
  if (axis === undefined || axis === null) return { x: reshape(t, [-1]), axis: 0 };
  const a = normalizeAxis(op, axis, Math.max(t.ndim, 1));
  return t.ndim === 0 ? { x: reshape(t, [1]), axis: 0 } : { x: t, axis: a };
}

function dropAxis(x: Tensor, axis: number, keepdims: boolean): Tensor {
  return keepdims ? x : squeeze(x, axis);
}

/**
 * The k-th smallest element along `axis` (default the last; k counts from 1) and its int32
 * position (torch.kthvalue). NaN counts as the largest.
 *
 * @example
 * kthvalue(tensor([5, 1, 4, 2]), 2); // { values: 2, indices: 3 }
 */
export function kthvalue(x: TensorLike, k: number, axis = -1, keepdims = false): TopK {
  const op = 'kthvalue';
  const t = toTensor(op, x);
  const a = normalizeAxis(op, axis, Math.max(t.ndim, 1));
  const n = t.ndim === 0 ? 1 : (t.shape[a] as number);
  if (!Number.isInteger(k) || k < 1 || k > n) {
    throw new IndexError(
      `${op}: k must be an integer from 1 to ${n} (the size of axis ${axis} of shape ${formatShape(t.shape)}), got ${k}`,
    );
  }
  return tidy(() => {
    const src = t.ndim === 0 ? reshape(t, [1]) : t;
    const smallest = topk(src, k, a, false);
    const pick = (v: Tensor) => {
      const one = narrow(v, a, k - 1, 1);
      return t.ndim === 0 ? reshape(one, []) : dropAxis(one, a, keepdims);
    };
    return { values: pick(smallest.values), indices: pick(smallest.indices) };
  });
}

/**
 * The lower median along `axis` (torch.median: of an even count, the smaller of the two middle
 * elements), every element when `axis` is omitted. NaN in a slice gives NaN. Values only; use
 * `kthvalue` for the position.
 *
 * @example
 * median(tensor([4, 1, 3, 2])); // 2
 */
export function median(x: TensorLike, axis?: number, keepdims = false): Tensor {
  const op = 'median';
  const t = toTensor(op, x);
  return tidy(() => {
    const { x: v, axis: a } = along(op, t, axis);
    const n = v.shape[a] as number;
    if (n === 0) throw new ShapeError(`${op}: the median of an empty slice is undefined (shape ${formatShape(t.shape)})`);
    const value = kthvalue(v, Math.floor((n - 1) / 2) + 1, a, true).values;
    const result = isFloating(t.dtype) ? where(any(isnan(v), a, true), Number.NaN, value) : value;
    if (axis === undefined || axis === null)
      return keepdims
        ? reshape(
            result,
            t.shape.map(() => 1),
          )
        : reshape(result, []);
    return t.ndim === 0 ? reshape(result, []) : dropAxis(result, a, keepdims);
  });
}

/** How `quantile` picks between the two elements around the wanted position. */
export type QuantileInterpolation = 'linear' | 'lower' | 'higher' | 'nearest' | 'midpoint';

/** Options of `quantile`. */
export interface QuantileOptions {
  /** The axis (default: every element, flattened). */
  readonly axis?: number;
  /** Keep the reduced axis as size 1 (default false). */
  readonly keepdims?: boolean;
  /** 'linear' (default), 'lower', 'higher', 'nearest' (ties to even, as torch) or 'midpoint'. */
  readonly interpolation?: QuantileInterpolation;
}

const INTERPOLATIONS = ['linear', 'lower', 'higher', 'nearest', 'midpoint'];

/**
 * The q-th quantiles along `axis` (torch.quantile): position `q * (n - 1)` in the sorted slice,
 * interpolated as `interpolation` says. `q` is a number in [0, 1] or a list of them; a list adds a
 * leading axis, one entry per q. Integers compute in float32; a NaN in a slice gives NaN.
 *
 * @example
 * quantile(tensor([1, 2, 3, 4]), 0.5);          // 2.5
 * quantile(tensor([1, 2, 3, 4]), [0, 1 / 3, 1]); // [1, 2, 4]
 */
export const quantile = withCheckedOptions(
  'quantile',
  optionsSignature<QuantileOptions>(3, { axis: true, keepdims: true, interpolation: true }),
  (x: TensorLike, q: number | readonly number[], options: QuantileOptions = {}): Tensor => {
    const op = 'quantile';
    const t = toTensor(op, x);
    const qs = typeof q === 'number' ? [q] : q;
    if (!Array.isArray(qs) || qs.some((v) => typeof v !== 'number' || !(v >= 0 && v <= 1))) {
      throw new ValueError(`${op}: q must be a number in [0, 1] or a list of them, got ${JSON.stringify(q)}`);
    }
    const interpolation = options.interpolation ?? 'linear';
    if (!INTERPOLATIONS.includes(interpolation)) {
      throw new ValueError(`${op}: interpolation must be one of ${INTERPOLATIONS.join(', ')}, got ${JSON.stringify(interpolation)}`);
    }
    const keepdims = options.keepdims ?? false;
    return tidy(() => {
      const floating = cast(t, isFloating(t.dtype) && !isHalf(t.dtype) ? t.dtype : 'float32');
      const { x: v, axis: a } = along(op, floating, options.axis);
      const n = v.shape[a] as number;
      if (n === 0) throw new ShapeError(`${op}: the quantile of an empty slice is undefined (shape ${formatShape(t.shape)})`);
      const sorted = sort(v, a);
      const hasNaN = any(isnan(v), a, true);
      const at = (i: number) => narrow(sorted, a, i, 1);
      const results = qs.map((qi) => {
        const position = qi * (n - 1);
        const lo = Math.floor(position);
        const hi = Math.min(lo + 1, n - 1);
        const fraction = position - lo;
        let value: Tensor;
        if (interpolation === 'lower' || fraction === 0) value = at(lo);
        else if (interpolation === 'higher') value = at(hi);
        else if (interpolation === 'nearest') value = at(roundHalfEven(position) === lo ? lo : hi);
        else if (interpolation === 'midpoint') value = mul(add(at(lo), at(hi)), 0.5);
        else value = add(at(lo), mul(sub(at(hi), at(lo)), fraction));
        const guarded = where(hasNaN, Number.NaN, value);
        const shaped =
          options.axis === undefined || options.axis === null
            ? keepdims
              ? reshape(
                  guarded,
                  t.shape.map(() => 1),
                )
              : reshape(guarded, [])
            : t.ndim === 0
              ? reshape(guarded, [])
              : dropAxis(guarded, a, keepdims);
        return isHalf(t.dtype) ? cast(shaped, t.dtype) : shaped;
      });
      return typeof q === 'number' ? (results[0] as Tensor) : stack(results, 0);
    });
  },
);

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
