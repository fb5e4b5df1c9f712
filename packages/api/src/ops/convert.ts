import { checkBackendDType } from '../backend/capabilities.js';
import { getBackend } from '../backend/registry.js';
import type { Backend } from '../backend/spi.js';
import {
  allocTypedArray,
  checkDType,
  type DType,
  dtypeOfTypedArray,
  inferDType,
  isHalf,
  type PromotionOperand,
  promoteTypes,
  resultTypeOf,
  type ScalarKind,
  scalarKind,
  type TypedArray,
} from '../core/dtype.js';
import { DTypeError, ShapeError, ValueError } from '../core/errors.js';
import { encodeHalf } from '../core/half.js';
import { checkShape, sizeOf } from '../core/shape.js';
import { isTensor } from '../tensor/memory.js';
import { type NestedArray, Tensor } from '../tensor/tensor.js';
import { backendOf } from '../transforms/core.js';

/** Anything an op accepts where a tensor is expected: a Tensor, a number or boolean, nested arrays, a typed array. */
export type TensorLike = Tensor | number | boolean | NestedArray | TypedArray;

export interface CreationOptions {
  /** Element type; inferred from the data when omitted (float32 for non-integral numbers, int32 for integers, bool for booleans). */
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
        if (out.kind !== 'float') out.kind = Number.isInteger(value) ? 'int' : 'float';
        out.values.push(value);
      } else if (typeof value === 'boolean') {
        out.values.push(value);
      } else {
        throw new ShapeError(
          `${op}: ragged nested array: element at [${path.join(', ')}] is ${Array.isArray(value) ? 'an array' : typeof value}, expected a number or boolean at depth ${rank}`,
        );
      }
      return;
    }
    if (!Array.isArray(value) || value.length !== shape[depth]) {
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

function fillTypedArray(op: string, values: readonly (number | boolean)[], dtype: DType): TypedArray {
  if (isHalf(dtype)) return encodeHalf(dtype, fillTypedArray(op, values, 'float32') as Float32Array);
  const out = allocTypedArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'boolean') out[i] = v ? 1 : 0;
    else if (dtype === 'bool') out[i] = v !== 0 ? 1 : 0;
    else if ((dtype === 'int32' || dtype === 'uint8') && !Number.isFinite(v as number)) {
      throw new ValueError(`${op}: cannot store ${v} in a ${dtype} tensor`);
    } else out[i] = v as number;
  }
  return out;
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
    const converted = typed instanceof Uint16Array || dtype === dtypeOfTypedArray(typed) ? typed : convertTypedArray(typed, dtype);
    return withRequiresGrad(new Tensor(shape, dtype, backend, backend.fromTypedArray(converted, shape, dtype)), options);
  }
  if (typeof data !== 'number' && typeof data !== 'boolean' && !Array.isArray(data)) {
    throw new ValueError(`${op}: expected a number, boolean, nested array or typed array, got ${data === null ? 'null' : typeof data}`);
  }
  const flat = flattenNested(op, data);
  const dtype = requested ?? inferDType(flat.kind);
  checkBackendDType(op, backend, dtype);
  let shape = flat.shape;
  if (options.shape !== undefined) {
    shape = checkShape(op, [...options.shape]);
    if (sizeOf(shape) !== flat.values.length) {
      throw new ShapeError(`${op}: shape ${JSON.stringify(shape)} needs ${sizeOf(shape)} elements, the data has ${flat.values.length}`);
    }
  }
  checkShape(op, shape);
  const typed = fillTypedArray(op, flat.values, dtype);
  return withRequiresGrad(new Tensor(shape, dtype, backend, backend.fromTypedArray(typed, shape, dtype)), options);
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
  if (typeof value === 'number' || typeof value === 'boolean') return scalarOperand(value, dtype, backend ?? getBackend());
  const options: CreationOptions = { ...(dtype ? { dtype } : {}), ...(backend ? { backend: backend.name } : {}) };
  return tensor(value, options);
}

/**
 * `tensor(value, { dtype, backend })` for a JavaScript scalar, the operand of `x.mul(2)` or
 * `where(mask, 0, x)`: made directly (no nested-array walk, no options), since an op pays it on
 * every call.
 */
function scalarOperand(value: number | boolean, requested: DType | undefined, backend: Backend): Tensor {
  const dtype = requested ?? inferDType(scalarKind(value));
  checkBackendDType('tensor', backend, dtype);
  const made = new Tensor([], dtype, backend, backend.fromTypedArray(fillTypedArray('tensor', [value], dtype), [], dtype));
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
  // More operands (clamp's input and bounds) promote all at once, as torch.result_type does.
  return resultTypeOf([promotionOperand(a), promotionOperand(b), ...more.map(promotionOperand)]);
}

function promotionOperand(value: TensorLike): PromotionOperand {
  if (isTensor(value)) return { dtype: value.dtype, rank: value.shape.length };
  if (typeof value === 'number' || typeof value === 'boolean') return { scalar: scalarKind(value) };
  return { dtype: dtypeOfValue(value), rank: 1 };
}

function dtypeOfValue(value: TensorLike): DType {
  if (isTensor(value)) return value.dtype;
  if (typeof value === 'number' || typeof value === 'boolean') return inferDType(scalarKind(value));
  if (ArrayBuffer.isView(value)) return dtypeOfTypedArray(value as TypedArray);
  return inferDType(flattenNested('tensor', value as NestedArray).kind);
}
