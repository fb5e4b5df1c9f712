import { type DType, floatingFix, isFloating, isHalf } from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxes } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { type DataDependentOp, runDataDependent, runDataDependentAsync } from './data-dependent.js';
import { add, div, equal, greaterEqual, less, lessEqual, logicalAnd, minimum, mul, notEqual, sub, where } from './elementwise.js';
import { reshape, stack } from './movement.js';
import { optionsSignature, withCheckedOptions } from './options-argument.js';
import { max, min, type ReductionAxes } from './reduce.js';

// Counting ops: torch.count_nonzero, torch.histc and torch.bincount, as scatter-adds of ones (or
// weights) into a result of known length. histc's length is always `bins` (a range taken from the
// data is computed on the device), so it is static everywhere. bincount's length is
// max(x) + 1 in PyTorch, which needs the data: given `length` (jax.numpy.bincount's static size)
// it is static too; without it it reads the extremes of x (see ops/data-dependent.ts).

/**
 * The number of elements that are not zero over `axis` (torch.count_nonzero; every axis when
 * omitted), as int32 (PyTorch: int64). NaN is not zero; for bool, true counts.
 *
 * @example
 * countNonzero(tensor([[0, 1, 2], [3, 0, 0]]));    // 3
 * countNonzero(tensor([[0, 1, 2], [3, 0, 0]]), 1); // [2, 1]
 */
export function countNonzero(x: TensorLike, axis?: ReductionAxes): Tensor {
  const op = 'countNonzero';
  const t = toTensor(op, x);
  // A 0-d tensor takes axis 0 or -1 and reduces nothing, as sum does.
  const axes = axis === undefined || axis === null ? undefined : normalizeAxes(op, axis, Math.max(t.ndim, 1));
  return tidy(() => {
    const mask = cast(t.dtype === 'bool' ? t : notEqual(t, 0), 'int32');
    const reduced = t.ndim === 0 ? [] : (axes ?? t.shape.map((_, i) => i));
    return reduced.length === 0 ? mask : bind(Primitive.ReduceSum, [mask], { axes: reduced });
  });
}

export interface HistcOptions {
  /** Number of equal-width bins (default 100). */
  readonly bins?: number;
  /** Lower end of the range (default 0). When `min` equals `max`, the data's own range is used. */
  readonly min?: number;
  /** Upper end of the range (default 0); values equal to it fall in the last bin. */
  readonly max?: number;
}

const HISTC = optionsSignature<HistcOptions>(2, { bins: true, min: true, max: true });

function checkNumber(op: string, what: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ValueError(`${op}: ${what} must be a finite number, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A histogram of `x` with `bins` equal bins over [min, max] (torch.histc), in x's dtype: bin i
 * counts the elements in `[min + i w, min + (i + 1) w)`, the last bin including `max`; elements
 * outside the range, and NaN, are not counted. With `min == max` (the default 0, 0) the range is
 * the data's smallest and largest element (widened by 1 each way when they are equal), computed
 * on the device, so the op needs no read and traces under jit and vmap. Floating x only, as
 * PyTorch. Where the data's range is not finite PyTorch raises; here only the elements whose bin
 * can be computed are counted.
 *
 * @example
 * histc(tensor([1, 2, 1]), { bins: 4, min: 0, max: 3 }); // [0, 2, 1, 0]
 * histc(tensor([1, 1, 1]), { bins: 4 });                 // [0, 0, 3, 0]  (range [0, 2])
 */
export const histc = withCheckedOptions('histc', HISTC, (x: TensorLike, options: HistcOptions = {}): Tensor => {
  const op = 'histc';
  const t = toTensor(op, x);
  if (!isFloating(t.dtype)) throw new DTypeError(`${op}: x must be floating, got ${t.dtype}${floatingFix(t.dtype)}`);
  const bins = options.bins ?? 100;
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins <= 0)
    throw new ValueError(`${op}: bins must be a positive integer, got ${JSON.stringify(options.bins)}`);
  const low = checkNumber(op, 'min', options.min, 0);
  const high = checkNumber(op, 'max', options.max, 0);
  if (low > high) throw new ValueError(`${op}: max must be at least min, got min ${low} and max ${high}`);
  const backend = backendOf(t);
  const zeros = (): Tensor => bind(Primitive.Full, [], { shape: [bins], dtype: t.dtype, value: 0 }, backend);
  if (t.size === 0) return zeros();
  return tidy(() => {
    // Half dtypes compute their bins in float32 (the CPU backend would round every step to half).
    const dtype = isHalf(t.dtype) ? 'float32' : t.dtype;
    const values = cast(reshape(t, [t.size]), dtype);
    // The ends as tensors of x's dtype: PyTorch rounds them to it and subtracts them in it.
    let lo = bind(Primitive.Full, [], { shape: [], dtype, value: low }, backend);
    let hi = bind(Primitive.Full, [], { shape: [], dtype, value: high }, backend);
    if (low === high) {
      const smallest = min(values);
      const largest = max(values);
      const single = equal(smallest, largest);
      lo = where(single, sub(smallest, 1), smallest);
      hi = where(single, add(largest, 1), largest);
    }
    // PyTorch's formula and order of operations: (x - lo) * bins / (hi - lo), truncated.
    const scaled = div(mul(sub(values, lo), bins), sub(hi, lo));
    const counted = logicalAnd(
      logicalAnd(greaterEqual(values, lo), lessEqual(values, hi)),
      logicalAnd(greaterEqual(scaled, 0), lessEqual(scaled, bins)),
    );
    // Masked before the cast, so that no NaN or out-of-range float reaches it.
    const bin = minimum(cast(where(counted, scaled, 0), 'int32'), bins - 1);
    return bind(Primitive.ScatterAdd, [zeros(), bin, cast(counted, t.dtype)], { axis: 0 });
  });
});

export interface BincountOptions {
  /** Weight of each element of x (same length): the result sums them instead of counting. */
  readonly weights?: TensorLike;
  /** The result has at least this many bins (default 0). */
  readonly minlength?: number;
  /**
   * The result has exactly this many bins, whatever x holds (jax.numpy.bincount's `length`): the
   * op then needs no read and traces under jit and vmap; values outside [0, length) are not counted.
   */
  readonly length?: number;
}

const BINCOUNT = optionsSignature<BincountOptions>(2, { weights: true, minlength: true, length: true }, ['weights', 'minlength']);

interface Bincount {
  readonly t: Tensor;
  readonly weights: Tensor | null;
  readonly minlength: number;
  readonly length: number | undefined;
}

function checkLength(op: string, what: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ValueError(`${op}: ${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
}

function bincountArguments(op: string, x: TensorLike, options: BincountOptions): Bincount {
  const t = toTensor(op, x);
  if (t.dtype !== 'int32' && t.dtype !== 'uint8')
    throw new DTypeError(`${op}: x must hold integers (int32 or uint8), got ${t.dtype}${t.dtype === 'bool' ? '; cast it to int32' : ''}`);
  if (t.ndim !== 1) throw new ShapeError(`${op}: x must be 1-D, got shape ${formatShape(t.shape)}`);
  let weights: Tensor | null = null;
  if (options.weights !== undefined && options.weights !== null) {
    weights = toTensor(op, options.weights, undefined, t);
    if (weights.ndim !== 1 || weights.shape[0] !== t.shape[0])
      throw new ShapeError(`${op}: weights must be 1-D with x's length ${t.shape[0]}, got shape ${formatShape(weights.shape)}`);
  }
  const minlength = options.minlength ?? 0;
  checkLength(op, 'minlength', minlength);
  const { length } = options;
  if (length !== undefined && length !== null) {
    checkLength(op, 'length', length);
    if (minlength > length) throw new ValueError(`${op}: minlength ${minlength} is more than length ${length}`);
  }
  return { t, weights, minlength, length: length ?? undefined };
}

/** The result's dtype: int32 counts, or the weights' floating dtype (integer and bool weights sum in float32). */
function bincountDType(weights: Tensor | null): DType {
  if (weights === null) return 'int32';
  return isFloating(weights.dtype) ? weights.dtype : 'float32';
}

/** The counts (or weight sums) of x's values in [0, length): a scatter-add, nothing read. */
function countInto(t: Tensor, weights: Tensor | null, length: number): Tensor {
  const dtype = bincountDType(weights);
  const out = bind(Primitive.Full, [], { shape: [length], dtype, value: 0 }, backendOf(t));
  if (length === 0 || t.size === 0) return out;
  const index = cast(t, 'int32');
  const counted = logicalAnd(greaterEqual(index, 0), less(index, length));
  const updates = weights === null ? cast(counted, dtype) : where(counted, cast(weights, dtype), 0);
  return bind(Primitive.ScatterAdd, [out, where(counted, index, 0), updates], { axis: 0 });
}

function bincountOp(op: string, asyncOp: string, args: Bincount): DataDependentOp<null, Tensor> {
  return {
    op,
    asyncOp,
    alternative: 'give `length` (the number of bins) to make the result static',
    prepare: () => {
      const { t } = args;
      // The smallest value (to refuse negatives, as PyTorch) and the largest (the length).
      return { sizes: t.size === 0 ? null : cast(stack([min(t), max(t)]), 'int32'), state: null };
    },
    finish: (sizes) => {
      const [smallest, largest] = sizes;
      if (smallest !== undefined && smallest < 0) throw new ValueError(`${op}: x must hold non-negative integers, got ${smallest}`);
      const length = Math.max(args.minlength, largest === undefined ? 0 : largest + 1);
      return countInto(args.t, args.weights, length);
    },
  };
}

/**
 * Counts each value of the non-negative integer vector `x` (torch.bincount): bin i of the result
 * holds how often i occurs, or with `weights` the sum of the weights of its occurrences. The
 * result has max(x) + 1 bins, at least `minlength`: that length depends on the data, so the op
 * reads x's extremes (a negative value is a ValueError, as in PyTorch) and needs a backend with
 * synchronous reads (use `bincountAsync` on others) and a concrete x (not under jit or vmap).
 * Given `length`, the result has exactly that many bins, nothing is read and the op traces
 * everywhere; values outside [0, length) are then not counted. Counts are int32 (PyTorch: int64);
 * weight sums keep a floating weights' dtype, and sum integer or bool weights in float32
 * (PyTorch: float64). The gradient with respect to the weights is the weight of each element's bin.
 *
 * @example
 * bincount(tensor([1, 1, 3]));                                 // [0, 2, 0, 1]
 * bincount(tensor([1, 1, 3]), { weights: tensor([0.5, 1, 2]) }); // [0, 1.5, 0, 2]
 * bincount(tensor([1, 1, 3]), { length: 2 });                  // [0, 2]
 */
export const bincount = withCheckedOptions('bincount', BINCOUNT, (x: TensorLike, options: BincountOptions = {}): Tensor => {
  const args = bincountArguments('bincount', x, options);
  if (args.length !== undefined) return tidy(() => countInto(args.t, args.weights, args.length as number));
  return runDataDependent(bincountOp('bincount', 'bincountAsync', args));
});

/**
 * `bincount`, waiting for the read of x's extremes: works on every backend, asynchronous ones
 * (webgpu, cuda) included.
 *
 * @example
 * const counts = await bincountAsync(tensor([1, 1, 3])); // [0, 2, 0, 1]
 */
export const bincountAsync = withCheckedOptions(
  'bincountAsync',
  BINCOUNT,
  async (x: TensorLike, options: BincountOptions = {}): Promise<Tensor> => {
    const args = bincountArguments('bincountAsync', x, options);
    if (args.length !== undefined) return tidy(() => countInto(args.t, args.weights, args.length as number));
    return runDataDependentAsync(bincountOp('bincountAsync', 'bincountAsync', args));
  },
);
