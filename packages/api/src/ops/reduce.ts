import { type DType, isHalf, toFloating } from '../core/dtype.js';
import { AxisError, ValueError } from '../core/errors.js';
import { formatShape, normalizeAxes, normalizeAxis, shapesEqual } from '../core/shape.js';
import { Primitive, type ReducePrimitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { type TensorLike, toTensor } from './convert.js';
import { abs, add, div, equal, exp, log, mul, sqrt, sub, where } from './elementwise.js';

// Reductions over axes, written in the reduction primitives. Dtype rules (docs/dtypes.md):
// sum/prod accumulate bool and uint8 in int32 (PyTorch uses int64, which Flint does not have);
// mean, var, std and logSumExp compute integers in float32; max/min keep the dtype.

/** The axes a reduction runs over: one axis, a list of axes, or every axis when omitted. */
export type ReductionAxes = number | readonly number[];

/** Options of `variance` and `std`. */
export interface VarianceOptions {
  /** Keep the reduced axes as size-1 dimensions (default false). */
  readonly keepdims?: boolean;
  /**
   * Subtracted from the element count in the divisor: 1 (the default, as in PyTorch) gives the
   * unbiased sample variance, 0 the population variance.
   */
  readonly correction?: number;
}

/**
 * The reduction's axes, sorted and distinct. A rank-0 tensor may be reduced over axis 0 or -1,
 * as PyTorch allows, which reduces nothing. An empty list reduces nothing (as NumPy and JAX).
 */
function reductionAxes(op: string, x: Tensor, axis: ReductionAxes | undefined | null): number[] {
  if (axis !== undefined && axis !== null && typeof axis !== 'number' && !Array.isArray(axis)) {
    throw new AxisError(`${op}: axis must be an integer, a list of integers or undefined, got ${JSON.stringify(axis)}`);
  }
  if (x.shape.length === 0 && axis !== undefined && axis !== null) {
    const list: readonly number[] = typeof axis === 'number' ? [axis] : axis;
    for (const a of list) normalizeAxis(op, a, 1);
    return [];
  }
  return normalizeAxes(op, axis, x.shape.length);
}

function checkKeepdims(op: string, keepdims: unknown): boolean {
  if (keepdims === undefined) return false;
  if (typeof keepdims !== 'boolean') throw new ValueError(`${op}: keepdims must be a boolean, got ${JSON.stringify(keepdims)}`);
  return keepdims;
}

/** The shape of a reduction's result with the reduced axes kept as size 1. */
function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

function reducedCount(shape: readonly number[], axes: readonly number[]): number {
  let count = 1;
  for (const a of axes) count *= shape[a] as number;
  return count;
}

function reshapeTo(x: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  return bind(Primitive.Reshape, [x], { shape: [...shape] });
}

function reduceOver(primitive: ReducePrimitive, x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length === 0) return x;
  return bind(primitive, [x], { axes: [...axes] });
}

/** Restores the reduced axes as size-1 dimensions when `keepdims` asks for it. */
function finish(result: Tensor, inputShape: readonly number[], axes: readonly number[], keepdims: boolean): Tensor {
  return keepdims ? reshapeTo(result, keptShape(inputShape, axes)) : result;
}

/** The dtype sum, prod, cumsum and cumprod accumulate in. */
function accumulationDType(dtype: DType): DType {
  return dtype === 'bool' || dtype === 'uint8' ? 'int32' : dtype;
}

function sumLike(
  op: string,
  primitive: Primitive.ReduceSum | Primitive.ReduceProd,
  x: TensorLike,
  axis: ReductionAxes | undefined,
  keepdims: boolean | undefined,
): Tensor {
  const t = toTensor(op, x);
  const axes = reductionAxes(op, t, axis);
  const keep = checkKeepdims(op, keepdims);
  const result = reduceOver(primitive, cast(t, accumulationDType(t.dtype)), axes);
  return finish(result, t.shape, axes, keep);
}

/**
 * Sum over `axis` (every axis when omitted). Bool and uint8 sum in int32; the sum of nothing is 0.
 *
 * @example
 * sum(tensor([[1, 2], [3, 4]]), 1);        // [3, 7]
 * tensor([[1, 2], [3, 4]]).sum(0, true);   // [[4, 6]]
 */
export function sum(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return sumLike('sum', Primitive.ReduceSum, x, axis, keepdims);
}

/**
 * Product over `axis` (every axis when omitted). Bool and uint8 multiply in int32; the product of
 * nothing is 1.
 *
 * @example
 * prod(tensor([1, 2, 3, 4])); // 24
 */
export function prod(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return sumLike('prod', Primitive.ReduceProd, x, axis, keepdims);
}

/** Sum over `axes`, keeping them as size-1 dimensions so the result broadcasts against the input. */
function floatSumKept(t: Tensor, axes: readonly number[]): Tensor {
  return reshapeTo(reduceOver(Primitive.ReduceSum, t, axes), keptShape(t.shape, axes));
}

/**
 * Arithmetic mean over `axis` (every axis when omitted). Integer and bool tensors give float32;
 * the mean of nothing is NaN.
 *
 * @example
 * mean(tensor([[1, 2], [3, 5]]), 0); // [2, 3.5] (float32)
 */
export function mean(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return tidy(() => {
    const t = toTensor('mean', x);
    const axes = reductionAxes('mean', t, axis);
    const keep = checkKeepdims('mean', keepdims);
    const floating = cast(t, statisticsDType(t.dtype));
    const count = reducedCount(t.shape, axes);
    const total = reduceOver(Primitive.ReduceSum, floating, axes);
    // 0 / 0 gives the NaN that the mean of an empty set should be.
    return toResultDType(finish(count === 1 ? total : div(total, count), t.shape, axes, keep), t.dtype);
  });
}

/**
 * The dtype mean and variance compute in: float16 and bfloat16 sum in float32 and round once at
 * the end, as PyTorch does, so that a sum beyond the half range (65504 for float16) does not turn
 * the mean into Infinity.
 */
function statisticsDType(dtype: DType): DType {
  return isHalf(dtype) ? 'float32' : toFloating(dtype);
}

function toResultDType(result: Tensor, inputDType: DType): Tensor {
  return isHalf(inputDType) ? cast(result, inputDType) : result;
}

function maxLike(
  op: 'max' | 'min',
  primitive: Primitive.ReduceMax | Primitive.ReduceMin,
  x: TensorLike,
  axis: ReductionAxes | undefined,
  keepdims: boolean | undefined,
): Tensor {
  const t = toTensor(op, x);
  const axes = reductionAxes(op, t, axis);
  const keep = checkKeepdims(op, keepdims);
  const empty = axes.find((a) => t.shape[a] === 0);
  if (empty !== undefined) {
    const what = op === 'max' ? 'maximum' : 'minimum';
    throw new ValueError(
      `${op}: cannot take the ${what} over axis ${empty} of size 0 (input shape ${formatShape(t.shape)}): an empty reduction has no ${what}`,
    );
  }
  return finish(reduceOver(primitive, t, axes), t.shape, axes, keep);
}

/**
 * Largest element over `axis` (every axis when omitted), in the input's dtype. NaN propagates.
 * Reducing an axis of size 0 is a ValueError, as in PyTorch. For the position use `argmax`.
 *
 * @example
 * max(tensor([[1, 5], [7, 2]]), 1); // [5, 7]
 */
export function max(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return maxLike('max', Primitive.ReduceMax, x, axis, keepdims);
}

/**
 * Smallest element over `axis` (every axis when omitted), in the input's dtype. NaN propagates.
 *
 * @example
 * min(tensor([[1, 5], [7, 2]]), 1); // [1, 2]
 */
export function min(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return maxLike('min', Primitive.ReduceMin, x, axis, keepdims);
}

function argLike(
  op: 'argmax' | 'argmin',
  primitive: Primitive.Argmax | Primitive.Argmin,
  x: TensorLike,
  axis: number | undefined,
  keepdims: boolean | undefined,
): Tensor {
  const t = toTensor(op, x);
  const keep = checkKeepdims(op, keepdims);
  if (axis !== undefined && axis !== null && typeof axis !== 'number') {
    throw new AxisError(`${op}: axis must be a single integer or undefined (to search the flattened tensor), got ${JSON.stringify(axis)}`);
  }
  const rank = t.shape.length;
  // No axis (or a scalar): the index into the flattened tensor, as torch.argmax and numpy.argmax.
  if (axis === undefined || axis === null || rank === 0) {
    if (axis !== undefined && axis !== null) normalizeAxis(op, axis, 1);
    if (t.size === 0) throw new ValueError(`${op}: cannot search an empty tensor (shape ${formatShape(t.shape)})`);
    const index = bind(primitive, [reshapeTo(t, [t.size])], { axis: 0 });
    return keep
      ? reshapeTo(
          index,
          t.shape.map(() => 1),
        )
      : index;
  }
  const a = normalizeAxis(op, axis, rank);
  if (t.shape[a] === 0) {
    throw new ValueError(`${op}: cannot search axis ${a} of size 0 (input shape ${formatShape(t.shape)})`);
  }
  return finish(bind(primitive, [t], { axis: a }), t.shape, [a], keep);
}

/**
 * Index (int32) of the first largest element along `axis`; with no axis, the index into the
 * flattened tensor. NaN counts as the largest, as in PyTorch.
 *
 * @example
 * argmax(tensor([[1, 5], [7, 2]]), 1); // [1, 0]
 * argmax(tensor([[1, 5], [7, 2]]));    // 2
 */
export function argmax(x: TensorLike, axis?: number, keepdims?: boolean): Tensor {
  return argLike('argmax', Primitive.Argmax, x, axis, keepdims);
}

/**
 * Index (int32) of the first smallest element along `axis`; with no axis, the index into the
 * flattened tensor.
 *
 * @example
 * argmin(tensor([[1, 5], [7, 2]]), 1); // [0, 1]
 */
export function argmin(x: TensorLike, axis?: number, keepdims?: boolean): Tensor {
  return argLike('argmin', Primitive.Argmin, x, axis, keepdims);
}

function varianceOptions(op: string, options: boolean | VarianceOptions | undefined): { keepdims: boolean; correction: number } {
  if (options === undefined || typeof options === 'boolean') return { keepdims: options ?? false, correction: 1 };
  if (typeof options !== 'object' || options === null) {
    throw new ValueError(`${op}: options must be { keepdims?, correction? } or a keepdims boolean, got ${JSON.stringify(options)}`);
  }
  const correction = options.correction ?? 1;
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new ValueError(`${op}: correction must be a non-negative finite number, got ${JSON.stringify(options.correction)}`);
  }
  return { keepdims: checkKeepdims(op, options.keepdims), correction };
}

function varianceOf(op: string, x: TensorLike, axis: ReductionAxes | undefined, options: boolean | VarianceOptions | undefined): Tensor {
  const t = toTensor(op, x);
  const axes = reductionAxes(op, t, axis);
  const { keepdims, correction } = varianceOptions(op, options);
  const floating = cast(t, statisticsDType(t.dtype));
  const count = reducedCount(t.shape, axes);
  // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels badly.
  const centered = sub(floating, div(floatSumKept(floating, axes), count));
  const squares = reduceOver(Primitive.ReduceSum, mul(centered, centered), axes);
  // As PyTorch: with no degrees of freedom left the divisor is 0, giving inf or NaN.
  const result = div(squares, Math.max(0, count - correction));
  return toResultDType(finish(result, t.shape, axes, keepdims), t.dtype);
}

/**
 * Variance over `axis` (every axis when omitted). `options` is `{ keepdims, correction }`, or a
 * boolean for `keepdims` alone; `correction` defaults to 1 (Bessel's correction, as
 * `torch.var`), so the divisor is `max(0, n - correction)`. Integers compute in float32. Also
 * exported as `var`, and available as the method `x.var()`.
 *
 * @example
 * variance(tensor([1, 2, 3, 4]));                      // 1.6667
 * variance(tensor([[1, 2], [3, 4]]), 1, { correction: 0, keepdims: true }); // [[0.25], [0.25]]
 */
export function variance(x: TensorLike, axis?: ReductionAxes, options?: boolean | VarianceOptions): Tensor {
  return tidy(() => varianceOf('var', x, axis, options));
}

export { variance as var };

/**
 * Standard deviation over `axis`: the square root of `variance` with the same options
 * (`correction` defaults to 1, as `torch.std`).
 *
 * @example
 * std(tensor([2, 4, 4, 4, 5, 5, 7, 9]), undefined, { correction: 0 }); // 2
 */
export function std(x: TensorLike, axis?: ReductionAxes, options?: boolean | VarianceOptions): Tensor {
  return tidy(() => sqrt(varianceOf('std', x, axis, options)));
}

/**
 * `log(sum(exp(x)))` over `axis`, computed stably: the maximum is subtracted before `exp` and
 * added back after `log`, so large inputs do not overflow. A slice that is all -Infinity gives
 * -Infinity, one holding +Infinity gives +Infinity, and an empty slice gives -Infinity.
 * Integers compute in float32.
 *
 * @example
 * logSumExp(tensor([1000, 1000]));           // 1000.6931
 * logSumExp(tensor([[0, 0], [1, 1]]), 1);    // [0.6931, 1.6931]
 */
export function logSumExp(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return tidy(() => {
    const t = toTensor('logSumExp', x);
    const axes = reductionAxes('logSumExp', t, axis);
    const keep = checkKeepdims('logSumExp', keepdims);
    const floating = cast(t, toFloating(t.dtype));
    if (axes.length === 0) return floating;
    const kept = keptShape(t.shape, axes);
    const peak = reshapeTo(bind(Primitive.ReduceMax, [floating], { axes }), kept);
    // An infinite maximum would make x - max NaN (inf - inf); shifting by 0 there instead gives the
    // right limit: exp(-inf) = 0 -> log 0 = -inf, and exp(inf) = inf -> inf.
    const shift = where(equal(abs(peak), Number.POSITIVE_INFINITY), 0, peak);
    const result = add(log(floatSumKept(exp(sub(floating, shift)), axes)), shift);
    return keep
      ? result
      : reshapeTo(
          result,
          t.shape.filter((_, i) => !axes.includes(i)),
        );
  });
}

function logicalReduction(op: 'all' | 'any', x: TensorLike, axis: ReductionAxes | undefined, keepdims: boolean | undefined): Tensor {
  const t = toTensor(op, x);
  const axes = reductionAxes(op, t, axis);
  const keep = checkKeepdims(op, keepdims);
  const truth = cast(t, 'bool');
  if (reducedCount(t.shape, axes) === 0) {
    // The empty conjunction is true and the empty disjunction false; built directly rather than
    // relying on what a backend takes as bool's identity for min and max.
    const shape = keep ? keptShape(t.shape, axes) : t.shape.filter((_, i) => !axes.includes(i));
    return bind(Primitive.Full, [], { shape, dtype: 'bool', value: op === 'all' ? 1 : 0 }, backendOf(t));
  }
  // On bools, min is logical and and max is logical or.
  const result = reduceOver(op === 'all' ? Primitive.ReduceMin : Primitive.ReduceMax, truth, axes);
  return finish(result, t.shape, axes, keep);
}

/**
 * Whether every element over `axis` is true (non-zero), as a bool tensor. True for an empty axis.
 *
 * @example
 * all(tensor([[true, false], [true, true]]), 1); // [false, true]
 */
export function all(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return logicalReduction('all', x, axis, keepdims);
}

/**
 * Whether any element over `axis` is true (non-zero), as a bool tensor. False for an empty axis.
 *
 * @example
 * any(tensor([[0, 0], [0, 3]]), 1); // [false, true]
 */
export function any(x: TensorLike, axis?: ReductionAxes, keepdims?: boolean): Tensor {
  return logicalReduction('any', x, axis, keepdims);
}

function scan(op: 'cumsum' | 'cumprod', x: TensorLike, axis: number): Tensor {
  const t = toTensor(op, x);
  if (typeof axis !== 'number') throw new AxisError(`${op}: axis must be an integer, got ${JSON.stringify(axis)}`);
  const accumulated = cast(t, accumulationDType(t.dtype));
  // A scalar is its own running sum (PyTorch accepts axis 0 or -1 for it).
  if (t.shape.length === 0) {
    normalizeAxis(op, axis, 1);
    return accumulated;
  }
  const a = normalizeAxis(op, axis, t.shape.length);
  return bind(Primitive.Cumulative, [accumulated], { op: op === 'cumsum' ? 'sum' : 'prod', axis: a, reverse: false });
}

/**
 * Running sum along `axis` (required, as in PyTorch): element i is the sum of elements 0..i.
 * Bool and uint8 accumulate in int32.
 *
 * @example
 * cumsum(tensor([1, 2, 3, 4]), 0);  // [1, 3, 6, 10]
 */
export function cumsum(x: TensorLike, axis: number): Tensor {
  return scan('cumsum', x, axis);
}

/**
 * Running product along `axis`: element i is the product of elements 0..i. Bool and uint8
 * accumulate in int32.
 *
 * @example
 * cumprod(tensor([[1, 2, 3], [4, 5, 6]]), 1); // [[1, 2, 6], [4, 20, 120]]
 */
export function cumprod(x: TensorLike, axis: number): Tensor {
  return scan('cumprod', x, axis);
}
