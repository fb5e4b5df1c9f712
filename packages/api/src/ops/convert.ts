import { checkBackendDType } from '../backend/capabilities.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import {
  allocTypedArray,
  checkDType,
  DEFAULT_FLOAT,
  type DType,
  dtypeOfTypedArray,
  fitsDType,
  inferDType,
  inferredKind,
  isHalf,
  isInteger,
  type PromotionOperand,
  promoteTypes,
  resultTypeOf,
  type ScalarKind,
  scalarKind,
  type TypedArray,
  valueOutOfRangeError,
} from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { encodeHalf } from '../core/half.js';
import { checkShape, formatShape, sizeOf } from '../core/shape.js';
import { isTensor } from '../tensor/memory.js';
import { type NestedArray, Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';

/** Anything an op accepts where a tensor is expected: a Tensor, a number or boolean, nested arrays, a typed array. */
export type TensorLike = Tensor | number | boolean | NestedArray | TypedArray;

export interface CreationOptions {
  /**
   * Element type; inferred from the data when omitted: bool for booleans, int32 for integers that
   * int32 holds, float32 for other numbers (and for integers when `requiresGrad` is set). An integer
   * dtype that cannot hold a value is a ValueError, never a wrap (docs/dtypes.md).
   */
  readonly dtype?: DType;
  /** Backend name; the default backend when omitted. */
  readonly backend?: string;
  /** Record operations on the new tensor for `backward()` (a leaf accumulating `.grad`; floating dtypes only). */
  readonly requiresGrad?: boolean;
}

/** The backend named in `options`, or the default. */
export function resolveBackend(options?: { readonly backend?: string }): Backend {
  return getBackend(options?.backend);
}

interface Flattened {
  readonly shape: number[];
  readonly values: (number | boolean)[];
  kind: ScalarKind;
}

function flattenNested(op: string, data: NestedArray): Flattened {
  const shape: number[] = [];
  let probe: NestedArray = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (probe.length === 0) break;
    probe = probe[0] as NestedArray;
  }
  const out: Flattened = { shape, values: [], kind: 'bool' };
  const rank: number = shape.length;
  const visit = (value: NestedArray, depth: number, path: number[]): void => {
    if (depth === rank) {
      if (typeof value === 'number') {
        if (out.kind !== 'float') out.kind = inferredKind(value);
        out.values.push(value);
      } else if (typeof value === 'boolean') {
        out.values.push(value);
      } else {
        checkNotTensorData(op, value, path);
        throw new ShapeError(
          `${op}: ragged nested array: element at [${path.join(', ')}] is ${Array.isArray(value) ? 'an array' : typeof value}, expected a number or boolean at depth ${rank}`,
        );
      }
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
      checkNotTensorData(op, value, path);
      throw new ShapeError(
        `${op}: ragged nested array: element at [${path.join(', ')}] should be an array of length ${shape[depth]}, got ${Array.isArray(value) ? `length ${value.length}` : typeof value}`,
      );
    }
    for (let i = 0; i < value.length; i++) visit(value[i] as NestedArray, depth + 1, [...path, i]);
  };
  visit(data, 0, []);
  if (out.values.length > 0 && out.values.every((v) => typeof v === 'boolean')) out.kind = 'bool';
  else if (out.kind === 'bool') out.kind = out.values.length === 0 ? 'float' : 'int';
  return out;
}

/**
 * A tensor or a typed array where nested arrays hold numbers: a ValueError that says what was
 * found and what to call instead (reading a tensor's values here would need a synchronous read,
 * which not every backend has, and would cut a traced value out of its transform).
 */
function checkNotTensorData(op: string, value: unknown, path: readonly number[]): void {
  const at = `[${path.join(', ')}]`;
  if (isTensor(value)) {
    throw new ValueError(
      `${op}: element at ${at} is a Tensor (${value.dtype} ${formatShape(value.shape)}), expected a number or boolean; ` +
        'to join tensors use stack([...]) (a new axis) or concat([...]), and for one value t.item()',
    );
  }
  if (ArrayBuffer.isView(value)) {
    throw new ValueError(
      `${op}: element at ${at} is a ${value.constructor.name}, expected a number or boolean; ` +
        'pass one flat typed array with the shape option, e.g. tensor(data, { shape: [2, 3] }), or nested arrays of numbers',
    );
  }
}

/** The index path of the element at `flat` in a row-major array of `shape`. */
function unravel(flat: number, shape: readonly number[]): number[] {
  const path = new Array<number>(shape.length).fill(0);
  for (let axis = shape.length - 1, rest = flat; axis >= 0; axis--) {
    const size = shape[axis] as number;
    path[axis] = rest % size;
    rest = Math.floor(rest / size);
  }
  return path;
}

/**
 * The storage of `values` (laid out in `shape`) in `dtype`. Fractional numbers truncate toward
 * zero in an integer dtype, as a cast does; numbers outside its range are a ValueError.
 */
function fillTypedArray(op: string, values: readonly (number | boolean)[], dtype: DType, shape: readonly number[]): TypedArray {
  if (isHalf(dtype)) return encodeHalf(dtype, fillTypedArray(op, values, 'float32', shape) as Float32Array);
  const out = allocTypedArray(dtype, values.length);
  const checked = isInteger(dtype);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'boolean') out[i] = v ? 1 : 0;
    else if (dtype === 'bool') out[i] = v !== 0 ? 1 : 0;
    else if (checked && !fitsDType(dtype, v as number)) throw valueOutOfRangeError(op, 'the value', v as number, dtype, unravel(i, shape));
    else out[i] = v as number;
  }
  return out;
}

/** Throws the range error for the first of `data`'s values that the integer dtype `dtype` cannot hold. */
function checkTypedArrayFits(op: string, data: TypedArray, dtype: DType): void {
  if (!isInteger(dtype)) return;
  for (let i = 0; i < data.length; i++) {
    if (!fitsDType(dtype, data[i] as number)) throw valueOutOfRangeError(op, 'the value', data[i] as number, dtype, [i]);
  }
}

/**
 * Converts typed-array values to `dtype` with Flint's cast semantics (truncation, != 0 for bool,
 * round to nearest even for float16 and bfloat16, whose result is bit patterns). `data` holds
 * values, never half bit patterns.
 */
export function convertTypedArray(data: TypedArray, dtype: DType): TypedArray {
  if (isHalf(dtype)) return encodeHalf(dtype, data);
  const out = allocTypedArray(dtype, data.length);
  if (dtype === 'bool') for (let i = 0; i < data.length; i++) out[i] = data[i] !== 0 ? 1 : 0;
  else if (dtype === 'int32' || dtype === 'uint8')
    for (let i = 0; i < data.length; i++) out[i] = Number.isNaN(data[i]) ? 0 : Math.trunc(data[i] as number);
  else out.set(data);
  return out;
}

/**
 * Creates a tensor from nested arrays, a typed array (with an optional `shape`), or a scalar.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]]);           // int32 [2, 2]
 * tensor([5e9]);                                // float32: int32 cannot hold it
 * tensor([1, 2], { requiresGrad: true });       // float32, so that it can require grad
 * const y = tensor([0.5, 1.5], { dtype: 'float64' });
 * const z = tensor(new Float32Array(6), { shape: [2, 3] });
 */
export function tensor(data: TensorLike, options: CreationOptions & { readonly shape?: readonly number[] } = {}): Tensor {
  const op = 'tensor';
  const requested = options.dtype === undefined ? undefined : checkDType(op, options.dtype);
  const backend = resolveBackend(options);
  if (isTensor(data)) {
    throw new ValueError(`${op}: data is already a Tensor; use t.cast(dtype) or t.to(backend) to convert it`);
  }
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    if (
      !(
        typed instanceof Float32Array ||
        typed instanceof Float64Array ||
        typed instanceof Int32Array ||
        typed instanceof Uint8Array ||
        typed instanceof Uint16Array
      )
    ) {
      throw new DTypeError(
        `${op}: unsupported typed array ${(typed as { constructor: { name: string } }).constructor.name}; use Float32Array, Float64Array, Int32Array, Uint8Array, or Uint16Array (float16/bfloat16 bits)`,
      );
    }
    // A Uint16Array is storage, not values: the bit patterns of the float16 or bfloat16 dtype given.
    if (typed instanceof Uint16Array && (requested === undefined || !isHalf(requested))) {
      throw new DTypeError(
        `${op}: a Uint16Array holds float16 or bfloat16 bit patterns; pass { dtype: 'float16' } or { dtype: 'bfloat16' }, got ${requested ?? 'no dtype'}`,
      );
    }
    const shape = options.shape === undefined ? [typed.length] : checkShape(op, [...options.shape]);
    if (sizeOf(shape) !== typed.length) {
      throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} elements, the typed array has ${typed.length}`);
    }
    const dtype = requested ?? dtypeOfTypedArray(typed);
    checkBackendDType(op, backend, dtype);
    const unchanged = typed instanceof Uint16Array || dtype === dtypeOfTypedArray(typed);
    if (!unchanged) checkTypedArrayFits(op, typed, dtype);
    const converted = unchanged ? typed : convertTypedArray(typed, dtype);
    return withRequiresGrad(new Tensor(shape, dtype, backend, backend.fromTypedArray(converted, shape, dtype)), options);
  }
  if (typeof data !== 'number' && typeof data !== 'boolean' && !Array.isArray(data)) {
    throw new ValueError(`${op}: expected a number, boolean, nested array or typed array, got ${data === null ? 'null' : typeof data}`);
  }
  const flat = flattenNested(op, data);
  const dtype = requested ?? inferredDType(flat.kind, options);
  checkBackendDType(op, backend, dtype);
  let shape = flat.shape;
  if (options.shape !== undefined) {
    shape = checkShape(op, [...options.shape]);
    if (sizeOf(shape) !== flat.values.length) {
      throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} elements, the data has ${flat.values.length}`);
    }
  }
  checkShape(op, shape);
  const typed = fillTypedArray(op, flat.values, dtype, flat.shape);
  return withRequiresGrad(new Tensor(shape, dtype, backend, backend.fromTypedArray(typed, shape, dtype)), options);
}

/**
 * The dtype `tensor()` gives data of `kind` without a dtype option. A tensor that requires grad
 * must be floating, and `[1.0, 2.0]` is `[1, 2]` to JavaScript: integral numbers then give the
 * default float rather than an int32 tensor that could not require grad. Booleans stay bool.
 */
function inferredDType(kind: ScalarKind, options: CreationOptions): DType {
  return kind === 'int' && options.requiresGrad ? DEFAULT_FLOAT : inferDType(kind);
}

/** Applies the `requiresGrad` creation option (the setter is installed by autograd/methods.ts). */
function withRequiresGrad(t: Tensor, options: CreationOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A rank-0 tensor. */
export function scalar(value: number | boolean, options: CreationOptions = {}): Tensor {
  return tensor(value, options);
}

/**
 * Turns an op's operand into a tensor. Tensors pass through unchanged; JavaScript values become
 * tensors on `like`'s backend (or the default) with the dtype `dtype` when given.
 */
export function toTensor(op: string, value: TensorLike, dtype?: DType, like?: Tensor): Tensor {
  if (isTensor(value)) return value;
  if (value === null || value === undefined) throw new ValueError(`${op}: expected a tensor or a number, got ${String(value)}`);
  // A traced `like` has no backend of its own: use the one holding the data underneath it.
  const backend = like === undefined ? undefined : backendOf(like);
  if (typeof value === 'number' || typeof value === 'boolean') return scalarOperand(op, value, dtype, backend ?? getBackend());
  const options: CreationOptions = { ...(dtype ? { dtype } : {}), ...(backend ? { backend: backend.name } : {}) };
  return tensor(value, options);
}

/**
 * `tensor(value, { dtype, backend })` for a JavaScript scalar, the operand of `x.mul(2)` or
 * `where(mask, 0, x)`: made directly (no nested-array walk, no options), since an op pays it on
 * every call.
 */
function scalarOperand(op: string, value: number | boolean, requested: DType | undefined, backend: Backend): Tensor {
  const dtype = requested ?? inferDType(inferredKind(value));
  checkBackendDType(op, backend, dtype);
  const made = new Tensor([], dtype, backend, backend.fromTypedArray(fillTypedArray(op, [value], dtype, []), [], dtype));
  made._scalar = Number(value);
  return made;
}

/**
 * @internal The number `toTensor` made `t` from, if it made `t` from a JavaScript scalar: jit
 * stages it as a literal without reading the tensor back (a backend may have no synchronous read).
 */
export function scalarNumberOf(t: Tensor): number | undefined {
  return t._scalar;
}

/**
 * The dtype operands combine to, as PyTorch's result_type: JavaScript scalars are "weak", and
 * a 0-dim tensor next to a dimensioned one counts only where its category is higher (see
 * docs/dtypes.md). Nested and typed arrays promote as the dimensioned tensors they convert to.
 */
export function resultDType(a: TensorLike, b: TensorLike, ...more: TensorLike[]): DType {
  if (more.length === 0 && isTensor(a) && isTensor(b) && a.shape.length > 0 === b.shape.length > 0) return promoteTypes(a.dtype, b.dtype);
  // Scalars alone (`add(1, 2 ** 40)`) promote as the tensors they infer: 2 ** 40 is float32 there,
  // not an int32 it would not fit.
  if (isScalar(a) && isScalar(b) && more.every(isScalar))
    return [b, ...more].reduce((acc: DType, v) => promoteTypes(acc, dtypeOfValue(v)), dtypeOfValue(a));
  // More operands (clamp's input and bounds) promote all at once, as torch.result_type does.
  return resultTypeOf([promotionOperand(a), promotionOperand(b), ...more.map(promotionOperand)]);
}

function promotionOperand(value: TensorLike): PromotionOperand {
  if (isTensor(value)) return { dtype: value.dtype, rank: value.shape.length };
  if (typeof value === 'number' || typeof value === 'boolean') return { scalar: scalarKind(value) };
  return { dtype: dtypeOfValue(value), rank: 1 };
}

function isScalar(value: TensorLike): value is number | boolean {
  return typeof value === 'number' || typeof value === 'boolean';
}

function dtypeOfValue(value: TensorLike): DType {
  if (isTensor(value)) return value.dtype;
  if (typeof value === 'number' || typeof value === 'boolean') return inferDType(inferredKind(value));
  if (ArrayBuffer.isView(value)) return dtypeOfTypedArray(value as TypedArray);
  return inferDType(flattenNested('tensor', value as NestedArray).kind);
}
