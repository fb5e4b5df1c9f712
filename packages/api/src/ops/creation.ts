import type { Backend } from '../backend/spi.js';
import {
  checkDType,
  DEFAULT_FLOAT,
  type DType,
  fitsDType,
  inferDType,
  inferredKind,
  isFloating,
  isInt32,
  valueOutOfRangeError,
} from '../core/dtype.js';
import { DTypeError, ValueError } from '../core/errors.js';
import { checkShape, type Shape } from '../core/shape.js';
import { Primitive } from '../primitives/primitive.js';
import { bind } from '../tensor/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';
import { cast } from './broadcast.js';
import { type CreationOptions, resolveBackend, type TensorLike, toTensor } from './convert.js';
import { add, equal, less, mul, sub, where } from './elementwise.js';

// Tensors made from nothing: Full and Iota are primitives without inputs, bound on the backend
// that the options name (or the default one).

export type { GeneratorOptions } from '../random/generator.js';
export { initialSeed, manualSeed, rand, randint, randn, randperm } from '../random/generator.js';

function dtypeOption(op: string, options: CreationOptions | undefined, fallback: DType): DType {
  return options?.dtype === undefined ? fallback : checkDType(op, options.dtype);
}

/** A shape, or one number for a 1-d length (`zeros(3)`), as PyTorch accepts. */
export type ShapeLike = Shape | number;

function fill(op: string, shape: ShapeLike, value: number, dtype: DType, backend: Backend | undefined): Tensor {
  const checked = checkShape(op, typeof shape === 'number' ? [shape] : Array.isArray(shape) ? [...shape] : shape);
  return bind(Primitive.Full, [], { shape: checked, dtype, value }, backend);
}

function numericValue(op: string, value: number | boolean): number {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'number') throw new ValueError(`${op}: fill value must be a number or boolean, got ${typeof value}`);
  return value;
}

/**
 * A tensor of `shape` filled with zeros (float32 unless `dtype` says otherwise).
 *
 * @example
 * zeros([2, 3]);                     // float32 [2, 3]
 * zeros([4], { dtype: 'int32' });
 */
export function zeros(shape: ShapeLike, options: CreationOptions = {}): Tensor {
  return fill('zeros', shape, 0, dtypeOption('zeros', options, DEFAULT_FLOAT), resolveBackend(options));
}

/**
 * A tensor of `shape` filled with ones (float32 unless `dtype` says otherwise).
 *
 * @example
 * ones([3, 3], { dtype: 'float64' });
 */
export function ones(shape: ShapeLike, options: CreationOptions = {}): Tensor {
  return fill('ones', shape, 1, dtypeOption('ones', options, DEFAULT_FLOAT), resolveBackend(options));
}

/**
 * A tensor of `shape` filled with `value`. Without a `dtype`, the value decides it as in
 * PyTorch: booleans give bool, integers that int32 holds int32, other numbers float32
 * (`full([2], 1e10)` is float32). An integer dtype that cannot hold the value is a ValueError.
 *
 * @example
 * full([2, 2], 7);     // int32
 * full([2], 0.5);      // float32
 * full([2], true);     // bool
 */
export function full(shape: ShapeLike, value: number | boolean, options: CreationOptions = {}): Tensor {
  const op = 'full';
  const v = numericValue(op, value);
  const dtype = dtypeOption(op, options, inferDType(inferredKind(value)));
  checkFillable(op, v, dtype);
  return fill(op, shape, v, dtype, resolveBackend(options));
}

/** Refuses a fill value that an integer dtype cannot hold (fractions truncate, as a cast does). */
function checkFillable(op: string, value: number, dtype: DType): void {
  if (!fitsDType(dtype, value)) throw valueOutOfRangeError(op, 'the fill value', value, dtype);
}

/** The backend of `like` (of the data under it, when traced), unless the options name another. */
function likeBackend(like: Tensor, options: CreationOptions): Backend | undefined {
  if (options.backend !== undefined) return resolveBackend(options);
  return backendOf(like);
}

/**
 * Zeros with the shape, dtype and backend of `like` (each overridable).
 *
 * @example
 * zerosLike(x);
 */
export function zerosLike(like: TensorLike, options: CreationOptions = {}): Tensor {
  const t = toTensor('zerosLike', like);
  return fill('zerosLike', t.shape, 0, dtypeOption('zerosLike', options, t.dtype), likeBackend(t, options));
}

/**
 * Ones with the shape, dtype and backend of `like` (each overridable).
 *
 * @example
 * onesLike(x, { dtype: 'float64' });
 */
export function onesLike(like: TensorLike, options: CreationOptions = {}): Tensor {
  const t = toTensor('onesLike', like);
  return fill('onesLike', t.shape, 1, dtypeOption('onesLike', options, t.dtype), likeBackend(t, options));
}

/**
 * `value` everywhere, with the shape, dtype and backend of `like` (each overridable).
 *
 * @example
 * fullLike(x, -1);
 */
export function fullLike(like: TensorLike, value: number | boolean, options: CreationOptions = {}): Tensor {
  const op = 'fullLike';
  const t = toTensor(op, like);
  const v = numericValue(op, value);
  const dtype = dtypeOption(op, options, t.dtype);
  checkFillable(op, v, dtype);
  return fill(op, t.shape, v, dtype, likeBackend(t, options));
}

/**
 * Evenly spaced values in [start, stop): `arange(stop)` or `arange(start, stop, step?)`. The
 * dtype is int32 when every argument is an integer and every value fits in int32, else float32
 * (as torch.arange, with 32-bit integers: `arange(0, 5e9, 1e9)` is float32). An integer dtype
 * that cannot hold a value is a ValueError naming it.
 *
 * @example
 * arange(4);              // [0, 1, 2, 3] int32
 * arange(1, 2, 0.25);     // [1, 1.25, 1.5, 1.75] float32
 * arange(5, 0, -2);       // [5, 3, 1]
 */
export function arange(stop: number, options?: CreationOptions): Tensor;
export function arange(start: number, stop: number, step?: number, options?: CreationOptions): Tensor;
export function arange(a: number, b?: number | CreationOptions, c?: number, d?: CreationOptions): Tensor {
  const op = 'arange';
  const twoArgs = typeof b === 'number';
  const start = twoArgs ? a : 0;
  const stop = twoArgs ? b : a;
  const step = twoArgs ? (c ?? 1) : 1;
  const options: CreationOptions = (twoArgs ? d : b) ?? {};
  for (const [name, v] of [
    ['start', start],
    ['stop', stop],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`${op}: ${name} must be a finite number, got ${String(v)}`);
  }
  if (step === 0) throw new ValueError(`${op}: step must not be zero`);
  if ((stop - start) / step < 0) {
    throw new ValueError(
      `${op}: the range [${start}, ${stop}) is empty or backwards for step ${step}; use a step with the sign of stop - start`,
    );
  }
  const allIntegers = Number.isInteger(start) && Number.isInteger(stop) && Number.isInteger(step);
  const length = Math.ceil((stop - start) / step);
  // Values only grow (or only shrink), so int32 holds them all when it holds the first and the last.
  const fitsInt32 = length === 0 || (isInt32(start) && isInt32(start + (length - 1) * step));
  const dtype = dtypeOption(op, options, allIntegers && fitsInt32 ? 'int32' : DEFAULT_FLOAT);
  if (dtype === 'bool') throw new DTypeError(`${op}: dtype must be numeric, got bool`);
  checkRangeFits(op, (i) => start + i * step, length, dtype);
  const backend = resolveBackend(options);
  // Integral ranges are exact in int32; fractional ones are computed in floating point, then cast.
  const computeIn: DType = isFloating(dtype) ? dtype : allIntegers ? 'int32' : 'float64';
  let out = bind(Primitive.Iota, [], { shape: checkShape(op, [length]), dtype: computeIn, axis: 0 }, backend);
  if (step !== 1) out = mul(out, step);
  if (start !== 0) out = add(out, start);
  return cast(out, dtype);
}

/**
 * `num` evenly spaced values from `start` to `stop`, both included (float32 unless `dtype`).
 *
 * @example
 * linspace(0, 1, 5); // [0, 0.25, 0.5, 0.75, 1]
 */
export function linspace(start: number, stop: number, num: number, options: CreationOptions = {}): Tensor {
  const op = 'linspace';
  if (!Number.isFinite(start) || !Number.isFinite(stop))
    throw new ValueError(`${op}: start and stop must be finite numbers, got ${start} and ${stop}`);
  if (!Number.isInteger(num) || num < 0) throw new ValueError(`${op}: num must be a non-negative integer, got ${num}`);
  const dtype = dtypeOption(op, options, DEFAULT_FLOAT);
  if (dtype === 'bool') throw new DTypeError(`${op}: dtype must be numeric, got bool`);
  const step = (stop - start) / Math.max(num - 1, 1);
  // The values as computed below: from the start for the first half, from the stop for the rest.
  const valueAt = (i: number): number => (num === 1 || i < Math.floor(num / 2) ? start + i * step : stop - (num - 1 - i) * step);
  checkRangeFits(op, valueAt, num, dtype);
  const backend = resolveBackend(options);
  const computeIn = isFloating(dtype) ? dtype : 'float64';
  if (num === 1) return cast(fill(op, [1], start, computeIn, backend), dtype);
  const i = bind(Primitive.Iota, [], { shape: [num], dtype: computeIn, axis: 0 }, backend);
  // Counting from both ends (as PyTorch does) makes both endpoints exact and the values symmetric.
  const fromStart = add(mul(i, step), start);
  const fromStop = sub(stop, mul(sub(num - 1, i), step));
  const out = where(less(i, Math.floor(num / 2)), fromStart, fromStop);
  return cast(out, dtype);
}

/**
 * Refuses a range (`valueAt(i)` for i < length, monotonic in i) that the integer dtype `dtype`
 * cannot hold, naming its first value out of range and that value's index. Being monotonic, the
 * range fits when its ends do; otherwise the first bad index is where it crosses the bound.
 */
function checkRangeFits(op: string, valueAt: (i: number) => number, length: number, dtype: DType): void {
  if (length === 0 || (fitsDType(dtype, valueAt(0)) && fitsDType(dtype, valueAt(length - 1)))) return;
  let index = 0;
  if (fitsDType(dtype, valueAt(0))) {
    // Bisect for the first index whose value does not fit (the ends bracket it).
    let low = 0;
    let high = length - 1;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (fitsDType(dtype, valueAt(middle))) low = middle;
      else high = middle;
    }
    index = high;
  }
  throw valueOutOfRangeError(op, 'the value', valueAt(index), dtype, [index]);
}

/**
 * An n x m matrix (m defaults to n) with ones on the main diagonal, float32 unless `dtype`.
 *
 * @example
 * eye(3);
 * eye(2, 4, { dtype: 'int32' });
 */
export function eye(n: number, m?: number | CreationOptions, options?: CreationOptions): Tensor {
  const op = 'eye';
  const columns = typeof m === 'number' ? m : n;
  const opts: CreationOptions = (typeof m === 'number' ? options : m) ?? {};
  const shape = checkShape(op, [n, columns], 'size');
  const dtype = dtypeOption(op, opts, DEFAULT_FLOAT);
  const backend = resolveBackend(opts);
  const rows = bind(Primitive.Iota, [], { shape, dtype: 'int32', axis: 0 }, backend);
  const cols = bind(Primitive.Iota, [], { shape, dtype: 'int32', axis: 1 }, backend);
  return cast(equal(rows, cols), dtype);
}
